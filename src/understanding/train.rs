//! Training the model from the corpus: deterministic, so the shipped model can be rebuilt.
//!
//! Each head is an L2-regularised logistic model (softmax for the tier), fitted by L-BFGS from the
//! `argmin` crate over a sparse feature matrix. The vocabulary is every feature seen in at least
//! `min_df` messages, sorted; the messages are read in a fixed order and every sum runs in that
//! order, so the same corpus and settings give the same weights on the same machine (the need
//! heads are fitted on several threads, each need alone, which does not change the result).

use std::collections::HashMap;

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::corpus::Example;
use super::features::{extract, FeatureConfig};
use super::model::{idf, vectorise, Head, Model, Provenance, TIERS};

/// The training settings (part of the model's provenance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Which features the model reads.
    pub features: FeatureConfig,
    /// A feature must occur in at least this many messages.
    pub min_df: usize,
    /// L2 penalty of the tier head (per message, the loss being a mean).
    pub l2_tier: f64,
    /// L2 penalty of the immediate head.
    pub l2_immediate: f64,
    /// L2 penalty of each need head.
    pub l2_needs: f64,
    /// Most L-BFGS iterations per head.
    pub max_iters: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            features: FeatureConfig::default(),
            min_df: 2,
            l2_tier: 1e-4,
            l2_immediate: 1e-4,
            l2_needs: 1e-4,
            max_iters: 300,
        }
    }
}

/// Training failed (the optimiser could not run).
#[derive(Debug, thiserror::Error)]
#[error("training the {head} head failed: {message}")]
pub struct TrainError {
    /// Which head.
    pub head: String,
    /// The optimiser's message.
    pub message: String,
}

/// A sparse row: (feature index, value).
type Row = Vec<(u32, f64)>;

/// The corpus as a sparse matrix over a vocabulary.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The vocabulary, sorted.
    pub features: Vec<String>,
    /// Inverse document frequency of each feature.
    pub idf: Vec<f32>,
    /// One TF-IDF row per message.
    pub rows: Vec<Row>,
}

/// Builds the vocabulary and the rows. `rules[i]` are the rule features of message `i` (family
/// B; empty otherwise).
pub fn dataset(
    examples: &[Example],
    rules: &[Vec<String>],
    config: &FeatureConfig,
    min_df: usize,
) -> Dataset {
    let names: Vec<Vec<String>> = examples
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let r = rules.get(i).map(Vec::as_slice).unwrap_or(&[]);
            extract(config, &e.text, None, r)
                .occurrences
                .into_iter()
                .map(|o| o.name)
                .collect()
        })
        .collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for doc in &names {
        let mut seen: Vec<&str> = doc.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for f in seen {
            *df.entry(f).or_default() += 1;
        }
    }
    let mut kept: Vec<(&str, usize)> = df.into_iter().filter(|(_, n)| *n >= min_df).collect();
    kept.sort_unstable();
    let features: Vec<String> = kept.iter().map(|(f, _)| f.to_string()).collect();
    let idf: Vec<f32> = kept.iter().map(|(_, n)| idf(*n, examples.len())).collect();
    let index: HashMap<&str, usize> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let rows = names
        .iter()
        .map(|doc| {
            vectorise(doc.iter().map(String::as_str), |n| index.get(n).copied(), &idf)
                .into_iter()
                .map(|(i, v)| (i as u32, f64::from(v)))
                .collect()
        })
        .collect();
    Dataset {
        features,
        idf,
        rows,
    }
}

/// Softmax regression over `classes` classes.
struct Softmax<'a> {
    rows: &'a [Row],
    labels: &'a [usize],
    features: usize,
    classes: usize,
    l2: f64,
}

impl Softmax<'_> {
    fn loss_and_grad(&self, p: &[f64], want_grad: bool) -> (f64, Vec<f64>) {
        let (f, k) = (self.features, self.classes);
        let bias = f * k;
        let n = self.rows.len() as f64;
        let mut grad = if want_grad {
            vec![0.0; p.len()]
        } else {
            Vec::new()
        };
        let mut loss = 0.0;
        let mut z = vec![0.0; k];
        for (row, &y) in self.rows.iter().zip(self.labels) {
            z.copy_from_slice(&p[bias..bias + k]);
            for &(j, v) in row {
                let w = &p[j as usize * k..(j as usize + 1) * k];
                for (zc, wc) in z.iter_mut().zip(w) {
                    *zc += v * wc;
                }
            }
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = z.iter().map(|x| (x - max).exp()).sum();
            let lse = max + sum.ln();
            loss += lse - z[y];
            if want_grad {
                for c in 0..k {
                    let g = ((z[c] - lse).exp() - if c == y { 1.0 } else { 0.0 }) / n;
                    grad[bias + c] += g;
                    for &(j, v) in row {
                        grad[j as usize * k + c] += v * g;
                    }
                }
            }
        }
        let mut reg = 0.0;
        for (i, w) in p[..bias].iter().enumerate() {
            reg += w * w;
            if want_grad {
                grad[i] += self.l2 * w;
            }
        }
        (loss / n + 0.5 * self.l2 * reg, grad)
    }
}

