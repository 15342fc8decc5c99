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

pub mod concepts;
pub mod normalise;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::rules::Area;
use concepts::{Reading, Rule};
use normalise::{Normaliser, Token, VocabularyFile, VOCABULARY};

/// Longest message read; the rest is ignored (a 10,000-character message stays fast).
pub const MAX_CHARS: usize = 4000;
/// Lowest score shown to the caller.
pub const MIN_SCORE: f32 = 0.30;
/// Stems that only carry an age ("14 year old"), never matched as concern words.
const AGE_WORDS: &[&str] = &["year", "old", "month", "week", "schoolyear", "tim", "times"];

/// Share of the best score another match needs to be shown too.
pub const RELATIVE_CUT: f32 = 0.75;

/// How much the whole message counts against a single clause.
const WHOLE_MESSAGE: f32 = 0.85;
/// Weight factor of generic words ("concern", "support", "family"): they rarely say which need.
const GENERIC_FACTOR: f32 = 0.15;
/// Below this weight a matched word is not shown as an explanation.
const GENERIC_WEIGHT: f32 = 0.3;
/// Strengths are shown instead of needs when they score at least this many times better.
const STRENGTH_DOMINANCE: f32 = 1.0;

/// Most indicators kept in [`Analysis::ranked`].
pub const MAX_RANKED: usize = 40;

/// How many more escalating than protective factors lift early-help needs to targeted help.
const ESCALATION: i32 = 1;
/// How many consecutive sentences a concept may draw its words from. A concern often names the
/// child in one sentence and the detail in the next ("3 kids under 5 live there. No heating and
/// exposed wiring."); a wider window lets unrelated sentences combine.
const SENTENCE_WINDOW: usize = 2;
/// With no concept recognised, the word score an indicator of tier 3 or 4 needs to be shown.
const LEXICAL_SEVERITY: f32 = 0.6;

/// How many separate low-level needs make multiple needs (tier 3).
const MULTIPLE_NEEDS: usize = 3;

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
    /// Names of the concepts recognised (what the matcher understood, in plain words).
    pub concepts: Vec<String>,
    /// A tier the outcome must reach whatever the indicators (several separate needs together).
    pub tier_floor: Option<u8>,
    /// Every indicator that scored, best first (at most [`MAX_RANKED`]), before selection.
    pub ranked: Vec<Match>,
    /// Severity cues counted: (raising, lowering).
    pub cues: (f32, f32),
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
    /// The lower-case words of the text and aids, unstemmed, for concept targets.
    raw: Vec<String>,
}

/// The index of one area's indicators.
#[derive(Debug, Clone)]
pub struct Matcher {
    area: String,
    norm: Normaliser,
    negators: Vec<String>,
    negator_set: HashSet<String>,
    /// Clause-wide negation openers and remedy verbs, for concept readings.
    negation_extras: concepts::NegationExtras,
    reach: usize,
    reassurance: Vec<String>,
    up: HashSet<String>,
    down: HashSet<String>,
    entries: Vec<Entry>,
    /// Inverted index: stem to the entries holding it, with its weight there.
    postings: HashMap<String, Vec<(usize, f32)>>,
    /// Every stem of the index, by first letter, for typo matching.
    vocabulary: HashMap<char, Vec<String>>,
    known: HashSet<String>,
    /// Concepts and red flags, each with the entries it may map to.
    rules: Vec<(Rule, Vec<usize>)>,
    /// Protective factors, compiled (see [`concepts::forms`]).
    protective: Vec<String>,
    /// Escalating factors, compiled.
    escalating: Vec<String>,
    /// Signs that a need is already met, compiled.
    resolved: Vec<String>,
    /// The rules' words and phrases, indexed.
    rule_index: concepts::RuleIndex,
}

