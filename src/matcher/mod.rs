//! Free text to indicators of need, with the words that matched.
//!
//! [`Matcher::new`] builds an index of one area's indicators once (their text and matching
//! aids, normalised by [`normalise`]); [`Matcher::analyse`] then reads a message:
//!
//! 1. the message is normalised and split into clauses (concerns), with words after "no",
//!    "not", "denies"... marked negated;
//! 2. every indicator is scored against every clause: the weighted share of its words the clause
//!    holds (rarer words weigh more; typos meet through Jaro-Winkler similarity), plus a bonus for
//!    each matching aid found whole; negated words count against it;
//! 3. severity and frequency cues ("persistent", "3 times", "occasional") choose between the
//!    indicators of one domain at different levels;
//! 4. the safety floor: red-flag meanings (disclosure, injury to a baby, sexual abuse, a child
//!    left alone, FGM, threats to kill, a suicide plan, weapons, exploitation by an adult)
//!    always surface the area's child-protection indicators, whatever their score.
//!
//! Everything is in memory and bounded: a message is cut to [`MAX_CHARS`] characters.

pub mod normalise;

use std::collections::{HashMap, HashSet};

use crate::rules::Area;
use normalise::{Normaliser, Token, VocabularyFile, VOCABULARY};

/// Longest message read; the rest is ignored (a 10,000-character message stays fast).
pub const MAX_CHARS: usize = 4000;
/// Lowest score shown to the caller.
pub const MIN_SCORE: f32 = 0.30;
/// Stems that only carry an age ("14 year old"), never matched as concern words.
const AGE_WORDS: &[&str] = &["year", "old", "month", "week", "schoolyear", "tim", "times"];

/// Share of the best score another match needs to be shown too.
pub const RELATIVE_CUT: f32 = 0.75;

/// Most matches returned.
pub const MAX_MATCHES: usize = 6;

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
    /// The child's age in years, when the text states it.
    pub age: Option<f32>,
}

#[derive(Debug, Clone)]
struct Entry {
    id: String,
    domain: String,
    tier: u8,
    positive: bool,
    immediate: bool,
    /// Canonical stems of text and aids with their weight.
    words: Vec<(String, f32)>,
    total: f32,
    /// Matching aids of two or more stems, found whole for a bonus.
    phrases: Vec<Vec<String>>,
    /// Single-stem matching aids.
    aid_words: HashSet<String>,
}

#[derive(Debug, Clone)]
struct RedFlag {
    name: String,
    immediate: bool,
    all: Vec<Vec<String>>,
    unless: Vec<String>,
    max_age: Option<f32>,
    age_required: bool,
    /// Indices of the entries it surfaces.
    surfaces: Vec<usize>,
}

/// The index of one area's indicators.
#[derive(Debug, Clone)]
pub struct Matcher {
    area: String,
    norm: Normaliser,
    negators: Vec<String>,
    reach: usize,
    reassurance: Vec<String>,
    up: HashSet<String>,
    down: HashSet<String>,
    entries: Vec<Entry>,
    /// Every stem of the index, by first letter, for typo matching.
    vocabulary: HashMap<char, Vec<String>>,
    known: HashSet<String>,
    red_flags: Vec<RedFlag>,
}

impl Matcher {
    /// Builds the index for an area from the built-in vocabulary.
    ///
    /// # Panics
    /// Never for the shipped vocabulary: a test loads it; see [`Matcher::with_vocabulary`].
    pub fn new(area: &Area) -> Self {
        // The vocabulary is compiled in and loaded by a unit test, so a parse failure here is
        // a build defect, not something a user or a file at run time can cause.
        let vocab: VocabularyFile =
            toml::from_str(VOCABULARY).expect("built-in vocabulary is valid (tested)");
        Self::with_vocabulary(area, &vocab)
    }

