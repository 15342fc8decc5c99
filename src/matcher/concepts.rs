//! Concepts and red flags: general safeguarding meanings recognised in a message.
//!
//! A concept is a need described the way practitioners describe it (groups of words that must
//! all be present, reassurances that stop it, an age range), placed on the common tier scale
//! with a `basis` line in one of the threshold documents. Red flags are the safety floor: concepts
//! at tier 4 that always surface the area's child-protection indicators, most of them calling
//! for immediate protection. Both are data (`vocabulary.toml` and `concepts/*.toml`).

use rustc_hash::FxHashSet as HashSet;

use serde::Deserialize;

use super::normalise::{stem, RedFlagSpec};

/// The concept files compiled into the binary.
pub const CONCEPT_FILES: &[(&str, &str)] = &[
    ("health.toml", include_str!("concepts/health.toml")),
    ("care.toml", include_str!("concepts/care.toml")),
    ("harm.toml", include_str!("concepts/harm.toml")),
    ("strengths.toml", include_str!("concepts/strengths.toml")),
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
    /// All groups must be met within one sentence: for concepts about whose need it is ("mum"
    /// and "anxiety" in one sentence is the mother's anxiety; in two, it may be the child's).
    #[serde(default)]
    pub same_sentence: bool,
    /// A tier-1 concept saying a need is already being handled ("an explained play injury",
    /// "a job loss the parents are managing"): with nothing escalating, early-help needs beside
    /// it are advice only.
    #[serde(default)]
    pub resolves: bool,
    /// Word beginnings of the area indicators it maps to.
    pub targets: Vec<String>,
}

/// Reads every built-in concept file; the error names the file and what is wrong.
pub fn builtin_concepts() -> Result<Vec<ConceptSpec>, String> {
    let mut all = Vec::new();
    let mut ids = HashSet::default();
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
    /// Groups: a stem, or a phrase of words with a space before, between and after them.
    pub all: Vec<Vec<String>>,
    /// Phrases that stop it.
    pub unless: Vec<String>,
    /// Age bounds.
    pub min_age: Option<f32>,
    /// Age bounds.
    pub max_age: Option<f32>,
    /// Whether an age bound needs a stated age.
    pub age_required: bool,
    /// Whether the groups must be met within one sentence.
    pub same_sentence: bool,
    /// Whether it says a need is already handled (tier 1 only).
    pub resolves: bool,
    /// Word beginnings of the indicators it maps to.
    pub targets: Vec<String>,
}

/// Negation beyond single words: openers that reach to the end of the clause, and verbs of
/// putting a problem right, which stop a negation.
#[derive(Debug, Clone, Default)]
pub struct NegationExtras {
    /// Padded openers (" no signs of ").
    pub scopes: Vec<String>,
    /// Remedy verbs, lower case ("sorted", "treated").
    pub remedies: HashSet<String>,
}

/// A message prepared for rule matching.
#[derive(Debug)]
pub struct Reading<'a> {
    /// Stems of the caller's own words, outside negations.
    pub live: HashSet<&'a str>,
    /// The words of the message, single-spaced with a space at each end, for phrases; commas
    /// stand as words of their own (a negation does not reach past them).
    pub padded: String,
    /// The child's stated age.
    pub age: Option<f32>,
    /// Words that negate the next few words ("no", "not", "denies").
    pub negators: &'a HashSet<String>,
    /// Clause-wide openers and remedy verbs (see [`NegationExtras`]).
    pub extras: &'a NegationExtras,
    /// The distinct words of `padded`, so that a phrase whose first word is absent is skipped
    /// without searching the text.
    pub words: HashSet<String>,
    /// Pairs of neighbouring words ("self harm"), the keys of phrases of two words or more.
    pub pairs: HashSet<String>,
}

/// How many words back a negation reaches a phrase.
const NEGATION_REACH: usize = 3;

impl<'a> Reading<'a> {
    /// Prepares a text (a sentence or the whole message) for rule matching.
    pub fn new(
        live: HashSet<&'a str>,
        text: &str,
        age: Option<f32>,
        negators: &'a HashSet<String>,
        extras: &'a NegationExtras,
    ) -> Self {
        let padded = Self::pad(text);
        let tokens: Vec<&str> = padded.split_whitespace().collect();
        let words = tokens.iter().map(|w| w.to_string()).collect();
        let pairs = tokens
            .windows(2)
            .filter(|p| p[0] != "," && p[1] != ",")
            .map(|p| format!("{} {}", p[0], p[1]))
            .collect();
        Reading {
            live,
            padded,
            age,
            negators,
            extras,
            words,
            pairs,
        }
    }

