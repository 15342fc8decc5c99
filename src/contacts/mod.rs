//! Who to call, for how urgent a concern is, at a given UK local time.
//!
//! The answer follows the urgency as well as the clock:
//!
//! - **immediate danger**: 999 first, then the children's services line for that moment (the
//!   front door when it is open, the out-of-hours team when it is not);
//! - **significant harm** (tier 4), or a concern not yet assessed (`/urgent`): the front door
//!   when it is open, the out-of-hours team when it is not;
//! - **early help or targeted help** (tiers 1-3): the area's route for that level (the front door
//!   unless the document gives a line for it) now if it is open; out of hours, that line when it
//!   next opens ("opens Monday 08:30"), with the out-of-hours team and 999 if things change or a
//!   child is at risk. The emergency team is not the line for early help.
//!
//! Opening hours are the document's, else the deployment's (`FRONTDOOR_HOURS_<AREA>`), else
//! weekdays 08:00-18:00 assumed, and the answer then says that it is an assumption. Bank
//! holidays close every line; a date whose bank holidays cannot be vouched for carries a
//! warning. Inside the hours the front door is given first, with no fallback unless the
//! hours are assumed or the day is in doubt and the concern cannot wait.

pub mod hours;
pub mod json;

use chrono::NaiveDateTime;

use crate::rules::{Area, BankHolidays, Contact, Purpose};

pub use hours::{front_door_hours, line_hours, opens_phrase, Closed, HoursBasis, LineHours};
pub use json::CallNowJson;

/// How urgent the concern is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// A child in immediate danger: 999 first.
    Immediate,
    /// A tier on the common scale: 1 universal, 2 early help, 3 targeted or child in need,
    /// 4 significant harm.
    Tier(u8),
    /// Not assessed (`/urgent`, `contacts` without a tier): treated as a concern that may not
    /// wait, like significant harm.
    Unassessed,
}

impl Urgency {
    /// The urgency of an outcome: immediate, or its tier.
    pub fn of(tier: Option<u8>, immediate: bool) -> Urgency {
        match (immediate, tier) {
            (true, _) => Urgency::Immediate,
            (false, Some(t)) => Urgency::Tier(t),
            (false, None) => Urgency::Unassessed,
        }
    }

    fn can_wait(self) -> bool {
        matches!(self, Urgency::Tier(t) if t < 4)
    }
}

/// When to call the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Now.
    Now,
    /// When it next opens, if known.
    WhenOpen(Option<NaiveDateTime>),
}

/// Why this line at this moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The line is open now.
    Open,
    /// The front door is closed: the out-of-hours team takes what cannot wait.
    OutOfHours(Closed),
    /// The front door is closed and the document gives no out-of-hours number.
    NoOutOfHours(Closed),
    /// Nothing urgent: the line for this level when it next opens.
    WhenOpen(Closed),
}

impl Why {
    /// A short stable code, e.g. `open`, `out-of-hours:weekend`, `when-open:bank-holiday`.
    pub fn code(&self) -> String {
        match self {
            Why::Open => "open".to_string(),
            Why::OutOfHours(c) => format!("out-of-hours:{}", c.code()),
            Why::NoOutOfHours(c) => format!("no-out-of-hours:{}", c.code()),
            Why::WhenOpen(c) => format!("when-open:{}", c.code()),
        }
    }
}

/// The answer to "who do I call?", for an urgency at a moment. Every front end renders it.
#[derive(Debug, Clone)]
pub struct CallNow<'a> {
    /// How urgent the concern is.
    pub urgency: Urgency,
    /// 999.
    pub emergency: &'a Contact,
    /// Whether 999 comes first (immediate danger).
    pub call_999_first: bool,
    /// The children's services line to call (after 999 when that comes first).
    pub now: &'a Contact,
    /// Now, or when the line next opens.
    pub timing: Timing,
    /// Why that line.
    pub why: Why,
    /// The line to turn to if `now` does not answer or things change; `None` when not needed.
    pub fallback: Option<&'a Contact>,
    /// When to use the fallback, in words ("if there is no answer").
    pub fallback_when: &'static str,
    /// Why that line at this moment, in plain words.
    pub reason: String,
    /// What the answer rests on that may not hold: assumed hours, a year beyond the bank
    /// holidays data, no out-of-hours number.
    pub warnings: Vec<String>,
    /// Where the front door's hours come from.
    pub hours: HoursBasis,
}

/// Why no answer could be given (only possible with rules that skipped validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactsError {
    /// The area has no 999 or no front door contact.
    #[error("area {0} has no emergency or front door contact")]
    Missing(String),
}

