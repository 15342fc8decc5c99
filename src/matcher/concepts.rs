//! Concepts and red flags: general safeguarding meanings recognised in a message.
//!
//! A concept is a need described the way practitioners describe it (groups of words that must
//! all be present, reassurances that stop it, an age range), placed on the common tier scale
//! with a `basis` line in one of the threshold documents. Red flags are the safety floor: concepts
//! at tier 4 that always surface the area's child-protection indicators, most of them calling
//! for immediate protection. Both are data (`vocabulary.toml` and `concepts/*.toml`).

use std::collections::HashSet;

use serde::Deserialize;

use super::normalise::{stem, RedFlagSpec};

/// The concept files compiled into the binary.
pub const CONCEPT_FILES: &[(&str, &str)] = &[
    ("health.toml", include_str!("concepts/health.toml")),
    ("care.toml", include_str!("concepts/care.toml")),
    ("harm.toml", include_str!("concepts/harm.toml")),
];

/// A concept file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptFile {
    /// The concepts.
    #[serde(default)]
    pub concept: Vec<ConceptSpec>,
}

/// One concept as written (see `concepts/README.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptSpec {
    /// Unique id.
    pub id: String,
    /// Plain words shown to the caller.
    pub name: String,
    /// Tier on the common scale.
    pub tier: u8,
    /// Immediate protection.
    #[serde(default)]
    pub immediate: bool,
    /// Seed file and line placing such a need at this tier.
    pub basis: String,
    /// Groups of words or phrases; each group must be present.
    pub all: Vec<Vec<String>>,
    /// Phrases that stop it.
    #[serde(default)]
    pub unless: Vec<String>,
    /// Lowest stated age, in years.
    #[serde(default)]
    pub min_age: Option<f32>,
    /// Highest stated age, in years.
    #[serde(default)]
    pub max_age: Option<f32>,
    /// With an age bound: the age must be stated.
    #[serde(default)]
    pub age_required: bool,
    /// Word beginnings of the area indicators it maps to.
    pub targets: Vec<String>,
}

/// Reads every built-in concept file; the error names the file and what is wrong.
pub fn builtin_concepts() -> Result<Vec<ConceptSpec>, String> {
    let mut all = Vec::new();
    let mut ids = HashSet::new();
    for (name, text) in CONCEPT_FILES {
        let file: ConceptFile =
            toml::from_str(text).map_err(|e| format!("concepts/{name}: {e}"))?;
        for c in file.concept {
            if !ids.insert(c.id.clone()) {
                return Err(format!("concepts/{name}: duplicate concept id {:?}", c.id));
            }
            if !(1..=4).contains(&c.tier)
                || c.all.is_empty()
                || c.all.iter().any(Vec::is_empty)
                || c.targets.is_empty()
            {
                return Err(format!(
                    "concepts/{name}: concept {:?} needs a tier 1-4, non-empty groups and targets",
                    c.id
                ));
            }
            all.push(c);
        }
    }
    Ok(all)
}

/// A compiled concept or red flag.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Id (red flags use their name).
    pub id: String,
    /// Plain name.
    pub name: String,
    /// Tier on the common scale.
    pub tier: u8,
    /// Immediate protection.
    pub immediate: bool,
    /// Part of the safety floor.
    pub red_flag: bool,
    /// Groups: a stem, or a phrase of words separated by single spaces.
    pub all: Vec<Vec<String>>,
    /// Phrases that stop it.
    pub unless: Vec<String>,
    /// Age bounds.
    pub min_age: Option<f32>,
    /// Age bounds.
    pub max_age: Option<f32>,
    /// Whether an age bound needs a stated age.
    pub age_required: bool,
    /// Word beginnings of the indicators it maps to.
    pub targets: Vec<String>,
}

/// A message prepared for rule matching.
#[derive(Debug)]
pub struct Reading<'a> {
    /// Stems of the caller's own words, outside negations.
    pub live: HashSet<&'a str>,
    /// The words of the message, single-spaced with a space at each end, for phrases.
    pub padded: String,
    /// The child's stated age.
    pub age: Option<f32>,
}

fn forms(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| {
            let w = w.to_lowercase();
            if w.contains(' ') {
                w.split(|c: char| !c.is_alphanumeric())
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                stem(&w)
            }
        })
        .collect()
}

fn phrases(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| {
            w.to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|w| !w.is_empty())
        .collect()
}

impl Rule {
    /// Compiles a concept.
    pub fn from_concept(c: &ConceptSpec) -> Self {
        Rule {
            id: c.id.clone(),
            name: c.name.clone(),
            tier: c.tier,
            immediate: c.immediate,
            red_flag: false,
            all: c.all.iter().map(|g| forms(g)).collect(),
            unless: phrases(&c.unless),
            min_age: c.min_age,
            max_age: c.max_age,
            age_required: c.age_required,
            targets: c.targets.iter().map(|t| t.to_lowercase()).collect(),
        }
    }

    /// Compiles a red flag.
    pub fn from_red_flag(f: &RedFlagSpec) -> Self {
        Rule {
            id: f.name.clone(),
            name: f.name.clone(),
            tier: 4,
            immediate: f.immediate,
            red_flag: true,
            all: f.all.iter().map(|g| forms(g)).collect(),
            unless: phrases(&f.unless),
            min_age: None,
            max_age: f.max_age,
            age_required: f.age_required,
            targets: f.targets.iter().map(|t| t.to_lowercase()).collect(),
        }
    }

    /// Whether the message holds this meaning.
    pub fn fires(&self, r: &Reading<'_>) -> bool {
        let present = |w: &String| {
            if w.contains(' ') {
                r.padded.contains(&format!(" {w} "))
            } else {
                r.live.contains(w.as_str())
            }
        };
        if !self.all.iter().all(|g| g.iter().any(present)) {
            return false;
        }
        if self
            .unless
            .iter()
            .any(|u| r.padded.contains(&format!(" {u} ")))
        {
            return false;
        }
        let bounded = self.min_age.is_some() || self.max_age.is_some();
        match r.age {
            None => !(bounded && self.age_required),
            Some(age) => {
                self.min_age.is_none_or(|m| age >= m) && self.max_age.is_none_or(|m| age <= m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_concepts_load() {
        let concepts = builtin_concepts();
        assert!(concepts.is_ok(), "{concepts:?}");
    }

    #[test]
    fn every_basis_names_a_seed_line() {
        for c in builtin_concepts().unwrap_or_default() {
            let (file, line) = c.basis.split_once(':').unwrap_or(("", ""));
            assert!(
                file.ends_with(".txt") && line.parse::<u32>().is_ok_and(|l| l > 0),
                "{}: basis {:?}",
                c.id,
                c.basis
            );
        }
    }
}
