//! One concern, assessed: what was understood, the level of need, and who to call now.
//!
//! The single pure path from free text to an answer, shared by `frontdoor assess`, the
//! evaluation, quick advice (`/ask`) and the consultation. The tier is the understanding's (the
//! learned model under the safety policy, with the red-flag floor), raised where the area's own
//! decision rule rates the shown indicators higher (e.g. the 2018 Triage Tool's counting rule).

use chrono::NaiveDateTime;

use crate::contacts::{self, CallNow, ContactsError};
use crate::rules::{Area, BankHolidays, Indicator, Level};
use crate::triage::{self, Outcome};
use crate::understanding::explain::{self, Shown};
use crate::understanding::{FollowUp, Reading, Understanding};

/// The assessment of one message.
#[derive(Debug, Clone)]
pub struct Assessment<'a> {
    /// What was understood.
    pub reading: Reading,
    /// The needs understood, in the area's words.
    pub shown: Vec<Shown<'a>>,
    /// The level of need (none when nothing could be read).
    pub outcome: Option<Outcome<'a>>,
    /// Tier on the common scale; 0 when nothing could be read (ask for more detail).
    pub tier: u8,
    /// Immediate protection is needed: 999 first, then the front door.
    pub immediate: bool,
    /// The question worth asking when the model was unsure between two tiers.
    pub follow_up: Option<FollowUp>,
    /// What would lower the tier given, in plain words, with the tier it would give.
    pub would_lower: Vec<(String, u8)>,
    /// Who to call now.
    pub call: CallNow<'a>,
}

impl Assessment<'_> {
    /// The area's indicators shown (one per need that has one).
    pub fn indicators(&self) -> Vec<&Indicator> {
        self.shown.iter().filter_map(|s| s.indicator).collect()
    }
}

/// Assesses `text` in `area` at UK local time `at`. `age_hint`: the child's age already given.
pub fn assess<'a>(
    area: &'a Area,
    understanding: &'a Understanding,
    holidays: &BankHolidays,
    text: &str,
    age_hint: Option<f32>,
    at: NaiveDateTime,
) -> Result<Assessment<'a>, ContactsError> {
    let reading = understanding.read(text, age_hint);
    let shown = explain::shown(area, understanding, &reading, text);
    let follow_up = understanding.follow_up(&reading);
    let would_lower = understanding.what_would_lower(&reading);
    let indicators: Vec<&'a Indicator> = shown.iter().filter_map(|s| s.indicator).collect();
    let outcome = outcome(area, &reading, &indicators);
    let tier = outcome.as_ref().map_or(0, |o| o.tier);
    // Immediacy is the understanding's: Warwickshire files every child-protection indicator
    // under "immediate protection", which is that document's name for its top level.
    let immediate = reading.immediate;
    let call = contacts::call_now(area, holidays, at)?;
    Ok(Assessment {
        reading,
        shown,
        outcome,
        tier,
        immediate,
        follow_up,
        would_lower,
        call,
    })
}

/// The level of need: the understanding's tier in the area's level at that tier, or the area's
/// own decision rule on the shown indicators where that is higher.
pub fn outcome<'a>(
    area: &'a Area,
    reading: &Reading,
    indicators: &[&'a Indicator],
) -> Option<Outcome<'a>> {
    if reading.empty || reading.tier == 0 {
        return None;
    }
    let by_rule = triage::decide(area, indicators);
    let rule_tier = by_rule.as_ref().map_or(0, |o| o.tier);
    if rule_tier >= reading.tier {
        let mut o = by_rule?;
        o.immediate = reading.immediate;
        return Some(o);
    }
    let level: &Level = area
        .level_for_tier(reading.tier)
        .or_else(|| area.levels.iter().rfind(|l| l.tier <= reading.tier))?;
    let why = if !reading.red_flags.is_empty() {
        format!(
            "A red flag was described ({}): that is child protection in every threshold document.",
            reading
                .red_flags
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )
    } else {
        format!(
            "What you described reads as tier {} on the common scale: {}.",
            reading.tier, level.name
        )
    };
    Some(Outcome {
        tier: reading.tier,
        level,
        immediate: reading.immediate,
        action: level.response.clone(),
        rule: why,
        source: level.source,
    })
}