    /// Lower-case words of `text` single-spaced, commas kept as words, padded with spaces.
    pub fn pad(text: &str) -> String {
        let mut out = String::from(" ");
        for piece in text
            .to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == ','))
        {
            for (i, part) in piece.split(',').enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !part.is_empty() {
                    out.push_str(part);
                    out.push(' ');
                }
            }
        }
        out
    }

    /// Whether a compiled word (a stem) or phrase (padded) is in the reading, outside negation.
    pub fn holds_item(&self, item: &str) -> bool {
        if item.starts_with(' ') {
            self.holds(item)
        } else {
            self.live.contains(item)
        }
    }

    /// Whether a padded phrase occurs outside a negation ("no self harm" does not hold
    /// "self harm"), unless the phrase itself starts with the negation ("no food").
    fn holds(&self, phrase: &str) -> bool {
        let Some(first) = phrase.split_whitespace().next() else {
            return false;
        };
        if !self.words.contains(first) {
            return false;
        }
        let negation_inside = self.negators.contains(first);
        let mut from = 0;
        while let Some(pos) = self.padded[from..].find(phrase) {
            let at = from + pos;
            // Walking back from the phrase: a negation counts unless a remedy verb stands
            // between it and the phrase ("hasn't sorted the mould" asserts the mould).
            let mut negated = false;
            for w in self.padded[..at]
                .split_whitespace()
                .rev()
                .take(NEGATION_REACH)
                .take_while(|w| *w != ",")
            {
                if self.extras.remedies.contains(w) {
                    break;
                }
                if self.negators.contains(w) {
                    negated = true;
                    break;
                }
            }
            let negated = negated || self.in_negated_scope(at);
            if negation_inside || !negated {
                return true;
            }
            from = at + 1;
        }
        false
    }
}

impl Reading<'_> {
    /// Whether position `at` follows a clause-wide negation ("no signs of ... or ...") with no
    /// comma or "but" in between.
    fn in_negated_scope(&self, at: usize) -> bool {
        if self.extras.scopes.is_empty() {
            return false;
        }
        let before = &self.padded[..at + 1];
        let start = [before.rfind(" , "), before.rfind(" but ")]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
        let clause = &before[start..];
        self.extras
            .scopes
            .iter()
            .any(|s| clause.contains(s.as_str()))
    }
}

