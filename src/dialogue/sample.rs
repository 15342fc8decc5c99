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
        "Sam Fictional",
        "Class teacher",
        "Example Primary School",
        "01632 960123",
        "Her class teacher since September",
        "1",
        "Alex Example",
        "8",
        "12 Example Road, Exampletown CV34 4RL",
        "Mum and a brother aged 4",
        "English, no interpreter needed",
        "School nurse",
        "Extra reading support at school",
        "Alex has been late most mornings this term and says she is tired and hungry",
        "none",
        &format!("add {indicator}"),
        "yes",
        "A warm relationship with mum, who comes to every parents' evening",
        "1",
        "don't know",
        "yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
