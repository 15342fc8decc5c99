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

use super::answers::{self, Address, ChildAge, ContactDetail};
use super::{screen, Choice, Condition, Script, Step, StepKind};
use crate::advice::{consent, next_steps};
use crate::assess::{self, Assessment};
use crate::contacts::{self, CallNow, Urgency};
use crate::record::{self, AreaInfo, ConfirmedIndicator, NumberGiven, OutcomeInfo, Record};
use crate::rules::needs::Factor;
use crate::rules::{Area, Indicator, RuleSet};
use crate::triage;
use crate::understanding::{Understanding, UnderstandingError};

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
    /// `/cancel` was typed and waits for the caller to confirm that every answer is deleted.
    pub pending_cancel: bool,
    /// How many times this conversation's consultation was cancelled: a new value means a new
    /// consultation (the application then gives it a new storage key).
    pub generation: u32,
    /// Set when the consultation has ended (the record's reference once the app gives one).
    pub finished: Option<String>,
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

    // ----- Steps and progress -------------------------------------------------------------

    fn applies(&self, s: &Session, step: &Step, now: NaiveDateTime) -> bool {
        match step.when {
            None => true,
            Some(Condition::DangerYes) => s.answers.get("danger") == Some(&Answer::YesNo(true)),
            Some(Condition::ConsentMissing) => matches!(
                s.text("consent"),
                Some("refused" | "not_yet" | "not_sought")
            ),
            Some(Condition::ConsentNotSought) => s.text("consent") == Some("not_sought"),
            Some(Condition::ChildCanGiveView) => match s.answers.get("child_age") {
                Some(Answer::Age(a)) => a.years_on(now.date()).is_some_and(|y| y >= VIEW_AGE),
                Some(Answer::DontKnow) => true,
                _ => false,
            },
        }
    }

    fn applicable<'s>(&'s self, s: &Session, now: NaiveDateTime) -> Vec<&'s Step> {
        self.script
            .steps
            .iter()
            .filter(|st| self.applies(s, st, now))
            .collect()
    }

    /// The step being asked: the first that applies and has no answer.
    fn current<'s>(&'s self, s: &Session, now: NaiveDateTime) -> Option<&'s Step> {
        self.applicable(s, now)
            .into_iter()
            .find(|st| !s.answers.contains_key(st.id.as_str()))
    }

    fn progress(&self, s: &Session, step: &Step, now: NaiveDateTime) -> Option<Progress> {
        let all = self.applicable(s, now);
        let current = all.iter().position(|st| st.id == step.id)? + 1;
        Some(Progress {
            current,
            total: all.len(),
        })
    }

    fn choices(&self, step: &Step) -> Vec<Choice> {
        match step.kind {
            StepKind::YesNo => vec![choice("yes", "Yes"), choice("no", "No")],
            StepKind::Area => self
                .rules
                .areas()
                .map(|a| {
                    let mut label = format!("{} ({})", a.meta.name, a.meta.front_door);
                    if let Some(next) = &a.meta.superseded_by {
                        let _ = write!(label, ": {}, superseded by {}", a.meta.document, next);
                    }
                    choice(a.id(), &label)
                })
                .collect(),
            _ => step.choices.clone(),
        }
    }

    /// What to show for where the consultation is.
    fn prompt(&self, s: &Session, now: NaiveDateTime, hint: Option<String>) -> Vec<Reply> {
        let Some(step) = self.current(s, now) else {
            return self.summary_prompt(s, now, hint);
        };
        let progress = self.progress(s, step, now);
        if step.kind == StepKind::Concerns {
            match s.concerns.stage {
                ConcernStage::Confirm => {
                    let mut out = Vec::new();
                    if let Some(h) = hint {
                        out.push(Reply::Say(h));
                    }
                    out.push(Reply::ConfirmMatches(self.match_list(s, progress)));
                    return out;
                }
                ConcernStage::FollowUp => {
                    if let Some(q) = self.follow_up_question(s, progress, hint.clone()) {
                        return vec![Reply::Ask(q)];
                    }
                }
                ConcernStage::ConfirmDrop => {
                    if let Some(q) = self.confirm_drop_question(s, progress, hint.clone()) {
                        return vec![Reply::Ask(q)];
                    }
                }
                ConcernStage::Describe => {
                    if !s.concerns.messages.is_empty() || !s.concerns.candidates.is_empty() {
                        return vec![Reply::Ask(Question {
                            step: step.id.to_string(),
                            section: step.section.clone(),
                            progress,
                            text: "Tell me more about what you are worried about, in your own words (or \"done\" to go on without an indicator).".into(),
                            choices: vec![],
                            dont_know: false,
                            hint,
                        })];
                    }
                }
            }
        }
        vec![Reply::Ask(Question {
            step: step.id.to_string(),
            section: step.section.clone(),
            progress,
            text: step.question.clone(),
            choices: self.choices(step),
            dont_know: step.dont_know,
            hint,
        })]
    }

    // ----- Answers ------------------------------------------------------------------------

    fn answer(
        &self,
        mut s: Session,
        text: String,
        from_button: bool,
        now: NaiveDateTime,
    ) -> (Session, Vec<Reply>) {
        let mut out = Vec::new();
        let Some(step) = self.current(&s, now) else {
            return self.summary_answer(s, &text, now);
        };
        let taken = if step.kind == StepKind::Concerns {
            self.concerns_answer(&mut s, step, &text, now, &mut out)
        } else {
            self.take(&mut s, step, &text, from_button, now, &mut out)
        };
        match taken {
            Taken::Ok => {
                if s.is_finished() {
                    return (s, out);
                }
                out.extend(self.prompt(&s, now, None));
            }
            Taken::Hint(h) => {
                let h = match (&step.example, step.kind) {
                    (Some(e), k) if k != StepKind::Concerns && !h.contains("e.g.") => {
                        format!("{h} (For example: {e}.)")
                    }
                    _ => h,
                };
                out.extend(self.prompt(&s, now, Some(h)));
            }
        }
        (s, out)
    }

    fn take(
        &self,
        s: &mut Session,
        step: &Step,
        text: &str,
        from_button: bool,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let id = step.id.to_string();
        if text.trim().is_empty() {
            return Taken::Hint("I did not get an answer. Please type one.".into());
        }
        if answers::is_dont_know(text) && !from_button {
            if step.dont_know {
                self.store(s, &id, Answer::DontKnow);
                return Taken::Ok;
            }
            return Taken::Hint(format!(
                "This one is needed, \"don't know\" will not do here: {}",
                step.why
            ));
        }
        let answer = match step.kind {
            StepKind::YesNo => match resolve_choice(&self.choices(step), text).map(|k| k == "yes").ok_or(()).or_else(|_| answers::parse_yes_no(text)) {
                Ok(b) => Answer::YesNo(b),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Choice | StepKind::Consent => match resolve_choice(&step.choices, text) {
                Some(k) => Answer::Choice(k),
                None => return Taken::Hint(format!("Please choose one of the options, by number or in words: {}.", labels(&step.choices))),
            },
            StepKind::Area => match self.resolve_area(text) {
                Some(a) => Answer::Choice(a.id().to_string()),
                None => {
                    return Taken::Hint(format!(
                        "I do not know that area. Please choose one of: {}. (If the child lives elsewhere, call that council's children's services front door; if a child is in danger, call 999.)",
                        self.rules.areas().map(|a| a.meta.name.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                }
            },
            StepKind::Text if text.trim().len() <= 2 && text.trim().chars().all(|c| c.is_ascii_digit()) => {
                return Taken::Hint("That looks like the number of a choice, but this question needs a few words.".into());
            }
            StepKind::Text => match answers::parse_text(text) {
                Ok(t) => Answer::Text(t),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Name => match answers::parse_name(text) {
                Ok(t) => Answer::Text(t),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::PhoneOrEmail => match answers::parse_contact(text) {
                Ok(c) => Answer::Contact(c),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::DateOrAge => match answers::parse_child_age(text, now.date()) {
                Ok(a) => Answer::Age(a),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Address => match answers::parse_address(text) {
                Ok(a) => Answer::Address(a),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Concerns => return Taken::Hint("Please describe your concerns.".into()),
        };
        // Side effects of particular answers.
        match (&*id, &answer) {
            ("danger", Answer::YesNo(true)) => {
                let text = self.danger_advice(s, now);
                out.push(Reply::Say(text));
            }
            ("danger_continue", Answer::YesNo(false)) => {
                self.store(s, &id, answer);
                out.push(Reply::Say(
                    "Understood. Make the calls now. Here is the record of the advice given; you can start a new consultation at any time.".into(),
                ));
                let record = self.record(s, now, false);
                s.finished = Some(String::new());
                out.push(Reply::Finished(Box::new(record)));
                return Taken::Ok;
            }
            ("child_age", Answer::Age(_)) => {
                self.store(s, &id, answer);
                self.reread_with_age(s, now, out);
                return Taken::Ok;
            }
            ("area", Answer::Choice(a)) => {
                if s.area.as_deref() != Some(a.as_str()) {
                    s.area = Some(a.clone());
                    self.reanalyse(s, now);
                }
                if let Some(area) = self.rules.area(a) {
                    if let Some(next) = &area.meta.superseded_by {
                        let newer = self
                            .rules
                            .area(next.as_str())
                            .map(|n| n.meta.document.clone())
                            .unwrap_or_else(|| next.to_string());
                        out.push(Reply::Say(format!(
                            "Note: {} has been superseded by {newer}. Use the newer document unless you have a reason not to (/back to change).",
                            area.meta.document
                        )));
                    }
                }
            }
            _ => {}
        }
        self.store(s, &id, answer);
        Taken::Ok
    }

    fn store(&self, s: &mut Session, id: &str, answer: Answer) {
        s.answers.insert(id.to_string(), answer);
        s.order.retain(|x| x != id);
        s.order.push(id.to_string());
    }

    fn resolve_area(&self, text: &str) -> Option<&Area> {
        let n = answers::normalise(text);
        if n.is_empty() {
            return None;
        }
        let areas: Vec<&Area> = self.rules.areas().collect();
        if let Ok(i) = n.parse::<usize>() {
            return i.checked_sub(1).and_then(|i| areas.get(i).copied());
        }
        let exact = areas.iter().find(|a| {
            a.id() == n
                || answers::normalise(&a.meta.name) == n
                || answers::normalise(&a.meta.front_door) == n
        });
        if let Some(a) = exact {
            // Among areas with the same name, prefer the current document.
            let same: Vec<&&Area> = areas
                .iter()
                .filter(|b| b.meta.name == a.meta.name)
                .collect();
            return same
                .iter()
                .find(|b| b.meta.superseded_by.is_none())
                .map(|b| **b)
                .or(Some(*a));
        }
        let prefixed: Vec<&&Area> = areas
            .iter()
            .filter(|a| {
                n.len() >= 3
                    && (a.id().starts_with(&n) || answers::normalise(&a.meta.name).starts_with(&n))
            })
            .collect();
        let current: Vec<&&Area> = prefixed
            .iter()
            .copied()
            .filter(|a| a.meta.superseded_by.is_none())
            .collect();
        if current.len() == 1 {
            return Some(current[0]);
        }
        if prefixed.len() == 1 {
            return Some(prefixed[0]);
        }
        areas
            .iter()
            .filter(|a| a.meta.superseded_by.is_none())
            .map(|a| {
                (
                    strsim::jaro_winkler(&n, &answers::normalise(&a.meta.name)),
                    *a,
                )
            })
            .filter(|(score, _)| *score > 0.9)
            .max_by(|x, y| x.0.total_cmp(&y.0))
            .map(|(_, a)| a)
    }

    // ----- Safety ---------------------------------------------------------------------------

    fn call_now<'r>(
        &'r self,
        area: &'r Area,
        urgency: Urgency,
        now: NaiveDateTime,
    ) -> Option<CallNow<'r>> {
        contacts::route(area, &self.rules.bank_holidays, urgency, now).ok()
    }

    /// Who to call in `area` for `urgency` now, as one paragraph; the numbers are noted as given.
    fn call_now_text(
        &self,
        s: &mut Session,
        area: &Area,
        urgency: Urgency,
        now: NaiveDateTime,
        why: &str,
    ) -> String {
        match self.call_now(area, urgency, now) {
            Some(c) => {
                give_numbers(s, &c, why);
                format!(
                    "{} ({}): {}",
                    area.meta.name,
                    area.meta.front_door,
                    c.text(now)
                )
            }
            None => format!("{}: call 999 if a child is in danger.", area.meta.name),
        }
    }

    fn danger_advice(&self, s: &mut Session, now: NaiveDateTime) -> String {
        s.give_number("Police", "999", "a child in immediate danger");
        let mut t = String::from(
            "Call 999 now if a child is in immediate danger. Then call the front door by phone:\n",
        );
        let areas: Vec<&Area> = match s.area.as_deref().and_then(|a| self.rules.area(a)) {
            Some(a) => vec![a],
            None => self
                .rules
                .areas()
                .filter(|a| a.meta.superseded_by.is_none())
                .collect(),
        };
        for a in areas {
            let line =
                self.call_now_text(s, a, Urgency::Immediate, now, "immediate danger: after 999");
            let _ = writeln!(t, "- {line}");
        }
        t.trim_end().to_string()
    }

    // ----- Concerns -------------------------------------------------------------------------

    fn concerns_answer(
        &self,
        s: &mut Session,
        step: &Step,
        text: &str,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let Some(area) = s.area.as_deref().and_then(|a| self.rules.area(a)) else {
            // Only possible if the area's rules were removed after the session began.
            s.answers.remove("area");
            s.area = None;
            return Taken::Hint("Please choose the area again.".into());
        };
        let t = text.trim();
        let n = answers::normalise(t);
        match s.concerns.stage {
            ConcernStage::FollowUp => self.follow_up_answer(s, area, t, now),
            ConcernStage::ConfirmDrop => self.confirm_drop_answer(s, area, t, out),
            ConcernStage::Confirm => {
                if matches!(
                    n.as_str(),
                    "yes"
                        | "y"
                        | "confirm"
                        | "confirmed"
                        | "correct"
                        | "ok"
                        | "okay"
                        | "that's right"
                        | "yes these fit"
                        | "done"
                ) {
                    return self.confirm_concerns(s, area, step, now, out);
                }
                if matches!(
                    n.as_str(),
                    "none" | "no" | "none of these" | "none of these fit" | "none fit"
                ) {
                    let all: BTreeSet<usize> = (0..s.concerns.candidates.len()).collect();
                    return self.drop_candidates(s, area, &all);
                }
                if let Some(rest) = strip_word(&n, &["drop", "remove", "not", "delete"]) {
                    let numbers: Vec<usize> = rest
                        .split(|c: char| !c.is_ascii_digit())
                        .filter_map(|x| x.parse().ok())
                        .collect();
                    if numbers.is_empty()
                        || numbers
                            .iter()
                            .any(|&k| k == 0 || k > s.concerns.candidates.len())
                    {
                        return Taken::Hint(format!(
                            "To drop an indicator, type \"drop\" and its number (1 to {}), e.g. \"drop 2\".",
                            s.concerns.candidates.len()
                        ));
                    }
                    let drop: BTreeSet<usize> = numbers.into_iter().map(|k| k - 1).collect();
                    return self.drop_candidates(s, area, &drop);
                }
                if let Some(rest) = strip_word(t, &["add", "Add", "ADD"]) {
                    let id = rest.trim();
                    if let Some(ind) = area.indicator(id) {
                        if !s.concerns.candidates.iter().any(|c| c.indicator == ind.id) {
                            s.concerns.candidates.push(Candidate {
                                indicator: ind.id.clone(),
                                need: String::new(),
                                matched: vec![],
                                red_flag: false,
                            });
                        }
                        return Taken::Ok;
                    }
                    if id.is_empty() {
                        return Taken::Hint("To add, type more about your concern, e.g. \"add he has missed 12 days this term\".".into());
                    }
                    return self.concerns_text(s, area, id, now, out);
                }
                self.concerns_text(s, area, t, now, out)
            }
            ConcernStage::Describe => {
                if let Some(ind) = strip_word(t, &["add", "Add", "ADD"])
                    .and_then(|rest| area.indicator(rest.trim()))
                {
                    if !s.concerns.candidates.iter().any(|c| c.indicator == ind.id) {
                        s.concerns.candidates.push(Candidate {
                            indicator: ind.id.clone(),
                            need: String::new(),
                            matched: vec![],
                            red_flag: false,
                        });
                    }
                    s.concerns.stage = ConcernStage::Confirm;
                    return Taken::Ok;
                }
                if !s.concerns.messages.is_empty()
                    && matches!(
                        n.as_str(),
                        "done" | "that's all" | "nothing more" | "no more" | "go on" | "continue"
                    )
                {
                    return self.confirm_concerns(s, area, step, now, out);
                }
                if answers::is_dont_know(t) {
                    return Taken::Hint("Please say in your own words what you have seen or heard that worries you: even a little helps.".into());
                }
                self.concerns_text(s, area, t, now, out)
            }
        }
    }

    fn concerns_text(
        &self,
        s: &mut Session,
        area: &Area,
        text: &str,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let len = text.chars().count();
        if len == 0 {
            return Taken::Hint("Please describe your concerns.".into());
        }
        if len > MAX_CONCERNS_MESSAGE {
            return Taken::Hint(format!(
                "That message is very long ({len} characters). Please send it in parts of up to {MAX_CONCERNS_MESSAGE} characters; each part is added to the last."
            ));
        }
        let so_far: usize = s.concerns.messages.iter().map(|m| m.chars().count()).sum();
        if so_far + len > MAX_CONCERNS_TOTAL {
            let left = MAX_CONCERNS_TOTAL.saturating_sub(so_far);
            return Taken::Hint(format!(
                "A consultation keeps up to {MAX_CONCERNS_TOTAL} characters of concerns, and {so_far} are already taken, so there is room for {left} more. Please send the most important part in up to {left} characters (the rest can go in your own notes or the referral)."
            ));
        }
        s.concerns.messages.push(text.to_string());
        let before = s.concerns.immediate;
        self.analyse(s, area, now);
        if s.concerns.immediate && !before {
            let line = self.call_now_text(
                s,
                area,
                Urgency::Immediate,
                now,
                "the concerns may need immediate protection",
            );
            s.give_number(
                "Police",
                "999",
                "the concerns may need immediate protection",
            );
            let flags = if s.concerns.red_flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.concerns.red_flags.join("; "))
            };
            out.push(Reply::Say(format!(
                "What you describe may need immediate protection{flags}. If the child is in danger now, call 999, then the front door: {line}"
            )));
        }
        s.concerns.stage = ConcernStage::Confirm;
        Taken::Ok
    }

    /// Reads every concern message together with the understanding (the child's age given so
    /// far as the hint) and puts forward the needs it describes, each in the area's own words.
    /// Needs the caller dropped stay dropped; indicators the caller added stay.
    fn analyse(&self, s: &mut Session, area: &Area, now: NaiveDateTime) {
        let text = s.concerns.messages.join("\n");
        let Some(a) = self.assess(s, area, &text, now) else {
            return;
        };
        s.concerns.immediate |= a.immediate;
        // Red flags: the floor's, and a child-protection kind of concern read at child
        // protection (the documents' own red flags), so that dropping one is confirmed first
        // and the consent caution names it.
        let mut flags: Vec<String> = a.reading.red_flags.iter().map(|f| f.name.clone()).collect();
        if a.tier >= 4 {
            flags.extend(
                a.shown
                    .iter()
                    .filter(|sh| sh.need.tier >= 4 && sh.need.group == "harm")
                    .map(|sh| sh.need.name.clone()),
            );
        }
        for f in flags {
            if !s.concerns.red_flags.contains(&f) {
                s.concerns.red_flags.push(f);
            }
        }
        // The follow-up's worrying answer is kept: reading again never lowers the tier.
        let raised = s
            .concerns
            .follow_up
            .as_ref()
            .filter(|f| f.worrying)
            .map_or(0, |f| f.raises_to);
        s.concerns.tier = a.tier.max(raised);
        let flagged: BTreeSet<&str> = a
            .reading
            .red_flags
            .iter()
            .flat_map(|f| f.needs.iter().map(String::as_str))
            .collect();
        let added: Vec<Candidate> = s
            .concerns
            .candidates
            .iter()
            .filter(|c| c.need.is_empty())
            .cloned()
            .collect();
        let mut candidates: Vec<Candidate> = Vec::new();
        for shown in &a.shown {
            let id = shown.need.id.clone();
            if s.concerns.dropped_needs.contains(&id) || s.concerns.withdrawn.contains(&id) {
                continue;
            }
            let red_flag = shown.red_flag
                || flagged.contains(id.as_str())
                || (a.tier >= 4 && shown.need.tier >= 4 && shown.need.group == "harm");
            candidates.push(Candidate {
                indicator: shown.indicator.map(|i| i.id.clone()).unwrap_or_default(),
                need: id,
                matched: shown.your_words.clone(),
                red_flag,
            });
        }
        for c in added {
            if !candidates
                .iter()
                .any(|k| !k.indicator.is_empty() && k.indicator == c.indicator)
            {
                candidates.push(c);
            }
        }
        s.concerns.candidates = candidates;
        if s.concerns.follow_up.is_none() {
            s.concerns.follow_up = a.follow_up.map(|f| {
                let question = follow_up_question_text(f.factor, &f.when);
                FollowUpState {
                    factor: f.factor,
                    need: f.need,
                    raises_to: f.raises_to.0,
                    immediate: f.raises_to.1,
                    when: f.when,
                    question,
                    answer: None,
                    worrying: false,
                }
            });
        }
    }

    /// The assessment of `text` in `area` at `now`, with the child's age known so far.
    fn assess<'a>(
        &'a self,
        s: &Session,
        area: &'a Area,
        text: &str,
        now: NaiveDateTime,
    ) -> Option<Assessment<'a>> {
        assess::assess(
            area,
            &self.understanding,
            &self.rules.bank_holidays,
            text,
            self.age_hint(s, now),
            now,
        )
        .ok()
    }

    /// The child's age in years as already given in this consultation (the age question, or an
    /// age given in answer to the follow-up), for reading the concern.
    fn age_hint(&self, s: &Session, now: NaiveDateTime) -> Option<f32> {
        let from_follow_up = s
            .concerns
            .follow_up
            .as_ref()
            .filter(|f| f.factor == Factor::Age)
            .and_then(|f| f.answer.as_deref())
            .and_then(|a| answers::parse_child_age(a, now.date()).ok());
        let age = match s.answers.get("child_age") {
            Some(Answer::Age(a)) => Some(a.clone()),
            _ => from_follow_up,
        }?;
        Some(age_years(&age, now.date()))
    }

    /// After a change of area (or of the child's age): read every message again.
    fn reanalyse(&self, s: &mut Session, now: NaiveDateTime) {
        s.concerns.candidates.retain(|c| c.need.is_empty());
        s.concerns.pending_drop.clear();
        s.answers.remove("concerns");
        s.order.retain(|x| x != "concerns");
        if let Some(area) = s.area.as_deref().and_then(|a| self.rules.area(a)) {
            // Indicators added by id belong to the old area's document.
            s.concerns
                .candidates
                .retain(|c| area.indicator(&c.indicator).is_some());
            if !s.concerns.messages.is_empty() {
                self.analyse(s, area, now);
            }
        }
        s.concerns.stage = if s.concerns.messages.is_empty() {
            ConcernStage::Describe
        } else {
            ConcernStage::Confirm
        };
    }

    fn confirmed<'a>(&self, s: &Session, area: &'a Area) -> Vec<&'a Indicator> {
        s.concerns
            .candidates
            .iter()
            .filter_map(|c| area.indicator(&c.indicator))
            .collect()
    }

    /// The caller confirmed what was understood: the follow-up question next when the
    /// understanding was unsure, else the concerns are done.
    fn confirm_concerns(
        &self,
        s: &mut Session,
        area: &Area,
        step: &Step,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let _ = area;
        out.push(Reply::Say(self.first_advice(s, now)));
        // Asked only about a need the caller kept, and never when a red flag already gives the
        // top tier.
        let ask = s.concerns.follow_up.as_ref().is_some_and(|f| {
            f.answer.is_none() && s.concerns.candidates.iter().any(|c| c.need == f.need)
        }) && !s.concerns.red_flag_stands();
        if ask {
            s.concerns.stage = ConcernStage::FollowUp;
        } else {
            self.finish_concerns(s, step);
        }
        Taken::Ok
    }

    fn finish_concerns(&self, s: &mut Session, step: &Step) {
        s.concerns.stage = ConcernStage::Confirm;
        self.store(s, step.id.as_str(), Answer::Concerns);
    }

    fn follow_up_question(
        &self,
        s: &Session,
        progress: Option<Progress>,
        hint: Option<String>,
    ) -> Option<Question> {
        let f = s.concerns.follow_up.as_ref()?;
        let choices = if f.factor == Factor::Age {
            vec![]
        } else {
            vec![
                choice("yes", "Yes"),
                choice("no", "No"),
                choice("dont_know", "Don't know"),
            ]
        };
        Some(Question {
            step: "follow_up".into(),
            section: "Your concerns".into(),
            progress,
            text: f.question.clone(),
            choices,
            dont_know: true,
            hint,
        })
    }

    /// The follow-up answer: a worrying one raises the tier to the need's `raises_to`; any other
    /// keeps the tier already given (the higher of the two the understanding was unsure
    /// between). The child's age, when that was asked, is used to read the concern again.
    fn follow_up_answer(
        &self,
        s: &mut Session,
        area: &Area,
        text: &str,
        now: NaiveDateTime,
    ) -> Taken {
        let Some(f) = s.concerns.follow_up.clone() else {
            if let Some(step) = self.concerns_step() {
                self.finish_concerns(s, step);
            }
            return Taken::Ok;
        };
        if text.trim().is_empty() {
            return Taken::Hint("Please answer yes, no or \"don't know\".".into());
        }
        let (answer, worrying) = match answers::parse_follow_up(f.factor, text, now.date()) {
            Ok(a) => a,
            Err(h) => return Taken::Hint(h.0),
        };
        if let Some(state) = s.concerns.follow_up.as_mut() {
            state.answer = Some(answer);
            state.worrying = worrying;
        }
        if worrying {
            s.concerns.tier = s.concerns.tier.max(f.raises_to);
            s.concerns.immediate |= f.immediate;
        }
        if f.factor == Factor::Age {
            // Read again with the age (the tier only goes up: see `analyse`).
            let before = s.concerns.tier;
            self.analyse(s, area, now);
            s.concerns.tier = s.concerns.tier.max(before);
        }
        if let Some(step) = self.concerns_step() {
            self.finish_concerns(s, step);
        }
        Taken::Ok
    }

    fn concerns_step(&self) -> Option<&Step> {
        self.script
            .steps
            .iter()
            .find(|st| st.kind == StepKind::Concerns)
    }

    /// Drops the candidates at `drop` (0-based). A red flag, or an indicator calling for
    /// immediate protection, is not dropped at once: the caller is asked to confirm that what was
    /// understood is wrong.
    fn drop_candidates(&self, s: &mut Session, area: &Area, drop: &BTreeSet<usize>) -> Taken {
        let mut kept = Vec::new();
        let mut ask = Vec::new();
        for (i, c) in std::mem::take(&mut s.concerns.candidates)
            .into_iter()
            .enumerate()
        {
            let red = c.red_flag
                || area
                    .indicator(&c.indicator)
                    .is_some_and(|ind| ind.immediate);
            if !drop.contains(&i) {
                kept.push(c);
            } else if red {
                ask.push(c.key().to_string());
                kept.push(c);
            } else {
                note_dropped(&mut s.concerns, &c);
            }
        }
        s.concerns.candidates = kept;
        if !ask.is_empty() {
            s.concerns.pending_drop = ask;
            s.concerns.stage = ConcernStage::ConfirmDrop;
        } else if s.concerns.candidates.is_empty() {
            s.concerns.stage = ConcernStage::Describe;
        }
        Taken::Ok
    }

    fn confirm_drop_question(
        &self,
        s: &Session,
        progress: Option<Progress>,
        hint: Option<String>,
    ) -> Option<Question> {
        let area = s.area.as_deref().and_then(|a| self.rules.area(a))?;
        let key = s.concerns.pending_drop.first()?;
        let c = s.concerns.candidates.iter().find(|c| c.key() == key)?;
        let (_, text, _, _) = self.describe_candidate(area, c);
        let words = Some(c.matched.join(", ")).filter(|w| !w.is_empty());
        let said = match words {
            Some(w) => format!("You said \"{w}\", which I read as"),
            None => "You chose".to_string(),
        };
        Some(Question {
            step: "confirm_drop".into(),
            section: "Your concerns".into(),
            progress,
            text: format!(
                "{said} \"{text}\": a sign of possible significant harm. Is that wrong (it did not happen, or I misread you)? If it is right but the words do not fit, keep it: the front door can lower a level, but a missed concern can leave a child unprotected."
            ),
            choices: vec![
                choice("yes", "Yes, that is wrong: remove it"),
                choice("no", "No, keep it"),
            ],
            dont_know: false,
            hint,
        })
    }

    fn confirm_drop_answer(
        &self,
        s: &mut Session,
        area: &Area,
        text: &str,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let Some(key) = s.concerns.pending_drop.first().cloned() else {
            s.concerns.stage = ConcernStage::Confirm;
            return Taken::Ok;
        };
        let wrong = match answers::parse_yes_no_or(
            text,
            &[
                "wrong",
                "yes that is wrong",
                "yes that is wrong remove it",
                "remove",
                "remove it",
            ],
            &["keep", "keep it", "no keep it"],
        ) {
            Some(b) => b,
            None => {
                return Taken::Hint(
                    "Please answer \"yes\" (it is wrong: remove it) or \"no\" (keep it).".into(),
                )
            }
        };
        s.concerns.pending_drop.remove(0);
        if wrong {
            let removed: Vec<Candidate> = s
                .concerns
                .candidates
                .iter()
                .filter(|c| c.key() == key)
                .cloned()
                .collect();
            s.concerns.candidates.retain(|c| c.key() != key);
            if !s.concerns.withdrawn.contains(&key) {
                s.concerns.withdrawn.push(key.clone());
            }
            for c in &removed {
                note_dropped(&mut s.concerns, c);
                let (_, text, _, _) = self.describe_candidate(area, c);
                out.push(Reply::Say(red_flag_caution(&text)));
            }
        } else {
            out.push(Reply::Say("Kept.".into()));
        }
        if s.concerns.pending_drop.is_empty() {
            s.concerns.stage = if s.concerns.candidates.is_empty() {
                ConcernStage::Describe
            } else {
                ConcernStage::Confirm
            };
        }
        Taken::Ok
    }

    /// A candidate as shown: (domain, words, level, tier). The area's indicator where it has
    /// one; else the need in plain words, saying the document has no indicator for it.
    fn describe_candidate(&self, area: &Area, c: &Candidate) -> (String, String, String, u8) {
        if let Some(i) = area.indicator(&c.indicator) {
            let level = area
                .level(&i.level)
                .map(|l| l.name.clone())
                .unwrap_or_default();
            return (
                i.domain.clone(),
                i.text.clone(),
                level,
                area.indicator_tier(i),
            );
        }
        match self.rules.needs.need(&c.need) {
            Some(n) => {
                let level = area
                    .level_for_tier(n.tier)
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                (
                    "Not in this document".to_string(),
                    format!(
                        "{} ({} has no indicator for this; usually tier {}, from {})",
                        n.name, area.meta.document, n.tier, n.basis
                    ),
                    level,
                    n.tier,
                )
            }
            None => (String::new(), c.key().to_string(), String::new(), 0),
        }
    }

    fn match_list(&self, s: &Session, progress: Option<Progress>) -> MatchList {
        let area = s.area.as_deref().and_then(|a| self.rules.area(a));
        let items: Vec<ShownMatch> = match area {
            Some(area) => s
                .concerns
                .candidates
                .iter()
                .enumerate()
                .map(|(n, c)| {
                    let (domain, text, level, tier) = self.describe_candidate(area, c);
                    let ind = area.indicator(&c.indicator);
                    ShownMatch {
                        number: n + 1,
                        indicator: if c.indicator.is_empty() {
                            c.need.clone()
                        } else {
                            c.indicator.clone()
                        },
                        domain,
                        text,
                        level,
                        tier,
                        matched: c.matched.clone(),
                        red_flag: c.red_flag || ind.is_some_and(|i| i.immediate),
                        strength: ind.is_some_and(|i| i.positive),
                    }
                })
                .collect(),
            None => vec![],
        };
        let prompt = if items.is_empty() {
            "I could not tell what kind of concern this is. Tell me more in your own words (what you saw or heard, how often, the child's age, any injury), or type \"done\" to go on: the front door will still advise."
        } else {
            "Is this what you are worried about? Type \"yes\" to confirm, \"drop 2\" to remove one, or type more to add (\"none\" if none fit)."
        };
        MatchList {
            document: area.map(|a| a.meta.document.clone()).unwrap_or_default(),
            items,
            prompt: prompt.to_string(),
            choices: vec![
                choice("confirm", "Yes, these fit"),
                choice("none", "None of these fit"),
            ],
            progress,
        }
    }

    // ----- Summary, outcome, record -------------------------------------------------------

    fn summary_lines(&self, s: &Session, now: NaiveDateTime) -> Vec<(String, String)> {
        self.applicable(s, now)
            .into_iter()
            .filter_map(|st| {
                s.answers.get(st.id.as_str()).map(|a| {
                    (
                        st.id.to_string(),
                        format!(
                            "{}: {}",
                            short_question(&st.question),
                            self.show_answer(s, st, a, now)
                        ),
                    )
                })
            })
            .collect()
    }

    fn summary_text(&self, s: &Session, now: NaiveDateTime) -> String {
        let lines = self.summary_lines(s, now);
        if lines.is_empty() {
            return "No answers yet.".into();
        }
        let mut t = String::from("Your answers so far:\n");
        for (i, (_, line)) in lines.iter().enumerate() {
            let _ = writeln!(t, "{}. {line}", i + 1);
        }
        t.trim_end().to_string()
    }

    fn summary_prompt(&self, s: &Session, now: NaiveDateTime, hint: Option<String>) -> Vec<Reply> {
        vec![
            Reply::Say(self.summary_text(s, now)),
            Reply::Ask(Question {
                step: "summary".into(),
                section: "Summary".into(),
                progress: None,
                text: "Is this right? Type \"yes\" for the outcome, or the number of an answer to change it.".into(),
                choices: vec![choice("yes", "Yes, show the outcome")],
                dont_know: false,
                hint,
            }),
        ]
    }

    fn summary_answer(
        &self,
        mut s: Session,
        text: &str,
        now: NaiveDateTime,
    ) -> (Session, Vec<Reply>) {
        let n = answers::normalise(text);
        let lines = self.summary_lines(&s, now);
        if let Ok(k) = n.trim_start_matches("change ").parse::<usize>() {
            if let Some((id, _)) = k.checked_sub(1).and_then(|i| lines.get(i)) {
                let id = id.clone();
                self.unanswer(&mut s, &id);
                let out = self.prompt(&s, now, None);
                return (s, out);
            }
            let hint = format!(
                "Please type a number from 1 to {}, or \"yes\".",
                lines.len()
            );
            let out = self.prompt(&s, now, Some(hint));
            return (s, out);
        }
        if matches!(
            n.as_str(),
            "yes" | "y" | "ok" | "okay" | "correct" | "right" | "yes show the outcome" | "confirm"
        ) {
            return self.outcome(s, now);
        }
        let out = self.prompt(&s, now, Some("Please type \"yes\" if the answers are right, or the number of the answer to change.".into()));
        (s, out)
    }

    fn unanswer(&self, s: &mut Session, id: &str) {
        s.answers.remove(id);
        s.order.retain(|x| x != id);
        if self
            .script
            .step(id)
            .is_some_and(|st| st.kind == StepKind::Concerns)
        {
            s.concerns.stage = if s.concerns.candidates.is_empty() && s.concerns.messages.is_empty()
            {
                ConcernStage::Describe
            } else {
                ConcernStage::Confirm
            };
        }
    }

    fn show_answer(&self, s: &Session, step: &Step, a: &Answer, now: NaiveDateTime) -> String {
        match a {
            Answer::Text(t) => t.clone(),
            Answer::DontKnow => "don't know".into(),
            Answer::YesNo(b) => if *b { "yes" } else { "no" }.into(),
            Answer::Choice(k) => match step.kind {
                StepKind::Area => self
                    .rules
                    .area(k)
                    .map(|a| format!("{} ({})", a.meta.name, a.meta.document))
                    .unwrap_or_else(|| k.clone()),
                _ => step
                    .choices
                    .iter()
                    .find(|c| &c.key == k)
                    .map(|c| c.label.clone())
                    .unwrap_or_else(|| k.clone()),
            },
            Answer::Contact(c) => c.to_string(),
            Answer::Age(age) => age.describe(now.date()),
            Answer::Address(addr) => addr.text.clone(),
            Answer::Concerns => {
                let area = s.area.as_deref().and_then(|a| self.rules.area(a));
                let inds: Vec<String> = area
                    .map(|area| {
                        s.concerns
                            .candidates
                            .iter()
                            .map(|c| format!("\"{}\"", self.describe_candidate(area, c).1))
                            .collect()
                    })
                    .unwrap_or_default();
                let words: usize = s
                    .concerns
                    .messages
                    .iter()
                    .map(|m| m.split_whitespace().count())
                    .sum();
                if inds.is_empty() {
                    format!(
                        "{} message(s), {words} words; no indicator confirmed",
                        s.concerns.messages.len()
                    )
                } else {
                    format!(
                        "{} message(s), {words} words; confirmed: {}",
                        s.concerns.messages.len(),
                        inds.join("; ")
                    )
                }
            }
        }
    }

    fn answer_text(&self, s: &Session, id: &str, now: NaiveDateTime) -> String {
        match (self.script.step(id), s.answers.get(id)) {
            (Some(step), Some(a)) => self.show_answer(s, step, a, now),
            _ => String::new(),
        }
    }

    fn outcome(&self, mut s: Session, now: NaiveDateTime) -> (Session, Vec<Reply>) {
        let record = self.record(&mut s, now, true);
        let child = if record.child.name.is_empty() {
            "the child".to_string()
        } else {
            record.child.name.clone()
        };
        let text = screen::advice(
            &record,
            &format!("Outcome for {child}"),
            "The full record: /record (and saved as a file with /export).",
        );
        let mut out = vec![Reply::Say(text)];
        s.finished = Some(String::new());
        out.push(Reply::Finished(Box::new(record)));
        (s, out)
    }

    /// The first advice, as soon as the concern is confirmed: the level, what to do, consent and
    /// the number to call now, on one screen. The numbers given are noted.
    fn first_advice(&self, s: &mut Session, now: NaiveDateTime) -> String {
        let record = self.record(s, now, true);
        screen::advice(
            &record,
            "First advice (you can call now; the rest of the questions are for the record)",
            "Now a few questions for the record and the call (\"don't know\" is fine where offered).",
        )
    }

    /// After the child's age is given: the concern read again with it. The tier only goes up;
    /// when it does (or immediate protection is now called for), the caller is told at once.
    fn reread_with_age(&self, s: &mut Session, now: NaiveDateTime, out: &mut Vec<Reply>) {
        let Some(area) = s.area.as_deref().and_then(|a| self.rules.area(a)) else {
            return;
        };
        if s.concerns.messages.is_empty() {
            return;
        }
        let text = s.concerns.messages.join("\n");
        let Some(a) = self.assess(s, area, &text, now) else {
            return;
        };
        let (before, was_immediate) = (s.concerns.tier, s.concerns.immediate);
        s.concerns.tier = before.max(a.tier);
        s.concerns.immediate |= a.immediate;
        for f in &a.reading.red_flags {
            if !s.concerns.red_flags.contains(&f.name) {
                s.concerns.red_flags.push(f.name.clone());
            }
        }
        if s.concerns.tier > before || (s.concerns.immediate && !was_immediate) {
            let record = self.record(s, now, true);
            out.push(Reply::Say(screen::advice(
                &record,
                "With the child's age, the advice changes",
                "The questions go on below.",
            )));
        }
    }

    /// The level of need for the concerns: the understanding's tier for the caller's words
    /// (raised by a worrying follow-up answer), or the area's own decision rule on the
    /// indicators kept where that is higher. None only when nothing was read.
    fn concern_outcome(
        &self,
        s: &Session,
        area: &Area,
        confirmed: &[&Indicator],
    ) -> Option<OutcomeInfo> {
        let by_rule = triage::decide(area, confirmed);
        let rule_tier = by_rule.as_ref().map_or(0, |o| o.tier);
        let read = s.concerns.tier;
        if rule_tier >= read {
            return by_rule.map(|o| OutcomeInfo {
                level: o.level.name.clone(),
                tier: o.tier,
                immediate: o.immediate || s.concerns.immediate,
                action: o.action.clone(),
                rule: o.rule.clone(),
                source: format!("{}:{}", area.meta.seed, o.source),
            });
        }
        let level = area
            .level_for_tier(read)
            .or_else(|| area.levels.iter().rfind(|l| l.tier <= read))?;
        let answered = s.concerns.follow_up.as_ref().filter(|f| f.answer.is_some());
        let rule = if s.concerns.red_flag_stands() {
            format!(
                "A red flag was described ({}): that is child protection in every threshold document.",
                s.concerns.red_flags.join("; ")
            )
        } else if let Some(f) = answered.filter(|f| f.worrying && f.raises_to >= read) {
            format!(
                "You said yes to \"{}\": that puts this at tier {} ({}).",
                f.when, f.raises_to, level.name
            )
        } else if answered.is_some() {
            format!(
                "What you described could be at two levels; the higher is given (tier {read}, {}). The front door can lower it when it knows more.",
                level.name
            )
        } else {
            format!(
                "What you described reads as tier {read} on the common scale: {}.",
                level.name
            )
        };
        Some(OutcomeInfo {
            level: level.name.clone(),
            tier: read,
            immediate: s.concerns.immediate,
            action: level.response.clone(),
            rule,
            source: format!("{}:{}", area.meta.seed, level.source),
        })
    }

    /// Builds the record from the session (reference left empty for the application to fill).
    fn record(&self, s: &mut Session, now: NaiveDateTime, completed: bool) -> Record {
        let area = s.area.as_deref().and_then(|a| self.rules.area(a));
        let danger = s.answers.get("danger") == Some(&Answer::YesNo(true));
        let confirmed: Vec<&Indicator> = area.map(|a| self.confirmed(s, a)).unwrap_or_default();
        let mut outcome = None;
        let mut call_now_reason = String::new();
        let mut next_steps = Vec::new();
        let mut guidance = Vec::new();
        let mut consent_required: Vec<String> = Vec::new();
        let consent_key = s.text("consent").unwrap_or("").to_string();
        if let Some(area) = area {
            let mut info = self.concern_outcome(s, area, &confirmed);
            // The caller's own report of immediate danger is never under-rated.
            if danger && completed {
                let under = info.as_ref().is_none_or(|o| o.tier < 4);
                if let (true, Some(level)) =
                    (under, area.level_for_tier(4).or_else(|| area.levels.last()))
                {
                    info = Some(OutcomeInfo {
                        level: level.name.clone(),
                        tier: if level.covers(4) { 4 } else { level.tier },
                        immediate: true,
                        action: level.response.clone(),
                        rule: "You reported a child in immediate danger: that is treated at the highest level, whatever the indicators.".into(),
                        source: format!("{}:{}", area.meta.seed, level.source),
                    });
                } else if let Some(o) = info.as_mut() {
                    o.immediate = true;
                }
            }
            // A red flag the caller has not withdrawn is never "not decided", nor below
            // child protection when none of its indicators was kept.
            let red_flag_kept = s.concerns.candidates.iter().any(|c| c.red_flag);
            if completed && s.concerns.red_flag_stands() && !red_flag_kept {
                let under = info.as_ref().is_none_or(|o| o.tier < 4);
                if let (true, Some(level)) =
                    (under, area.level_for_tier(4).or_else(|| area.levels.last()))
                {
                    info = Some(OutcomeInfo {
                        level: level.name.clone(),
                        tier: if level.covers(4) { 4 } else { level.tier },
                        immediate: s.concerns.immediate || info.as_ref().is_some_and(|o| o.immediate),
                        action: level.response.clone(),
                        rule: format!(
                            "You described {}, a sign of possible significant harm: the level stays at child protection until the front door advises otherwise.",
                            s.concerns.red_flags.join("; ")
                        ),
                        source: format!("{}:{}", area.meta.seed, level.source),
                    });
                }
            }
            if completed {
                let tier = info.as_ref().map(|o| o.tier);
                // Dropped indicators still count (unless the caller added them back).
                let dropped: Vec<&Indicator> = s
                    .concerns
                    .dropped
                    .iter()
                    .filter(|id| !confirmed.iter().any(|c| &&c.id == id))
                    .filter_map(|id| area.indicator(id))
                    .collect();
                let situation = consent::Situation {
                    tier,
                    immediate: info.as_ref().is_some_and(|o| o.immediate),
                    status: consent::Status::from_key(&consent_key),
                    approval: match s.answers.get("consent_approval") {
                        Some(Answer::Text(t)) if !t.trim().is_empty() => consent::Approval::Named,
                        _ => consent::Approval::Missing,
                    },
                    risks: consent::risks(
                        area,
                        danger,
                        &s.concerns.red_flags,
                        &confirmed,
                        &dropped,
                    ),
                };
                let advice = consent::guidance(area, &situation);
                consent_required = advice.required.clone();
                guidance = std::iter::once(advice.headline)
                    .chain(advice.rules)
                    .collect();
                let urgency = Urgency::of(
                    tier,
                    danger || s.concerns.immediate || info.as_ref().is_some_and(|o| o.immediate),
                );
                if let Some(c) = self.call_now(area, urgency, now) {
                    call_now_reason = c.text(now);
                    give_numbers(s, &c, "the line to call for this outcome");
                }
                next_steps.extend(next_steps::for_outcome(
                    area,
                    tier,
                    &confirmed,
                    info.as_ref().map(|o| o.action.as_str()),
                ));
            }
            outcome = info;
        }
        if completed || danger {
            next_steps.push("Record this consultation, the advice given and what you decided in your own agency's system; this bot is not the system of record.".into());
        }
        if completed && !s.concerns.red_flags.is_empty() && !s.concerns.red_flag_stands() {
            // The caller said what was understood was wrong: the safety advice stays.
            next_steps.insert(
                0,
                format!(
                    "You described {} and then said it was wrong. If you are unsure, talk it through with the front door now; if a child is in danger, call 999.",
                    s.concerns.red_flags.join("; ")
                ),
            );
        }
        if danger {
            next_steps.insert(
                0,
                "Call 999 now if the child is in immediate danger, then the front door.".into(),
            );
        } else if s.concerns.immediate && completed {
            // The matcher's safety floor saw immediate danger in the caller's words: say so in
            // the outcome even when the confirmed indicators do not call for it.
            let flags = if s.concerns.red_flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.concerns.red_flags.join("; "))
            };
            next_steps.insert(
                0,
                format!("Your words suggested a child may need immediate protection{flags}: if the child is in danger now, call 999, then the front door."),
            );
            s.give_number(
                "Police",
                "999",
                "the concerns may need immediate protection",
            );
        }
        let follow_ups = s
            .concerns
            .follow_up
            .iter()
            .filter_map(|f| {
                f.answer.as_ref().map(|a| record::FollowUp {
                    question: f.question.clone(),
                    answer: a.clone(),
                })
            })
            .collect();
        let consent_status = self.answer_text(s, "consent", now);
        Record {
            reference: String::new(),
            created: now,
            area: area.map(|a| AreaInfo {
                id: a.id().to_string(),
                name: a.meta.name.clone(),
                document: a.meta.document.clone(),
                partnership: a.meta.partnership.clone(),
                front_door: a.meta.front_door.clone(),
                seed: a.meta.seed.clone(),
            }),
            immediate_danger: danger,
            completed,
            caller: record::Caller {
                name: self.answer_text(s, "caller_name", now),
                role: self.answer_text(s, "caller_role", now),
                organisation: self.answer_text(s, "caller_org", now),
                contact: self.answer_text(s, "caller_contact", now),
                relationship: self.answer_text(s, "relationship", now),
                safeguarding_lead: self.answer_text(s, "safeguarding_lead", now),
            },
            child: record::Child {
                name: self.answer_text(s, "child_name", now),
                age: self.answer_text(s, "child_age", now),
                address: self.answer_text(s, "address", now),
                household: self.answer_text(s, "household", now),
                language: self.answer_text(s, "language", now),
                professionals: self.answer_text(s, "professionals", now),
                tried: self.answer_text(s, "tried", now),
            },
            concerns: s.concerns.messages.clone(),
            indicators: area
                .map(|area| {
                    s.concerns
                        .candidates
                        .iter()
                        .map(|c| match area.indicator(&c.indicator) {
                            Some(i) => ConfirmedIndicator {
                                id: i.id.clone(),
                                domain: i.domain.clone(),
                                text: i.text.clone(),
                                level: area
                                    .level(&i.level)
                                    .map(|l| l.name.clone())
                                    .unwrap_or_default(),
                                tier: area.indicator_tier(i),
                                source: format!("{}:{}", area.meta.seed, i.source),
                            },
                            None => {
                                let (domain, text, level, tier) = self.describe_candidate(area, c);
                                ConfirmedIndicator {
                                    id: c.key().to_string(),
                                    domain,
                                    text,
                                    level,
                                    tier,
                                    source: self
                                        .rules
                                        .needs
                                        .need(&c.need)
                                        .map(|n| n.basis.clone())
                                        .unwrap_or_default(),
                                }
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            follow_ups,
            strengths: self.answer_text(s, "strengths", now),
            consent: record::ConsentInfo {
                status: consent_status,
                reason: self.answer_text(s, "consent_reason", now),
                approval: self.answer_text(s, "consent_approval", now),
                child_view: self.answer_text(s, "child_view", now),
                guidance,
                required: consent_required,
            },
            outcome,
            // The chosen area's numbers and 999 only: numbers given for other areas (before the
            // area was chosen) do not belong in this child's record.
            numbers: s
                .numbers
                .iter()
                .filter(|n| {
                    area.is_none_or(|a| {
                        n.number == "999" || a.contacts.iter().any(|c| c.number == n.number)
                    })
                })
                .cloned()
                .collect(),
            call_now_reason,
            next_steps,
        }
    }

    // ----- Commands -------------------------------------------------------------------------

    /// Handles a command. Returns true when the replies are complete (no question to repeat).
    fn command(
        &self,
        s: &mut Session,
        c: Command,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> bool {
        match c {
            Command::Urgent => {
                let mut t = String::from("If a child is in immediate danger, call 999 now.\n");
                let areas: Vec<&Area> = match s.area.as_deref().and_then(|a| self.rules.area(a)) {
                    Some(a) => vec![a],
                    None => self
                        .rules
                        .areas()
                        .filter(|a| a.meta.superseded_by.is_none())
                        .collect(),
                };
                for a in areas {
                    let line = self.call_now_text(
                        s,
                        a,
                        Urgency::Unassessed,
                        now,
                        "asked who to call now (/urgent)",
                    );
                    let _ = writeln!(t, "- {line}");
                }
                out.push(Reply::Say(t.trim_end().to_string()));
            }
            Command::Contacts => {
                let mut t = String::new();
                let areas: Vec<&Area> = match s.area.as_deref().and_then(|a| self.rules.area(a)) {
                    Some(a) => vec![a],
                    None => self.rules.areas().collect(),
                };
                for a in areas {
                    let _ = writeln!(t, "{} ({}):", a.meta.name, a.meta.document);
                    for c in &a.contacts {
                        let hours = contacts::hours_text(c)
                            .map(|h| format!(", {h}"))
                            .unwrap_or_default();
                        let _ = writeln!(
                            t,
                            "- {}: {} ({}{hours})",
                            c.service,
                            c.number,
                            c.purpose.as_str().replace('_', " ")
                        );
                    }
                }
                out.push(Reply::Say(t.trim_end().to_string()));
            }
            Command::Help => out.push(Reply::Say(HELP.to_string())),
            Command::Why => {
                let why = match self.current(s, now) {
                    Some(st) if st.kind == StepKind::Concerns && s.concerns.stage == ConcernStage::Confirm => {
                        "I show what I understood in the words of the area's threshold document so that you and the front door speak the same language; you decide which fit. The level is read from your words on the safe side (a learned model checked so that no child-protection concern is rated low, with red flags as a floor), or the document's own rule where that is higher.".to_string()
                    }
                    Some(st) if st.kind == StepKind::Concerns && s.concerns.stage == ConcernStage::ConfirmDrop => {
                        "What you said may describe significant harm. Removing it can leave a child unprotected, so I check that what I understood is really wrong before taking it out; the safety advice stays either way.".to_string()
                    }
                    Some(st) if st.kind == StepKind::Concerns && s.concerns.stage == ConcernStage::FollowUp => {
                        "What you described could be at two levels; I have given the higher. The answer to this one question decides whether it is higher still; \"no\" or \"don't know\" never lowers it.".to_string()
                    }
                    Some(st) => st.why.clone(),
                    None if s.is_finished() => "The consultation is over; the record is what to copy into your agency's system.".to_string(),
                    None => "The summary lets you check every answer before the outcome, because the record goes into your agency's system.".to_string(),
                };
                out.push(Reply::Say(format!("Why I ask: {why}")));
            }
            Command::Back => {
                if s.concerns.stage != ConcernStage::Describe
                    && !s.answers.contains_key("concerns")
                    && self
                        .current(s, now)
                        .is_some_and(|st| st.kind == StepKind::Concerns)
                {
                    // Inside the concerns: back to describing (messages kept).
                    s.concerns.pending_drop.clear();
                    s.concerns.stage = if matches!(
                        s.concerns.stage,
                        ConcernStage::FollowUp | ConcernStage::ConfirmDrop
                    ) {
                        ConcernStage::Confirm
                    } else {
                        ConcernStage::Describe
                    };
                    out.push(Reply::Say("Back one step; what you wrote is kept.".into()));
                } else {
                    let last = s
                        .order
                        .iter()
                        .rev()
                        .find(|id| {
                            self.script
                                .step(id)
                                .is_some_and(|st| self.applies(s, st, now))
                        })
                        .cloned();
                    match last {
                        Some(id) => {
                            self.unanswer(s, &id);
                            out.push(Reply::Say(
                                "Back one question: please answer it again.".into(),
                            ));
                        }
                        None => out.push(Reply::Say("There is no answer to change yet.".into())),
                    }
                }
            }
            Command::Summary => out.push(Reply::Say(self.summary_text(s, now))),
            Command::Area => match s.fixed_area.as_deref().and_then(|a| self.rules.area(a)) {
                Some(area) => out.push(Reply::Say(format!(
                    "This service is set up for {} only. If the child lives elsewhere, call that council's children's services front door; if a child is in danger, call 999.",
                    area.meta.name
                ))),
                None if s.answers.contains_key("area") => {
                    self.unanswer(s, "area");
                    out.push(Reply::Say(
                        "Which area does the child live in? Your other answers are kept; your concerns are matched again if the area changes.".into(),
                    ));
                }
                None => {}
            },
            Command::Restart => self.cancel(s, now, out),
            Command::Cancel => {
                if s.order.is_empty() && s.concerns.messages.is_empty() {
                    self.cancel(s, now, out);
                } else {
                    s.pending_cancel = true;
                    out.push(Reply::Ask(Question {
                        step: "cancel".into(),
                        section: "Cancel".into(),
                        progress: None,
                        text: "Delete every answer of this consultation and start again? (Records already made are kept.)".into(),
                        choices: vec![
                            choice("yes", "Yes, delete and start again"),
                            choice("no", "No, keep my answers"),
                        ],
                        dont_know: false,
                        hint: None,
                    }));
                    return true;
                }
            }
            Command::Ask(text) => {
                if text.trim().is_empty() {
                    out.push(Reply::Say("Type /ask and your concern in a sentence, e.g. \"/ask 14 year old missing school and seen with older men\".".into()));
                } else if text.chars().count() > MAX_CONCERNS_MESSAGE {
                    out.push(Reply::Say(format!(
                        "Please keep /ask under {MAX_CONCERNS_MESSAGE} characters."
                    )));
                } else {
                    match s.area.as_deref().and_then(|a| self.rules.area(a)) {
                        Some(area) => out.extend(self.quick_advice(area, &text, self.age_hint(s, now), now)),
                        None => {
                            s.pending_ask = Some(text);
                            let choices = self
                                .script
                                .steps
                                .iter()
                                .find(|st| st.kind == StepKind::Area)
                                .map(|st| self.choices(st))
                                .unwrap_or_default();
                            out.push(Reply::Ask(Question {
                                step: "ask_area".into(),
                                section: "Quick advice".into(),
                                progress: None,
                                text: "Which area does the child live in? (The levels and numbers differ by area.)".into(),
                                choices,
                                dont_know: false,
                                hint: None,
                            }));
                            return true;
                        }
                    }
                }
            }
            Command::Unknown(word) => out.push(Reply::Say(format!(
                "I do not know the command {word}. {}",
                HELP
            ))),
        }
        s.is_finished()
    }

    /// Deletes this consultation's answers and starts again (a new generation).
    fn cancel(&self, s: &mut Session, now: NaiveDateTime, out: &mut Vec<Reply>) {
        let fixed = s.fixed_area.clone();
        let generation = s.generation.wrapping_add(1);
        *s = self.new_session(now, fixed.as_deref());
        s.generation = generation;
        out.push(Reply::Say(
            "Cancelled: this consultation's answers are deleted. Starting again.".into(),
        ));
    }

    /// The question again after a command; the list of what was understood is not repeated
    /// (only a one-line reminder with its choices).
    fn prompt_after_command(&self, s: &Session, now: NaiveDateTime) -> Vec<Reply> {
        let at_confirm = s.concerns.stage == ConcernStage::Confirm
            && !s.concerns.candidates.is_empty()
            && self
                .current(s, now)
                .is_some_and(|st| st.kind == StepKind::Concerns);
        if !at_confirm {
            return self.prompt(s, now, None);
        }
        vec![Reply::Ask(Question {
            step: "concerns".into(),
            section: "Your concerns".into(),
            progress: None,
            text: "Back to what I understood (shown above): \"yes\" to confirm, \"drop 2\" to remove one, or more words to add.".into(),
            choices: vec![
                choice("confirm", "Yes, these fit"),
                choice("none", "None of these fit"),
            ],
            dont_know: false,
            hint: None,
        })]
    }

    /// Quick advice on a concern without a consultation: what was understood (in the area's
    /// words), the level on the safe side (the higher of two when the understanding is unsure,
    /// with what would lower it), 999 first when immediate, and the number to call now.
    /// Nothing is recorded. `age_hint`: the child's age already given, if any.
    pub fn quick_advice(
        &self,
        area: &Area,
        text: &str,
        age_hint: Option<f32>,
        now: NaiveDateTime,
    ) -> Vec<Reply> {
        let mut t = format!(
            "Quick advice for {} ({}): not a consultation, nothing is recorded.\n",
            area.meta.name, area.meta.document
        );
        let a = match assess::assess(
            area,
            &self.understanding,
            &self.rules.bank_holidays,
            text,
            age_hint,
            now,
        ) {
            Ok(a) => a,
            Err(_) => {
                t.push_str("I cannot find this area's numbers. If a child is in danger, call 999.");
                return vec![Reply::Say(t)];
            }
        };
        if a.immediate {
            t.push_str("What you describe may need immediate protection: if the child is in danger now, call 999 first, then the front door.\n");
        }
        if let Some(o) = &a.outcome {
            let _ = writeln!(t, "Level: {} (tier {}). {}", o.level.name, o.tier, o.action);
        }
        if a.shown.is_empty() {
            t.push_str("I could not tell what kind of concern this is. Say more (what you saw or heard, how often, the child's age, any injury), or talk it through with the front door.\n");
        } else {
            t.push_str("What I understood:\n");
            for sh in &a.shown {
                let words = if sh.your_words.is_empty() {
                    String::new()
                } else {
                    format!("; your words: \"{}\"", sh.your_words.join("\", \""))
                };
                match sh.indicator {
                    Some(i) => {
                        let level = area.level(&i.level).map(|l| l.name.as_str()).unwrap_or("");
                        let _ = writeln!(t, "- {}: \"{}\" ({level}){words}", i.domain, i.text);
                    }
                    None => {
                        let _ = writeln!(
                            t,
                            "- {} ({} has no indicator for this; usually tier {}, from {}){words}",
                            sh.need.name, area.meta.document, sh.need.tier, sh.need.basis
                        );
                    }
                }
            }
        }
        if let Some((lower, higher)) = a.reading.unsure {
            let _ = writeln!(
                t,
                "I was unsure between tier {lower} and tier {higher}, so I give the higher."
            );
        }
        if !a.would_lower.is_empty() {
            t.push_str("It would be lower if:\n");
            for (when, tier) in &a.would_lower {
                let _ = writeln!(t, "- {when} (tier {tier})");
            }
        }
        if let Some(f) = &a.follow_up {
            let _ = writeln!(
                t,
                "It would be higher (tier {}{}) if: {}.",
                f.raises_to.0,
                if f.raises_to.1 {
                    ", immediate protection"
                } else {
                    ""
                },
                f.when
            );
        }
        let _ = writeln!(t, "Who to call now: {}", a.call.text(now));
        t.push_str("For a full consultation with a record, answer the questions (/help).");
        vec![Reply::Say(t)]
    }
}

const HELP: &str = "Answer each question in words, or by the number of a choice. Commands, at any point: /urgent who to call right now; /contacts every number for the area; /why why I ask this question; /back change the last answer; /summary your answers so far; /area change the child's area; /cancel delete this consultation and start again; /ask <concern> quick advice without a consultation; /help this message.";

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

/// A choice's key from a number, the key itself, or the label's words.
pub fn resolve_choice(choices: &[Choice], text: &str) -> Option<String> {
    let n = answers::normalise(text);
    if n.is_empty() {
        return None;
    }
    if let Ok(i) = n.parse::<usize>() {
        return i
            .checked_sub(1)
            .and_then(|i| choices.get(i))
            .map(|c| c.key.clone());
    }
    if let Some(c) = choices
        .iter()
        .find(|c| c.key == text.trim() || c.key == n || answers::normalise(&c.label) == n)
    {
        return Some(c.key.clone());
    }
    if n.len() >= 3 {
        let starts: Vec<&Choice> = choices
            .iter()
            .filter(|c| answers::normalise(&c.label).starts_with(&n))
            .collect();
        if starts.len() == 1 {
            return Some(starts[0].key.clone());
        }
    }
    // Common ways of saying the consent and yes/no choices.
    let synonyms: &[(&str, &[&str])] = &[
        ("yes", &["y", "yeah", "yep"]),
        ("no", &["n", "nope", "not yet"]),
        (
            "agreed",
            &["agreed", "they agree", "consent given", "yes they agree"],
        ),
        ("refused", &["refused", "they refused", "consent refused"]),
        ("not_yet", &["not asked", "not yet", "not yet asked"]),
        ("not_sought", &["not sought", "would put the child at risk"]),
        ("i_am", &["i am", "me", "i am the dsl", "i'm the dsl"]),
    ];
    synonyms
        .iter()
        .filter(|(_, words)| words.contains(&n.as_str()))
        .find_map(|(key, _)| choices.iter().find(|c| c.key == *key))
        .map(|c| c.key.clone())
}

fn strip_word<'t>(text: &'t str, words: &[&str]) -> Option<&'t str> {
    words.iter().find_map(|w| {
        text.strip_prefix(w)
            .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    })
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
