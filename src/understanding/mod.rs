//! Understanding: what a practitioner's message describes, learned from a labelled corpus.
//!
//! [`Understanding::read`] turns a message into a [`Reading`]: a probability for each tier and for
//! immediate danger (the learned [`model`]), the tier and immediacy the safety [`policy`] gives
//! them, the needs of the taxonomy (`rules/needs.toml`) it describes with the caller's own words
//! that drove each, and the red flags ([`redflags`]) that lift the outcome whatever the model says.
//! [`explain`] then shows a need in an area's own words. Pure: no I/O; the model is compiled in.
//!
//! - [`text`] and [`age`]: the message as words with their spans, and the child's age;
//! - [`features`]: what the model weighs; [`model`]: the weights and inference;
//! - [`train`]: fitting the model from the [`corpus`] (deterministic);
//! - [`policy`]: thresholds chosen so that no child-protection concern is rated low;
//! - [`redflags`]: the safety floor; [`explain`]: indicators and quotes that are true.

pub mod age;
pub mod corpus;
pub mod explain;
pub mod features;
pub mod model;
pub mod policy;
pub mod profiles;
pub mod redflags;
pub mod text;
pub mod train;

use std::ops::Range;

use serde::Deserialize;

use crate::rules::needs::{Factor, Taxonomy};
pub use model::{Model, ModelError};
pub use policy::Policy;
pub use profiles::{Profiles, ProfilesError};
use redflags::Fired;

/// The shipped model, trained by `frontdoor train` from `corpus/train/`.
pub const MODEL: &[u8] = include_bytes!("../../model/understanding.bin");
/// The shipped indicator profiles, built by `frontdoor train` with the model.
pub const INDICATORS: &[u8] = include_bytes!("../../model/indicators.bin");
/// The shipped policy, chosen by `frontdoor train --policy` on `corpus/validation/`.
pub const POLICY: &str = include_str!("../../model/policy.toml");

/// Longest message read, in characters: the chat's own limit for one message, so everything a
/// caller can send is read (a few milliseconds at most).
pub const MAX_CHARS: usize = 20_000;

/// Most needs given for one message.
pub const MAX_NEEDS: usize = 3;
/// A need below this probability is not given unless it is the best one (and, in a reading at
/// the advice level, not even then: see [`ADVICE_NEED`]).
pub const NEED_FLOOR: f32 = 0.25;
/// The need given instead of an unsure best need when the reading is at the advice level.
pub const ADVICE_NEED: &str = "universal-advice";
/// Most quotes of the caller's words per need.
const MAX_QUOTES: usize = 3;

/// The policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    policy: Policy,
}

/// A need recognised in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct NeedReading {
    /// The need's id in the taxonomy.
    pub id: String,
    /// The model's probability that the message describes it.
    pub probability: f32,
    /// Spans of the caller's text that drove it most, in text order.
    pub spans: Vec<Range<usize>>,
    /// Raised by a red flag (the model alone did not rank it).
    pub from_red_flag: bool,
}

/// What was understood of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Probability of tiers 1-4.
    pub tier_probabilities: [f32; 4],
    /// Probability that the child needs protecting now.
    pub immediate_probability: f32,
    /// The highest probability of immediate danger in one sentence read alone: what the policy's
    /// `part_immediate` threshold is compared with (0 when not read: a message of one sentence,
    /// or a policy without that threshold).
    pub part_immediate_probability: f32,
    /// The tier given (1-4), after the safety policy and the red flags.
    pub tier: u8,
    /// Immediate protection: 999 first.
    pub immediate: bool,
    /// When the model was unsure between two tiers (the higher is given).
    pub unsure: Option<(u8, u8)>,
    /// Needs, most probable first (at most [`MAX_NEEDS`], red-flag needs added).
    pub needs: Vec<NeedReading>,
    /// Red flags that fired.
    pub red_flags: Vec<Fired>,
    /// The child's age in years (stated, or the hint given).
    pub age: Option<f32>,
    /// The message had no words to read.
    pub empty: bool,
    /// The message as a unit vector over the model's features (to compare with indicator
    /// profiles).
    pub vector: Vec<(usize, f32)>,
}

/// A follow-up question worth asking when the model is unsure.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    /// What the question is about.
    pub factor: Factor,
    /// The need it is about.
    pub need: String,
    /// The tier the need takes when the answer is the worrying one, and whether immediate.
    pub raises_to: (u8, bool),
    /// The modifier's words ("a baby or child not yet mobile..."), for the reason shown.
    pub when: String,
}