impl CallNow<'_> {
    /// The number to dial first: 999 in immediate danger, else the line's.
    pub fn first_number(&self) -> &str {
        if self.call_999_first {
            &self.emergency.number
        } else {
            &self.now.number
        }
    }

    /// What to do, in one sentence: "Call 999 now, then Family Connect on 01926 414144." or
    /// "Call Family Connect on 01926 414144 when it opens (Monday 08:00)."
    pub fn instruction(&self, at: NaiveDateTime) -> String {
        let line = format!("{} on {}", self.now.service, self.now.number);
        let then = match self.timing {
            Timing::Now => String::new(),
            Timing::WhenOpen(Some(t)) => format!(" when it opens ({})", opens_phrase(at, t)),
            Timing::WhenOpen(None) => " when it opens".to_string(),
        };
        if self.call_999_first {
            format!("Call {} now, then {line}{then}.", self.emergency.number)
        } else {
            format!("Call {line}{then}.")
        }
    }

    /// The fallback as a sentence, when there is one.
    pub fn fallback_line(&self) -> Option<String> {
        self.fallback.map(|f| {
            let when = self.fallback_when;
            let mut first = when.chars();
            let when = match first.next() {
                Some(c) => c.to_uppercase().collect::<String>() + first.as_str(),
                None => String::new(),
            };
            let emergency = match self.timing {
                Timing::WhenOpen(_) => ", or 999 in an emergency",
                Timing::Now => "",
            };
            format!("{when}: {} on {}{emergency}.", f.service, f.number)
        })
    }

    /// The whole answer as lines of plain text: instruction, reason, fallback, warnings.
    pub fn lines(&self, at: NaiveDateTime) -> Vec<String> {
        let mut out = vec![self.instruction(at), self.reason.clone()];
        out.extend(self.fallback_line());
        out.extend(self.warnings.iter().map(|w| format!("Note: {w}")));
        out
    }

    /// The whole answer as one paragraph.
    pub fn text(&self, at: NaiveDateTime) -> String {
        self.lines(at).join(" ")
    }
}

/// Whether a contact with stated hours is open at `at`. `None` when it states no hours.
pub fn is_open(contact: &Contact, at: NaiveDateTime, holidays: &BankHolidays) -> Option<bool> {
    if contact.hours.is_empty() {
        return None;
    }
    let hours = LineHours {
        spans: contact
            .hours
            .iter()
            .filter_map(|h| crate::rules::OpeningHours::parse(h).ok())
            .collect(),
        basis: HoursBasis::Document,
    };
    Some(hours.state(at, holidays).is_ok())
}

/// The hours a contact's document states, as one phrase, e.g. "Mon-Thu 08:30-17:00, Fri 08:30-16:30".
pub fn hours_text(contact: &Contact) -> Option<String> {
    if contact.hours.is_empty() {
        return None;
    }
    let spans: Vec<String> = contact
        .hours
        .iter()
        .map(|h| {
            crate::rules::OpeningHours::parse(h)
                .map(|o| o.to_string())
                .unwrap_or_else(|_| h.clone())
        })
        .collect();
    Some(spans.join(", "))
}

/// The line the document gives for a tier of need when nothing is urgent (a contact whose
/// `tiers` include it), else the front door.
pub fn route_for_tier<'a>(area: &'a Area, tier: u8, front: &'a Contact) -> &'a Contact {
    area.contacts
        .iter()
        .find(|c| c.tiers.contains(&tier))
        .unwrap_or(front)
}

/// Who to call in `area` at local time `at` for a concern not yet assessed (as `/urgent`).
pub fn call_now<'a>(
    area: &'a Area,
    holidays: &BankHolidays,
    at: NaiveDateTime,
) -> Result<CallNow<'a>, ContactsError> {
    route(area, holidays, Urgency::Unassessed, at)
}

