//! The next steps that fit the outcome: the document's own words on what happens next and the
//! timescales it states, chosen for the tier decided and the indicators confirmed.
//!
//! Each `[[next_step]]` and `[[timescale]]` of the rules says which tiers it goes with (`tiers`),
//! and may be tied to indicators (private fostering only when it is the concern) or carry the
//! product's words that put it in context (a MASH rating). So a tier-2 worry never gets the
//! tier-4 preamble, escalation stages are not shown as next steps, and a step that repeats the
//! recommended action is left out. Where the document is silent (no next step, or no timescale
//! for a referral), the outcome says so rather than leave the caller to guess or borrow
//! another area's promise.

use crate::rules::{Area, Indicator, Timescale};

/// What is said when the document gives no next step for the outcome.
pub const NO_NEXT_STEP: &str = "The document does not say what happens after this contact: ask the front door what will happen next, and record what they tell you.";

/// What is said when a referral (tier 3 or 4) gets no timescale from the document.
pub const NO_TIMESCALE: &str =
    "The document states no timescale for the front door's response: ask when you will hear back.";

/// The next steps for an outcome at `tier` (`None`: no level decided) with `confirmed`
/// indicators and the recommended `action`, each with its source, `seed:line`.
pub fn for_outcome(
    area: &Area,
    tier: Option<u8>,
    confirmed: &[&Indicator],
    action: Option<&str>,
) -> Vec<String> {
    let ids: Vec<&str> = confirmed.iter().map(|i| i.id.as_str()).collect();
    let shown = |t: &&Timescale| {
        t.shown_with(tier, &ids) && action.is_none_or(|a| !a.contains(t.text.as_str()))
    };
    let mut steps: Vec<String> = area
        .next_steps
        .iter()
        .filter(shown)
        .map(|t| line(area, t))
        .collect();
    let timescales: Vec<String> = area
        .timescales
        .iter()
        .filter(shown)
        .map(|t| line(area, t))
        .collect();
    if steps.is_empty() && timescales.is_empty() && tier.is_some_and(|t| t >= 2) {
        steps.push(NO_NEXT_STEP.to_string());
    }
    if timescales.is_empty() && tier.is_some_and(|t| t >= 3) {
        steps.push(NO_TIMESCALE.to_string());
    }
    steps.extend(timescales);
    steps
}

fn line(area: &Area, t: &Timescale) -> String {
    let source = format!("{}:{}", area.meta.seed, t.source);
    match &t.context {
        Some(c) => format!("{c}: \"{}\" ({source})", t.text),
        None => format!("{} ({source})", t.text),
    }
}