/// The understanding: the model, its policy, the red flags and the taxonomy.
#[derive(Debug, Clone)]
pub struct Understanding {
    model: Model,
    policy: Policy,
    taxonomy: Taxonomy,
    profiles: Profiles,
    floor: bool,
    read_parts: bool,
}

/// The understanding could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UnderstandingError {
    /// The model file is unusable.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The policy file is unusable.
    #[error("model/policy.toml: {0}")]
    Policy(String),
    /// The indicator profiles do not fit the model.
    #[error(transparent)]
    Profiles(#[from] ProfilesError),
    /// The model and the taxonomy do not fit.
    #[error("the model knows need {0:?}, which rules/needs.toml does not: retrain with `frontdoor train`")]
    UnknownNeed(String),
}

impl Understanding {
    /// The shipped model and policy over `taxonomy`.
    pub fn builtin(taxonomy: &Taxonomy) -> Result<Understanding, UnderstandingError> {
        let policy: PolicyFile =
            toml::from_str(POLICY).map_err(|e| UnderstandingError::Policy(e.to_string()))?;
        let model = Model::from_bytes(MODEL)?;
        let profiles = Profiles::from_bytes(INDICATORS, &model)?;
        Ok(Understanding::new(model, policy.policy, taxonomy)?.with_profiles(profiles))
    }

    /// An understanding from a model and a policy.
    pub fn new(
        model: Model,
        policy: Policy,
        taxonomy: &Taxonomy,
    ) -> Result<Understanding, UnderstandingError> {
        if let Some(unknown) = model.needs.iter().find(|n| taxonomy.need(n).is_none()) {
            return Err(UnderstandingError::UnknownNeed(unknown.clone()));
        }
        Ok(Understanding {
            model,
            policy,
            taxonomy: taxonomy.clone(),
            profiles: Profiles::default(),
            floor: true,
            read_parts: false,
        })
    }

    /// The same understanding with these indicator profiles (without them, an indicator is
    /// compared through its own text only).
    pub fn with_profiles(mut self, profiles: Profiles) -> Understanding {
        self.profiles = profiles;
        self
    }

    /// The indicator profiles.
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// The same understanding without the red-flag floor (to measure what the floor adds).
    pub fn without_floor(mut self) -> Understanding {
        self.floor = false;
        self
    }

    /// The same understanding reading each sentence alone too, whatever the policy (to choose a
    /// policy's `part_immediate` threshold).
    pub fn with_part_reading(mut self) -> Understanding {
        self.read_parts = true;
        self
    }

