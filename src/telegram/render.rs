//! The engine's replies as Telegram messages: text, buttons and files, before any teloxide type.
//!
//! Every [`Reply`] variant becomes one or more [`Outgoing`] messages. Button data is short and
//! opaque ([`Action`]): a choice's key from the script or the rules, never anything the caller
//! typed, because Telegram shows callback data to anyone who inspects the chat.

use crate::dialogue::engine::{MatchList, Question};
use crate::dialogue::Reply;
use crate::record::Record;

/// Telegram's limit for a button's callback data, in bytes.
pub const MAX_CALLBACK_DATA: usize = 64;

/// The longest button label shown in full; longer labels are shortened and listed in the text.
const MAX_LABEL: usize = 48;

/// What a button does when pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with a choice's key.
    Choice(String),
    /// Answer with the choice's number (for a key too long for callback data).
    Number(usize),
    /// Answer "don't know".
    DontKnow,
    /// Drop the matched indicator with this number.
    Drop(usize),
    /// Start a new consultation, deleting the one in progress.
    NewConfirm,
    /// Keep the consultation in progress.
    NewKeep,
}

impl Action {
    /// The callback data for this action (at most [`MAX_CALLBACK_DATA`] bytes).
    pub fn encode(&self) -> String {
        match self {
            Action::Choice(key) => format!("c:{key}"),
            Action::Number(n) => format!("i:{n}"),
            Action::DontKnow => "dk".into(),
            Action::Drop(n) => format!("d:{n}"),
            Action::NewConfirm => "n:yes".into(),
            Action::NewKeep => "n:no".into(),
        }
    }

    /// Reads callback data; `None` for anything this bot did not make.
    pub fn decode(data: &str) -> Option<Action> {
        let (kind, arg) = data.split_once(':').unwrap_or((data, ""));
        match (kind, arg) {
            ("c", key) if !key.is_empty() => Some(Action::Choice(key.to_string())),
            ("i", n) => n.parse().ok().map(Action::Number),
            ("d", n) => n.parse().ok().map(Action::Drop),
            ("dk", "") => Some(Action::DontKnow),
            ("n", "yes") => Some(Action::NewConfirm),
            ("n", "no") => Some(Action::NewKeep),
            _ => None,
        }
    }
}

/// One button: its label and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// What the caller sees.
    pub label: String,
    /// What pressing it does.
    pub action: Action,
}

/// A file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file name, e.g. `FD-20261124-0001.md`.
    pub name: String,
    /// The content.
    pub content: String,
}

/// One message to send: text, buttons in rows, or a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// The text (split later if too long; the buttons go with the last part).
    pub text: String,
    /// Rows of buttons.
    pub buttons: Vec<Vec<Button>>,
    /// A file, sent instead of text when set.
    pub document: Option<Document>,
}

impl Outgoing {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Outgoing {
        Outgoing {
            text: text.into(),
            ..Outgoing::default()
        }
    }

    /// Whether the message carries buttons.
    pub fn has_buttons(&self) -> bool {
        self.buttons.iter().any(|row| !row.is_empty())
    }
}

/// The messages for one reply.
pub fn render(reply: &Reply) -> Vec<Outgoing> {
    match reply {
        Reply::Say(text) => vec![Outgoing::text(text.clone())],
        Reply::Ask(q) => vec![question(q)],
        Reply::ConfirmMatches(m) => vec![matches(m)],
        Reply::Finished(record) => {
            let mut out = record_messages(record);
            out.push(Outgoing::text(format!(
                "Reference: {r}. Send /record {r} to see it again or /delete {r} to delete it. Send anything to start a new consultation.",
                r = record.reference
            )));
            out
        }
    }
}

/// A record as text and as a Markdown file.
pub fn record_messages(record: &Record) -> Vec<Outgoing> {
    vec![
        Outgoing::text(record.to_text()),
        Outgoing {
            text: format!("Consultation record {} (Markdown)", record.reference),
            buttons: vec![],
            document: Some(Document {
                name: format!("{}.md", file_safe(&record.reference)),
                content: record.to_markdown(),
            }),
        },
    ]
}

fn file_safe(reference: &str) -> String {
    let name: String = reference
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if name.is_empty() {
        "record".into()
    } else {
        name
    }
}

