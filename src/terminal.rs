//! The terminal chat, over any reader and writer (so tests drive it in memory).
//!
//! Reads one answer per line and prints the engine's replies as text: numbered choices (typing
//! the number or the words both work, the engine resolves them), the matched indicators, the
//! record. At the end of input the consultation is already saved (every answer is flushed before
//! the next question), so it resumes next time.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};

use crate::app::{App, AppError};
use crate::dialogue::engine::{MatchList, Question};
use crate::dialogue::{Input, Reply};

/// What the terminal says when it stops: nothing answered is lost.
pub const SAVED: &str =
    "Your answers are saved; run frontdoor again to carry on where you left off.";

/// The conversation key of the terminal.
pub const TERMINAL_KEY: &str = "terminal:local";

/// The terminal chat failed.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// Reading or writing the terminal failed.
    #[error("terminal: {0}")]
    Io(#[from] std::io::Error),
    /// The application failed (storage).
    #[error(transparent)]
    App(#[from] AppError),
}

/// How the terminal behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Print each answer after the prompt (when input is not a terminal, so a transcript reads
    /// like a conversation).
    pub echo: bool,
}

/// Runs the chat until the end of input. `clock` gives the current time for each step.
pub fn run<R: BufRead, W: Write>(
    app: &App,
    key: &str,
    input: R,
    mut output: W,
    options: Options,
    clock: impl Fn() -> DateTime<Utc>,
) -> Result<(), TerminalError> {
    let replies = step(app, key, Input::Start, clock(), &mut output)?;
    write_replies(&mut output, &replies)?;
    let mut input = input;
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        if input.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        while matches!(bytes.last(), Some(b'\n' | b'\r')) {
            bytes.pop();
        }
        let Ok(line) = std::str::from_utf8(&bytes) else {
            // Not text (a terminal in another encoding, or binary pasted in): ask again.
            output.write_all(NOT_TEXT.as_bytes())?;
            output.flush()?;
            continue;
        };
        if options.echo {
            writeln!(output, "{line}")?;
        }
        if let Some(text) = record_command(app, key, line) {
            write!(output, "\n{text}\n> ")?;
            output.flush()?;
            continue;
        }
        let replies = step(app, key, Input::parse(line), clock(), &mut output)?;
        write_replies(&mut output, &replies)?;
    }
    writeln!(output, "\n(End of input. {SAVED})")?;
    output.flush()?;
    Ok(())
}

/// `/record` (the last record of this chat, in full) and `/export` (saved as a Markdown file in
/// the current folder): answered here, since they need the store, not the consultation.
/// `None` for any other line.
pub fn record_command(app: &App, key: &str, line: &str) -> Option<String> {
    let word = line.trim();
    if word != "/record" && word != "/export" {
        return None;
    }
    let last = app
        .store()
        .records_owned_by(key)
        .ok()
        .and_then(|refs| refs.into_iter().max())
        .and_then(|r| app.store().record(&r).ok().flatten());
    let Some(stored) = last else {
        return Some(
            "There is no record yet: a record is made when a consultation ends (after the summary)."
                .into(),
        );
    };
    let record = stored.record;
    if word == "/record" {
        return Some(record.to_text());
    }
    let file = format!("{}.md", record.reference);
    Some(match std::fs::write(&file, record.to_markdown()) {
        Ok(()) => format!(
            "Saved the record as {file} in this folder. It holds personal data: keep it only as long as you need it, in line with your agency's policy."
        ),
        Err(e) => format!("Could not save {file}: {e}. (frontdoor records export {} --format md prints it.)", record.reference),
    })
}

/// What is said when a line is not valid UTF-8 text; the question stands.
pub const NOT_TEXT: &str = "\n! That line could not be read: it is not valid text (UTF-8), so nothing from it was kept. Please type your answer again.\n> ";

fn step<W: Write>(
    app: &App,
    key: &str,
    input: Input,
    now: DateTime<Utc>,
    output: &mut W,
) -> Result<Vec<Reply>, TerminalError> {
    match app.handle(key, input, now) {
        Ok(r) => Ok(r),
        Err(e) => {
            writeln!(
                output,
                "\nSorry: I could not save your answer, so I have stopped. If a child is in immediate danger, call 999; otherwise call the front door for the child's area (frontdoor records and /contacts list the numbers)."
            )?;
            Err(e.into())
        }
    }
}

fn write_replies<W: Write>(output: &mut W, replies: &[Reply]) -> std::io::Result<()> {
    for r in replies {
        output.write_all(render(r).as_bytes())?;
    }
    output.flush()
}

/// One reply as terminal text.
pub fn render(reply: &Reply) -> String {
    match reply {
        Reply::Say(text) => format!("\n{text}\n"),
        Reply::Ask(q) => render_question(q),
        Reply::ConfirmMatches(m) => render_matches(m),
        Reply::Finished(record) => format!(
            "\nReference: {}. /record shows the full record here; /export saves it as {}.md in this folder. Type anything else to start a new consultation.\n> ",
            record.reference, record.reference
        ),
    }
}

fn render_question(q: &Question) -> String {
    let mut t = String::from("\n");
    if let Some(h) = &q.hint {
        t.push_str(&format!("! {h}\n"));
    }
    match q.progress {
        Some(p) => t.push_str(&format!("[{} · {p}] {}\n", q.section, q.text)),
        None => t.push_str(&format!("[{}] {}\n", q.section, q.text)),
    }
    for (i, c) in q.choices.iter().enumerate() {
        t.push_str(&format!("  {}. {}\n", i + 1, c.label));
    }
    if q.dont_know {
        t.push_str("  (\"don't know\" is an accepted answer)\n");
    }
    t.push_str("> ");
    t
}

fn render_matches(m: &MatchList) -> String {
    let mut t = String::from("\n");
    if let Some(p) = m.progress {
        t.push_str(&format!("[Your concerns · {p}]\n"));
    }
    if !m.items.is_empty() {
        t.push_str(&format!("I understood (in the words of {}):\n", m.document));
    }
    for i in &m.items {
        t.push_str(&format!("  {}\n", i.line()));
    }
    t.push_str(&m.prompt);
    t.push_str("\n> ");
    t
}
