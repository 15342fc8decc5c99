//! The consultation engine: a pure function of (script, rules, session, input, now).
//!
//! [`Engine::step`] takes the session and one [`Input`] and returns the new session and the
//! [`Reply`]s to show. It never sends, stores, reads the clock or the environment: the
//! application layer loads and saves the session and the front ends render the replies, so the
//! terminal, Telegram and the tests all drive the same engine.
//!
//! The current question is never stored: it is the first step of the script that applies and
//! has no answer yet. `/back` removes the last answer and a summary correction removes the
//! chosen one, so the same rule asks it again and then returns to where the caller was. When
//! every step is answered the caller sees the summary; confirming it gives the outcome and the
//! record. Unclear answers are replies (a specific hint and the same question again), never
//! errors, and nothing already answered is lost.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

pub use super::answers::resolve_choice;
use super::answers::{self, strip_word, Address, ChildAge, ContactDetail};
use super::{screen, Choice, Condition, Script, Step, StepKind};
use crate::advice::next_steps;
use crate::assess::{self, Assessment};
use crate::contacts::{self, CallNow, Urgency};
use crate::record::{self, AreaInfo, ConfirmedIndicator, NumberGiven, OutcomeInfo, Record};
use crate::rules::needs::Factor;
use crate::rules::{Area, Indicator, RuleSet};
use crate::triage;
use crate::understanding::{Understanding, UnderstandingError};

mod commands;
mod concerns;
mod consent;
mod details;
mod outcome;
mod safety;

/// The longest concerns message taken (longer ones get a hint to split them).
pub const MAX_CONCERNS_MESSAGE: usize = 20_000;

/// The most characters of concerns one consultation keeps, over all its messages: every
/// message up to this is kept whole; one that would pass it gets a hint saying how much room
/// is left. This bounds what a consultation stores (the caller is told both limits).
pub const MAX_CONCERNS_TOTAL: usize = 50_000;

/// The child's age from which their own view is asked.
const VIEW_AGE: u32 = 8;

/// What the caller sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// Show where the consultation is (a new or resumed conversation).
    Start,
    /// Typed text.
    Text(String),
    /// A choice's key, e.g. from a button.
    Choice(String),
    /// A command such as `/why`.
    Command(Command),
}

/// The commands available at any point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Who to call right now.
    Urgent,
    /// Every number for the area.
    Contacts,
    /// How to use the bot.
    Help,
    /// Why the current question is asked.
    Why,
    /// Change the last answer.
    Back,
    /// The answers so far.
    Summary,
    /// Delete this consultation and start again (asks to confirm first).
    Cancel,
    /// Delete this consultation and start again without asking (a front end that has already
    /// asked, e.g. Telegram's `/new` confirmation).
    Restart,
    /// Quick advice on a concern without a consultation.
    Ask(String),
    /// Change the child's area (the other answers are kept).
    Area,
    /// Add another child to this consultation (name, age, setting).
    Child,
    /// A command the bot does not know.
    Unknown(String),
}

impl Input {
    /// Reads a line typed by the caller: `/word ...` is a command, anything else is text.
    pub fn parse(line: &str) -> Input {
        let t = line.trim();
        let Some(rest) = t.strip_prefix('/') else {
            return Input::Text(t.to_string());
        };
        let (word, arg) = match rest.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim()),
            None => (rest, ""),
        };
        // Telegram adds the bot's name in groups: /help@SomeBot.
        let word = word.split('@').next().unwrap_or(word).to_lowercase();
        Input::Command(match word.as_str() {
            "urgent" | "emergency" | "now" => Command::Urgent,
            "contacts" | "numbers" => Command::Contacts,
            "help" | "start" => Command::Help,
            "why" => Command::Why,
            "back" | "undo" => Command::Back,
            "summary" => Command::Summary,
            "cancel" => Command::Cancel,
            "ask" => Command::Ask(arg.to_string()),
            "area" => Command::Area,
            "child" | "children" | "another" => Command::Child,
            _ => Command::Unknown(format!("/{word}")),
        })
    }
}

/// Where the caller is, e.g. "4 of 12".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// This question's position among those that apply.
    pub current: usize,
    /// How many apply so far.
    pub total: usize,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {}", self.current, self.total)
    }
}