fn question(q: &Question) -> Outgoing {
    let mut text = String::new();
    if let Some(h) = &q.hint {
        text.push_str(&format!("⚠️ {h}\n\n"));
    }
    match q.progress {
        Some(p) => text.push_str(&format!("{} · {p}\n", q.section)),
        None => text.push_str(&format!("{}\n", q.section)),
    }
    text.push_str(&q.text);
    let shortened = q
        .choices
        .iter()
        .any(|c| c.label.chars().count() > MAX_LABEL);
    if shortened {
        text.push('\n');
        for (i, c) in q.choices.iter().enumerate() {
            text.push_str(&format!("\n{}. {}", i + 1, c.label));
        }
    }
    let mut buttons: Vec<Vec<Button>> = q
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let label = if shortened {
                format!("{}. {}", i + 1, short(&c.label))
            } else {
                c.label.clone()
            };
            let choice = Action::Choice(c.key.clone());
            let action = if choice.encode().len() <= MAX_CALLBACK_DATA {
                choice
            } else {
                Action::Number(i + 1)
            };
            vec![Button { label, action }]
        })
        .collect();
    if q.dont_know {
        buttons.push(vec![Button {
            label: "Don't know".into(),
            action: Action::DontKnow,
        }]);
    }
    if !q.choices.is_empty() {
        text.push_str("\n\n(Tap a button or type your answer.)");
    }
    Outgoing {
        text,
        buttons,
        document: None,
    }
}

fn matches(m: &MatchList) -> Outgoing {
    let mut text = String::new();
    if let Some(p) = m.progress {
        text.push_str(&format!("Your concerns · {p}\n"));
    }
    if !m.items.is_empty() {
        text.push_str(&format!("I understood (in the words of {}):\n", m.document));
    }
    for i in &m.items {
        text.push_str(&format!("{}\n", i.line()));
    }
    text.push('\n');
    text.push_str(&m.prompt);
    let mut buttons: Vec<Vec<Button>> = vec![];
    if !m.items.is_empty() {
        buttons.extend(m.choices.iter().map(|c| {
            vec![Button {
                label: c.label.clone(),
                action: Action::Choice(c.key.clone()),
            }]
        }));
        // Dropping by button, up to a row of them; more can be typed ("drop 7").
        let drops: Vec<Button> = m
            .items
            .iter()
            .take(6)
            .map(|i| Button {
                label: format!("Drop {}", i.number),
                action: Action::Drop(i.number),
            })
            .collect();
        buttons.push(drops);
    }
    Outgoing {
        text,
        buttons,
        document: None,
    }
}

fn short(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        return label.to_string();
    }
    let cut: String = label.chars().take(MAX_LABEL - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Choice;

    #[test]
    fn actions_round_trip_and_fit() {
        for a in [
            Action::Choice("stoke-on-trent".into()),
            Action::Number(3),
            Action::DontKnow,
            Action::Drop(2),
            Action::NewConfirm,
            Action::NewKeep,
        ] {
            assert!(a.encode().len() <= MAX_CALLBACK_DATA);
            assert_eq!(Action::decode(&a.encode()), Some(a));
        }
        assert_eq!(Action::decode("Alex Example"), None);
        assert_eq!(Action::decode("c:"), None);
    }

    #[test]
    fn questions_get_buttons_and_long_labels_are_listed() {
        let q = Question {
            step: "area".into(),
            section: "Where the child lives".into(),
            progress: None,
            text: "Which area?".into(),
            choices: vec![
                Choice {
                    key: "a".into(),
                    label: "Short".into(),
                },
                Choice {
                    key: "b".into(),
                    label: "A very long label that goes on and on about a superseded document"
                        .into(),
                },
            ],
            dont_know: true,
            hint: Some("I do not know that area.".into()),
        };
        let out = question(&q);
        assert!(out.text.starts_with("⚠️ I do not know that area."));
        assert!(out
            .text
            .contains("2. A very long label that goes on and on about a superseded document"));
        assert_eq!(out.buttons.len(), 3);
        assert_eq!(out.buttons[0][0].action, Action::Choice("a".into()));
        assert!(out.buttons[1][0].label.ends_with('…'));
        assert_eq!(out.buttons[2][0].action, Action::DontKnow);
    }
}