    /// The same understanding with another policy (to choose thresholds).
    pub fn with_policy(mut self, policy: Policy) -> Understanding {
        self.policy = policy;
        self
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The taxonomy.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Reads a message. `age_hint`: the child's age given earlier in the consultation, used when
    /// the message states none. Everything up to [`MAX_CHARS`] characters is read.
    pub fn read(&self, text: &str, age_hint: Option<f32>) -> Reading {
        let text = match text.char_indices().nth(MAX_CHARS) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        let parts = self.read_parts || self.policy.part_immediate.is_some();
        let scores = self.model.score_with_parts(text, age_hint, &[], parts);
        // Nothing to read: no words, or no word the model has ever seen ("xxxx", "31m", emoji).
        // Character fragments and the model's biases alone must not claim a level.
        let knows_a_word = scores.active.iter().any(|(f, _)| {
            self.model
                .features
                .get(*f)
                .is_some_and(|name| name.starts_with("w:") || name.starts_with("n:"))
        });
        let empty = scores.text.words.is_empty() || !knows_a_word;
        let decision = self
            .policy
            .decide(&scores.tiers, scores.immediate, scores.part_immediate);
        let (mut tier, mut immediate, mut unsure) =
            (decision.tier, decision.immediate, decision.unsure);
        let red_flags = if self.floor {
            redflags::fired(redflags::builtin(), &scores.text, scores.age)
        } else {
            Vec::new()
        };
        if !red_flags.is_empty() {
            tier = 4;
            unsure = None;
            immediate |= red_flags.iter().any(|f| f.immediate);
        }
        if empty {
            // Nothing to read: no tier is claimed; the caller is asked to say more.
            tier = 0;
            immediate = false;
            unsure = None;
        }
        let needs = if empty {
            Vec::new()
        } else {
            self.needs(&scores, &red_flags, text, tier)
        };
        Reading {
            tier_probabilities: scores.tiers,
            immediate_probability: scores.immediate,
            part_immediate_probability: scores.part_immediate,
            tier,
            immediate,
            unsure,
            needs,
            red_flags,
            age: scores.age,
            empty,
            vector: profiles::unit_vector(scores.active.clone()),
        }
    }

    fn needs(
        &self,
        scores: &model::Scores,
        red_flags: &[Fired],
        text: &str,
        tier: u8,
    ) -> Vec<NeedReading> {
        let mut ranked: Vec<(usize, f32)> = scores.needs.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // A reading at the advice level whose best need is unsure does not claim that need: the
        // message most often raised it and then set it aside (an account the caller corrected,
        // "it was a pillow fight", "the health visitor recorded the birthmark"), and showing it
        // would put a concern the caller did not describe in the record. What the reading says
        // is that universal services meet the child's needs, so that is the need given.
        let advice = self.model.needs.iter().position(|n| n == ADVICE_NEED);
        if let (Some(a), Some(&(best, p))) = (advice, ranked.first()) {
            if tier == 1 && red_flags.is_empty() && p < NEED_FLOOR && best != a {
                ranked.retain(|&(i, _)| i == a);
            }
        }
        let mut out: Vec<NeedReading> = ranked
            .iter()
            .enumerate()
            .take_while(|(rank, (_, p))| *rank == 0 || *p >= NEED_FLOOR)
            .take(MAX_NEEDS)
            .map(|(_, &(i, p))| NeedReading {
                id: self.model.needs[i].clone(),
                probability: p,
                spans: self.quotes(scores, i, text),
                from_red_flag: false,
            })
            .collect();
        // A red flag's need is always shown, quoting the words that made it fire.
        for flag in red_flags {
            let covered = flag.needs.iter().any(|n| out.iter().any(|r| r.id == *n));
            if covered {
                continue;
            }
            if let Some(first) = flag.needs.first() {
                let probability = self
                    .model
                    .needs
                    .iter()
                    .position(|n| n == first)
                    .map_or(0.0, |i| scores.needs[i]);
                out.push(NeedReading {
                    id: first.clone(),
                    probability,
                    spans: flag.spans.clone(),
                    from_red_flag: true,
                });
            }
        }
        out
    }

    /// The caller's words that pushed need `i` up most, each in its phrase: runs of consecutive
    /// words with a strong positive weight, best first, widened to the words around them in
    /// their clause ([`phrase`]), at most [`MAX_QUOTES`] different ones, returned in text order.
    fn quotes(&self, scores: &model::Scores, need: usize, text: &str) -> Vec<Range<usize>> {
        let words = &scores.text.words;
        let weights = self.model.word_contributions(scores, need);
        // Never quoted: a word after a negation in its clause (the model's negation reaches a few
        // words; a quote must not claim what the caller denied: "denies any thoughts of
        // suicide"), or a negating word itself. Quotable alone: besides, at least three letters
        // and not a word that says nothing alone (words.toml [quotes]).
        let reader = text::Reader::builtin();
        let mut denied_clause: Option<usize> = None;
        let allowed: Vec<bool> = words
            .iter()
            .map(|w| {
                if reader.is_negator(&w.form) {
                    denied_clause = Some(w.clause);
                    return false;
                }
                !(w.negated || denied_clause == Some(w.clause))
            })
            .collect();
        let quotable: Vec<bool> = words
            .iter()
            .zip(&allowed)
            .map(|(w, a)| *a && w.form.chars().count() >= 3 && !reader.is_never_quoted(&w.form))
            .collect();
        let best = weights
            .iter()
            .zip(&quotable)
            .filter(|(_, q)| **q)
            .map(|(x, _)| *x)
            .fold(0.0f32, f32::max);
        if best <= 0.0 {
            return Vec::new();
        }
        // A word counts when it carries a fair share of the best word's weight.
        let strong: Vec<bool> = weights
            .iter()
            .zip(&quotable)
            .map(|(x, q)| *q && *x >= best * 0.35)
            .collect();
        // A word that adds to the need at all may join a quote as part of its phrase.
        let supporting: Vec<bool> = weights
            .iter()
            .zip(&quotable)
            .map(|(x, q)| *q && *x > 0.0)
            .collect();
        let mut runs: Vec<(f32, Range<usize>)> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if !strong[i] {
                i += 1;
                continue;
            }
            let start = i;
            let mut total = 0.0;
            while i < words.len() && strong[i] && words[i].clause == words[start].clause {
                total += weights[i];
                i += 1;
            }
            runs.push((total, start..i));
        }
        runs.sort_by(|a, b| b.0.total_cmp(&a.0));
        // The same words typed twice are quoted once.
        let mut seen = std::collections::HashSet::new();
        let mut spans: Vec<Range<usize>> = runs
            .into_iter()
            .map(|(_, run)| {
                let run = phrase(words, &allowed, &supporting, run);
                words[run.start].span.start..words[run.end - 1].span.end
            })
            .filter(|r| seen.insert(text.get(r.clone()).unwrap_or_default().to_lowercase()))
            .take(MAX_QUOTES)
            .collect();
        spans.sort_by_key(|r| r.start);
        // Phrases that overlap are quoted as one.
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
        for r in spans {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// The question most worth asking: when the model is unsure between two tiers, about the
    /// best need, the factor whose worrying answer would move it to the higher tier (its age
    /// first, when unknown); when it gives child protection but not immediate protection, the
    /// factor that would make the need immediate in the taxonomy (who the person is, their access
    /// today, the child's age), so that "does he live with her?" is asked, not assumed either way.
    pub fn follow_up(&self, reading: &Reading) -> Option<FollowUp> {
        match reading.unsure {
            Some((_, higher)) => self.question_raising(reading, higher, false),
            None if reading.tier == 4 && !reading.immediate => {
                self.question_raising(reading, 4, true)
            }
            None => None,
        }
    }

    /// A follow-up about the first need with a modifier reaching `tier` (and immediate
    /// protection, when `immediate`).
    fn question_raising(&self, reading: &Reading, tier: u8, immediate: bool) -> Option<FollowUp> {
        for need in reading
            .needs
            .iter()
            .filter(|n| !n.from_red_flag || immediate)
        {
            let Some(def) = self.taxonomy.need(&need.id) else {
                continue;
            };
            let mut candidates: Vec<_> = def
                .modifiers
                .iter()
                .filter(|m| m.tier >= tier && m.factor != Factor::ProtectiveParent)
                .filter(|m| !immediate || m.immediate)
                .filter(|m| !(m.factor == Factor::Age && reading.age.is_some()))
                .collect();
            // The child's age first when it is unknown and can matter; then the most serious.
            candidates.sort_by_key(|m| {
                (
                    m.factor != Factor::Age,
                    std::cmp::Reverse((m.tier, m.immediate)),
                )
            });
            if let Some(m) = candidates.first() {
                return Some(FollowUp {
                    factor: m.factor,
                    need: need.id.clone(),
                    raises_to: (m.tier, m.immediate),
                    when: m.when.clone(),
                });
            }
        }
        None
    }

    /// What would lower the reading's tier: modifiers of its best need with a lower tier, in
    /// plain words ("an explanation that fits..." -> tier 1). Empty for red flags.
    pub fn what_would_lower(&self, reading: &Reading) -> Vec<(String, u8)> {
        if !reading.red_flags.is_empty() || reading.immediate {
            return Vec::new();
        }
        let Some(best) = reading.needs.first() else {
            return Vec::new();
        };
        self.taxonomy
            .need(&best.id)
            .map(|def| {
                def.modifiers
                    .iter()
                    .filter(|m| m.tier < reading.tier)
                    .map(|m| (m.when.clone(), m.tier))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// How far a quote looks either side of the words that drove it, in words.
const PHRASE_REACH: usize = 3;

/// The phrase around `run` (word indices): on each side, the nearest word that also adds to the
/// need (`supporting`) within [`PHRASE_REACH`] words in the same clause, with the words between;
/// never across a denied word or a phrase break (words.toml: "and", "since", "who"). Words that
/// drove the need are quoted together with what joins them ("bruise on cheek", "hit her with a
/// belt"), not as bare fragments, and a phrase never ends on a word that says nothing of the need
/// ("her husband take").
fn phrase(
    words: &[text::Word],
    allowed: &[bool],
    supporting: &[bool],
    run: Range<usize>,
) -> Range<usize> {
    let clause = words[run.start].clause;
    let reader = text::Reader::builtin();
    let fits = |i: usize| {
        allowed[i] && words[i].clause == clause && !reader.is_phrase_break(&words[i].form)
    };
    let start = (run.start.saturating_sub(PHRASE_REACH)..run.start)
        .rev()
        .take_while(|&i| fits(i))
        .find(|&i| supporting[i])
        .unwrap_or(run.start);
    let end = (run.end..words.len().min(run.end + PHRASE_REACH))
        .take_while(|&i| fits(i))
        .find(|&i| supporting[i])
        .map_or(run.end, |i| i + 1);
    start..end
}
