//! Indicator profiles: what messages describing each area indicator look like, learned from the
//! corpus, so that the indicator shown for a need is one the message actually describes.
//!
//! An area's indicator is usually more specific than the need it belongs to ("the family have
//! been evicted" for homelessness, "children who are remanded" for offending). Writers paraphrased
//! every indicator in their own words, so a profile is the mean TF-IDF vector (in the model's own
//! features) of the indicator's text and of the training messages written from it (paraphrases
//! and the variants that keep its subject; not the negated or reassured ones). A message is
//! compared with each candidate's profile by cosine similarity ([`Profiles::similarity`]); an
//! indicator is shown only when the message is close enough to it (`explain::MIN_SIMILARITY`).
//! Built by `frontdoor train` into `model/indicators.bin`; deterministic.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::corpus::Example;
use super::features::extract;
use super::model::Model;
use crate::rules::{IndicatorKind, RuleSet};

/// File format version of `model/indicators.bin`.
pub const FORMAT: u32 = 1;

/// Most features kept per profile (the largest values).
const KEEP: usize = 400;

/// Variants written from an indicator that still describe its subject.
const SAME_SUBJECT: [&str; 8] = [
    "paraphrase",
    "persistent",
    "one-off",
    "explained",
    "unexplained",
    "escalated",
    "age-moved",
    "protective-parent",
];

/// A sparse unit vector over the model's features.
pub type Sparse = Vec<(u32, f32)>;

/// The profiles of every area indicator, by `area/indicator-id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profiles {
    /// File format version.
    pub format: u32,
    /// The model's corpus hash these profiles were built with.
    pub model_corpus_hash: String,
    /// Profiles by key, in key order.
    pub profiles: BTreeMap<String, Sparse>,
}

/// The profiles file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    /// Not a profiles file.
    #[error("model/indicators.bin cannot be read: {0}")]
    Decode(String),
    /// Another format or another model.
    #[error(
        "model/indicators.bin does not belong to this model: rebuild it with `frontdoor train`"
    )]
    Mismatch,
}

impl Profiles {
    /// Reads profiles built for `model`.
    pub fn from_bytes(bytes: &[u8], model: &Model) -> Result<Profiles, ProfilesError> {
        let p: Profiles =
            bincode::deserialize(bytes).map_err(|e| ProfilesError::Decode(e.to_string()))?;
        let n = model.features.len() as u32;
        if p.format != FORMAT
            || p.model_corpus_hash != model.provenance.corpus_hash
            || p.profiles
                .values()
                .flatten()
                .any(|(i, v)| *i >= n || !v.is_finite())
        {
            return Err(ProfilesError::Mismatch);
        }
        Ok(p)
    }

    /// The file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain maps, vectors and strings always serialise.
        bincode::serialize(self).unwrap_or_default()
    }

    /// Builds the profiles of every indicator of every area from `examples` (the training set).
    pub fn build(model: &Model, rules: &RuleSet, examples: &[Example]) -> Profiles {
        let members = members(model, rules, examples);
        Profiles::from_members(
            model,
            members.iter().map(|(k, _, v)| (k.as_str(), v.as_slice())),
        )
    }

    /// Profiles as the mean of their members' vectors (`key`, vector).
    pub fn from_members<'a>(
        model: &Model,
        members: impl Iterator<Item = (&'a str, &'a [(usize, f32)])>,
    ) -> Profiles {
        let mut sums: BTreeMap<String, HashMap<u32, f64>> = BTreeMap::new();
        for (key, v) in members {
            let sum = sums.entry(key.to_string()).or_default();
            for &(i, x) in v {
                *sum.entry(i as u32).or_default() += f64::from(x);
            }
        }
        let profiles = sums
            .into_iter()
            .map(|(key, sum)| (key, unit(sum)))
            .collect();
        Profiles {
            format: FORMAT,
            model_corpus_hash: model.provenance.corpus_hash.clone(),
            profiles,
        }
    }

    /// Cosine similarity of a message's vector ([`vector`]) with the profile of `key`; for an
    /// indicator without a profile, with its own text's vector.
    pub fn similarity(
        &self,
        model: &Model,
        key: &str,
        text: &str,
        message: &[(usize, f32)],
    ) -> f32 {
        match self.profiles.get(key) {
            Some(p) => dot(message, p),
            None => {
                let own: Sparse = vector(model, text)
                    .into_iter()
                    .map(|(i, x)| (i as u32, x))
                    .collect();
                dot(message, &unit_sparse(own))
            }
        }
    }
}

