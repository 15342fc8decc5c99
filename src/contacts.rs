//! Who to call, at a given UK local time.
//!
//! The front door when it is open; the out-of-hours team when it is not, counting weekends and
//! bank holidays. Where a document states no opening hours, the answer says so instead of
//! guessing: on a weekday the front door is given with the out-of-hours line as the fallback; at
//! weekends and on bank holidays (out of hours by any definition) the out-of-hours line is given.
//! 999 is always part of the answer.

use chrono::{Datelike, NaiveDateTime, Weekday};
use serde::Serialize;

use crate::rules::{Area, BankHolidays, Contact, OpeningHours, Purpose};

/// The answer to "who do I call now?".
#[derive(Debug, Clone)]
pub struct CallNow<'a> {
    /// 999.
    pub emergency: &'a Contact,
    /// The children's services line to call for a safeguarding concern now.
    pub now: &'a Contact,
    /// Why that line, in plain words.
    pub reason: String,
    /// The out-of-hours line, when `now` is the day line and the document gives one.
    pub fallback: Option<&'a Contact>,
}

/// Why no answer could be given (only possible with rules that skipped validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactsError {
    /// The area has no 999 or no front door contact.
    #[error("area {0} has no emergency or front door contact")]
    Missing(String),
}

/// Whether `at` is a weekend day or a bank holiday.
pub fn is_weekend_or_holiday(at: NaiveDateTime, holidays: &BankHolidays) -> bool {
    matches!(at.weekday(), Weekday::Sat | Weekday::Sun) || holidays.contains(at.date())
}

/// Whether a contact with stated hours is open at `at`. `None` when it states no hours.
pub fn is_open(contact: &Contact, at: NaiveDateTime, holidays: &BankHolidays) -> Option<bool> {
    if contact.hours.is_empty() {
        return None;
    }
    if holidays.contains(at.date()) {
        return Some(false);
    }
    Some(
        contact
            .hours
            .iter()
            .filter_map(|h| OpeningHours::parse(h).ok())
            .any(|h| h.covers(at)),
    )
}

/// The hours of a contact as one readable phrase, e.g. "Mon-Thu 08:30-17:00, Fri 08:30-16:30".
pub fn hours_text(contact: &Contact) -> Option<String> {
    if contact.hours.is_empty() {
        return None;
    }
    let spans: Vec<String> = contact
        .hours
        .iter()
        .map(|h| {
            OpeningHours::parse(h)
                .map(|o| o.to_string())
                .unwrap_or_else(|_| h.clone())
        })
        .collect();
    Some(spans.join(", "))
}

/// Who to call in `area` at local time `at`.
pub fn call_now<'a>(
    area: &'a Area,
    holidays: &BankHolidays,
    at: NaiveDateTime,
) -> Result<CallNow<'a>, ContactsError> {
    let missing = || ContactsError::Missing(area.id().to_string());
    let emergency = area.emergency().ok_or_else(missing)?;
    let front = area
        .contacts_for(Purpose::FrontDoor)
        .next()
        .ok_or_else(missing)?;
    let ooh = area.contacts_for(Purpose::OutOfHours).next();
    let holiday = holidays.on(at.date());
    let when = match holiday {
        Some(h) => format!("it is a bank holiday ({})", h.name),
        None if matches!(at.weekday(), Weekday::Sat | Weekday::Sun) => {
            "it is the weekend".to_string()
        }
        None => "it is outside its opening hours".to_string(),
    };
    let answer = match (is_open(front, at, holidays), ooh) {
        (Some(true), _) => CallNow {
            emergency,
            now: front,
            reason: format!(
                "{} is open now ({}).",
                front.service,
                hours_text(front).unwrap_or_default()
            ),
            fallback: None,
        },
        (Some(false), Some(ooh)) => CallNow {
            emergency,
            now: ooh,
            reason: format!(
                "{} is closed: {} (it is open {}). Out of hours, call {}.",
                front.service,
                when,
                hours_text(front).unwrap_or_default(),
                ooh.service
            ),
            fallback: None,
        },
        (Some(false), None) => CallNow {
            emergency,
            now: front,
            reason: format!(
                "{} is closed: {} (it is open {}), and the document gives no out-of-hours number. If a child is in danger, call 999.",
                front.service,
                when,
                hours_text(front).unwrap_or_default()
            ),
            fallback: None,
        },
        (None, Some(ooh)) if is_weekend_or_holiday(at, holidays) => CallNow {
            emergency,
            now: ooh,
            reason: format!(
                "The document states no opening hours for {}; {}, which is out of hours, so call {}.",
                front.service, when, ooh.service
            ),
            fallback: None,
        },
        (None, Some(ooh)) => CallNow {
            emergency,
            now: front,
            reason: format!(
                "The document states no opening hours for {}; if it does not answer, call {} on {}.",
                front.service, ooh.service, ooh.number
            ),
            fallback: Some(ooh),
        },
        (None, None) => CallNow {
            emergency,
            now: front,
            reason: format!(
                "The document states no opening hours for {} and gives no out-of-hours number. If a child is in danger, call 999.",
                front.service
            ),
            fallback: None,
        },
    };
    Ok(answer)
}

/// `call_now` as the JSON object `frontdoor contacts --json` prints.
#[derive(Debug, Serialize)]
pub struct CallNowJson {
    /// Area id.
    pub area: String,
    /// The local time asked about, `YYYY-MM-DDTHH:MM`.
    pub at: String,
    /// 999.
    pub emergency: ServiceNumber,
    /// The line to call now.
    pub now: NowJson,
    /// Every number the document gives.
    pub all: Vec<ContactJson>,
}

/// A service and its number.
#[derive(Debug, Serialize)]
pub struct ServiceNumber {
    /// The service's name.
    pub service: String,
    /// Its number.
    pub number: String,
}

/// The line to call now, and why.
#[derive(Debug, Serialize)]
pub struct NowJson {
    /// The service's name.
    pub service: String,
    /// Its number.
    pub number: String,
    /// Why this line at this time.
    pub reason: String,
}

/// One contact of the area.
#[derive(Debug, Serialize)]
pub struct ContactJson {
    /// The service's name.
    pub service: String,
    /// Its number.
    pub number: String,
    /// What it is for.
    pub purpose: &'static str,
    /// Opening hours as stated, or null.
    pub hours: Option<String>,
    /// Seed file and line.
    pub source: String,
}

impl CallNowJson {
    /// Builds the JSON view of an answer.
    pub fn new(area: &Area, at: NaiveDateTime, answer: &CallNow<'_>) -> Self {
        CallNowJson {
            area: area.id().to_string(),
            at: at.format("%Y-%m-%dT%H:%M").to_string(),
            emergency: ServiceNumber {
                service: answer.emergency.service.clone(),
                number: answer.emergency.number.clone(),
            },
            now: NowJson {
                service: answer.now.service.clone(),
                number: answer.now.number.clone(),
                reason: answer.reason.clone(),
            },
            all: area
                .contacts
                .iter()
                .map(|c| ContactJson {
                    service: c.service.clone(),
                    number: c.number.clone(),
                    purpose: c.purpose.as_str(),
                    hours: hours_text(c),
                    source: source_ref(area, c),
                })
                .collect(),
        }
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
