//! A complete, fictional consultation: the answers a caller types, for benchmarks and smoke tests.
//!
//! The concern is confirmed explicitly ("none" drops whatever the understanding suggested, then
//! "add <indicator id>" adds one early-help indicator), so the transcript works in every area.

use crate::rules::Area;

/// The answers of a routine early-help consultation with consent, in `area`, one per line.
pub fn answers(area: &Area) -> Vec<String> {
    let indicator = area
        .indicators
        .iter()
        .filter(|i| !i.positive && !i.immediate)
        .find(|i| area.indicator_tier(i) == 2)
        .or_else(|| area.indicators.iter().find(|i| !i.positive && !i.immediate))
        .map(|i| i.id.clone())
        .unwrap_or_default();
    [
        "no",
        area.id(),
        "Alex has been late most mornings this term and says she is tired and hungry",
        "none",
        &format!("add {indicator}"),
        "yes",
        "Alex Example",
        "8",
        "12 Example Road, Exampletown CV34 4RL",
        "Sam Fictional",
        "Class teacher at Example Primary, her teacher since September",
        "01632 960123",
        "1",
        "Mum and a brother aged 4; English, no interpreter needed; the school nurse",
        "A warm relationship with mum, who comes to every parents' evening; extra reading support",
        "yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
