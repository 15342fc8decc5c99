//! The terminal chat, over any source of lines and any writer (so tests drive it in memory).
//!
//! Reads one answer at a time from a [`LineSource`]: piped input line by line ([`Piped`]), or
//! the line editor on a terminal (`line_editor`), and prints the engine's replies as text:
//! numbered choices (typing the number or the words both work, the engine resolves them), the
//! matched indicators, the record. At the end of input or at Ctrl-C the consultation is already
//! saved (every answer is flushed before the next question), so it resumes next time, and the
//! chat says so ([`farewell`]).

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

/// What reading one answer gave.
#[derive(Debug)]
pub enum Read {
    /// A line, without its line ending.
    Line(String),
    /// Bytes that are not UTF-8 text: nothing is kept and the question is asked again.
    NotText,
    /// Ctrl-C at the prompt: the chat stops.
    Interrupted,
    /// The end of input (Ctrl-D, or the end of a piped script): the chat stops.
    End,
}

/// Where the answers come from: piped input ([`Piped`]) or the line editor on a terminal.
pub trait LineSource {
    /// Whether the source draws the prompt itself (the line editor does; piped input does not,
    /// so the prompt is printed with the question).
    fn draws_prompt(&self) -> bool;
    /// Reads one answer, showing `prompt` if the source draws it.
    fn read(&mut self, prompt: &str) -> std::io::Result<Read>;
}

/// Lines read from any reader (piped stdin, a test's bytes), of any length.
pub struct Piped<R> {
    input: R,
    bytes: Vec<u8>,
}

impl<R: BufRead> Piped<R> {
    /// Answers from `input`, one per line.
    pub fn new(input: R) -> Self {
        Self {
            input,
            bytes: Vec::new(),
        }
    }
}

impl<R: BufRead> LineSource for Piped<R> {
    fn draws_prompt(&self) -> bool {
        false
    }

    fn read(&mut self, _prompt: &str) -> std::io::Result<Read> {
        self.bytes.clear();
        if self.input.read_until(b'\n', &mut self.bytes)? == 0 {
            return Ok(Read::End);
        }
        while matches!(self.bytes.last(), Some(b'\n' | b'\r')) {
            self.bytes.pop();
        }
        Ok(match std::str::from_utf8(&self.bytes) {
            Ok(line) => Read::Line(line.to_string()),
            // Not text (a terminal in another encoding, or binary pasted in): ask again.
            Err(_) => Read::NotText,
        })
    }
}

/// What the terminal says when it stops reading, for a [`Read`] that stops it.
pub fn farewell(read: &Read) -> Option<String> {
    match read {
        Read::Interrupted => Some(format!("\n\n(Stopped with Ctrl-C. {SAVED})\n")),
        Read::End => Some(format!("\n(End of input. {SAVED})\n")),
        Read::Line(_) | Read::NotText => None,
    }
}

/// How the chat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The input ended (Ctrl-D or the end of a script).
    Input,
    /// Ctrl-C.
    Interrupted,
}

/// Runs the chat over lines read from `input` until its end. `clock` gives the current time
/// for each step.
pub fn run<R: BufRead, W: Write>(
    app: &App,
    key: &str,
    input: R,
    output: W,
    options: Options,
    clock: impl Fn() -> DateTime<Utc>,
) -> Result<Ended, TerminalError> {
    run_with(app, key, &mut Piped::new(input), output, options, clock)
}

/// Runs the chat over any [`LineSource`] until it ends or is interrupted.
pub fn run_with<S: LineSource, W: Write>(
    app: &App,
    key: &str,
    source: &mut S,
    mut output: W,
    options: Options,
    clock: impl Fn() -> DateTime<Utc>,
) -> Result<Ended, TerminalError> {
    let replies = step(app, key, Input::Start, clock(), &mut output)?;
    let mut shown = replies_text(&replies);
    loop {
        // The line editor draws the prompt itself (it redraws it while editing).
        let prompt = if source.draws_prompt() {
            match shown.strip_suffix(PROMPT) {
                Some(text) => {
                    shown.truncate(text.len());
                    PROMPT
                }
                None => "",
            }
        } else {
            ""
        };
        output.write_all(shown.as_bytes())?;
        output.flush()?;
        let read = source.read(prompt)?;
        let line = match read {
            Read::Line(line) => line,
            Read::NotText => {
                shown = NOT_TEXT.to_string();
                continue;
            }
            Read::Interrupted | Read::End => {
                if let Some(text) = farewell(&read) {
                    output.write_all(text.as_bytes())?;
                }
                output.flush()?;
                return Ok(if matches!(read, Read::Interrupted) {
                    Ended::Interrupted
                } else {
                    Ended::Input
                });
            }
        };
        if options.echo {
            writeln!(output, "{line}")?;
        }
        if let Some(text) = record_command(app, key, &line) {
            shown = format!("\n{text}\n{PROMPT}");
            continue;
        }
        let replies = step(app, key, Input::parse(&line), clock(), &mut output)?;
        shown = replies_text(&replies);
    }
}

/// The prompt that ends what is shown before an answer is read.
const PROMPT: &str = "> ";

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

fn replies_text(replies: &[Reply]) -> String {
    replies.iter().map(render).collect()
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