/// Who to call in `area` for a concern of `urgency` at UK local time `at`.
pub fn route<'a>(
    area: &'a Area,
    holidays: &BankHolidays,
    urgency: Urgency,
    at: NaiveDateTime,
) -> Result<CallNow<'a>, ContactsError> {
    let missing = || ContactsError::Missing(area.id().to_string());
    let emergency = area.emergency().ok_or_else(missing)?;
    let front = area
        .contacts_for(Purpose::FrontDoor)
        .next()
        .ok_or_else(missing)?;
    let ooh = area.contacts_for(Purpose::OutOfHours).next();
    let front_hours = front_door_hours(area);
    let mut warnings = Vec::new();
    if front_hours.basis == HoursBasis::Assumed {
        warnings.push(format!(
            "The {} threshold document states no opening hours for {} and none are set for this service, so I assume it is open on weekdays 08:00-18:00, except bank holidays. That is an assumption: check the hours with the council.",
            area.meta.name, front.service
        ));
    }
    if let Some(doubt) = holidays.doubt(at.date()) {
        warnings.push(doubt);
    }
    let doubtful = front_hours.basis == HoursBasis::Assumed || holidays.doubt(at.date()).is_some();
    let where_hours = |hours: &LineHours| match hours.basis {
        HoursBasis::Document => format!("open {}", hours.text()),
        HoursBasis::Deployment => format!("open {}, as set for this service", hours.text()),
        HoursBasis::Assumed => format!("assumed open {}", hours.text()),
    };

    let mut answer = CallNow {
        urgency,
        emergency,
        call_999_first: urgency == Urgency::Immediate,
        now: front,
        timing: Timing::Now,
        why: Why::Open,
        fallback: None,
        fallback_when: "if there is no answer",
        reason: String::new(),
        warnings,
        hours: front_hours.basis,
    };

    if urgency.can_wait() {
        let tier = match urgency {
            Urgency::Tier(t) => t,
            _ => 4,
        };
        let line = route_for_tier(area, tier, front);
        let hours = line_hours(area, line);
        match hours.state(at, holidays) {
            Ok(()) => {
                answer.now = line;
                answer.reason = open_reason(line, &hours);
            }
            Err(closed) => {
                let opens = hours.next_open(at, holidays);
                answer.now = line;
                answer.timing = Timing::WhenOpen(opens);
                answer.fallback = ooh;
                answer.fallback_when =
                    "if things change or you think a child is at risk before then";
                let safety = match ooh {
                    Some(_) => " The out-of-hours line is for concerns that cannot wait.".to_string(),
                    None => format!(" If things change or you think a child is at risk before then, call 999 in an emergency, or try {} on {} (the {} threshold document gives no out-of-hours number).", front.service, front.number, area.meta.name),
                };
                answer.reason = format!(
                    "{} is closed: {} ({}). For this level of need, call it when it opens.{safety}",
                    line.service,
                    closed.phrase(),
                    where_hours(&hours),
                );
                answer.why = Why::WhenOpen(closed);
            }
        }
        return Ok(answer);
    }

    let lead = if urgency == Urgency::Immediate {
        "After 999: "
    } else {
        ""
    };
    match (front_hours.state(at, holidays), ooh) {
        (Ok(()), _) => {
            answer.reason = format!("{lead}{}", open_reason(front, &front_hours));
            if doubtful {
                answer.fallback = ooh;
            }
        }
        (Err(closed), Some(ooh)) => {
            answer.now = ooh;
            answer.reason = format!(
                "{lead}{} is closed: {} ({}), so the out-of-hours line takes concerns that cannot wait.",
                front.service,
                closed.phrase(),
                where_hours(&front_hours),
            );
            answer.why = Why::OutOfHours(closed);
        }
        (Err(closed), None) => {
            answer.reason = format!(
                "{lead}{} may be closed: {} ({}), and the {} threshold document gives no out-of-hours number. Call it in case it is answered; if a child is in danger, call 999.",
                front.service,
                closed.phrase(),
                where_hours(&front_hours),
                area.meta.name
            );
            answer.why = Why::NoOutOfHours(closed);
        }
    }
    Ok(answer)
}

/// "X is open now (hours)." in the words that fit where the hours come from.
fn open_reason(line: &Contact, hours: &LineHours) -> String {
    match hours.basis {
        HoursBasis::Document => format!("{} is open now ({}).", line.service, hours.text()),
        HoursBasis::Deployment => format!(
            "{} is open now ({}, as set for this service).",
            line.service,
            hours.text()
        ),
        HoursBasis::Assumed => format!(
            "{} should be open now (assumed hours: {}).",
            line.service,
            hours.text()
        ),
    }
}

/// `seed:line` for a contact, naming the other seed when the number was borrowed.
pub fn source_ref(area: &Area, contact: &Contact) -> String {
    format!(
        "{}:{}",
        contact.seed.as_deref().unwrap_or(&area.meta.seed),
        contact.source
    )
}

/// UK local time (Europe/London, with summer time) for an instant.
pub fn uk_local(instant: chrono::DateTime<chrono::Utc>) -> NaiveDateTime {
    instant
        .with_timezone(&chrono_tz::Europe::London)
        .naive_local()
}

/// Parses a UK local time given as `YYYY-MM-DDTHH:MM` (seconds optional).
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}