/// A question to show, with its choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The step (or `summary`, `follow_up`) being asked.
    pub step: String,
    /// The part of the consultation.
    pub section: String,
    /// Where the caller is.
    pub progress: Option<Progress>,
    /// The question.
    pub text: String,
    /// Choices; empty for free text.
    pub choices: Vec<Choice>,
    /// Whether "don't know" is accepted.
    pub dont_know: bool,
    /// Why the previous answer could not be taken, when it could not.
    pub hint: Option<String>,
}

/// One indicator the caller's words matched, shown for confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownMatch {
    /// Its number in the list (1-based), used by "drop 2".
    pub number: usize,
    /// Indicator id.
    pub indicator: String,
    /// The document's domain.
    pub domain: String,
    /// The document's words.
    pub text: String,
    /// The level's name.
    pub level: String,
    /// Tier on the common scale.
    pub tier: u8,
    /// The caller's words that matched.
    pub matched: Vec<String>,
    /// Surfaced as a red flag.
    pub red_flag: bool,
    /// A strength rather than a need.
    pub strength: bool,
}

/// The indicators understood so far, for the caller to confirm, drop or add to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchList {
    /// The document the words are from.
    pub document: String,
    /// The matches.
    pub items: Vec<ShownMatch>,
    /// What the caller can do next.
    pub prompt: String,
    /// Buttons: confirm, none.
    pub choices: Vec<Choice>,
    /// Where the caller is.
    pub progress: Option<Progress>,
}

impl ShownMatch {
    /// The match as one line of plain text, the same in every front end:
    /// `2. Health: "Child has over 10% absence" (Yellow) [RED FLAG]; your words: absent`.
    pub fn line(&self) -> String {
        let flag = if self.red_flag {
            " [RED FLAG]"
        } else if self.strength {
            " [strength]"
        } else {
            ""
        };
        let words = if self.matched.is_empty() {
            String::new()
        } else {
            format!("; your words: {}", self.matched.join(", "))
        };
        format!(
            "{}. {}: \"{}\" ({}){flag}{words}",
            self.number, self.domain, self.text, self.level
        )
    }
}

/// What the engine asks a front end to show. Every front end handles every variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// A message.
    Say(String),
    /// A question, with choices.
    Ask(Question),
    /// The indicators understood, to confirm.
    ConfirmMatches(MatchList),
    /// The consultation is over: the record (the application gives it its reference).
    Finished(Box<Record>),
}

/// An answer, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Answer {
    /// Free text.
    Text(String),
    /// "Don't know", where accepted.
    DontKnow,
    /// Yes or no.
    YesNo(bool),
    /// A choice's key (or an area id).
    Choice(String),
    /// Phone or email.
    Contact(ContactDetail),
    /// Date of birth, age or due date.
    Age(ChildAge),
    /// Address with postcode.
    Address(Address),
    /// The concerns were confirmed (the detail is in [`Concerns`]).
    Concerns,
}

/// Where the concerns part of the consultation is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcernStage {
    /// Waiting for the caller's words.
    #[default]
    Describe,
    /// Showing the matches for confirmation.
    Confirm,
    /// Asking a follow-up question.
    FollowUp,
    /// Asking whether a dropped red flag was really wrong.
    ConfirmDrop,
}

/// A need understood in the caller's words (or an indicator the caller added), shown to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The area's indicator of the need; empty when the area's document has none for it.
    pub indicator: String,
    /// The need's id in the taxonomy; empty for an indicator the caller added by id (and in
    /// sessions saved before the understanding engine).
    #[serde(default)]
    pub need: String,
    /// The caller's own words that drove it, verbatim (never a concept label).
    pub matched: Vec<String>,
    /// Raised by the red-flag floor.
    pub red_flag: bool,
}

/// The one follow-up question asked when the understanding was unsure between two tiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpState {
    /// What the question is about (the child's age, an injury, who, access...).
    pub factor: Factor,
    /// The need it is about.
    pub need: String,
    /// The tier a worrying answer gives.
    pub raises_to: u8,
    /// Whether a worrying answer calls for immediate protection.
    pub immediate: bool,
    /// The worrying case, in the taxonomy's words.
    pub when: String,
    /// The question as asked.
    pub question: String,
    /// The caller's answer, once given.
    pub answer: Option<String>,
    /// Whether the answer was the worrying one (raising the tier).
    pub worrying: bool,
}

