//! The learned model: regularised linear models over a message's features.
//!
//! Two heads share one feature vocabulary: the level (one logistic per class: tiers 1, 2, 3, 4
//! and 4 with immediate danger, their probabilities normalised to sum to one), and the needs (one
//! logistic per need of the taxonomy, so a message can describe several). A message is a TF-IDF vector: each feature's count, damped (1 + ln count),
//! times its inverse document frequency in the corpus, with the word features and the character
//! features each scaled to unit length, so that a long message and a short one weigh alike and a
//! word seen in every message weighs little. [`vectorise`] does this the same way in training and
//! at run time. Inference is a sparse dot product: microseconds.

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::age::child_age;
use super::features::{each_feature, Extracted, FeatureConfig};
use super::text::{Reader, Text};

/// Version of the model file format.
pub const FORMAT: u32 = 3;

/// Which block a feature belongs to: each block is scaled to unit length on its own.
pub fn block(name: &str) -> usize {
    usize::from(name.starts_with("c:"))
}

/// The inverse document frequency of a feature seen in `df` of `n` messages (smoothed).
pub fn idf(df: usize, n: usize) -> f32 {
    (((1 + n) as f64 / (1 + df) as f64).ln() + 1.0) as f32
}

/// A message's features as a sparse TF-IDF vector: (index, value), sorted by index. `lookup`
/// gives a feature's index, `idf` its weight.
pub fn vectorise<'a>(
    names: impl Iterator<Item = &'a str>,
    lookup: impl Fn(&str) -> Option<usize>,
    idf: &[f32],
) -> Vec<(usize, f32)> {
    vectorise_indices(
        names.filter_map(|name| lookup(name).map(|i| (i, block(name)))),
        idf,
    )
}

/// [`vectorise`] over features already looked up: (index, block) per occurrence.
pub fn vectorise_indices(
    occurrences: impl Iterator<Item = (usize, usize)>,
    idf: &[f32],
) -> Vec<(usize, f32)> {
    let mut counts: FxHashMap<usize, (u32, usize)> = FxHashMap::default();
    for (i, b) in occurrences {
        counts.entry(i).or_insert((0, b)).0 += 1;
    }
    let mut v: Vec<(usize, f32, usize)> = counts
        .into_iter()
        .map(|(i, (c, b))| (i, (1.0 + (c as f32).ln()) * idf[i], b))
        .collect();
    v.sort_unstable_by_key(|x| x.0);
    let mut norms = [0.0f32; 2];
    for &(_, x, b) in &v {
        norms[b] += x * x;
    }
    v.into_iter()
        .map(|(i, x, b)| {
            (
                i,
                if norms[b] > 0.0 {
                    x / norms[b].sqrt()
                } else {
                    0.0
                },
            )
        })
        .collect()
}

/// Tiers on the common scale.
pub const TIERS: [u8; 4] = [1, 2, 3, 4];

/// The classes of the level head: tiers 1-4, then tier 4 with immediate danger.
pub const CLASSES: usize = 5;

/// A model file that cannot be used.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The bytes are not a model.
    #[error("the model file cannot be read: {0}")]
    Decode(String),
    /// Written by another version of the format.
    #[error("the model file is format {found}, this build reads format {FORMAT}: rebuild it with `frontdoor train`")]
    Format {
        /// The format found.
        found: u32,
    },
    /// Internally inconsistent.
    #[error("the model file is inconsistent: {0}")]
    Inconsistent(String),
}

/// One head: a weight per (feature, output) and a bias per output.
///
/// Weights are stored in 8 bits with a scale per output (`weight = q * scale[o]`): the shipped
/// model stays a few megabytes, and a linear model loses nothing measurable by it (the
/// comparison is in model/README.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Number of outputs.
    pub outputs: usize,
    /// Bias per output.
    pub bias: Vec<f32>,
    /// Scale per output.
    pub scale: Vec<f32>,
    /// Quantised weights, row-major: feature `f`, output `o` at `f * outputs + o`.
    pub weights: Vec<i8>,
}

impl Head {
    /// Quantises full-precision weights (row-major, `features * outputs`) and biases.
    pub fn quantise(weights: &[f64], bias: &[f64], outputs: usize) -> Head {
        let mut scale = vec![0.0f32; outputs];
        for (i, w) in weights.iter().enumerate() {
            let o = i % outputs;
            scale[o] = scale[o].max(w.abs() as f32 / 127.0);
        }
        let q = weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let s = scale[i % outputs];
                if s > 0.0 {
                    (*w as f32 / s).round().clamp(-127.0, 127.0) as i8
                } else {
                    0
                }
            })
            .collect();
        Head {
            outputs,
            bias: bias.iter().map(|&b| b as f32).collect(),
            scale,
            weights: q,
        }
    }

    fn logits(&self, active: &[(usize, f32)]) -> Vec<f32> {
        let mut acc = vec![0.0f32; self.outputs];
        for &(f, v) in active {
            let row = &self.weights[f * self.outputs..(f + 1) * self.outputs];
            for (a, &w) in acc.iter_mut().zip(row) {
                *a += v * f32::from(w);
            }
        }
        acc.iter()
            .zip(&self.scale)
            .zip(&self.bias)
            .map(|((a, s), b)| a * s + b)
            .collect()
    }

    /// The weight of feature `f` for output `o`.
    pub fn weight(&self, f: usize, o: usize) -> f32 {
        f32::from(self.weights[f * self.outputs + o]) * self.scale[o]
    }
}

