//! The consultation as data: `dialogues/*.toml` to a checked [`Script`], and the engine that runs it.
//!
//! The questions, their order, why each is asked and whether "don't know" is accepted live in
//! `dialogues/consultation.toml`, compiled into the binary. Loading parses the file into raw
//! serde types and then checks them, reporting every problem at once with the step it concerns;
//! only a valid [`Script`] reaches the [`engine`].

pub mod answers;
pub mod clean;
pub mod engine;
pub mod sample;
pub mod screen;

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use engine::{Command, Engine, Input, Reply, Session};

/// The version of the dialogue file format this build understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The consultation script compiled into the binary.
pub const EMBEDDED: &str = include_str!("../../dialogues/consultation.toml");

/// The stable id of a step, e.g. `caller_name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(pub String);

impl StepId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of answer a step takes, and so how it is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Yes or no.
    YesNo,
    /// One of the step's choices.
    Choice,
    /// One of the areas in the rules.
    Area,
    /// Short free text.
    Text,
    /// A person's name (not anonymous).
    Name,
    /// A UK phone number or an email address.
    PhoneOrEmail,
    /// A date of birth, an age 0-18, or unborn with a due date.
    DateOrAge,
    /// An address containing a UK postcode.
    Address,
    /// The concerns in free text, matched to indicators and confirmed.
    Concerns,
    /// The consent status (one of the step's choices).
    Consent,
}

/// When a step applies. Steps without a condition always apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The caller said a child is in immediate danger.
    DangerYes,
    /// Consent was refused, not yet asked, or not sought.
    ConsentMissing,
    /// Consent was deliberately not sought (risk to the child, or an investigation).
    ConsentNotSought,
    /// The child is old enough to give a view (8 or over, or age unknown; not unborn).
    ChildCanGiveView,
}

/// One choice offered with a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable key stored as the answer (and used as a button's data).
    pub key: String,
    /// What the caller sees.
    pub label: String,
}

/// One question of the consultation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable id; answers are stored under it.
    pub id: StepId,
    /// How the answer is parsed.
    pub kind: StepKind,
    /// The part of the consultation the step belongs to.
    pub section: String,
    /// The question as asked.
    pub question: String,
    /// Why it is asked, in the documents' terms (`/why`).
    pub why: String,
    /// Whether "don't know" is an accepted answer.
    #[serde(default)]
    pub dont_know: bool,
    /// When the step applies.
    #[serde(default)]
    pub when: Option<Condition>,
    /// The choices, for `choice` and `consent` steps.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// An example answer, shown when an answer has to be asked again.
    #[serde(default)]
    pub example: Option<String>,
}

/// A checked consultation script.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Version of the file format (see [`SCHEMA_VERSION`]).
    pub schema: u32,
    /// The steps, in the order they are asked.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// Step ids the engine relies on by name (the record is built from them).
pub const REQUIRED_STEPS: &[(&str, StepKind)] = &[
    ("danger", StepKind::YesNo),
    ("area", StepKind::Area),
    ("caller_name", StepKind::Name),
    ("caller_contact", StepKind::PhoneOrEmail),
    ("child_name", StepKind::Name),
    ("child_age", StepKind::DateOrAge),
    ("concerns", StepKind::Concerns),
    ("consent", StepKind::Consent),
];

/// The consent choice keys the engine understands.
pub const CONSENT_KEYS: &[&str] = &["agreed", "refused", "not_yet", "not_sought"];

/// One problem in a dialogue file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptProblem {
    /// Where: a line, or a step such as `step "caller_name"`.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScriptProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// The dialogue file could not be loaded: every problem found.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScriptError {
    /// The file's name.
    pub file: String,
    /// All problems.
    pub problems: Vec<ScriptProblem>,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in {}:", self.problems.len(), self.file)?;
        for p in &self.problems {
            writeln!(f, "  {}: {p}", self.file)?;
        }
        Ok(())
    }
}

/// Loads the script compiled into the binary.
pub fn load_embedded() -> Result<Script, ScriptError> {
    load_str("dialogues/consultation.toml", EMBEDDED)
}

/// Parses and checks a dialogue file's text.
pub fn load_str(file: &str, text: &str) -> Result<Script, ScriptError> {
    let fail = |problems| ScriptError {
        file: file.to_string(),
        problems,
    };
    let script: Script = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            let place = match e.span() {
                Some(span) => format!(
                    "line {}",
                    text[..span.start.min(text.len())].matches('\n').count() + 1
                ),
                None => "file".into(),
            };
            return Err(fail(vec![ScriptProblem {
                place,
                message: e.message().to_string(),
            }]));
        }
    };
    let problems = validate(&script);
    if problems.is_empty() {
        Ok(script)
    } else {
        Err(fail(problems))
    }
}

