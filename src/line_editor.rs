//! Reading the terminal with line editing and history (rustyline): the only module naming it.
//!
//! The editor reads the keyboard in raw mode, so a line is not cut at the terminal's line buffer
//! (4,095 bytes in canonical mode): a 5,000-character pasted concern arrives whole, and a
//! bracketed paste of several lines arrives as one answer. History (up and down arrows) is kept
//! in memory only: it holds personal data about children, so it is never written to disk (the
//! crate is built without its file-history feature). Ctrl-C and Ctrl-D arrive as the results
//! `Interrupted` and `Eof`, which [`action`] turns into the terminal's ways of stopping.

use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::Editor;

use crate::terminal::{LineSource, Read};

/// How many answers the up arrow reaches back (in memory, for this run only).
const HISTORY: usize = 100;

/// The terminal's keyboard, edited line by line.
pub struct LineEditor {
    editor: Editor<(), DefaultHistory>,
}

impl LineEditor {
    /// An editor on the process's terminal.
    pub fn new() -> std::io::Result<Self> {
        let config = Config::builder()
            .max_history_size(HISTORY)
            .map_err(to_io)?
            .history_ignore_dups(true)
            .map_err(to_io)?
            .auto_add_history(false)
            .bracketed_paste(true)
            .build();
        let editor = Editor::with_config(config).map_err(to_io)?;
        Ok(Self { editor })
    }
}

impl LineSource for LineEditor {
    fn draws_prompt(&self) -> bool {
        true
    }

    fn read(&mut self, prompt: &str) -> std::io::Result<Read> {
        let result = self.editor.readline(prompt);
        if let Ok(line) = &result {
            if !line.trim().is_empty() {
                // In memory only: `DefaultHistory` without the file feature cannot save.
                self.editor
                    .add_history_entry(line.as_str())
                    .map_err(to_io)?;
            }
        }
        action(result)
    }
}

/// What one result of the editor means for the chat: a line to answer with, a line that was
/// not text (asked again), Ctrl-C (stop, saying the answers are saved and how to resume) or
/// Ctrl-D / the end of input (the same, as the end of input).
pub fn action(result: Result<String, ReadlineError>) -> std::io::Result<Read> {
    match result {
        Ok(line) => Ok(Read::Line(line)),
        Err(ReadlineError::Interrupted) => Ok(Read::Interrupted),
        Err(ReadlineError::Eof) => Ok(Read::End),
        Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            Ok(Read::NotText)
        }
        Err(e) => Err(to_io(e)),
    }
}

fn to_io(e: ReadlineError) -> std::io::Error {
    match e {
        ReadlineError::Io(e) => e,
        e => std::io::Error::other(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::farewell;

    #[test]
    fn a_line_is_an_answer() {
        assert!(matches!(action(Ok("Amelia".into())), Ok(Read::Line(l)) if l == "Amelia"));
    }

    #[test]
    fn ctrl_c_stops_and_says_the_answers_are_saved_and_how_to_resume() {
        let read = action(Err(ReadlineError::Interrupted)).expect("not an error");
        assert!(matches!(read, Read::Interrupted));
        let said = farewell(&read).expect("Ctrl-C says something");
        assert!(said.contains("Ctrl-C"), "{said}");
        assert!(said.contains("answers are saved"), "{said}");
        assert!(said.contains("run frontdoor again"), "{said}");
    }

    #[test]
    fn ctrl_d_ends_the_input_and_says_the_answers_are_saved() {
        let read = action(Err(ReadlineError::Eof)).expect("not an error");
        assert!(matches!(read, Read::End));
        let said = farewell(&read).expect("the end says something");
        assert!(said.contains("End of input"), "{said}");
        assert!(said.contains("answers are saved"), "{said}");
    }

    #[test]
    fn bytes_that_are_not_text_are_asked_again_and_other_errors_are_errors() {
        let bad = std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8");
        assert!(matches!(
            action(Err(ReadlineError::Io(bad))),
            Ok(Read::NotText)
        ));
        let gone = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone");
        assert!(action(Err(ReadlineError::Io(gone))).is_err());
    }
}
