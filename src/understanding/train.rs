//! Training the model from the corpus: deterministic, so the shipped model can be rebuilt.
//!
//! Every output is an L2-regularised logistic model over NB-scaled features (the NB-SVM idea of
//! Wang and Manning: each feature is first multiplied by its log-count ratio between the
//! messages with and without that output, which lets the regulariser keep the discriminating
//! features; the product folds back into one plain weight per feature), fitted by L-BFGS from the
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
use super::model::{block, idf, vectorise, Head, Model, Provenance, CLASSES, TIERS};

/// The training settings (part of the model's provenance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Which features the model reads.
    pub features: FeatureConfig,
    /// A feature must occur in at least this many messages.
    pub min_df: usize,
    /// Inverse regularisation of the level outputs (as C in liblinear: the L2 penalty on the mean
    /// loss is 1 / (C * messages)).
    pub c_tier: f64,
    /// Inverse regularisation of each need output.
    pub c_needs: f64,
    /// Most L-BFGS iterations per head.
    pub max_iters: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            features: FeatureConfig::default(),
            min_df: 3,
            c_tier: 10.0,
            c_needs: 4.0,
            max_iters: 200,
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
    // Character n-grams: only the most frequent `max_char_features` (ties by name).
    let mut chars: Vec<(&str, usize)> = kept
        .iter()
        .copied()
        .filter(|(f, _)| block(f) == 1)
        .collect();
    if chars.len() > config.max_char_features {
        chars.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let drop: std::collections::HashSet<&str> = chars[config.max_char_features..]
            .iter()
            .map(|(f, _)| *f)
            .collect();
        kept.retain(|(f, _)| !drop.contains(f));
    }
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
            vectorise(
                doc.iter().map(String::as_str),
                |n| index.get(n).copied(),
                &idf,
            )
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

/// Binary logistic regression over NB-scaled rows: row value `v` of feature `j` counts as
/// `v * ratio[j]`.
struct Logistic<'a> {
    rows: &'a [Row],
    labels: Vec<bool>,
    ratio: Vec<f64>,
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
                z += v * self.ratio[j as usize] * p[j as usize];
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
                    grad[j as usize] += v * self.ratio[j as usize] * g;
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

/// The class of the level head an example belongs to: its tier, or 4-immediate.
fn class_of(e: &Example) -> usize {
    if e.immediate {
        CLASSES - 1
    } else {
        TIERS.iter().position(|t| *t == e.tier).unwrap_or(0)
    }
}

/// For each message, the features present (for the log-count ratios).
fn presence(data: &Dataset, _features: usize) -> Vec<Vec<u32>> {
    data.rows
        .iter()
        .map(|row| row.iter().map(|&(j, _)| j).collect())
        .collect()
}

/// The NB log-count ratio of each feature between the messages with and without an output:
/// ln((p / |p|) / (q / |q|)) with add-one smoothing, p and q the presence counts.
fn nb_ratio(present: &[Vec<u32>], labels: &[bool], features: usize) -> Vec<f64> {
    let mut p = vec![1.0f64; features];
    let mut q = vec![1.0f64; features];
    for (row, &y) in present.iter().zip(labels) {
        let counts = if y { &mut p } else { &mut q };
        for &j in row {
            counts[j as usize] += 1.0;
        }
    }
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    p.iter()
        .zip(&q)
        .map(|(a, b)| ((a / sp) / (b / sq)).ln())
        .collect()
}