/// Checks a parsed script, returning every problem.
pub fn validate(script: &Script) -> Vec<ScriptProblem> {
    let mut out = Vec::new();
    let mut bad = |place: String, message: String| out.push(ScriptProblem { place, message });
    if script.schema != SCHEMA_VERSION {
        bad(
            "schema".into(),
            format!(
                "schema {} is not supported (this build reads {SCHEMA_VERSION})",
                script.schema
            ),
        );
    }
    let mut ids = HashSet::new();
    for step in &script.steps {
        let place = format!("step {:?}", step.id.as_str());
        let id = step.id.as_str();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bad(
                place.clone(),
                "ids use lower-case letters, digits and '_'".into(),
            );
        }
        if !ids.insert(id) {
            bad(place.clone(), "duplicate step id".into());
        }
        if step.question.trim().is_empty()
            || step.why.trim().is_empty()
            || step.section.trim().is_empty()
        {
            bad(
                place.clone(),
                "question, why and section must not be empty".into(),
            );
        }
        let needs_choices = matches!(step.kind, StepKind::Choice | StepKind::Consent);
        if needs_choices && step.choices.len() < 2 {
            bad(
                place.clone(),
                "a choice step needs at least two choices".into(),
            );
        }
        if !needs_choices && !step.choices.is_empty() {
            bad(
                place.clone(),
                "only choice and consent steps have choices".into(),
            );
        }
        let mut keys = HashSet::new();
        for c in &step.choices {
            if c.key.trim().is_empty() || c.label.trim().is_empty() {
                bad(place.clone(), "choices need a key and a label".into());
            }
            if !keys.insert(c.key.as_str()) {
                bad(place.clone(), format!("duplicate choice key {:?}", c.key));
            }
        }
        if step.kind == StepKind::Consent {
            for key in CONSENT_KEYS {
                if !keys.contains(key) {
                    bad(
                        place.clone(),
                        format!("the consent step needs the choice {key:?}"),
                    );
                }
            }
            for key in &keys {
                if !CONSENT_KEYS.contains(key) {
                    bad(
                        place.clone(),
                        format!(
                            "unknown consent choice {key:?} (use {})",
                            CONSENT_KEYS.join(", ")
                        ),
                    );
                }
            }
        }
        if matches!(
            step.kind,
            StepKind::Concerns | StepKind::Consent | StepKind::Area | StepKind::YesNo
        ) && step.dont_know
        {
            bad(
                place.clone(),
                "this kind of question cannot accept \"don't know\"".into(),
            );
        }
    }
    for (id, kind) in REQUIRED_STEPS {
        match script.steps.iter().find(|s| s.id.as_str() == *id) {
            None => bad(format!("step {id:?}"), "required step is missing".into()),
            Some(s) if s.kind != *kind => {
                bad(format!("step {id:?}"), format!("must be of kind {kind:?}"))
            }
            Some(s) if s.when.is_some() => bad(
                format!("step {id:?}"),
                "a required step cannot be conditional".into(),
            ),
            Some(_) => {}
        }
    }
    if script.steps.first().map(|s| s.id.as_str()) != Some("danger") {
        bad(
            "step 1".into(),
            "the first question must be the immediate-danger question".into(),
        );
    }
    out
}

impl Script {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id.as_str() == id)
    }

    /// The position of a step.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id.as_str() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_script_is_valid() {
        let script = load_embedded().map_err(|e| e.to_string());
        assert!(script.is_ok(), "{script:?}");
    }

    #[test]
    fn reports_every_problem() {
        let text = r#"
schema = 2
[[step]]
id = "area"
kind = "area"
section = "s"
question = "q"
why = "w"
dont_know = true
[[step]]
id = "area"
kind = "choice"
section = "s"
question = "q"
why = ""
"#;
        let err = load_str("test.toml", text)
            .err()
            .map(|e| e.problems)
            .unwrap_or_default();
        let text: Vec<String> = err.iter().map(|p| p.to_string()).collect();
        let joined = text.join("\n");
        for needle in [
            "schema 2",
            "duplicate step id",
            "at least two choices",
            "cannot accept",
            "required step is missing",
            "must not be empty",
            "first question",
        ] {
            assert!(joined.contains(needle), "missing {needle:?} in\n{joined}");
        }
    }

    #[test]
    fn reports_parse_errors_with_a_line() {
        let err = load_str("t.toml", "schema = 1\n[[step]]\nid = 3\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("line 3"), "{err}");
    }
}