/// Compiles words and phrases for [`Reading::holds_item`].
pub fn forms(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| {
            let w = w.to_lowercase();
            if w.contains(' ') {
                // Stored padded, so that matching needs no allocation.
                format!(
                    " {} ",
                    w.split(|c: char| !c.is_alphanumeric())
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                )
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
        .map(|w| format!(" {w} "))
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
            same_sentence: c.same_sentence,
            resolves: c.resolves && c.tier == 1,
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
            same_sentence: false,
            resolves: false,
            targets: f.targets.iter().map(|t| t.to_lowercase()).collect(),
        }
    }

    /// Whether the message holds this meaning.
    pub fn fires(&self, r: &Reading<'_>) -> bool {
        let present = |w: &String| r.holds_item(w);
        self.all.iter().all(|g| g.iter().any(present)) && self.passes_checks(r)
    }

    /// Whether no `unless` phrase stops the rule and the child's age fits.
    fn passes_checks(&self, r: &Reading<'_>) -> bool {
        if self.unless.iter().any(|u| {
            u.split_whitespace()
                .next()
                .is_some_and(|f| r.words.contains(f))
                && r.padded.contains(u.as_str())
        }) {
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

/// Every rule's words and phrases, indexed so that a reading is matched in time proportional to
/// its own length rather than to the number of rules.
#[derive(Debug, Clone, Default)]
pub struct RuleIndex {
    /// Stem to (rule, group) pairs it satisfies.
    stems: rustc_hash::FxHashMap<String, Vec<(u32, u8)>>,
    /// A phrase's first two words (or its one word) to (padded phrase, rule, group).
    phrases: rustc_hash::FxHashMap<String, Vec<(String, u32, u8)>>,
    /// Bit mask of all groups, per rule.
    full: Vec<u64>,
}

impl RuleIndex {
    /// Indexes rules (at most 64 groups each; more are ignored, making the rule unsatisfiable).
    pub fn new<'a>(rules: impl Iterator<Item = &'a Rule>) -> Self {
        let mut index = RuleIndex::default();
        for (ri, rule) in rules.enumerate() {
            let ri = ri as u32;
            let groups = rule.all.len().min(64);
            // A rule with no groups, or more than 64, can never be fully met.
            index.full.push(if rule.all.len() >= 64 || groups == 0 {
                u64::MAX
            } else {
                (1u64 << groups) - 1
            });
            for (gi, group) in rule.all.iter().take(64).enumerate() {
                for item in group {
                    if item.starts_with(' ') {
                        let key: Vec<&str> = item.split_whitespace().take(2).collect();
                        if !key.is_empty() {
                            index.phrases.entry(key.join(" ")).or_default().push((
                                item.clone(),
                                ri,
                                gi as u8,
                            ));
                        }
                    } else {
                        index
                            .stems
                            .entry(item.clone())
                            .or_default()
                            .push((ri, gi as u8));
                    }
                }
            }
        }
        index
    }

    /// The indices of the rules whose every group is met in `r` and which pass their checks.
    pub fn fired(&self, rules: &[&Rule], r: &Reading<'_>) -> Vec<usize> {
        let mut met: rustc_hash::FxHashMap<u32, u64> = rustc_hash::FxHashMap::default();
        for w in &r.live {
            for &(ri, gi) in self.stems.get(*w).map(Vec::as_slice).unwrap_or(&[]) {
                *met.entry(ri).or_default() |= 1 << gi;
            }
        }
        for key in r.words.iter().chain(&r.pairs) {
            for (phrase, ri, gi) in self.phrases.get(key).map(Vec::as_slice).unwrap_or(&[]) {
                let bit = 1u64 << gi;
                if met.get(ri).is_some_and(|m| m & bit != 0) {
                    continue;
                }
                if r.holds(phrase) {
                    *met.entry(*ri).or_default() |= bit;
                }
            }
        }
        let mut out: Vec<usize> = met
            .into_iter()
            .filter(|(ri, mask)| self.full.get(*ri as usize) == Some(mask))
            .map(|(ri, _)| ri as usize)
            .filter(|&ri| rules.get(ri).is_some_and(|rule| rule.passes_checks(r)))
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(all: &[&[&str]], unless: &[&str]) -> ConceptSpec {
        ConceptSpec {
            id: "test".into(),
            name: "test".into(),
            tier: 3,
            immediate: false,
            basis: "000_f520007b0ba3fe0a.txt:1".into(),
            all: all
                .iter()
                .map(|g| g.iter().map(|w| w.to_string()).collect())
                .collect(),
            unless: unless.iter().map(|w| w.to_string()).collect(),
            min_age: None,
            max_age: Some(12.0),
            age_required: false,
            same_sentence: false,
            resolves: false,
            targets: vec!["test".into()],
        }
    }

    fn reading<'a>(text: &str, negators: &'a HashSet<String>, age: Option<f32>) -> Reading<'a> {
        // Stems of the words outside a negation, as the matcher gives them.
        let mut live = HashSet::default();
        let mut negated = 0;
        for w in text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            if negators.contains(w) {
                negated = 3;
                continue;
            }
            if negated > 0 {
                negated -= 1;
            } else {
                live.insert(Box::leak(stem(w).into_boxed_str()) as &str);
            }
        }
        let extras: &'a NegationExtras = Box::leak(Box::default());
        Reading::new(live, text, age, negators, extras)
    }

    #[test]
    fn all_groups_must_be_present() {
        let negators: HashSet<String> = ["no", "not"].iter().map(|s| s.to_string()).collect();
        let rule = Rule::from_concept(&spec(
            &[&["bruise", "bruising"], &["unexplained", "no explanation"]],
            &[],
        ));
        assert!(rule.fires(&reading(
            "bruising on his arm, unexplained",
            &negators,
            None
        )));
        assert!(!rule.fires(&reading("bruising on his arm", &negators, None)));
    }

    #[test]
    fn a_negation_before_a_phrase_cancels_it_but_not_across_a_comma() {
        let negators: HashSet<String> = ["no", "not"].iter().map(|s| s.to_string()).collect();
        let rule = Rule::from_concept(&spec(&[&["self harm"]], &[]));
        assert!(rule.fires(&reading("worried about self harm", &negators, None)));
        assert!(!rule.fires(&reading("no self harm seen", &negators, None)));
        assert!(rule.fires(&reading("no bullying, self harm on arms", &negators, None)));
        // A phrase that starts with the negation is itself the meaning.
        let hungry = Rule::from_concept(&spec(&[&["no food"]], &[]));
        assert!(hungry.fires(&reading("there is no food in the house", &negators, None)));
    }

    #[test]
    fn unless_and_age_bounds_stop_a_concept() {
        let negators = HashSet::default();
        let rule = Rule::from_concept(&spec(&[&["bruise", "bruising"]], &["fell over"]));
        assert!(!rule.fires(&reading(
            "bruising, he fell over in the playground",
            &negators,
            None
        )));
        assert!(rule.fires(&reading("bruising on his arm", &negators, Some(8.0))));
        assert!(
            !rule.fires(&reading("bruising on his arm", &negators, Some(15.0))),
            "over max_age"
        );
    }

    #[test]
    fn the_index_agrees_with_rule_by_rule_matching() {
        let negators: HashSet<String> = ["no", "not"].iter().map(|s| s.to_string()).collect();
        let rules = [
            Rule::from_concept(&spec(
                &[&["bruise", "bruising"], &["unexplained", "no explanation"]],
                &[],
            )),
            Rule::from_concept(&spec(&[&["self harm"]], &[])),
            Rule::from_concept(&spec(&[&["no food"]], &["fell over"])),
        ];
        let refs: Vec<&Rule> = rules.iter().collect();
        let index = RuleIndex::new(rules.iter());
        for text in [
            "bruising on his arm, unexplained",
            "no self harm seen",
            "worried about self harm and bruising, no explanation",
            "no food in the house, he fell over",
            "nothing at all",
        ] {
            let r = reading(text, &negators, None);
            let expected: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].fires(&r)).collect();
            assert_eq!(index.fired(&refs, &r), expected, "{text}");
        }
    }

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