impl CostFunction for Softmax<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        Ok(self.loss_and_grad(p, false).0)
    }
}

impl Gradient for Softmax<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Vec<f64>, ArgminError> {
        Ok(self.loss_and_grad(p, true).1)
    }
}

/// Binary logistic regression.
struct Logistic<'a> {
    rows: &'a [Row],
    labels: Vec<bool>,
    features: usize,
    l2: f64,
}

impl Logistic<'_> {
    fn loss_and_grad(&self, p: &[f64], want_grad: bool) -> (f64, Vec<f64>) {
        let bias = self.features;
        let n = self.rows.len() as f64;
        let mut grad = if want_grad {
            vec![0.0; p.len()]
        } else {
            Vec::new()
        };
        let mut loss = 0.0;
        for (row, &y) in self.rows.iter().zip(&self.labels) {
            let mut z = p[bias];
            for &(j, v) in row {
                z += v * p[j as usize];
            }
            // log(1 + e^-z) for y, log(1 + e^z) otherwise, computed stably.
            let s = if y { -z } else { z };
            loss += if s > 0.0 {
                s + (-s).exp().ln_1p()
            } else {
                s.exp().ln_1p()
            };
            if want_grad {
                let prob = 1.0 / (1.0 + (-z).exp());
                let g = (prob - if y { 1.0 } else { 0.0 }) / n;
                grad[bias] += g;
                for &(j, v) in row {
                    grad[j as usize] += v * g;
                }
            }
        }
        let mut reg = 0.0;
        for (i, w) in p[..bias].iter().enumerate() {
            reg += w * w;
            if want_grad {
                grad[i] += self.l2 * w;
            }
        }
        (loss / n + 0.5 * self.l2 * reg, grad)
    }
}

impl CostFunction for Logistic<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        Ok(self.loss_and_grad(p, false).0)
    }
}

impl Gradient for Logistic<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Vec<f64>, ArgminError> {
        Ok(self.loss_and_grad(p, true).1)
    }
}

fn minimise<O>(problem: O, dims: usize, max_iters: u64, head: &str) -> Result<Vec<f64>, TrainError>
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    let fail = |e: ArgminError| TrainError {
        head: head.to_string(),
        message: e.to_string(),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-7)
        .map_err(fail)?
        .with_tolerance_cost(1e-12)
        .map_err(fail)?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(vec![0.0; dims]).max_iters(max_iters))
        .run()
        .map_err(fail)?;
    let state = result.state();
    state
        .get_best_param()
        .or_else(|| state.get_param())
        .cloned()
        .ok_or_else(|| TrainError {
            head: head.to_string(),
            message: "no parameters were found".to_string(),
        })
}

fn to_head(p: &[f64], features: usize, outputs: usize) -> Head {
    Head {
        outputs,
        bias: p[features * outputs..].iter().map(|&w| w as f32).collect(),
        weights: p[..features * outputs].iter().map(|&w| w as f32).collect(),
    }
}