/// The concerns: the caller's words and the indicators they confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Concerns {
    /// The caller's messages.
    pub messages: Vec<String>,
    /// Indicators put forward, in the order shown.
    pub candidates: Vec<Candidate>,
    /// Where this part is.
    pub stage: ConcernStage,
    /// The follow-up question, when the understanding was unsure (asked once, at confirmation).
    pub follow_up: Option<FollowUpState>,
    /// The tier the understanding gave the messages read together (0: nothing read yet), raised
    /// by a worrying follow-up answer; never lowered by the caller's confirmation.
    pub tier: u8,
    /// The understanding saw a need for immediate protection in the words (kept once seen).
    pub immediate: bool,
    /// Red flags named by the red-flag floor.
    pub red_flags: Vec<String>,
    /// A name typed where the concern was asked ("Tom Smith"): not read as a concern, kept
    /// for the child's name.
    pub name_given: Option<String>,
    /// Needs the caller dropped, so that reading the messages again does not bring them back.
    pub dropped_needs: Vec<String>,
    /// Red-flag indicators the caller asked to drop, waiting for them to confirm it.
    pub pending_drop: Vec<String>,
    /// Red-flag indicators the caller confirmed were wrong (removed; the safety advice stays).
    pub withdrawn: Vec<String>,
    /// Every indicator the caller dropped, so that what was described still counts for the
    /// consent guidance.
    pub dropped: Vec<String>,
}

impl Concerns {
    /// Whether a red flag named by the floor still stands: one of its indicators is kept, or the
    /// caller has not said that what was understood was wrong.
    pub fn red_flag_stands(&self) -> bool {
        !self.red_flags.is_empty()
            && (self.candidates.iter().any(|c| c.red_flag) || self.withdrawn.is_empty())
    }
}

/// One consultation's state. Stored between messages; everything the engine needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// When it started, UK local time.
    pub started: NaiveDateTime,
    /// The area chosen (or fixed by the deployment).
    pub area: Option<String>,
    /// The deployment's fixed area, kept across `/cancel`.
    pub fixed_area: Option<String>,
    /// Answers by step id.
    pub answers: BTreeMap<String, Answer>,
    /// Step ids in the order answered, for `/back`.
    pub order: Vec<String>,
    /// The concerns part.
    pub concerns: Concerns,
    /// Every number given so far.
    pub numbers: Vec<NumberGiven>,
    /// A `/ask` waiting for the caller to choose an area.
    pub pending_ask: Option<String>,
    /// Other children of this consultation, added with `/child`.
    pub children: Vec<OtherChild>,
    /// Which question about another child is being asked (0 name, 1 age, 2 setting).
    pub adding_child: Option<u8>,
    /// `/cancel` was typed and waits for the caller to confirm that every answer is deleted.
    pub pending_cancel: bool,
    /// How many times this conversation's consultation was cancelled: a new value means a new
    /// consultation (the application then gives it a new storage key).
    pub generation: u32,
    /// Set when the consultation has ended (the record's reference once the app gives one).
    pub finished: Option<String>,
}

/// Another child of the same consultation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OtherChild {
    /// Name.
    pub name: String,
    /// Date of birth or age (none when not known).
    pub age: Option<ChildAge>,
    /// School, nursery or other setting.
    pub setting: String,
    /// Whether the concern is about this child too, as the caller answered (`None`: not
    /// known). A child whose given name the concern mentions is taken as named in it.
    pub concern: Option<bool>,
}

/// Which children the concern is about, as the record and the summary say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConcernAbout {
    /// The caller's words name the child.
    Named,
    /// The caller said the concern is about this child too.
    Yes,
    /// The caller said it is not.
    No,
    /// Not known.
    NotKnown,
}

impl ConcernAbout {
    /// The phrase for the record and the summary.
    pub fn describe(self) -> &'static str {
        match self {
            ConcernAbout::Named => "yes (named in the concern)",
            ConcernAbout::Yes => "yes",
            ConcernAbout::No => "no",
            ConcernAbout::NotKnown => "not known",
        }
    }
}

