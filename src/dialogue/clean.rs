//! What a caller types, made safe to store and to print: the one place input is sanitised.
//!
//! Terminal escape sequences (ANSI colours, cursor movement, window titles), other control
//! characters (NUL, backspace, DEL, the C1 range) and the invisible characters that reorder
//! text (bidirectional overrides and isolates) are removed, so a stored answer shows what it
//! says wherever it is printed later (`records show`, a record file, Telegram). Line breaks are
//! kept; a tab becomes a space. [`crate::app::App::handle`] applies it to every input.

use super::engine::{Command, Input};

/// Whether `c` reorders text invisibly (bidirectional marks, embeddings, overrides, isolates)
/// or is a byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// `text` without escape sequences, control characters (but line breaks) and bidi controls.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1B}' => match chars.next() {
                // CSI: ESC [ parameters, then one final byte in @..~.
                Some('[') => {
                    for n in chars.by_ref() {
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
                // OSC (and the like): up to BEL or ESC \.
                Some(']' | 'P' | '_' | '^' | 'X') => {
                    while let Some(n) = chars.next() {
                        if n == '\u{07}' {
                            break;
                        }
                        if n == '\u{1B}' {
                            chars.next_if_eq(&'\\');
                            break;
                        }
                    }
                }
                // Any other escape takes one character.
                _ => {}
            },
            // A CSI introduced by the single C1 character.
            '\u{9B}' => {
                for n in chars.by_ref() {
                    if ('@'..='~').contains(&n) {
                        break;
                    }
                }
            }
            '\n' => out.push('\n'),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\t' => out.push(' '),
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// The input with every piece of caller text cleaned.
pub fn input(input: Input) -> Input {
    match input {
        Input::Text(t) => Input::Text(text(&t)),
        Input::Choice(c) => Input::Choice(text(&c)),
        Input::Command(Command::Ask(t)) => Input::Command(Command::Ask(text(&t))),
        Input::Command(Command::Unknown(t)) => Input::Command(Command::Unknown(text(&t))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_are_removed() {
        assert_eq!(text("\u{1B}[31mAlex\u{1B}[0m Example"), "Alex Example");
        assert_eq!(text("\u{1B}]0;title\u{07}Sam"), "Sam");
        assert_eq!(text("\u{1B}]8;;http://x\u{1B}\\link"), "link");
        assert_eq!(text("Sam\u{0}\u{8}\u{7F}\u{85} Fictional"), "Sam Fictional");
        assert_eq!(text("abc\u{202E}fed\u{2066}x\u{2069}"), "abcfedx");
        assert_eq!(text("a\r\nb\rc\td"), "a\nb\nc d");
        assert_eq!(text("\u{9B}2JClear"), "Clear");
        // Ordinary text in any script, emoji with joiners, and line breaks are kept.
        let kept = "Zoë Ó Briain, 5 — «ok» 👩‍👧 عائشة\nline two";
        assert_eq!(text(kept), kept);
    }

    #[test]
    fn every_kind_of_caller_text_is_cleaned() {
        assert_eq!(
            input(Input::Text("x\u{1B}[2Ky".into())),
            Input::Text("xy".into())
        );
        assert_eq!(
            input(Input::Command(Command::Ask("\u{202E}hit".into()))),
            Input::Command(Command::Ask("hit".into()))
        );
        assert_eq!(input(Input::Start), Input::Start);
    }
}