/// A profile member: (key, writer, sparse vector).
pub type Member = (String, String, Vec<(usize, f32)>);

/// The members of every profile: (key, writer, vector). Each area indicator's own text (writer
/// "rules"), then the training messages written from it that keep its subject.
pub fn members(model: &Model, rules: &RuleSet, examples: &[Example]) -> Vec<Member> {
    let mut out = Vec::new();
    let mut keys = std::collections::BTreeSet::new();
    for area in rules.areas() {
        for ind in area
            .indicators
            .iter()
            .filter(|i| i.kind == IndicatorKind::Indicator)
        {
            let key = format!("{}/{}", area.id(), ind.id);
            out.push((key.clone(), "rules".to_string(), vector(model, &ind.text)));
            keys.insert(key);
        }
    }
    for e in examples {
        let same_subject = e
            .variant
            .as_deref()
            .is_some_and(|v| SAME_SUBJECT.contains(&v));
        if let (true, Some(key)) = (same_subject, e.indicator.as_deref()) {
            if keys.contains(key) {
                out.push((
                    key.to_string(),
                    e.writer().to_string(),
                    vector(model, &e.text),
                ));
            }
        }
    }
    out
}

/// A text as a unit TF-IDF vector in the model's features.
pub fn vector(model: &Model, text: &str) -> Vec<(usize, f32)> {
    unit_vector(model.active(&extract(&model.config, text, None, &[])))
}

/// Active features scaled to unit length.
pub fn unit_vector(active: Vec<(usize, f32)>) -> Vec<(usize, f32)> {
    let norm = active.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        active.into_iter().map(|(i, x)| (i, x / norm)).collect()
    } else {
        active
    }
}

fn unit(sum: HashMap<u32, f64>) -> Sparse {
    let mut v: Sparse = sum.into_iter().map(|(i, x)| (i, x as f32)).collect();
    // Largest first, ties by feature: deterministic whatever the map's order.
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(KEEP);
    unit_sparse(v)
}

fn unit_sparse(mut v: Sparse) -> Sparse {
    v.sort_by_key(|x| x.0);
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            x.1 /= norm;
        }
    }
    v
}

/// Dot product of a message vector (sorted by index) and a profile (sorted by index).
fn dot(message: &[(usize, f32)], profile: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0f32);
    while i < message.len() && j < profile.len() {
        let (a, b) = (message[i].0, profile[j].0 as usize);
        if a == b {
            s += message[i].1 * profile[j].1;
            i += 1;
            j += 1;
        } else if a < b {
            i += 1;
        } else {
            j += 1;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_of_sorted_sparse_vectors() {
        let m = vec![(1usize, 0.6f32), (3, 0.8)];
        let p = vec![(0u32, 0.5f32), (3, 0.5), (7, 0.7)];
        assert!((dot(&m, &p) - 0.4).abs() < 1e-6);
    }

    #[test]
    fn unit_keeps_the_largest_and_normalises() {
        let mut sum = HashMap::new();
        for i in 0..(KEEP as u32 + 10) {
            sum.insert(i, f64::from(i) + 1.0);
        }
        let v = unit(sum);
        assert_eq!(v.len(), KEEP);
        assert!(v.iter().all(|(i, _)| *i >= 10));
        let norm: f32 = v.iter().map(|(_, x)| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