/// Whether `messages` mention the given name (the first word) of `name`, as a whole word in
/// any case. A given name of one letter, or none, is never taken as mentioned.
pub fn names_in(messages: &[String], name: &str) -> bool {
    let Some(given) = name.split_whitespace().next() else {
        return false;
    };
    let given = given
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if given.chars().count() < 2 {
        return false;
    }
    messages.iter().any(|m| {
        m.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
            .map(|w| w.trim_end_matches("'s").trim_matches('\''))
            .any(|w| w.to_lowercase() == given)
    })
}

impl OtherChild {
    /// Whether the concern is about this child: named in `messages`, or as the caller said.
    pub fn concern_about(&self, messages: &[String]) -> ConcernAbout {
        if names_in(messages, &self.name) {
            return ConcernAbout::Named;
        }
        match self.concern {
            Some(true) => ConcernAbout::Yes,
            Some(false) => ConcernAbout::No,
            None => ConcernAbout::NotKnown,
        }
    }
}

impl Session {
    /// A new consultation started at `now` (UK local), in `fixed_area` when the deployment fixes one.
    pub fn new(now: NaiveDateTime, fixed_area: Option<&str>) -> Session {
        let mut s = Session {
            started: now,
            fixed_area: fixed_area.map(str::to_string),
            ..Session::default()
        };
        if let Some(a) = fixed_area {
            s.area = Some(a.to_string());
            s.answers
                .insert("area".into(), Answer::Choice(a.to_string()));
        }
        s
    }

    /// Whether the consultation has ended.
    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }

    fn text(&self, id: &str) -> Option<&str> {
        match self.answers.get(id) {
            Some(Answer::Text(t)) | Some(Answer::Choice(t)) => Some(t),
            _ => None,
        }
    }

    fn give_number(&mut self, service: &str, number: &str, why: &str) {
        if !self
            .numbers
            .iter()
            .any(|n| n.number == number && n.service == service)
        {
            self.numbers.push(NumberGiven {
                service: service.to_string(),
                number: number.to_string(),
                why: why.to_string(),
            });
        }
    }
}

/// The engine: the script, the rules and the understanding, built once.
#[derive(Debug, Clone)]
pub struct Engine {
    script: Script,
    rules: RuleSet,
    understanding: Understanding,
}

/// Result of trying to take an answer.
enum Taken {
    /// Stored; go on.
    Ok,
    /// Not taken: ask again with this hint.
    Hint(String),
}

impl Engine {
    /// Builds the engine with the shipped understanding over the rules' need taxonomy.
    pub fn try_new(script: Script, rules: RuleSet) -> Result<Engine, UnderstandingError> {
        let understanding = Understanding::builtin(&rules.needs)?;
        Ok(Engine {
            script,
            rules,
            understanding,
        })
    }

    /// Builds the engine. Panics only when the compiled-in model does not fit the rules' need
    /// taxonomy, which the tests of every shipped rules set rule out; use [`Engine::try_new`]
    /// for rules read at run time.
    pub fn new(script: Script, rules: RuleSet) -> Engine {
        match Engine::try_new(script, rules) {
            Ok(e) => e,
            Err(e) => panic!("the understanding does not fit these rules: {e}"),
        }
    }

    /// The understanding.
    pub fn understanding(&self) -> &Understanding {
        &self.understanding
    }