/// The hash of a corpus and settings: what the shipped model must have been trained on.
pub fn corpus_hash(examples: &[Example], need_ids: &[String], settings: &TrainSettings) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(settings).unwrap_or_default());
    for n in need_ids {
        h.update(n.as_bytes());
        h.update([0]);
    }
    for e in examples {
        h.update(serde_json::to_vec(e).unwrap_or_default());
        h.update([b'\n']);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Trains the model on `examples` (in the given order). `rules[i]`: the rule features of example
/// `i` for a family-B model. `threads`: how many threads fit the need heads.
pub fn train(
    examples: &[Example],
    rules: &[Vec<String>],
    need_ids: &[String],
    settings: &TrainSettings,
    threads: usize,
) -> Result<Model, TrainError> {
    let data = dataset(examples, rules, &settings.features, settings.min_df);
    let f = data.features.len();
    let tier_labels: Vec<usize> = examples
        .iter()
        .map(|e| TIERS.iter().position(|t| *t == e.tier).unwrap_or(0))
        .collect();
    let tier = minimise(
        Softmax {
            rows: &data.rows,
            labels: &tier_labels,
            features: f,
            classes: TIERS.len(),
            l2: settings.l2_tier,
        },
        (f + 1) * TIERS.len(),
        settings.max_iters,
        "tier",
    )?;
    let immediate = minimise(
        Logistic {
            rows: &data.rows,
            labels: examples.iter().map(|e| e.immediate).collect(),
            features: f,
            l2: settings.l2_immediate,
        },
        f + 1,
        settings.max_iters,
        "immediate",
    )?;
    // Each need alone; needs split between threads in fixed chunks.
    let fit_need = |need: &String| -> Result<Vec<f64>, TrainError> {
        minimise(
            Logistic {
                rows: &data.rows,
                labels: examples.iter().map(|e| e.needs.contains(need)).collect(),
                features: f,
                l2: settings.l2_needs,
            },
            f + 1,
            settings.max_iters,
            need,
        )
    };
    let threads = threads.max(1);
    let chunk = need_ids.len().div_ceil(threads).max(1);
    let fitted: Vec<Result<Vec<Vec<f64>>, TrainError>> = std::thread::scope(|s| {
        let handles: Vec<_> = need_ids
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(fit_need).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(TrainError {
                        head: "needs".to_string(),
                        message: "a training thread panicked".to_string(),
                    })
                })
            })
            .collect()
    });
    let mut per_need: Vec<Vec<f64>> = Vec::with_capacity(need_ids.len());
    for part in fitted {
        per_need.extend(part?);
    }
    // Interleave the need heads into one row-major head.
    let outputs = need_ids.len();
    let mut needs_head = Head::zeros(f, outputs);
    for (o, p) in per_need.iter().enumerate() {
        for j in 0..f {
            needs_head.weights[j * outputs + o] = p[j] as f32;
        }
        needs_head.bias[o] = p[f] as f32;
    }
    let provenance = Provenance {
        corpus_hash: corpus_hash(examples, need_ids, settings),
        examples: examples.len(),
        settings: serde_json::to_string(settings).unwrap_or_default(),
    };
    Ok(Model::new(
        provenance,
        settings.features.clone(),
        (data.features, data.idf),
        need_ids.to_vec(),
        (
            to_head(&tier, f, TIERS.len()),
            to_head(&immediate, f, 1),
            needs_head,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(id: &str, text: &str, tier: u8, immediate: bool, needs: &[&str]) -> Example {
        Example {
            id: id.to_string(),
            text: text.to_string(),
            tier,
            immediate,
            needs: needs.iter().map(|s| s.to_string()).collect(),
            age: None,
            basis: None,
            variant: None,
            indicator: None,
            voice: None,
            style: None,
        }
    }

    fn tiny() -> Vec<Example> {
        let mut v = Vec::new();
        for i in 0..6 {
            v.push(ex(&format!("a-{i}"), &format!("asking about clubs for him {i}"), 1, false, &["universal-advice"]));
            v.push(ex(&format!("b-{i}"), &format!("attendance dropping this term {i}"), 2, false, &["attendance"]));
            v.push(ex(&format!("c-{i}"), &format!("hungry and dirty every day, mum drinking {i}"), 3, false, &["neglect"]));
            v.push(ex(&format!("d-{i}"), &format!("dad hit him with a belt, scared to go home {i}"), 4, true, &["physical-abuse"]));
        }
        v
    }

    fn needs() -> Vec<String> {
        ["universal-advice", "attendance", "neglect", "physical-abuse"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn a_trained_model_reads_its_training_messages() {
        let settings = TrainSettings {
            max_iters: 100,
            ..TrainSettings::default()
        };
        let m = train(&tiny(), &[], &needs(), &settings, 2).unwrap();
        let s = m.score("dad hit him with a belt, he is scared to go home", None, &[]);
        assert!(s.tiers[3] > 0.5, "{:?}", s.tiers);
        assert!(s.immediate > 0.5);
        assert!(s.needs[3] > s.needs[0]);
        let s = m.score("just asking about clubs", None, &[]);
        assert!(s.tiers[0] > 0.5, "{:?}", s.tiers);
    }

    #[test]
    fn training_is_deterministic_and_the_file_round_trips() {
        let settings = TrainSettings {
            max_iters: 50,
            ..TrainSettings::default()
        };
        let a = train(&tiny(), &[], &needs(), &settings, 1).unwrap();
        let b = train(&tiny(), &[], &needs(), &settings, 2).unwrap();
        assert_eq!(a, b);
        let back = Model::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(back, a);
        assert_eq!(a.provenance.corpus_hash, corpus_hash(&tiny(), &needs(), &settings));
    }

    #[test]
    fn damaged_model_bytes_are_an_error_not_a_panic() {
        let settings = TrainSettings {
            max_iters: 10,
            ..TrainSettings::default()
        };
        let bytes = train(&tiny(), &[], &needs(), &settings, 1).unwrap().to_bytes();
        assert!(Model::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        assert!(Model::from_bytes(b"not a model").is_err());
    }
}
