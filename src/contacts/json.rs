//! The JSON view of an answer, as `frontdoor contacts --json` prints it.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{hours_text, source_ref, CallNow, Timing, Urgency};
use crate::rules::Area;

/// `route` as the JSON object `frontdoor contacts --json` prints.
#[derive(Debug, Serialize)]
pub struct CallNowJson {
    /// Area id.
    pub area: String,
    /// The local time asked about, `YYYY-MM-DDTHH:MM`.
    pub at: String,
    /// `immediate`, `tier-1`..`tier-4`, or `unassessed`.
    pub urgency: String,
    /// The number to dial first.
    pub first: String,
    /// 999.
    pub emergency: ServiceNumber,
    /// The children's services line to call.
    pub now: NowJson,
    /// The line if that one does not answer or things change, and when to use it.
    pub fallback: Option<FallbackJson>,
    /// What the answer rests on that may not hold.
    pub warnings: Vec<String>,
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

/// The line to call, when, and why.
#[derive(Debug, Serialize)]
pub struct NowJson {
    /// The service's name.
    pub service: String,
    /// Its number.
    pub number: String,
    /// `now`, or the local time it next opens (`YYYY-MM-DDTHH:MM`), or `when-open`.
    pub when: String,
    /// A short stable code for the reason, e.g. `out-of-hours:weekend`.
    pub why: String,
    /// Why this line at this time.
    pub reason: String,
}

/// The fallback line.
#[derive(Debug, Serialize)]
pub struct FallbackJson {
    /// The service's name.
    pub service: String,
    /// Its number.
    pub number: String,
    /// When to use it.
    pub when: String,
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
            urgency: match answer.urgency {
                Urgency::Immediate => "immediate".to_string(),
                Urgency::Tier(t) => format!("tier-{t}"),
                Urgency::Unassessed => "unassessed".to_string(),
            },
            first: answer.first_number().to_string(),
            emergency: ServiceNumber {
                service: answer.emergency.service.clone(),
                number: answer.emergency.number.clone(),
            },
            now: NowJson {
                service: answer.now.service.clone(),
                number: answer.now.number.clone(),
                when: match answer.timing {
                    Timing::Now => "now".to_string(),
                    Timing::WhenOpen(Some(t)) => t.format("%Y-%m-%dT%H:%M").to_string(),
                    Timing::WhenOpen(None) => "when-open".to_string(),
                },
                why: answer.why.code(),
                reason: answer.reason.clone(),
            },
            fallback: answer.fallback.map(|f| FallbackJson {
                service: f.service.clone(),
                number: f.number.clone(),
                when: answer.fallback_when.to_string(),
            }),
            warnings: answer.warnings.clone(),
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
