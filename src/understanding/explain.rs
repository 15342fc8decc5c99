//! What was understood, in an area's own words, and only what is true.
//!
//! A recognised need is shown through the area's own indicator *of that need* (each indicator
//! names its needs in the rules file) only when the message describes what that indicator says.
//! An indicator is often more specific than its need ("the family have been evicted", "children
//! who are remanded"); showing one whose subject was not described would put a false statement in
//! the record. So each candidate is compared with the message through its profile (what messages
//! written from it look like, [`super::profiles`]) and shown only when similar enough
//! ([`MIN_SIMILARITY`]); of those, the most similar. Where none is, or the area has no indicator
//! of the need, the need is shown in plain words with its basis, and it is said why. Indicators
//! above the tier given are never shown (they would overstate it). "Your words" are slices of the
//! caller's text. Level descriptions and service lists are never shown as indicators.

use crate::rules::needs::Need;
use crate::rules::{Area, Indicator, IndicatorKind};

use super::{Reading, Understanding};

/// The least similarity of a message to an indicator's profile for the indicator to be shown.
/// Chosen on the training corpus, each writer's paraphrases against profiles built without that
/// writer (`frontdoor corpus explain`): at 0.15, 73% of the indicators shown are the very one
/// paraphrased (67% when every best match is shown; the rest are mostly near-synonyms of it), and
/// half of the paraphrases get an indicator; the others show the need in plain words.
pub const MIN_SIMILARITY: f32 = 0.15;

/// One need, shown to the caller.
#[derive(Debug, Clone)]
pub struct Shown<'a> {
    /// The need.
    pub need: &'a Need,
    /// The area's indicator of this need that the message describes (none when none fits).
    pub indicator: Option<&'a Indicator>,
    /// The area has indicators of this need, but none says what the message says.
    pub none_fits: bool,
    /// The candidate indicator most similar to the message, with its similarity, whether shown
    /// or not (for measuring, e.g. `assess --jsonl`).
    pub closest: Option<(&'a Indicator, f32)>,
    /// The caller's own words that drove it, verbatim.
    pub your_words: Vec<String>,
    /// The model's probability.
    pub probability: f32,
    /// Raised by a red flag.
    pub red_flag: bool,
}

/// The needs of `reading` shown in `area`'s words (`text` is the message read).
pub fn shown<'a>(
    area: &'a Area,
    understanding: &'a Understanding,
    reading: &Reading,
    text: &str,
) -> Vec<Shown<'a>> {
    reading
        .needs
        .iter()
        .filter_map(|n| {
            let need = understanding.taxonomy().need(&n.id)?;
            let your_words = n
                .spans
                .iter()
                .filter_map(|r| text.get(r.clone()))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            let fitted = fits(area, understanding, &n.id, reading.tier, &reading.vector);
            let indicator = choose(&fitted, MIN_SIMILARITY).map(|(i, _)| i);
            let none_fits = indicator.is_none() && !fitted.is_empty();
            let closest = choose(&fitted, f32::NEG_INFINITY);
            Some(Shown {
                need,
                indicator,
                none_fits,
                closest,
                your_words,
                probability: n.probability,
                red_flag: n.from_red_flag,
            })
        })
        .collect()
}

/// The area's indicators of `need` that may be shown for a message rated `tier`: at that tier or
/// below (an indicator of a higher level would overstate what was described), strengths only at
/// tier 1.
fn candidates<'a>(area: &'a Area, need: &str, tier: u8) -> Vec<&'a Indicator> {
    area.indicators
        .iter()
        .filter(|i| i.kind == IndicatorKind::Indicator && i.needs.iter().any(|n| n == need))
        .filter(|i| !i.positive || tier <= 1)
        .filter(|i| area.indicator_tier(i) <= tier.max(1))
        .collect()
}

/// Every candidate indicator of `need` for a message rated `tier`, with the similarity of the
/// message (`message`: [`super::profiles::vector`]) to its profile.
pub fn fits<'a>(
    area: &'a Area,
    understanding: &Understanding,
    need: &str,
    tier: u8,
    message: &[(usize, f32)],
) -> Vec<(&'a Indicator, f32)> {
    candidates(area, need, tier)
        .into_iter()
        .map(|i| {
            let key = format!("{}/{}", area.id(), i.id);
            let s =
                understanding
                    .profiles()
                    .similarity(understanding.model(), &key, &i.text, message);
            (i, s)
        })
        .collect()
}

/// Of the `fitted` candidates reaching `least`, the most similar (ties: the first in the file).
pub fn choose<'a>(fitted: &[(&'a Indicator, f32)], least: f32) -> Option<(&'a Indicator, f32)> {
    fitted.iter().copied().filter(|(_, s)| *s >= least).fold(
        None,
        |best: Option<(&Indicator, f32)>, (i, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((i, s)),
        },
    )
}