/// Interleaves one weight vector per output (features then bias) into one quantised head.
fn interleave(per_output: &[Vec<f64>], features: usize) -> Head {
    let outputs = per_output.len();
    let mut weights = vec![0.0f64; features * outputs];
    let mut bias = vec![0.0f64; outputs];
    for (o, p) in per_output.iter().enumerate() {
        for j in 0..features {
            weights[j * outputs + o] = p[j];
        }
        bias[o] = p[features];
    }
    Head::quantise(&weights, &bias, outputs)
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
    let n = examples.len().max(1) as f64;
    let present = presence(&data, f);
    // One binary problem per output: the five level classes, then each need.
    let mut problems: Vec<(String, Vec<bool>, f64)> = (0..CLASSES)
        .map(|k| {
            let labels = examples.iter().map(|e| class_of(e) == k).collect();
            (
                format!("tier class {}", k + 1),
                labels,
                1.0 / (settings.c_tier * n),
            )
        })
        .collect();
    for need in need_ids {
        let labels = examples.iter().map(|e| e.needs.contains(need)).collect();
        problems.push((need.clone(), labels, 1.0 / (settings.c_needs * n)));
    }
    let fit = |(name, labels, l2): &(String, Vec<bool>, f64)| -> Result<Vec<f64>, TrainError> {
        let ratio = nb_ratio(&present, labels, f);
        let mut p = minimise(
            Logistic {
                rows: &data.rows,
                labels: labels.clone(),
                ratio: ratio.clone(),
                features: f,
                l2: *l2,
            },
            f + 1,
            settings.max_iters,
            name,
        )?;
        // Fold the NB scaling into the weights: one plain linear model at run time.
        for (w, r) in p.iter_mut().zip(&ratio) {
            *w *= r;
        }
        Ok(p)
    };
    // Outputs taken by the threads one at a time from a shared counter (the need heads differ
    // widely in cost); each is fitted alone and put back in its place, so the result does not
    // depend on the threads or their timing.
    let threads = threads.max(1).min(problems.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Fitted = Vec<(usize, Result<Vec<f64>, TrainError>)>;
    let fitted: Vec<Fitted> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(problem) = problems.get(i) else {
                            break;
                        };
                        done.push((i, fit(problem)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        0,
                        Err(TrainError {
                            head: "all".to_string(),
                            message: "a training thread panicked".to_string(),
                        }),
                    )]
                })
            })
            .collect()
    });
    let mut slots: Vec<Option<Vec<f64>>> = vec![None; problems.len()];
    for (i, result) in fitted.into_iter().flatten() {
        slots[i] = Some(result?);
    }
    let mut outputs: Vec<Vec<f64>> = Vec::with_capacity(problems.len());
    for (slot, (name, _, _)) in slots.into_iter().zip(&problems) {
        outputs.push(slot.ok_or_else(|| TrainError {
            head: name.clone(),
            message: "not fitted".to_string(),
        })?);
    }
    let tier_head = interleave(&outputs[..CLASSES], f);
    let needs_head = interleave(&outputs[CLASSES..], f);
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
        (tier_head, needs_head),
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
            v.push(ex(
                &format!("a-{i}"),
                &format!("asking about clubs for him {i}"),
                1,
                false,
                &["universal-advice"],
            ));
            v.push(ex(
                &format!("b-{i}"),
                &format!("attendance dropping this term {i}"),
                2,
                false,
                &["attendance"],
            ));
            v.push(ex(
                &format!("c-{i}"),
                &format!("hungry and dirty every day, mum drinking {i}"),
                3,
                false,
                &["neglect"],
            ));
            v.push(ex(
                &format!("d-{i}"),
                &format!("dad hit him with a belt, scared to go home {i}"),
                4,
                true,
                &["physical-abuse"],
            ));
        }
        v
    }

    fn needs() -> Vec<String> {
        [
            "universal-advice",
            "attendance",
            "neglect",
            "physical-abuse",
        ]
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
        let s = m.score(
            "dad hit him with a belt, he is scared to go home",
            None,
            &[],
        );
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
        assert_eq!(
            a.provenance.corpus_hash,
            corpus_hash(&tiny(), &needs(), &settings)
        );
    }

    #[test]
    fn damaged_model_bytes_are_an_error_not_a_panic() {
        let settings = TrainSettings {
            max_iters: 10,
            ..TrainSettings::default()
        };
        let bytes = train(&tiny(), &[], &needs(), &settings, 1)
            .unwrap()
            .to_bytes();
        assert!(Model::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        assert!(Model::from_bytes(b"not a model").is_err());
    }
}
