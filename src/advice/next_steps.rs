//! The next steps that fit the outcome: the document's own words on what happens next and the
//! timescales it states, chosen for the tier decided and the indicators confirmed.
//!
//! Each `[[next_step]]` and `[[timescale]]` of the rules says which tiers it goes with (`tiers`),
//! and may be tied to indicators (private fostering only when it is the concern) or carry the
//! product's words that put it in context (a MASH rating). So a tier-2 worry never gets the
//! tier-4 preamble, escalation stages are not shown as next steps, and a step that repeats the
//! recommended action is left out.

use crate::rules::{Area, Indicator, Timescale};

/// The next steps for an outcome at `tier` (`None`: no level decided) with `confirmed`
/// indicators and the recommended `action`, each with its source, `seed:line`.
pub fn for_outcome(
    area: &Area,
    tier: Option<u8>,
    confirmed: &[&Indicator],
    action: Option<&str>,
) -> Vec<String> {
    let ids: Vec<&str> = confirmed.iter().map(|i| i.id.as_str()).collect();
    area.next_steps
        .iter()
        .chain(&area.timescales)
        .filter(|t| t.shown_with(tier, &ids))
        .filter(|t| action.is_none_or(|a| !a.contains(t.text.as_str())))
        .map(|t| line(area, t))
        .collect()
}

fn line(area: &Area, t: &Timescale) -> String {
    let source = format!("{}:{}", area.meta.seed, t.source);
    match &t.context {
        Some(c) => format!("{c}: \"{}\" ({source})", t.text),
        None => format!("{} ({source})", t.text),
    }
}