impl Matcher {
    /// Builds the index for an area from the built-in vocabulary.
    ///
    /// # Panics
    /// Never for the shipped vocabulary: a test loads it; see [`Matcher::with_vocabulary`].
    pub fn new(area: &Area) -> Self {
        // The vocabulary is compiled in and loaded by a unit test, so a parse failure here is
        // a build defect, not something a user or a file at run time can cause.
        static VOCAB: std::sync::OnceLock<VocabularyFile> = std::sync::OnceLock::new();
        let vocab = VOCAB.get_or_init(|| {
            toml::from_str(VOCABULARY).expect("built-in vocabulary is valid (tested)")
        });
        Self::with_vocabulary(area, vocab)
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
                let mut aid_words = HashSet::default();
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
                let raw = std::iter::once(i.text.as_str())
                    .chain(i.keywords.iter().map(String::as_str))
                    .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()))
                    .filter(|w| !w.is_empty())
                    .map(str::to_lowercase)
                    .collect();
                Entry {
                    raw,
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
        let mut df: HashMap<String, f32> = HashMap::default();
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
        let generic: HashSet<String> = vocab.generic.iter().flat_map(|w| norm.stems(w)).collect();
        let mut postings: HashMap<String, Vec<(usize, f32)>> = HashMap::default();
        for (ei, e) in entries.iter_mut().enumerate() {
            for (w, weight) in &mut e.words {
                if generic.contains(w) {
                    *weight *= GENERIC_FACTOR;
                }
                postings.entry(w.clone()).or_default().push((ei, *weight));
            }
            e.total = e.words.iter().map(|(_, w)| w).sum();
        }
        let known: HashSet<String> = df.keys().cloned().collect();
        let mut vocabulary: HashMap<char, Vec<String>> = HashMap::default();
        for w in &known {
            if w.chars().count() >= 5 {
                if let Some(c) = w.chars().next() {
                    vocabulary.entry(c).or_default().push(w.clone());
                }
            }
        }
        // Like the vocabulary, the concept files are compiled in and loaded by a unit test
        // (`builtin_concepts_load`), so a failure here is a build defect.
        static CONCEPTS: std::sync::OnceLock<Vec<concepts::ConceptSpec>> =
            std::sync::OnceLock::new();
        let concepts = CONCEPTS.get_or_init(|| {
            concepts::builtin_concepts().expect("built-in concepts are valid (tested)")
        });
        let rules: Vec<(Rule, Vec<usize>)> = vocab
            .red_flag
            .iter()
            .map(Rule::from_red_flag)
            .chain(concepts.iter().map(Rule::from_concept))
            .map(|rule| {
                let candidates: Vec<usize> = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| {
                        if rule.red_flag {
                            (e.tier >= 4 || e.immediate) && !e.positive
                        } else if rule.tier == 1 {
                            e.tier == 1
                        } else {
                            !e.positive
                        }
                    })
                    .filter(|(_, e)| {
                        e.raw
                            .iter()
                            .any(|w| rule.targets.iter().any(|t| w.starts_with(t.as_str())))
                    })
                    .map(|(i, _)| i)
                    .collect();
                (rule, candidates)
            })
            .collect();
        Matcher {
            area: area.id().to_string(),
            negators: vocab.negation.before.clone(),
            negator_set: vocab.negation.before.iter().cloned().collect(),
            negation_extras: concepts::NegationExtras {
                scopes: concepts::forms(&vocab.negation.scope),
                remedies: vocab
                    .negation
                    .remedies
                    .iter()
                    .map(|r| r.to_lowercase())
                    .collect(),
            },
            protective: concepts::forms(&vocab.context.protective),
            escalating: concepts::forms(&vocab.context.escalating),
            resolved: concepts::forms(&vocab.context.resolved),
            rule_index: concepts::RuleIndex::new(rules.iter().map(|(r, _)| r)),
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
            postings,
            vocabulary,
            known,
            rules,
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
            .rules
            .iter()
            .map(|(r, c)| r.all.iter().flatten().map(string).sum::<usize>() + c.len() * 8)
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
    pub fn analyse<'m>(&'m self, text: &str) -> Analysis {
        let text: String = text.chars().take(MAX_CHARS).collect();
        let lower = text.to_lowercase();
        let mut tokens: Vec<Token> = self.norm.tokens(&text, &self.negators, self.reach);
        for t in &mut tokens {
            if let Some(c) = self.correct(&t.stem) {
                t.stem = c;
            }
        }
        let age = child_age(&tokens).or_else(|| bracketed_age(&lower));
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

        // Score each clause (one concern) and, a little lower, the whole message, for concerns
        // spread over several clauses; an indicator keeps its best.
        let mut best: HashMap<usize, (f32, Vec<String>)> = HashMap::default();
        let mut by_clause: Vec<Vec<&Token>> = vec![Vec::new(); clauses];
        for t in &tokens {
            by_clause[t.clause].push(t);
        }
        for clause in &by_clause {
            self.score_scope(clause, 1.0, &mut best);
        }
        if clauses > 1 {
            let all: Vec<&Token> = tokens.iter().collect();
            self.score_scope(&all, WHOLE_MESSAGE, &mut best);
        }
        let mut scored: Vec<(usize, f32, Vec<String>)> =
            best.into_iter().map(|(i, (s, w))| (i, s, w)).collect();
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
        let mut matches = self.select(&scored);
        let ranked = scored
            .iter()
            .take(MAX_RANKED)
            .map(|(i, score, words)| Match {
                indicator: self.entries[*i].id.clone(),
                score: *score,
                matched: words.clone(),
                red_flag: false,
            })
            .collect();

        // Concepts and the safety floor.
        let mut live: HashSet<&str> = tokens
            .iter()
            .filter(|t| !t.negated)
            .map(|t| t.word.as_str())
            .collect();
        if adult_age_given(&tokens, age) {
            live.insert("adult");
        }
        // Red flags read the whole message (the safety floor errs towards firing), and also each
        // sentence window, so that an `unless` phrase elsewhere in the message ("missing
        // school", "punching doors") cannot hide a red flag told in a sentence of its own.
        // Concepts read one sentence, or two in a row (`SENTENCE_WINDOW`), so that words far
        // apart in a long message do not combine into a concern nobody described.
        let whole = Reading::new(
            live.clone(),
            &lower,
            age,
            &self.negator_set,
            &self.negation_extras,
        );
        let sentences: Vec<&str> = lower
            .split(['.', ';', '!', '?', '\n', '(', ')'])
            .filter(|c| c.chars().any(char::is_alphanumeric))
            .collect();
        // Each reading with whether it spans two sentences.
        let per_sentence: Vec<(Reading, bool)> = if sentences.len() == clauses {
            (0..sentences.len())
                .flat_map(|ci| (1..=SENTENCE_WINDOW).map(move |w| (ci, w)))
                .filter(|&(ci, w)| ci + w <= sentences.len())
                .map(|(ci, w)| {
                    let mut live: HashSet<&str> = tokens
                        .iter()
                        .filter(|t| t.clause >= ci && t.clause < ci + w && !t.negated)
                        .map(|t| t.word.as_str())
                        .collect();
                    if whole.live.contains("adult") {
                        live.insert("adult");
                    }
                    let text = sentences[ci..ci + w].join(" . ");
                    (
                        Reading::new(live, &text, age, &self.negator_set, &self.negation_extras),
                        w > 1,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let rule_refs: Vec<&Rule> = self.rules.iter().map(|(r, _)| r).collect();
        let mut fired_ids: Vec<usize> = self
            .rule_index
            .fired(&rule_refs, &whole)
            .into_iter()
            .filter(|&i| self.rules[i].0.red_flag || per_sentence.is_empty())
            .collect();
        for (reading, spans_two) in &per_sentence {
            fired_ids.extend(
                self.rule_index
                    .fired(&rule_refs, reading)
                    .into_iter()
                    .filter(|&i| !(*spans_two && self.rules[i].0.same_sentence)),
            );
        }
        fired_ids.sort_unstable();
        fired_ids.dedup();
        let fired: Vec<&(Rule, Vec<usize>)> = fired_ids.iter().map(|&i| &self.rules[i]).collect();
        let red_flags: Vec<String> = fired
            .iter()
            .filter(|(r, _)| r.red_flag)
            .map(|(r, _)| r.name.clone())
            .collect();
        let immediate = fired.iter().any(|(r, _)| r.immediate);
        let needs: Vec<&(Rule, Vec<usize>)> = fired
            .iter()
            .copied()
            .filter(|(r, _)| !r.red_flag && r.tier >= 2)
            .collect();
        let strengths: Vec<&(Rule, Vec<usize>)> = fired
            .iter()
            .copied()
            .filter(|(r, _)| !r.red_flag && r.tier == 1)
            .collect();
        let concept_names: Vec<String> = fired
            .iter()
            .filter(|(r, _)| !r.red_flag)
            .map(|(r, _)| r.name.clone())
            .collect();
        let by_entry: HashMap<usize, (f32, &Vec<String>)> =
            scored.iter().map(|(i, s, w)| (*i, (*s, w))).collect();
        let lexical_score = |i: usize| by_entry.get(&i).map_or(0.0, |s| s.0);
        let lexical_words = |i: usize| by_entry.get(&i).map(|s| s.1.clone()).unwrap_or_default();
        let mut tier_floor = None;
        let held = |items: &'m [String]| -> Vec<&'m String> {
            items.iter().filter(|p| whole.holds_item(p)).collect()
        };
        let protective = held(&self.protective);
        let escalating = held(&self.escalating);
        let resolved = held(&self.resolved);
        // Strengths saying a need is already handled, when every early-help need fired is on
        // their topic (shares a target): "a job loss the parents are managing" answers "low
        // income", not nits.
        let resolving: Vec<&Rule> = strengths
            .iter()
            .filter(|(r, _)| r.resolves)
            .map(|(r, _)| r)
            .collect();
        let on_topic = |need: &Rule| {
            resolving
                .iter()
                .any(|h| need.targets.iter().any(|t| h.targets.contains(t)))
        };
        // A phrase such as "managing fine" has no topic: it is trusted only when the message
        // describes one early-help need.
        let single_need = needs
            .iter()
            .filter(|(r, _)| r.tier == 2)
            .map(|(r, _)| r.targets.first().map_or("", String::as_str))
            .collect::<HashSet<&str>>()
            .len()
            <= 1;
        let handled: Vec<&str> =
            if !resolving.is_empty() && needs.iter().all(|(r, _)| r.tier != 2 || on_topic(r)) {
                resolving.iter().map(|r| r.name.as_str()).collect()
            } else {
                Vec::new()
            };
        let lean = escalating.len() as i32 - protective.len() as i32;
        let mut factors: Vec<String> = Vec::new();
        if !needs.is_empty() {
            // The concepts say what the need is and how serious; lexical matches may add other
            // concerns but never rate above them. Between early help and targeted help, the
            // documents weigh how the family engages and whether the need persists.
            let mut ceiling = needs.iter().map(|(r, _)| r.tier).max().unwrap_or(2);
            if ceiling == 3 && lean <= -2 && red_flags.is_empty() {
                ceiling = 2;
                factors.extend(
                    protective
                        .iter()
                        .map(|p| format!("protective factor: {}", p.trim())),
                );
            } else if ceiling == 2
                && escalating.is_empty()
                && red_flags.is_empty()
                && ((!resolved.is_empty() && single_need) || !handled.is_empty())
            {
                ceiling = 1;
                factors.extend(resolved.iter().map(|p| format!("need met: {}", p.trim())));
                factors.extend(handled.iter().map(|name| format!("need met: {name}")));
            } else if ceiling == 2 && lean >= ESCALATION {
                tier_floor = Some(3);
                factors.extend(
                    escalating
                        .iter()
                        .map(|p| format!("escalating: {}", p.trim())),
                );
            }
            matches.retain(|m| {
                self.entry(&m.indicator)
                    .is_some_and(|e| !e.positive && e.tier <= ceiling)
            });
            for (rule, candidates) in &needs {
                if let Some(i) = self.map_rule(rule.tier.min(ceiling), candidates, &lexical_score) {
                    if !matches.iter().any(|m| m.indicator == self.entries[i].id) {
                        matches.insert(
                            0,
                            Match {
                                indicator: self.entries[i].id.clone(),
                                score: lexical_score(i).clamp(MIN_SCORE, 1.0),
                                matched: vec![rule.name.clone()],
                                red_flag: false,
                            },
                        );
                    }
                }
            }
            // One indicator per domain, the most serious: two concepts that describe the same
            // concern ("low mood" and "bereavement" of one grieving child) are one issue, which
            // matters where a document counts issues (the 2018 Triage Tool).
            let mut best_in_domain: HashMap<&str, (u8, f32)> = HashMap::default();
            for m in &matches {
                if let Some(e) = self.entry(&m.indicator) {
                    let b = best_in_domain.entry(e.domain.as_str()).or_insert((0, 0.0));
                    if (e.tier, m.score) > *b {
                        *b = (e.tier, m.score);
                    }
                }
            }
            let mut kept_domains: HashSet<String> = HashSet::default();
            matches.retain(|m| {
                let Some(e) = self.entry(&m.indicator) else {
                    return false;
                };
                let best = best_in_domain
                    .get(e.domain.as_str())
                    .copied()
                    .unwrap_or((0, 0.0));
                (e.tier, m.score) == best && kept_domains.insert(e.domain.clone())
            });
            // Several separate low-level needs together are multiple needs, unless the family
            // is clearly working with the help offered (the same balance as above).
            let distinct: HashSet<&str> = needs
                .iter()
                .map(|(r, _)| r.targets.first().map_or("", String::as_str))
                .collect();
            if ceiling == 2 && distinct.len() >= MULTIPLE_NEEDS && lean > -2 {
                tier_floor = Some(3);
            }
        } else if !strengths.is_empty() && red_flags.is_empty() {
            matches.clear();
            for (rule, candidates) in &strengths {
                if let Some(i) = self.map_rule(rule.tier, candidates, &lexical_score) {
                    if !matches.iter().any(|m| m.indicator == self.entries[i].id) {
                        matches.push(Match {
                            indicator: self.entries[i].id.clone(),
                            score: lexical_score(i).clamp(MIN_SCORE, 1.0),
                            matched: vec![rule.name.clone()],
                            red_flag: false,
                        });
                    }
                }
            }
        } else if red_flags.is_empty() {
            // Words alone (no concept recognised) say what a message is about, not how serious
            // it is: "missed school" shares words with "missing from education". A weak word
            // match never rates targeted or protective help on its own; the caller is asked for
            // more detail instead, and red flags still give 999.
            matches.retain(|m| {
                self.entry(&m.indicator)
                    .is_some_and(|e| e.tier <= 2 || m.score >= LEXICAL_SEVERITY)
            });
        }
        for (rule, candidates) in fired.iter().filter(|(r, _)| r.red_flag) {
            if matches.iter().any(|m| {
                candidates
                    .iter()
                    .any(|&i| self.entries[i].id == m.indicator)
            }) {
                continue;
            }
            if let Some(i) = self.map_rule(rule.tier, candidates, &lexical_score) {
                matches.push(Match {
                    indicator: self.entries[i].id.clone(),
                    score: lexical_score(i).min(1.0),
                    matched: lexical_words(i),
                    red_flag: true,
                });
            }
        }
        Analysis {
            matches,
            immediate,
            red_flags,
            concepts: concept_names.into_iter().chain(factors).collect(),
            tier_floor,
            age,
            ranked,
            cues: (up, down),
        }
    }

    /// Scores every indicator sharing a word with `tokens` (one clause, or the whole message),
    /// through the inverted index, keeping each indicator's best score (times `factor`).
    fn score_scope(
        &self,
        tokens: &[&Token],
        factor: f32,
        best: &mut HashMap<usize, (f32, Vec<String>)>,
    ) {
        let mut live: HashMap<&str, &str> = HashMap::default();
        for t in tokens.iter().filter(|t| !t.negated) {
            live.entry(t.stem.as_str()).or_insert(t.surface.as_str());
        }
        let mut acc: HashMap<usize, (f32, f32, Vec<String>)> = HashMap::default();
        for (stem, surface) in &live {
            for &(ei, w) in self.postings.get(*stem).map(Vec::as_slice).unwrap_or(&[]) {
                let a = acc.entry(ei).or_default();
                a.0 += w;
                if w > GENERIC_WEIGHT && !a.2.iter().any(|s| s == surface) {
                    a.2.push(surface.to_string());
                }
            }
        }
        let mut negated_done = HashSet::default();
        for t in tokens
            .iter()
            .filter(|t| t.negated && !live.contains_key(t.stem.as_str()))
        {
            if !negated_done.insert(t.stem.as_str()) {
                continue;
            }
            for &(ei, w) in self.postings.get(&t.stem).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(a) = acc.get_mut(&ei) {
                    a.1 += w;
                }
            }
        }
        for (ei, (hit, neg, words)) in acc {
            let e = &self.entries[ei];
            let mut bonus = 0.0f32;
            for p in &e.phrases {
                if p.iter().all(|w| live.contains_key(w.as_str())) {
                    bonus += 0.25;
                }
            }
            for a in &e.aid_words {
                if live.contains_key(a.as_str()) {
                    bonus += 0.08;
                }
            }
            let coverage = (hit - neg) / e.total.max(1.0);
            let evidence = (hit / 9.0).min(1.0);
            let mut score = 0.55 * coverage + 0.45 * evidence + bonus.min(0.5);
            if words.len() < 2 && bonus < 0.25 {
                score *= 0.5;
            }
            let score = score.max(0.0) * factor;
            if score > 0.0 && best.get(&ei).is_none_or(|b| score > b.0) {
                best.insert(ei, (score, words));
            }
        }
    }

    fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The area indicator a concept maps to: the closest tier (a higher one before a lower one,
    /// so that the area's words never under-rate the concept), then the best lexical score.
    fn map_rule(
        &self,
        tier: u8,
        candidates: &[usize],
        lexical: &dyn Fn(usize) -> f32,
    ) -> Option<usize> {
        let want = tier;
        let distance = |tier: u8| -> f32 {
            if tier >= want {
                (tier - want) as f32
            } else {
                (want - tier) as f32 * 1.5
            }
        };
        let best = |pool: &mut dyn Iterator<Item = usize>| {
            pool.min_by(|&a, &b| {
                distance(self.entries[a].tier)
                    .total_cmp(&distance(self.entries[b].tier))
                    .then(lexical(b).total_cmp(&lexical(a)))
                    .then(a.cmp(&b))
            })
        };
        let pick = best(&mut candidates.iter().copied());
        if pick.is_some_and(|i| self.entries[i].tier == want) {
            return pick;
        }
        // No indicator of this need at that tier (Salford's tables are lost, some documents
        // skip a level in a domain): the area's own words for the level itself, the closest
        // lexically, keep the concept's tier rather than moving it up or down.
        let at_tier = best(&mut (0..self.entries.len()).filter(|&i| {
            let e = &self.entries[i];
            e.tier == want && (e.positive == (want == 1) || want == 1)
        }));
        at_tier.filter(|&i| self.entries[i].tier == want).or(pick)
    }

    /// Chooses what to show from the ranked scores: the needs close to the best need (at most
    /// two per domain); strengths only when no need stands out, so that "doing well" never
    /// hides a concern.
    fn select(&self, scored: &[(usize, f32, Vec<String>)]) -> Vec<Match> {
        let is_need = |i: usize| !self.entries[i].positive;
        let need_top = scored
            .iter()
            .filter(|s| is_need(s.0))
            .map(|s| s.1)
            .fold(0.0, f32::max);
        let strength_top = scored
            .iter()
            .filter(|s| !is_need(s.0))
            .map(|s| s.1)
            .fold(0.0, f32::max);
        let needs_count = need_top >= MIN_SCORE && need_top * STRENGTH_DOMINANCE > strength_top;
        let top = if needs_count { need_top } else { strength_top };
        let mut matches = Vec::new();
        let mut domains_seen: HashMap<&str, usize> = HashMap::default();
        for (ei, score, words) in scored {
            if is_need(*ei) != needs_count || *score < MIN_SCORE || *score < top * RELATIVE_CUT {
                continue;
            }
            if matches.len() >= MAX_MATCHES {
                break;
            }
            let e = &self.entries[*ei];
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
        matches
    }
}

/// The child's age in years from "14 year old", "4 month old", "schoolyear 9", "baby", "toddler".
///
/// The first age under 18 is the child's: "Y9 girl with a 19 yo boyfriend" is about a 14-year-old.
/// Only when every age given is an adult's is that age returned (an adult subject).
fn child_age(tokens: &[Token]) -> Option<f32> {
    let mut first_adult = None;
    for (i, t) in tokens.iter().enumerate() {
        let age = age_at(tokens, i, t);
        match age {
            Some(a) if a < 18.0 => return Some(a),
            Some(a) => {
                first_adult.get_or_insert(a);
            }
            None => {}
        }
    }
    first_adult
}

/// A child's age given in brackets after a name, as practitioners often write it: "Sofia (3)",
/// "Lewis (13) has had 4 suspensions". Only a bracket holding nothing but a number up to 18.
fn bracketed_age(lower: &str) -> Option<f32> {
    lower.split('(').skip(1).find_map(|rest| {
        let inside = rest.split(')').next()?.trim();
        inside
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= 18)
            .map(f32::from)
    })
}

/// The age stated at token `i`, if one starts there.
fn age_at(tokens: &[Token], i: usize, t: &Token) -> Option<f32> {
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
    // "Y9", "year 9", "yr 9": a school year (not "9 year old", caught above). The plain stem is
    // compared, as synonyms may fold "schoolyear" into "school".
    let after_number = i > 0 && tokens[i - 1].stem.parse::<f32>().is_ok();
    if t.word == "schoolyear" || (t.stem == "year" && !after_number) {
        if let Some(n) = next
            .and_then(|n| n.parse::<f32>().ok())
            .filter(|n| (1.0..=13.0).contains(n))
        {
            return Some(n + 5.0);
        }
    }
    if t.stem == "baby" || t.surface == "toddler" {
        return Some(if t.surface == "toddler" { 2.0 } else { 0.5 });
    }
    None
}

/// Whether the text gives an adult's age ("her 24yo boyfriend") besides a child's under 16.
fn adult_age_given(tokens: &[Token], child: Option<f32>) -> bool {
    if child.is_none_or(|c| c >= 16.0) {
        return false;
    }
    tokens.iter().enumerate().any(|(i, t)| {
        t.stem
            .parse::<f32>()
            .is_ok_and(|n| (18.0..=80.0).contains(&n))
            && tokens.get(i + 1).is_some_and(|n| n.stem == "year")
            && tokens.get(i + 2).is_some_and(|n| n.stem == "old")
    })
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
    fn an_age_in_brackets_after_a_name_is_read() {
        assert_eq!(
            bracketed_age("nursery mgr. sofia (3) bit another child"),
            Some(3.0)
        );
        assert_eq!(bracketed_age("family of 5 (kids 1, 4, 9)"), None);
        assert_eq!(bracketed_age("dad (45) lost his job"), None);
        assert_eq!(bracketed_age("no brackets here"), None);
    }

    #[test]
    fn vocabulary_loads() {
        let v: Result<VocabularyFile, _> = toml::from_str(VOCABULARY);
        assert!(v.is_ok(), "{v:?}");
    }
}
