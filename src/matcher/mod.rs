//! Free text to indicators of need, with the words that matched.
//!
//! Built once per area ([`Matcher::new`]), then [`Matcher::analyse`] scores a message against
//! every indicator of the area and returns them ranked, each with a score and the words that
//! matched (the explanation shown to the caller).

use crate::rules::Area;

/// One indicator the text seems to describe.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The indicator's id in the area.
    pub indicator: String,
    /// How well it matched, 0.0 to 1.0.
    pub score: f32,
    /// The caller's words that matched, for the explanation.
    pub matched: Vec<String>,
    /// Surfaced by the safety floor (a red-flag meaning), whatever its score.
    pub red_flag: bool,
}

/// What the matcher understood of a message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// Matches, best first.
    pub matches: Vec<Match>,
    /// The text describes a child in immediate danger (safety floor).
    pub immediate: bool,
    /// Names of the red flags found, in plain words.
    pub red_flags: Vec<String>,
}

/// The index of one area's indicators.
#[derive(Debug, Clone)]
pub struct Matcher {
    area: String,
    entries: Vec<(String, Vec<String>)>,
}

impl Matcher {
    /// Builds the index for an area.
    pub fn new(area: &Area) -> Self {
        let entries = area
            .indicators
            .iter()
            .map(|i| {
                let mut words: Vec<String> = words(&i.text);
                for k in &i.keywords {
                    words.extend(self::words(k));
                }
                (i.id.clone(), words)
            })
            .collect();
        Matcher {
            area: area.id().to_string(),
            entries,
        }
    }

    /// The area this index was built for.
    pub fn area(&self) -> &str {
        &self.area
    }

    /// Scores a message against every indicator.
    pub fn analyse(&self, text: &str) -> Analysis {
        let msg = words(text);
        let mut matches: Vec<Match> = self
            .entries
            .iter()
            .filter_map(|(id, w)| {
                let hit: Vec<String> = w.iter().filter(|x| x.len() > 3 && msg.contains(x)).cloned().collect();
                (hit.len() >= 2).then(|| Match {
                    indicator: id.clone(),
                    score: hit.len() as f32 / w.len().max(1) as f32,
                    matched: hit,
                    red_flag: false,
                })
            })
            .collect();
        matches.sort_by(|a, b| b.score.total_cmp(&a.score));
        Analysis {
            matches,
            immediate: false,
            red_flags: Vec::new(),
        }
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}