    /// Builds the index for an area with a given vocabulary.
    pub fn with_vocabulary(area: &Area, vocab: &VocabularyFile) -> Self {
        let norm = Normaliser::new(vocab);
        let mut entries: Vec<Entry> = area
            .indicators
            .iter()
            .map(|i| {
                let mut words: Vec<(String, f32)> = Vec::new();
                let mut add = |s: String, w: f32| {
                    // Ages and counts are read as cues, not matched as words.
                    if s.chars().any(|c| c.is_ascii_digit()) || AGE_WORDS.contains(&s.as_str()) {
                        return;
                    }
                    if let Some(e) = words.iter_mut().find(|(x, _)| *x == s) {
                        e.1 = e.1.max(w);
                    } else {
                        words.push((s, w));
                    }
                };
                for s in norm.stems(&i.text) {
                    add(s, 1.0);
                }
                let mut phrases = Vec::new();
                let mut aid_words = HashSet::new();
                for k in &i.keywords {
                    let stems = norm.stems(k);
                    for s in &stems {
                        add(s.clone(), 0.8);
                    }
                    match stems.len() {
                        0 => {}
                        1 => {
                            aid_words.insert(stems[0].clone());
                        }
                        _ => phrases.push(stems),
                    }
                }
                Entry {
                    id: i.id.clone(),
                    domain: i.domain.clone(),
                    tier: area.indicator_tier(i),
                    positive: i.positive,
                    immediate: i.immediate,
                    words,
                    total: 0.0,
                    phrases,
                    aid_words,
                }
            })
            .collect();
        // Rarer words weigh more (inverse document frequency over the area's indicators).
        let n = entries.len().max(1) as f32;
        let mut df: HashMap<String, f32> = HashMap::new();
        for e in &entries {
            for (w, _) in &e.words {
                *df.entry(w.clone()).or_default() += 1.0;
            }
        }
        for e in &mut entries {
            for (w, weight) in &mut e.words {
                let d = df.get(w).copied().unwrap_or(1.0);
                *weight *= (n / d).ln().max(0.05);
            }
            e.total = e.words.iter().map(|(_, w)| w).sum();
        }
        let known: HashSet<String> = df.keys().cloned().collect();
        let mut vocabulary: HashMap<char, Vec<String>> = HashMap::new();
        for w in &known {
            if w.chars().count() >= 5 {
                if let Some(c) = w.chars().next() {
                    vocabulary.entry(c).or_default().push(w.clone());
                }
            }
        }
        let canon = |words: &[String]| -> Vec<String> {
            words.iter().flat_map(|w| norm.stems(w)).collect()
        };
        // Red-flag words keep their own form: one word is its stem, a phrase is matched as text.
        let forms = |words: &[String]| -> Vec<String> {
            words
                .iter()
                .map(|w| {
                    let w = w.to_lowercase();
                    if w.contains(' ') {
                        w
                    } else {
                        normalise::stem(&w)
                    }
                })
                .collect()
        };
        let red_flags = vocab
            .red_flag
            .iter()
            .map(|f| {
                let targets = canon(&f.targets);
                let surfaces = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| (e.tier >= 4 || e.immediate) && !e.positive)
                    .filter(|(_, e)| {
                        e.words
                            .iter()
                            .any(|(w, _)| targets.iter().any(|t| w.starts_with(t.as_str())))
                    })
                    .map(|(i, _)| i)
                    .collect();
                RedFlag {
                    name: f.name.clone(),
                    immediate: f.immediate,
                    all: f.all.iter().map(|g| forms(g)).collect(),
                    unless: f.unless.iter().map(|u| u.to_lowercase()).collect(),
                    max_age: f.max_age,
                    age_required: f.age_required,
                    surfaces,
                }
            })
            .collect();
        Matcher {
            area: area.id().to_string(),
            negators: vocab.negation.before.clone(),
            reach: vocab.negation.reach,
            reassurance: vocab
                .negation
                .reassurance
                .iter()
                .map(|r| r.to_lowercase())
                .collect(),
            up: vocab.cues.up.iter().flat_map(|w| norm.stems(w)).collect(),
            down: vocab.cues.down.iter().flat_map(|w| norm.stems(w)).collect(),
            norm,
            entries,
            vocabulary,
            known,
            red_flags,
        }
    }

    /// An estimate of the heap the index holds, in bytes (strings and tables), for reports.
    pub fn approx_heap_bytes(&self) -> usize {
        let string = |s: &String| s.capacity() + std::mem::size_of::<String>();
        let entries: usize = self
            .entries
            .iter()
            .map(|e| {
                std::mem::size_of::<Entry>()
                    + string(&e.id)
                    + string(&e.domain)
                    + e.words.iter().map(|(w, _)| string(w) + 4).sum::<usize>()
                    + e.phrases.iter().flatten().map(string).sum::<usize>()
                    + e.aid_words.iter().map(string).sum::<usize>()
            })
            .sum();
        let vocabulary: usize = self.vocabulary.values().flatten().map(string).sum();
        let known: usize = self.known.iter().map(string).sum();
        let flags: usize = self
            .red_flags
            .iter()
            .map(|f| f.all.iter().flatten().map(string).sum::<usize>() + f.surfaces.len() * 8)
            .sum();
        entries + vocabulary + known + flags
    }

    /// The area this index was built for.
    pub fn area(&self) -> &str {
        &self.area
    }

    /// Maps a word the index does not know to the closest one it does (typos, word forms).
    fn correct(&self, stem: &str) -> Option<String> {
        if stem.chars().count() < 5 || self.known.contains(stem) {
            return None;
        }
        let first = stem.chars().next()?;
        let len = stem.chars().count() as i64;
        let mut best: Option<(f64, &String)> = None;
        for cand in self.vocabulary.get(&first)? {
            if (cand.chars().count() as i64 - len).abs() > 2 {
                continue;
            }
            let sim = strsim::jaro_winkler(stem, cand);
            if sim >= 0.92 && best.is_none_or(|(b, _)| sim > b) {
                best = Some((sim, cand));
            }
        }
        best.map(|(_, c)| c.clone())
    }

    /// Scores a message against every indicator.
    pub fn analyse(&self, text: &str) -> Analysis {
        let text: String = text.chars().take(MAX_CHARS).collect();
        let lower = text.to_lowercase();
        let mut tokens: Vec<Token> = self.norm.tokens(&text, &self.negators, self.reach);
        for t in &mut tokens {
            if let Some(c) = self.correct(&t.stem) {
                t.stem = c;
            }
        }
        let age = child_age(&tokens);
        let clauses = tokens.iter().map(|t| t.clause).max().map_or(0, |m| m + 1);
        let reassured = self.reassurance.iter().any(|r| lower.contains(r.as_str()));
        let up = tokens
            .iter()
            .filter(|t| !t.negated && self.up.contains(&t.stem))
            .count() as f32
            + count_repeats(&tokens);
        let down = tokens
            .iter()
            .filter(|t| !t.negated && self.down.contains(&t.stem))
            .count() as f32;

        // Positive stems of the whole message, and per clause.
        let mut scored: Vec<(usize, f32, Vec<String>)> = Vec::new();
        for (ei, e) in self.entries.iter().enumerate() {
            let mut best = (0.0f32, Vec::new());
            for clause in 0..clauses.max(1) {
                let (score, words) = self.score_entry(e, &tokens, Some(clause));
                if score > best.0 {
                    best = (score, words);
                }
            }
            // The whole message also counts, a little less, for concerns spread over clauses.
            let (whole, words) = self.score_entry(e, &tokens, None);
            if whole * 0.85 > best.0 {
                best = (whole * 0.85, words);
            }
            if best.0 > 0.0 {
                scored.push((ei, best.0, best.1));
            }
        }
        // Reassurance lowers concerns (not strengths).
        if reassured {
            for s in &mut scored {
                if !self.entries[s.0].positive {
                    s.1 *= 0.75;
                }
            }
        }
        // Severity cues: within a domain, favour the tier the cues point to.
        let lean = (up - down).clamp(-3.0, 3.0) * 0.05;
        for s in &mut scored {
            let e = &self.entries[s.0];
            if !e.positive {
                s.1 *= 1.0 + lean * (e.tier as f32 - 2.5);
            }
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = scored.first().map_or(0.0, |s| s.1);
        let mut matches: Vec<Match> = Vec::new();
        let mut domains_seen: HashMap<&str, usize> = HashMap::new();
        for (ei, score, words) in &scored {
            if *score < MIN_SCORE || *score < top * RELATIVE_CUT || matches.len() >= MAX_MATCHES {
                continue;
            }
            let e = &self.entries[*ei];
            // One indicator per domain and level band, so the list is not one concern repeated.
            let seen = domains_seen.entry(e.domain.as_str()).or_default();
            if *seen >= 2 {
                continue;
            }
            *seen += 1;
            matches.push(Match {
                indicator: e.id.clone(),
                score: score.min(1.0),
                matched: words.clone(),
                red_flag: false,
            });
        }

        // The safety floor.
        let mut red_flags = Vec::new();
        let mut immediate = false;
        let live: HashSet<&str> = tokens
            .iter()
            .filter(|t| !t.negated)
            .map(|t| t.word.as_str())
            .collect();
        let padded = format!(
            " {} ",
            lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        );
        for flag in &self.red_flags {
            let groups_met = flag.all.iter().all(|g| {
                g.iter().any(|w| {
                    if w.contains(' ') {
                        padded.contains(&format!(" {w} "))
                    } else {
                        live.contains(w.as_str())
                    }
                })
            });
            if !groups_met || flag.unless.iter().any(|u| lower.contains(u.as_str())) {
                continue;
            }
            if let Some(max) = flag.max_age {
                match age {
                    Some(a) if a > max => continue,
                    None if flag.age_required => continue,
                    _ => {}
                }
            }
            red_flags.push(flag.name.clone());
            immediate |= flag.immediate;
            // Surface the best-scoring target indicator (or the first) if none is shown yet.
            let already = matches.iter().any(|m| {
                flag.surfaces
                    .iter()
                    .any(|&i| self.entries[i].id == m.indicator)
            });
            if already {
                continue;
            }
            let pick = flag
                .surfaces
                .iter()
                .map(|&i| {
                    let s = scored.iter().find(|s| s.0 == i).map_or(0.0, |s| s.1);
                    (i, s)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
            if let Some((i, s)) = pick {
                let words = scored
                    .iter()
                    .find(|x| x.0 == i)
                    .map(|x| x.2.clone())
                    .unwrap_or_default();
                matches.push(Match {
                    indicator: self.entries[i].id.clone(),
                    score: s.min(1.0),
                    matched: words,
                    red_flag: true,
                });
            }
        }
        Analysis {
            matches,
            immediate,
            red_flags,
            age,
        }
    }

    /// Scores one entry against the tokens of one clause (or all, with `None`).
    fn score_entry(
        &self,
        e: &Entry,
        tokens: &[Token],
        clause: Option<usize>,
    ) -> (f32, Vec<String>) {
        let in_scope = |t: &&Token| clause.is_none_or(|c| t.clause == c);
        let mut hit = 0.0f32;
        let mut neg = 0.0f32;
        let mut words = Vec::new();
        for (w, weight) in &e.words {
            let mut found = false;
            let mut negated = false;
            for t in tokens.iter().filter(in_scope) {
                if t.stem == *w {
                    if t.negated {
                        negated = true;
                    } else {
                        found = true;
                        if !words.contains(&t.surface) {
                            words.push(t.surface.clone());
                        }
                    }
                }
            }
            if found {
                hit += weight;
            } else if negated {
                neg += weight;
            }
        }
        if hit == 0.0 {
            return (0.0, words);
        }
        let stems: Vec<&str> = tokens
            .iter()
            .filter(in_scope)
            .filter(|t| !t.negated)
            .map(|t| t.stem.as_str())
            .collect();
        let mut bonus = 0.0f32;
        for p in &e.phrases {
            if p.iter().all(|w| stems.contains(&w.as_str())) {
                bonus += 0.25;
            }
        }
        for a in &e.aid_words {
            if stems.contains(&a.as_str()) {
                bonus += 0.08;
            }
        }
        let distinct = words.len();
        let coverage = (hit - neg) / e.total.max(1.0);
        let evidence = (hit / 9.0).min(1.0);
        let mut score = 0.55 * coverage + 0.45 * evidence + bonus.min(0.5);
        if distinct < 2 && bonus < 0.25 {
            score *= 0.5;
        }
        (score.max(0.0), words)
    }
}

/// The child's age in years from "14 year old", "4 month old", "schoolyear 9", "baby", "toddler".
fn child_age(tokens: &[Token]) -> Option<f32> {
    for (i, t) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1).map(|n| n.stem.as_str());
        let old = tokens.get(i + 2).is_some_and(|n| n.stem == "old");
        if let Ok(n) = t.stem.parse::<f32>() {
            match next {
                Some("year") if old => return Some(n),
                Some("month") if old => return Some(n / 12.0),
                Some("week") if old => return Some(n / 52.0),
                _ => {}
            }
        }
        if t.stem == "schoolyear" {
            if let Some(n) = next.and_then(|n| n.parse::<f32>().ok()) {
                return Some(n + 5.0);
            }
        }
        if t.stem == "baby" || t.surface == "toddler" {
            return Some(if t.surface == "toddler" { 2.0 } else { 0.5 });
        }
    }
    None
}

/// "3 times", "4th episode", "x3": counts of three or more are a severity cue.
fn count_repeats(tokens: &[Token]) -> f32 {
    let mut cues = 0.0;
    for (i, t) in tokens.iter().enumerate() {
        if let Ok(n) = t.stem.parse::<u32>() {
            let next = tokens.get(i + 1).map(|n| n.stem.as_str());
            if n >= 3
                && matches!(
                    next,
                    Some("tim") | Some("times") | Some("episod") | Some("occasion")
                )
            {
                cues += 1.0;
            }
        }
    }
    cues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_loads() {
        let v: Result<VocabularyFile, _> = toml::from_str(VOCABULARY);
        assert!(v.is_ok(), "{v:?}");
    }
}