    /// The script.
    pub fn script(&self) -> &Script {
        &self.script
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// A new session (a deployment's fixed area is used only when the rules have it).
    pub fn new_session(&self, now: NaiveDateTime, fixed_area: Option<&str>) -> Session {
        Session::new(now, fixed_area.filter(|a| self.rules.area(a).is_some()))
    }

    /// One step of the consultation: the new session and what to show. `now` is UK local time.
    pub fn step(
        &self,
        session: Session,
        input: Input,
        now: NaiveDateTime,
    ) -> (Session, Vec<Reply>) {
        let mut s = session;
        let mut out = Vec::new();
        if s.is_finished() {
            match &input {
                Input::Command(
                    Command::Urgent | Command::Contacts | Command::Help | Command::Ask(_),
                ) => {}
                _ => {
                    let fixed = s.fixed_area.clone();
                    s = self.new_session(now, fixed.as_deref());
                    out.push(Reply::Say(
                        "A new consultation. (The last one is saved with its record.)".into(),
                    ));
                    out.extend(self.prompt(&s, now, None));
                    return (s, out);
                }
            }
        }
        if s.pending_cancel {
            s.pending_cancel = false;
            let confirmed = match &input {
                Input::Command(Command::Cancel | Command::Restart) => true,
                Input::Text(t) | Input::Choice(t) => answers::parse_yes_no(t) == Ok(true),
                _ => false,
            };
            if confirmed {
                self.cancel(&mut s, now, &mut out);
                out.extend(self.prompt(&s, now, None));
                return (s, out);
            }
            out.push(Reply::Say("Kept: nothing was deleted.".into()));
            if matches!(input, Input::Text(_) | Input::Choice(_)) {
                out.extend(self.prompt(&s, now, None));
                return (s, out);
            }
        }
        if s.adding_child.is_some() {
            if let Input::Text(t) | Input::Choice(t) = &input {
                let t = t.clone();
                self.child_answer(&mut s, &t, now, &mut out);
                return (s, out);
            }
        }
        if let Some(text) = s.pending_ask.take() {
            if let Input::Text(t) | Input::Choice(t) = &input {
                if let Some(area) = self.resolve_area(t) {
                    let id = area.id().to_string();
                    out.extend(self.quick_advice(area, &text, self.age_hint(&s, now), now));
                    if s.area.is_none() {
                        s.area = Some(id.clone());
                        if !s.answers.contains_key("area") {
                            s.answers.insert("area".into(), Answer::Choice(id.clone()));
                            s.order.push("area".into());
                        }
                    }
                    if !s.is_finished() {
                        out.extend(self.prompt(&s, now, None));
                    }
                    return (s, out);
                }
            }
        }
        match input {
            Input::Start => {
                if s.order.is_empty() && s.concerns.messages.is_empty() {
                    out.push(Reply::Say(self.welcome()));
                } else if !s.is_finished() {
                    out.push(Reply::Say(
                        "Welcome back: your consultation is where you left it.".into(),
                    ));
                }
            }
            Input::Command(c) => {
                let stop = self.command(&mut s, c, now, &mut out);
                if stop {
                    return (s, out);
                }
                // After a command, the list of what was understood is not printed again: a
                // short reminder with its buttons stands for it.
                if !s.is_finished() {
                    out.extend(self.prompt_after_command(&s, now));
                }
                return (s, out);
            }
            Input::Text(t) => return self.answer(s, t, false, now),
            Input::Choice(k) => return self.answer(s, k, true, now),
        }
        if !s.is_finished() {
            out.extend(self.prompt(&s, now, None));
        }
        (s, out)
    }

    fn welcome(&self) -> String {
        "Front door consultation. I will ask what a front-door worker asks on the phone and end with a record for your agency's system. Type /help at any time for the commands; /urgent gives the number to call right now.".into()
    }
}

const HELP: &str = "Answer each question in words, or by the number of a choice. Commands, at any point: /urgent who to call right now; /contacts every number for the area; /why why I ask this question; /back change the last answer; /summary your answers so far; /area change the child's area; /child add another child; /cancel delete this consultation and start again (asks first); /ask <concern> quick advice without a consultation; /help this message.";

fn choice(key: &str, label: &str) -> Choice {
    Choice {
        key: key.to_string(),
        label: label.to_string(),
    }
}

fn labels(choices: &[Choice]) -> String {
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} {}", i + 1, c.label))
        .collect::<Vec<_>>()
        .join("; ")
}

fn short_question(q: &str) -> &str {
    let end = q.find(['?', '(', '.', ',']).unwrap_or(q.len());
    q[..end].trim()
}

/// Notes every number an answer gives, with why.
fn give_numbers(s: &mut Session, c: &CallNow<'_>, why: &str) {
    if c.call_999_first {
        s.give_number(&c.emergency.service, &c.emergency.number, why);
    }
    s.give_number(&c.now.service, &c.now.number, why);
    if let Some(f) = c.fallback {
        s.give_number(&f.service, &f.number, c.fallback_when);
    }
}

