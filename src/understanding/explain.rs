//! What was understood, in an area's own words, and only what is true.
//!
//! A recognised need is shown through the area's own indicator(s) *of that need* (each indicator
//! names its needs in the rules file), at the tier given or the nearest one the area has; where the
//! area has no indicator of the need, the need is shown in plain words with its basis, and it is
//! said that the document has no indicator of it. "Your words" are slices of the caller's text.
//! Level descriptions and service lists are never shown as indicators.

use std::collections::HashSet;

use crate::rules::needs::{Need, Taxonomy};
use crate::rules::{Area, Indicator, IndicatorKind};

use super::text::Reader;
use super::Reading;

/// One need, shown to the caller.
#[derive(Debug, Clone)]
pub struct Shown<'a> {
    /// The need.
    pub need: &'a Need,
    /// The area's indicator of this need that fits best (none when the area has none).
    pub indicator: Option<&'a Indicator>,
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
    taxonomy: &'a Taxonomy,
    reading: &Reading,
    text: &str,
) -> Vec<Shown<'a>> {
    let stems: HashSet<String> = Reader::builtin()
        .read(text)
        .words
        .into_iter()
        .filter(|w| w.form.len() > 3)
        .map(|w| w.stem)
        .collect();
    reading
        .needs
        .iter()
        .filter_map(|n| {
            let need = taxonomy.need(&n.id)?;
            let your_words = n
                .spans
                .iter()
                .filter_map(|r| text.get(r.clone()))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            Some(Shown {
                need,
                indicator: indicator_of(area, &n.id, reading.tier, &stems),
                your_words,
                probability: n.probability,
                red_flag: n.from_red_flag,
            })
        })
        .collect()
}

/// The area's indicator of `need` that fits a message rated `tier` best: at that tier or the
/// nearest below it (an indicator of a higher level would overstate what was described; a
/// strength only at tier 1), then the one sharing most words with the message. None when the
/// area has no indicator of the need at or below that tier.
pub fn indicator_of<'a>(
    area: &'a Area,
    need: &str,
    tier: u8,
    message_stems: &HashSet<String>,
) -> Option<&'a Indicator> {
    let reader = Reader::builtin();
    area.indicators
        .iter()
        .filter(|i| i.kind == IndicatorKind::Indicator && i.needs.iter().any(|n| n == need))
        .filter(|i| !i.positive || tier <= 1)
        .filter(|i| area.indicator_tier(i) <= tier.max(1))
        .min_by_key(|i| {
            let t = area.indicator_tier(i);
            let distance = (i32::from(t) - i32::from(tier.max(1))).unsigned_abs();
            let shared = reader
                .read(&i.text)
                .words
                .iter()
                .filter(|w| message_stems.contains(&w.stem))
                .count();
            (
                distance,
                std::cmp::Reverse(shared),
                u32::from(i.positive != (tier <= 1)),
            )
        })
}
