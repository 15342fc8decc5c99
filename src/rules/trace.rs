//! Tracing rules back to their source: does the cited line of the seed really hold the words?
//!
//! Pure: the caller reads the seed file and passes its text. Used by `frontdoor rules check
//! --seeds DIR` and by the tests, so that a `source` number that drifted, or a text that was
//! paraphrased instead of quoted, is caught.

use super::load::Problem;
use super::Area;

/// How many lines either side of the cited line may hold the words (PDF text wraps and jumbles).
pub const WINDOW: usize = 3;
/// The share of an item's significant words that must be found near the cited line.
pub const MIN_SHARE: f64 = 0.6;

/// Checks every cited line of `area` against the seed text.
pub fn check(file: &str, area: &Area, seed: &str) -> Vec<Problem> {
    let lines: Vec<&str> = seed.lines().collect();
    let mut out = Vec::new();
    let mut items: Vec<(String, u32, &str)> = Vec::new();
    for l in &area.levels {
        items.push((format!("level {:?}", l.id), l.source, l.name.as_str()));
    }
    for i in &area.indicators {
        items.push((format!("indicator {:?}", i.id), i.source, i.text.as_str()));
    }
    for c in &area.consent {
        items.push((format!("consent {:?}", c.id), c.source, c.text.as_str()));
    }
    for r in &area.requirements {
        items.push((format!("requirement {:?}", r.id), r.source, r.text.as_str()));
    }
    for t in &area.timescales {
        items.push((format!("timescale {:?}", t.id), t.source, t.text.as_str()));
    }
    for t in &area.next_steps {
        items.push((format!("next_step {:?}", t.id), t.source, t.text.as_str()));
    }
    for c in &area.contacts {
        if c.seed.is_none() && c.number.len() > 3 {
            items.push((format!("contact {:?}", c.id), c.source, c.number.as_str()));
        }
    }
    for (place, source, text) in items {
        let line = source as usize;
        if line == 0 || line > lines.len() {
            out.push(Problem {
                file: file.into(),
                place,
                message: format!(
                    "source line {line} is outside the seed ({} lines)",
                    lines.len()
                ),
            });
            continue;
        }
        let from = line.saturating_sub(WINDOW + 1);
        let to = (line + WINDOW).min(lines.len());
        let nearby = squash(&lines[from..to].join(" "));
        let share = share_found(text, &nearby);
        if share < MIN_SHARE {
            out.push(Problem {
                file: file.into(),
                place,
                message: format!(
                    "only {:.0}% of its words are on or near line {line} of the seed",
                    share * 100.0
                ),
            });
        }
    }
    out
}

/// Lower-case letters and digits only, so that spacing and punctuation breakage do not matter.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn share_found(text: &str, nearby: &str) -> f64 {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .map(squash)
        .filter(|w| w.len() >= 4 || w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty())
        .collect();
    if words.is_empty() {
        return if nearby.contains(&squash(text)) {
            1.0
        } else {
            0.0
        };
    }
    let found = words.iter().filter(|w| nearby.contains(w.as_str())).count();
    found as f64 / words.len() as f64
}