fn red_flag_caution(text: &str) -> String {
    format!(
        "You removed \"{text}\", which can mean significant harm or a need for immediate protection. If you are unsure, add it back (type more about it): the front door can lower a level, but a missed concern can leave a child unprotected."
    )
}

impl Candidate {
    /// What identifies the candidate: its need, or the indicator the caller added.
    pub fn key(&self) -> &str {
        if self.need.is_empty() {
            &self.indicator
        } else {
            &self.need
        }
    }
}

/// Notes a dropped candidate: its need is not put forward again, and its indicator still
/// counts for the consent guidance (what was described matters, whatever fits).
fn note_dropped(c: &mut Concerns, dropped: &Candidate) {
    if !dropped.need.is_empty() && !c.dropped_needs.contains(&dropped.need) {
        c.dropped_needs.push(dropped.need.clone());
    }
    if !dropped.indicator.is_empty() && !c.dropped.contains(&dropped.indicator) {
        c.dropped.push(dropped.indicator.clone());
    }
}

/// The child's age in years as a number, for reading the concern (an unborn baby reads as 0).
pub fn age_years(age: &ChildAge, today: chrono::NaiveDate) -> f32 {
    match age {
        ChildAge::Born { dob } => ((today - *dob).num_days().max(0) as f32) / 365.25,
        ChildAge::Years { years } => f32::from(*years),
        ChildAge::Months { months } => f32::from(*months) / 12.0,
        ChildAge::Days { days } => f32::from(*days) / 365.25,
        // The youngest age in the year group (the safe side).
        ChildAge::SchoolYear { year } => f32::from(*year) + 4.0,
        ChildAge::Unborn { .. } => 0.0,
    }
}

/// The follow-up question for a factor, with the worrying case in the taxonomy's words.
fn follow_up_question_text(factor: Factor, when: &str) -> String {
    let lead = match factor {
        Factor::Age => {
            return format!(
                "One question, because the child's age changes how serious this is ({when}): how old is the child? (An age, a date of birth, or \"don't know\".)"
            )
        }
        Factor::Injury => "Is the child hurt?",
        Factor::Who => "Who did the child name, or who is involved?",
        Factor::Access => "Does that person have access to the child today?",
        Factor::Frequency => "How often has this happened?",
        Factor::Explanation => "Is there an explanation that fits?",
        Factor::ProtectiveParent => "Is a parent protecting the child?",
    };
    format!(
        "One question, because this could be at two levels: {lead} In particular, is this so: {when}? (yes, no, or \"don't know\")"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(Input::parse("/why"), Input::Command(Command::Why));
        assert_eq!(
            Input::parse(" /Help@FrontDoorBot "),
            Input::Command(Command::Help)
        );
        assert_eq!(
            Input::parse("/ask baby bruised"),
            Input::Command(Command::Ask("baby bruised".into()))
        );
        assert_eq!(
            Input::parse("/frobnicate"),
            Input::Command(Command::Unknown("/frobnicate".into()))
        );
        assert_eq!(Input::parse("yes"), Input::Text("yes".into()));
        assert_eq!(Input::parse("/area"), Input::Command(Command::Area));
    }

    #[test]
    fn resolves_choices_by_number_key_or_words() {
        let cs = vec![
            choice("agreed", "Yes, they know and agree"),
            choice("refused", "They know, and refused"),
            choice("not_yet", "Not asked yet"),
        ];
        assert_eq!(resolve_choice(&cs, "2").as_deref(), Some("refused"));
        assert_eq!(
            resolve_choice(&cs, "not asked yet").as_deref(),
            Some("not_yet")
        );
        assert_eq!(
            resolve_choice(&cs, "They know, and refused.").as_deref(),
            Some("refused")
        );
        assert_eq!(resolve_choice(&cs, "refused").as_deref(), Some("refused"));
        assert_eq!(resolve_choice(&cs, "not yet").as_deref(), Some("not_yet"));
        assert_eq!(resolve_choice(&cs, "4"), None);
        assert_eq!(resolve_choice(&cs, "0"), None);
        assert_eq!(resolve_choice(&cs, "banana"), None);
    }
}
