//! One concern, assessed: matched indicators, the level of need, and who to call now.
//!
//! The single pure path from free text to an answer, shared by `frontdoor assess`, the
//! evaluation, and quick advice (`/ask`) in the chat.

use chrono::NaiveDateTime;

use crate::contacts::{self, CallNow, ContactsError};
use crate::matcher::{Analysis, Matcher};
use crate::rules::{Area, BankHolidays, Indicator};
use crate::triage::{self, Outcome};

/// A matched indicator with its score.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    /// The indicator.
    pub indicator: &'a Indicator,
    /// Its tier on the common scale.
    pub tier: u8,
    /// The match score, 0.0 to 1.0.
    pub score: f32,
    /// The caller's words that matched.
    pub matched: Vec<String>,
    /// Surfaced by the safety floor.
    pub red_flag: bool,
}

/// The assessment of one message.
#[derive(Debug, Clone)]
pub struct Assessment<'a> {
    /// What the matcher understood.
    pub analysis: Analysis,
    /// The matched indicators, best first.
    pub found: Vec<Found<'a>>,
    /// The level of need, when anything matched.
    pub outcome: Option<Outcome<'a>>,
    /// Tier on the common scale; 0 when nothing matched (ask for more detail).
    pub tier: u8,
    /// Immediate protection is needed: 999 first, then the front door.
    pub immediate: bool,
    /// Who to call now.
    pub call: CallNow<'a>,
}

/// Assesses `text` in `area` at UK local time `at`.
pub fn assess<'a>(
    area: &'a Area,
    matcher: &Matcher,
    holidays: &BankHolidays,
    text: &str,
    at: NaiveDateTime,
) -> Result<Assessment<'a>, ContactsError> {
    let analysis = matcher.analyse(text);
    let found: Vec<Found<'a>> = analysis
        .matches
        .iter()
        .filter_map(|m| {
            let indicator = area.indicator(&m.indicator)?;
            Some(Found {
                indicator,
                tier: area.indicator_tier(indicator),
                score: m.score,
                matched: m.matched.clone(),
                red_flag: m.red_flag,
            })
        })
        .collect();
    let confirmed: Vec<&Indicator> = found.iter().map(|f| f.indicator).collect();
    let outcome = triage::decide(area, &confirmed);
    let immediate = analysis.immediate || outcome.as_ref().is_some_and(|o| o.immediate);
    let mut tier = outcome.as_ref().map_or(0, |o| o.tier);
    if let Some(floor) = analysis.tier_floor {
        tier = tier.max(floor);
    }
    if immediate {
        tier = 4;
    }
    let call = contacts::call_now(area, holidays, at)?;
    Ok(Assessment {
        analysis,
        found,
        outcome,
        tier,
        immediate,
        call,
    })
}
