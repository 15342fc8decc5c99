//! The engine's replies as Telegram messages: text, buttons and files, before any teloxide type.
//!
//! One step of the consultation becomes as few messages as Telegram allows ([`messages`]): the
//! notices of a step (a hint, "back one question", the `/urgent` numbers) are folded into the
//! question that follows, so a step is one message with its buttons; the outcome is one message
//! and the record one Markdown document. Only a text past Telegram's length limit is split.
//!
//! Button data is short and opaque ([`Action`]): a choice's key from the script or the rules,
//! never anything the caller typed, because Telegram shows callback data to anyone who inspects
//! the chat. Each question carries a fingerprint ([`question_id`]) so the adapter can tell
//! whether what the caller saw last is still the question being asked.

use sha2::{Digest, Sha256};

use super::split::{units, MAX_MESSAGE};
use crate::dialogue::engine::{MatchList, Question};
use crate::dialogue::Reply;
use crate::record::Record;

/// The fingerprint of the `/ask` area question (not a consultation question).
pub const ASK_AREA: &str = "ask_area";
/// The fingerprint of the "start a new consultation?" question.
pub const NEW_CONSULTATION: &str = "new";

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
    /// A file, sent instead of text when set (the text is its caption).
    pub document: Option<Document>,
    /// The fingerprint of the question this message asks, if it asks one ([`question_id`]).
    pub question: Option<String>,
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

/// The messages for one step's replies: each question with the notices before it folded in,
/// the outcome with its reference in one message, the record as one document.
pub fn messages(replies: &[Reply]) -> Vec<Outgoing> {
    let mut out = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for reply in replies {
        match reply {
            Reply::Say(text) => notes.push(text.clone()),
            Reply::Ask(q) => out.extend(fold(std::mem::take(&mut notes), question(q))),
            Reply::ConfirmMatches(m) => out.extend(fold(std::mem::take(&mut notes), matches(m))),
            Reply::Finished(record) => {
                notes.push(format!(
                    "Reference: {r}. Send /record {r} to see the record again or /delete {r} to delete it. Send anything to start a new consultation.",
                    r = record.reference
                ));
                out.push(Outgoing::text(std::mem::take(&mut notes).join("\n\n")));
                out.push(document(record));
            }
        }
    }
    if !notes.is_empty() {
        out.push(Outgoing::text(notes.join("\n\n")));
    }
    out
}

/// `notice` put before the first message, in the same message when it fits.
pub fn with_notice(notice: &str, messages: Vec<Outgoing>) -> Vec<Outgoing> {
    let mut rest = messages.into_iter();
    match rest.next() {
        Some(first) => fold(vec![notice.to_string()], first)
            .into_iter()
            .chain(rest)
            .collect(),
        None => vec![Outgoing::text(notice)],
    }
}

/// The notes and the message in one message when they fit, else the notes first.
fn fold(notes: Vec<String>, mut message: Outgoing) -> Vec<Outgoing> {
    if notes.is_empty() {
        return vec![message];
    }
    let notes = notes.join("\n\n");
    let joined = format!("{notes}\n\n{}", message.text);
    if message.document.is_none() && units(&joined) <= MAX_MESSAGE {
        message.text = joined;
        vec![message]
    } else {
        vec![Outgoing::text(notes), message]
    }
}

/// A record as one Markdown document, captioned.
pub fn document(record: &Record) -> Outgoing {
    Outgoing {
        text: format!(
            "Consultation record {} (Markdown): copy it into your agency's system.",
            record.reference
        ),
        document: Some(Document {
            name: format!("{}.md", file_safe(&record.reference)),
            content: record.to_markdown(),
        }),
        ..Outgoing::default()
    }
}

/// The fingerprint of a question: the same while the same question is asked (whatever hint or
/// progress goes with it), different for another question. `None` for a reply that asks nothing.
pub fn question_id(reply: &Reply) -> Option<String> {
    let mut h = Sha256::new();
    match reply {
        Reply::Ask(q) if q.step == ASK_AREA => return Some(ASK_AREA.into()),
        Reply::Ask(q) => {
            h.update(b"q\0");
            h.update(q.step.as_bytes());
            h.update(b"\0");
            h.update(q.text.as_bytes());
            for c in &q.choices {
                h.update(b"\0");
                h.update(c.key.as_bytes());
            }
        }
        Reply::ConfirmMatches(m) => {
            h.update(b"m\0");
            for i in &m.items {
                h.update(i.indicator.as_bytes());
                h.update(b"\0");
            }
            h.update(m.prompt.as_bytes());
        }
        Reply::Say(_) | Reply::Finished(_) => return None,
    }
    Some(
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
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
        question: question_id(&Reply::Ask(q.clone())),
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
        question: question_id(&Reply::ConfirmMatches(m.clone())),
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

    fn ask(step: &str, hint: Option<&str>) -> Question {
        Question {
            step: step.into(),
            section: "About you".into(),
            progress: None,
            text: format!("Question {step}?"),
            choices: vec![Choice {
                key: "yes".into(),
                label: "Yes".into(),
            }],
            dont_know: false,
            hint: hint.map(str::to_string),
        }
    }

    #[test]
    fn a_step_is_one_message_with_its_notices_folded_in() {
        let replies = vec![
            Reply::Say("Back one question: please answer it again.".into()),
            Reply::Ask(ask("caller_role", None)),
        ];
        let out = messages(&replies);
        assert_eq!(out.len(), 1);
        assert!(out[0].text.starts_with("Back one question"));
        assert!(out[0].text.ends_with("(Tap a button or type your answer.)"));
        assert!(out[0].has_buttons() && out[0].question.is_some());
        // A notice too long to fold goes first, on its own.
        let long = "Call 999. ".repeat(500);
        let out = messages(&[Reply::Say(long), Reply::Ask(ask("caller_role", None))]);
        assert_eq!(out.len(), 2);
        assert!(out[0].question.is_none() && out[1].question.is_some());
        // Notices without a question: one message.
        let out = messages(&[Reply::Say("a".into()), Reply::Say("b".into())]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].text, "a\n\nb");
        let out = with_notice("(Saved.)", messages(&[Reply::Ask(ask("x", None))]));
        assert_eq!(out.len(), 1);
        assert!(out[0].text.starts_with("(Saved.)\n\n"));
    }

    #[test]
    fn a_question_keeps_its_fingerprint_whatever_the_hint() {
        let plain = question_id(&Reply::Ask(ask("caller_role", None)));
        let hinted = question_id(&Reply::Ask(ask("caller_role", Some("Please say more."))));
        let other = question_id(&Reply::Ask(ask("caller_org", None)));
        assert!(plain.is_some());
        assert_eq!(plain, hinted);
        assert_ne!(plain, other);
        assert_eq!(question_id(&Reply::Say("x".into())), None);
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