/// What the model was trained on, for the record and the reproducibility check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// SHA-256 of the training corpus and the training settings.
    pub corpus_hash: String,
    /// Number of training messages.
    pub examples: usize,
    /// The training settings, as text (for the README and `train --check`).
    pub settings: String,
}

/// The model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// File format version.
    pub format: u32,
    /// What it was trained on.
    pub provenance: Provenance,
    /// Which features it reads.
    pub config: FeatureConfig,
    /// The feature vocabulary; a feature's index is its row in every head.
    pub features: Vec<String>,
    /// Inverse document frequency of each feature.
    pub idf: Vec<f32>,
    /// Need ids, in the order of the needs head.
    pub needs: Vec<String>,
    /// The level: tiers 1, 2, 3, 4 and 4-immediate (one logistic each, normalised).
    pub tier_head: Head,
    /// Needs (one logistic each).
    pub needs_head: Head,
    #[serde(skip)]
    index: FxHashMap<String, usize>,
    #[serde(skip)]
    blocks: Vec<u8>,
}

/// One occurrence of a feature the model knows: its index and the words it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hit {
    /// The feature's index in [`Model::features`].
    pub feature: usize,
    /// The first word it came from.
    pub first_word: u32,
    /// How many consecutive words it came from (0 for message-wide features).
    pub words: u32,
}

/// The model's reading of one message.
#[derive(Debug, Clone)]
pub struct Scores {
    /// The message as words.
    pub text: Text,
    /// The child's age in years (stated, or the hint given).
    pub age: Option<f32>,
    /// Every occurrence of a known feature tied to words, each (feature, words) once, with the
    /// feature's value in the message (what a word's share of a weight is computed from).
    pub hits: Vec<(Hit, f32)>,
    /// Active features: (index, value).
    pub active: Vec<(usize, f32)>,
    /// Probability of each tier 1-4 (sums to 1).
    pub tiers: [f32; 4],
    /// Probability that the child needs protecting now.
    pub immediate: f32,
    /// Probability of each need, in [`Model::needs`] order.
    pub needs: Vec<f32>,
    /// The highest probability of immediate danger read in one part of the message alone
    /// (windows of [`PART_SENTENCES`] consecutive sentences; 0 when the message has fewer than
    /// [`PART_MIN_SENTENCES`], or parts were not read): a serious fact in one sentence of a long story, read without the
    /// rest of the story diluting it.
    pub part_immediate: f32,
}

/// Sentences in one part of a message (see [`Scores::part_immediate`]).
pub const PART_SENTENCES: usize = 1;

/// Only a message of at least this many sentences is also read in parts: a long story, where
/// one serious fact can be diluted (nine in ten messages have fewer).
pub const PART_MIN_SENTENCES: usize = 10;

impl Model {
    /// Assembles a model and indexes its features.
    pub fn new(
        provenance: Provenance,
        config: FeatureConfig,
        vocabulary: (Vec<String>, Vec<f32>),
        needs: Vec<String>,
        heads: (Head, Head),
    ) -> Model {
        let (features, idf) = vocabulary;
        let mut m = Model {
            format: FORMAT,
            provenance,
            config,
            features,
            idf,
            needs,
            tier_head: heads.0,
            needs_head: heads.1,
            index: FxHashMap::default(),
            blocks: Vec::new(),
        };
        m.reindex();
        m
    }

    fn reindex(&mut self) {
        self.index = self
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.clone(), i))
            .collect();
        self.blocks = self.features.iter().map(|f| block(f) as u8).collect();
    }

    /// Reads a model from its file bytes, checking that it is whole.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let mut m: Model =
            bincode::deserialize(bytes).map_err(|e| ModelError::Decode(e.to_string()))?;
        if m.format != FORMAT {
            return Err(ModelError::Format { found: m.format });
        }
        let f = m.features.len();
        if m.idf.len() != f || m.idf.iter().any(|w| !w.is_finite()) {
            return Err(ModelError::Inconsistent(
                "the feature weights do not fit the vocabulary".into(),
            ));
        }
        for (name, head, outputs) in [
            ("tier", &m.tier_head, CLASSES),
            ("needs", &m.needs_head, m.needs.len()),
        ] {
            if head.outputs != outputs
                || head.bias.len() != outputs
                || head.scale.len() != outputs
                || head.weights.len() != f * outputs
            {
                return Err(ModelError::Inconsistent(format!(
                    "the {name} head does not fit {f} features and {outputs} outputs"
                )));
            }
            if head.scale.iter().chain(&head.bias).any(|w| !w.is_finite()) {
                return Err(ModelError::Inconsistent(format!(
                    "the {name} head has a weight that is not a number"
                )));
            }
        }
        m.reindex();
        Ok(m)
    }

    /// The model as file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain vectors and strings cannot fail.
        bincode::serialize(self).unwrap_or_default()
    }

    /// The index of a feature, when the model knows it.
    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The active features of an extracted message with their TF-IDF values.
    pub fn active(&self, extracted: &Extracted) -> Vec<(usize, f32)> {
        vectorise(
            extracted.occurrences.iter().map(|o| o.name.as_str()),
            |n| self.feature_index(n),
            &self.idf,
        )
    }

    /// Scores a message. `rule_features` are used only by a family-B model. Parts are not read
    /// ([`Scores::part_immediate`] is 0): see [`Model::score_with_parts`].
    pub fn score(&self, raw: &str, age_hint: Option<f32>, rule_features: &[String]) -> Scores {
        self.score_with_parts(raw, age_hint, rule_features, false)
    }

    /// Scores a message, also reading each part alone when `parts` (what a policy with a
    /// `part_immediate` threshold needs; it costs about as much again on a long message).
    pub fn score_with_parts(
        &self,
        raw: &str,
        age_hint: Option<f32>,
        rule_features: &[String],
        parts: bool,
    ) -> Scores {
        let text = Reader::builtin().read(raw);
        let age = child_age(&text, raw).or(age_hint);
        let mut hits = Vec::new();
        each_feature(&self.config, &text, age, rule_features, |name, words| {
            if let Some(&feature) = self.index.get(name) {
                hits.push(Hit {
                    feature,
                    first_word: words.start as u32,
                    words: words.len() as u32,
                });
            }
        });
        let active = vectorise_indices(
            hits.iter()
                .map(|h| (h.feature, usize::from(self.blocks[h.feature]))),
            &self.idf,
        );
        let part_immediate = if parts {
            self.part_immediate(&text, &hits)
        } else {
            0.0
        };
        hits.retain(|h| h.words > 0);
        hits.sort_unstable_by_key(|h| (h.feature, h.first_word, h.words));
        hits.dedup();
        let hits = hits
            .into_iter()
            .map(|h| {
                let value = active
                    .binary_search_by_key(&h.feature, |a| a.0)
                    .map_or(0.0, |k| active[k].1);
                (h, value)
            })
            .collect();
        let (tiers, immediate) = self.level(&active);
        let needs = self
            .needs_head
            .logits(&active)
            .into_iter()
            .map(sigmoid)
            .collect();
        Scores {
            text,
            age,
            hits,
            active,
            tiers,
            immediate,
            needs,
            part_immediate,
        }
    }

    /// The level head's reading of a vector: probability of tiers 1-4, and of immediate danger.
    fn level(&self, active: &[(usize, f32)]) -> ([f32; 4], f32) {
        let classes: Vec<f32> = self
            .tier_head
            .logits(active)
            .into_iter()
            .map(sigmoid)
            .collect();
        let sum: f32 = classes.iter().sum::<f32>().max(f32::MIN_POSITIVE);
        let p: Vec<f32> = classes.iter().map(|c| c / sum).collect();
        ([p[0], p[1], p[2], p[3] + p[4]], p[4])
    }

    /// The highest probability of immediate danger in one window of [`PART_SENTENCES`]
    /// consecutive sentences, when the message has at least [`PART_MIN_SENTENCES`] (else 0). Each part
    /// keeps the message-wide features (the child's age, stated anywhere).
    fn part_immediate(&self, text: &Text, hits: &[Hit]) -> f32 {
        if text.sentences < PART_MIN_SENTENCES.max(PART_SENTENCES + 1) {
            return 0.0;
        }
        // Each sentence's features, and the message-wide ones every part keeps.
        let mut by_sentence: Vec<Vec<(usize, usize)>> = vec![Vec::new(); text.sentences];
        let mut everywhere = Vec::new();
        for h in hits {
            let feature = (h.feature, usize::from(self.blocks[h.feature]));
            let sentence = text
                .words
                .get(h.first_word as usize)
                .filter(|_| h.words > 0)
                .and_then(|word| by_sentence.get_mut(word.sentence));
            match sentence {
                Some(features) => features.push(feature),
                None => everywhere.push(feature),
            }
        }
        by_sentence
            .windows(PART_SENTENCES)
            .map(|window| {
                let active = vectorise_indices(
                    window.iter().flatten().chain(&everywhere).copied(),
                    &self.idf,
                );
                self.level(&active).1
            })
            .fold(0.0, f32::max)
    }

    /// How much each word of the message pushed need `need` (by index) up: the weights of the
    /// features it is part of, shared between the words of a feature (the same feature on the
    /// same words counted once).
    pub fn word_contributions(&self, scores: &Scores, need: usize) -> Vec<f32> {
        let mut per_word = vec![0.0f32; scores.text.words.len()];
        for &(h, value) in &scores.hits {
            let share = self.needs_head.weight(h.feature, need) * value / h.words as f32;
            let first = h.first_word as usize;
            for slot in per_word.iter_mut().skip(first).take(h.words as usize) {
                *slot += share;
            }
        }
        per_word
    }
}

/// The logistic function.
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}
