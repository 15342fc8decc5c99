//! The commands that build and measure understanding: `train` (rebuild the shipped model from the
//! corpus, check it, compare model families, choose the safety policy), `corpus check`, and
//! `eval`. They read and write files; the library does the learning and the measuring.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use frontdoor::assess::assess as assess_text;
use frontdoor::contacts;
use frontdoor::eval::{self, Case, Prediction, Report};
use frontdoor::matcher::Matcher;
use frontdoor::rules::{self, Area, IndicatorKind, RuleSet};
use frontdoor::understanding::corpus::{self, Example};
use frontdoor::understanding::features::FeatureConfig;
use frontdoor::understanding::policy::Policy;
use frontdoor::understanding::train::{self, TrainSettings};
use frontdoor::understanding::{profiles, Model, Profiles, Understanding};

use crate::policy_search::{choose_policy, scored, Scored};

/// The corpus folder, relative to the working directory.
pub const CORPUS: &str = "corpus";
/// The shipped model file.
pub const MODEL_FILE: &str = "model/understanding.bin";
/// Where the indicator profiles are written.
pub const INDICATORS_FILE: &str = "model/indicators.bin";
/// The shipped policy file.
pub const POLICY_FILE: &str = "model/policy.toml";
/// The floors the tests hold the shipped model to.
pub const FLOORS_FILE: &str = "model/floors.toml";

/// Floors the shipped model must meet on the validation set (issue targets).
pub const FLOOR_ACCURACY: f64 = 0.85;
/// Immediate recall floor.
pub const FLOOR_IMMEDIATE_RECALL: f64 = 0.98;
/// Lowest share of immediate flags that must be right when the recall floor cannot be reached:
/// two in three. The flag says "if the child is in danger now, call 999, then the front door",
/// a conditional prompt whose false alarm costs a caller a moment, where a miss can leave a child
/// unprotected tonight; at 0.70 the threshold rose with the eighth data wave and gave back
/// immediate recall that the model had gained.
pub const FLOOR_IMMEDIATE_PRECISION: f64 = 2.0 / 3.0;
/// Most advice cases rated 3-4.
pub const CEILING_TIER1_HIGH: f64 = 0.05;
/// Right need in the top three.
pub const FLOOR_NEED_TOP3: f64 = 0.90;

fn load_rules() -> Result<RuleSet> {
    rules::load_embedded().context("the built-in rules are invalid")
}

/// Reads every `*.jsonl` file of `dir` (sorted by name), checking each line.
pub fn load_examples(dir: &Path, rules: &RuleSet) -> Result<(Vec<Example>, Vec<corpus::Problem>)> {
    let ids: HashSet<String> = rules.needs.ids().into_iter().collect();
    let id_refs: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("jsonl"))
        .collect();
    files.sort();
    let mut examples = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let (ex, p) = corpus::parse(&f.display().to_string(), &text, &id_refs);
        examples.extend(ex);
        problems.extend(p);
    }
    Ok((examples, problems))
}

/// Reads a cases file or folder (JSON lines; needs optional).
fn load_cases(path: &Path, rules: &RuleSet) -> Result<Vec<Case>> {
    if path.is_dir() {
        let (ex, problems) = load_examples(path, rules)?;
        if let Some(p) = problems.first() {
            bail!("{} problem(s) in the cases, first: {p}", problems.len());
        }
        return Ok(ex);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cases = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Case = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a case", path.display(), n + 1))?;
        cases.push(case);
    }
    Ok(cases)
}

fn train_set(rules: &RuleSet) -> Result<Vec<Example>> {
    let (examples, problems) = load_examples(&Path::new(CORPUS).join("train"), rules)?;
    if !problems.is_empty() {
        for p in problems.iter().take(20) {
            eprintln!("{p}");
        }
        bail!(
            "{} problem(s) in corpus/train: run `frontdoor corpus check`",
            problems.len()
        );
    }
    Ok(examples)
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `frontdoor train [--check]`: rebuild the shipped model from `corpus/train`, or check that the
/// shipped one is what the corpus gives.
pub fn train(check: bool) -> Result<ExitCode> {
    let rules = load_rules()?;
    let examples = train_set(&rules)?;
    let settings = TrainSettings::default();
    let needs = rules.needs.ids();
    let start = Instant::now();
    let model = train::train(&examples, &[], &needs, &settings, threads())?;
    let bytes = model.to_bytes();
    eprintln!(
        "trained on {} messages: {} features, {} needs, in {:.1} s ({} bytes)",
        examples.len(),
        model.features.len(),
        model.needs.len(),
        start.elapsed().as_secs_f64(),
        bytes.len()
    );
    if check {
        let shipped = std::fs::read(MODEL_FILE).with_context(|| format!("reading {MODEL_FILE}"))?;
        let shipped = Model::from_bytes(&shipped)?;
        let diff = max_weight_difference(&shipped, &model);
        if shipped.provenance.corpus_hash != model.provenance.corpus_hash {
            println!("{MODEL_FILE} was not trained on the current corpus: run `frontdoor train`");
            return Ok(ExitCode::FAILURE);
        }
        match diff {
            Some(d) if d <= 1e-4 => {
                println!("{MODEL_FILE} is the model the corpus gives (largest weight difference {d:.2e})");
                let profiles = Profiles::build(&shipped, &rules, &examples);
                let file = std::fs::read(INDICATORS_FILE)
                    .with_context(|| format!("reading {INDICATORS_FILE}"))?;
                if file == profiles.to_bytes() {
                    println!("{INDICATORS_FILE} is what the corpus gives");
                    Ok(ExitCode::SUCCESS)
                } else {
                    println!("{INDICATORS_FILE} differs from the corpus's: run `frontdoor train --indicators`");
                    Ok(ExitCode::FAILURE)
                }
            }
            Some(d) => {
                println!("{MODEL_FILE} differs from the retrained model by up to {d:.2e}");
                Ok(ExitCode::FAILURE)
            }
            None => {
                println!("{MODEL_FILE} has another vocabulary than the retrained model");
                Ok(ExitCode::FAILURE)
            }
        }
    } else {
        std::fs::write(MODEL_FILE, &bytes).with_context(|| format!("writing {MODEL_FILE}"))?;
        println!("wrote {MODEL_FILE}");
        write_indicators(&model, &rules, &examples)
    }
}

/// `frontdoor train --indicators`: rebuild the indicator profiles for the shipped model.
pub fn indicators() -> Result<ExitCode> {
    let rules = load_rules()?;
    let examples = train_set(&rules)?;
    let shipped = std::fs::read(MODEL_FILE).with_context(|| format!("reading {MODEL_FILE}"))?;
    let model = Model::from_bytes(&shipped)?;
    if model.provenance.corpus_hash
        != train::corpus_hash(&examples, &rules.needs.ids(), &TrainSettings::default())
    {
        bail!("{MODEL_FILE} was not trained on the current corpus: run `frontdoor train`");
    }
    write_indicators(&model, &rules, &examples)
}

fn write_indicators(model: &Model, rules: &RuleSet, examples: &[Example]) -> Result<ExitCode> {
    let profiles = Profiles::build(model, rules, examples);
    std::fs::write(INDICATORS_FILE, profiles.to_bytes())
        .with_context(|| format!("writing {INDICATORS_FILE}"))?;
    println!(
        "wrote {INDICATORS_FILE}: {} indicator profiles",
        profiles.profiles.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn max_weight_difference(a: &Model, b: &Model) -> Option<f32> {
    if a.features != b.features || a.needs != b.needs {
        return None;
    }
    let heads = [(&a.tier_head, &b.tier_head), (&a.needs_head, &b.needs_head)];
    let mut d = 0.0f32;
    for (x, y) in heads {
        for o in 0..x.outputs {
            d = d.max((x.bias[o] - y.bias[o]).abs());
        }
        for f in 0..a.features.len() {
            for o in 0..x.outputs {
                d = d.max((x.weight(f, o) - y.weight(f, o)).abs());
            }
        }
    }
    Some(d)
}

/// The rule features of a message (family B): the old matcher's concepts and red flags.
fn rule_features(matcher: &Matcher, text: &str) -> Vec<String> {
    let a = matcher.analyse(text);
    a.concepts
        .iter()
        .chain(&a.red_flags)
        .map(|s| s.replace(' ', "_"))
        .collect()
}

/// Predictions of an understanding on cases (no area: the common tier).
fn predict(u: &Understanding, cases: &[Case], rules_of: Option<&Matcher>) -> Vec<Prediction> {
    cases
        .iter()
        .map(|c| {
            let r = match rules_of {
                Some(m) => {
                    // Family B reads rule features too: score through the model directly.
                    let feats = rule_features(m, &c.text);
                    let s = u.model().score(&c.text, None, &feats);
                    let d = u.policy().decide(&s.tiers, s.immediate, s.part_immediate);
                    let mut needs: Vec<(usize, f32)> =
                        s.needs.iter().copied().enumerate().collect();
                    needs.sort_by(|a, b| b.1.total_cmp(&a.1));
                    return Prediction {
                        tier: d.tier,
                        immediate: d.immediate,
                        needs: needs
                            .iter()
                            .take(3)
                            .map(|(i, _)| u.model().needs[*i].clone())
                            .collect(),
                        p_tier4: Some(s.tiers[3]),
                        p_immediate: Some(s.immediate),
                    };
                }
                None => u.read(&c.text, None),
            };
            Prediction {
                tier: r.tier,
                immediate: r.immediate,
                needs: r.needs.iter().map(|n| n.id.clone()).collect(),
                p_tier4: Some(r.tier_probabilities[3]),
                p_immediate: Some(r.immediate_probability),
            }
        })
        .collect()
}

/// `frontdoor train --policy`: choose the thresholds on `corpus/validation` with the shipped
/// model and write `model/policy.toml`.
pub fn policy(margin: f32) -> Result<ExitCode> {
    let rules = load_rules()?;
    let (cases, problems) = load_examples(&Path::new(CORPUS).join("validation"), &rules)?;
    if !problems.is_empty() {
        bail!(
            "{} problem(s) in corpus/validation, first: {}",
            problems.len(),
            problems[0]
        );
    }
    let u = Understanding::builtin(&rules.needs)?;
    let scores = scored(&u, &cases);
    let Some((mut p, acc, high)) = choose_policy(&scores, &cases, margin) else {
        println!("no thresholds keep severe under-triage at 0");
        return Ok(ExitCode::FAILURE);
    };
    p.chosen_on = format!(
        "corpus/validation ({} messages): severe under-triage 0; immediate threshold the lowest with at least {:.0}% of flags right; then best tier accuracy: {:.1}%, advice rated 3-4 {:.1}% (common tier, before area rules)",
        cases.len(),
        FLOOR_IMMEDIATE_PRECISION * 100.0,
        acc * 100.0,
        high * 100.0
    );
    let text = format!(
        "# The safety policy: decision thresholds on the model's probabilities (see\n# src/understanding/policy.rs). Chosen by `frontdoor train --policy` on the locked validation set.\n\n{}",
        toml::to_string(&PolicyFileOut { policy: p.clone() })?
    );
    std::fs::write(POLICY_FILE, text).with_context(|| format!("writing {POLICY_FILE}"))?;
    println!("wrote {POLICY_FILE}: {}", p.chosen_on);
    // The floors the tests hold: the figures now, in the worst area, rounded down.
    let u = u.with_policy(p);
    let at = contacts::parse_local("2026-11-24T10:00").context("fixed evaluation time")?;
    let mut worst = [1.0f64, 1.0, 0.0, 1.0];
    for area in rules.areas() {
        let mut preds = Vec::with_capacity(cases.len());
        for c in &cases {
            let a = assess_text(area, &u, &rules.bank_holidays, &c.text, None, at)?;
            preds.push(Prediction {
                tier: a.tier,
                immediate: a.immediate,
                needs: a.reading.needs.iter().map(|n| n.id.clone()).collect(),
                ..Prediction::default()
            });
        }
        let r = eval::report(&cases, &preds);
        worst[0] = worst[0].min(r.tier_accuracy);
        worst[1] = worst[1].min(r.immediate_recall);
        worst[2] = worst[2].max(r.tier1_given_3_or_4);
        worst[3] = worst[3].min(r.need_in_top3.unwrap_or(0.0));
    }
    let down = |x: f64| (x * 200.0).floor() / 200.0;
    let up = |x: f64| (x * 200.0).ceil() / 200.0;
    let floors = format!(
        "# What the shipped model holds on corpus/validation in every area (the worst area, rounded\n# to half a percent). Written by `frontdoor train --policy`; tests/understanding.rs fails\n# below these. Severe under-triage must be 0 whatever this file says.\n\ntier_accuracy = {}\nimmediate_recall = {}\ntier1_given_3_or_4 = {}\nneed_in_top3 = {}\n",
        down(worst[0]),
        down(worst[1]),
        up(worst[2]),
        down(worst[3])
    );
    std::fs::write(FLOORS_FILE, floors).with_context(|| format!("writing {FLOORS_FILE}"))?;
    println!(
        "wrote {FLOORS_FILE}: worst area tier accuracy {:.1}%, immediate recall {:.1}%, advice rated 3-4 {:.1}%, need in top 3 {:.1}%",
        worst[0] * 100.0,
        worst[1] * 100.0,
        worst[2] * 100.0,
        worst[3] * 100.0
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct PolicyFileOut {
    policy: Policy,
}

/// `frontdoor train --compare`: the model families, trained on `corpus/train` and measured on
/// `corpus/validation` (each with thresholds chosen the same way), and the old phrase matcher.
pub fn compare() -> Result<ExitCode> {
    let rules = load_rules()?;
    let train_examples = train_set(&rules)?;
    let (validation, problems) = load_examples(&Path::new(CORPUS).join("validation"), &rules)?;
    if !problems.is_empty() {
        bail!("{} problem(s) in corpus/validation", problems.len());
    }
    let needs = rules.needs.ids();
    let stoke = rules
        .area("stoke-on-trent")
        .context("the comparison reads rule features with Stoke-on-Trent's matcher")?;
    let matcher = Matcher::new(stoke);
    println!("| family | features | tier accuracy | severe under-triage | immediate recall | advice rated 3-4 | need in top 3 | train s |");
    println!("|---|---|---|---|---|---|---|---|");
    let families: Vec<(&str, FeatureConfig, bool)> = vec![
        (
            "A (shipped): NB-scaled logistic, words + pairs + char 3-5-grams + age",
            FeatureConfig::default(),
            false,
        ),
        (
            "A': A without char n-grams",
            FeatureConfig {
                char_ngrams: vec![],
                ..FeatureConfig::default()
            },
            false,
        ),
        (
            "A'': A with char 4-grams only",
            FeatureConfig {
                char_ngrams: vec![4],
                ..FeatureConfig::default()
            },
            false,
        ),
        (
            "B: A + the old concept and red-flag rules as features",
            FeatureConfig {
                rules: true,
                ..FeatureConfig::default()
            },
            true,
        ),
    ];
    for (name, config, with_rules) in families {
        let rules_feats: Vec<Vec<String>> = if with_rules {
            train_examples
                .iter()
                .map(|e| rule_features(&matcher, &e.text))
                .collect()
        } else {
            Vec::new()
        };
        let settings = TrainSettings {
            features: config,
            ..TrainSettings::default()
        };
        let start = Instant::now();
        let model = train::train(&train_examples, &rules_feats, &needs, &settings, threads())?;
        let secs = start.elapsed().as_secs_f64();
        let u = Understanding::new(model.clone(), Policy::default(), &rules.needs)?;
        // Thresholds chosen on the validation set as for the shipped model.
        let scores: Vec<Scored> = if with_rules {
            validation
                .iter()
                .map(|c| {
                    let s = model.score(&c.text, None, &rule_features(&matcher, &c.text));
                    Scored {
                        tiers: s.tiers,
                        immediate: s.immediate,
                        part_immediate: s.part_immediate,
                        flag_tier4: false,
                        flag_immediate: false,
                    }
                })
                .collect()
        } else {
            scored(&u, &validation)
        };
        let policy = choose_policy(&scores, &validation, 0.0)
            .map(|(p, _, _)| p)
            .unwrap_or_default();
        let u = u.with_policy(policy);
        let preds = predict(&u, &validation, with_rules.then_some(&matcher));
        let r = eval::report(&validation, &preds);
        println!(
            "| {name} | {} | {:.1}% | {} | {:.1}% | {:.1}% | {:.1}% | {secs:.0} |",
            model.features.len(),
            r.tier_accuracy * 100.0,
            r.severe_under_triage,
            r.immediate_recall * 100.0,
            r.tier1_given_3_or_4 * 100.0,
            r.need_in_top3.unwrap_or(0.0) * 100.0
        );
    }
    // The retired phrase matcher, per area (it has no needs).
    let at = contacts::parse_local("2026-11-24T10:00").context("fixed evaluation time")?;
    for area in rules.areas() {
        let m = Matcher::new(area);
        let preds: Vec<Prediction> = validation
            .iter()
            .map(|c| {
                let a = m.analyse(&c.text);
                let found: Vec<&rules::Indicator> = a
                    .matches
                    .iter()
                    .filter_map(|x| area.indicator(&x.indicator))
                    .collect();
                let o = frontdoor::triage::decide(area, &found);
                let immediate = a.immediate || o.as_ref().is_some_and(|o| o.immediate);
                let mut tier = o.as_ref().map_or(0, |o| o.tier);
                if let Some(f) = a.tier_floor {
                    tier = tier.max(f);
                }
                if immediate {
                    tier = 4;
                }
                Prediction {
                    tier,
                    immediate,
                    ..Prediction::default()
                }
            })
            .collect();
        let _ = at;
        let r = eval::report(&validation, &preds);
        println!(
            "| old phrase matcher ({}) | {} indicators | {:.1}% | {} | {:.1}% | {:.1}% | n/a | 0 |",
            area.id(),
            area.indicators.len(),
            r.tier_accuracy * 100.0,
            r.severe_under_triage,
            r.immediate_recall * 100.0,
            r.tier1_given_3_or_4 * 100.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdoor train --cv FOLDS`: cross-validation with whole writers held out, for choosing
/// settings without touching the validation set.
pub fn cross_validate(
    folds: usize,
    l2: Option<f64>,
    chars: Option<&str>,
    min_df: Option<usize>,
) -> Result<ExitCode> {
    let rules = load_rules()?;
    let examples = train_set(&rules)?;
    let mut settings = TrainSettings::default();
    if let Some(c) = l2 {
        settings.c_tier = c;
        settings.c_needs = c;
    }
    if let Some(chars) = chars {
        settings.features.char_ngrams = chars
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse().context("--chars: lengths such as 3,4,5"))
            .collect::<Result<_>>()?;
    }
    if let Some(m) = min_df {
        settings.min_df = m;
    }
    eprintln!("settings: {}", serde_json::to_string(&settings)?);
    let needs = rules.needs.ids();
    let mut writers: Vec<&str> = examples.iter().map(|e| e.writer()).collect();
    writers.sort();
    writers.dedup();
    let folds = folds.clamp(2, writers.len().max(2));
    let mut preds = vec![Prediction::default(); examples.len()];
    for k in 0..folds {
        let held: HashSet<&str> = writers.iter().skip(k).step_by(folds).copied().collect();
        let train_part: Vec<Example> = examples
            .iter()
            .filter(|e| !held.contains(e.writer()))
            .cloned()
            .collect();
        let model = train::train(&train_part, &[], &needs, &settings, threads())?;
        let u = Understanding::new(model, Policy::default(), &rules.needs)?;
        for (i, e) in examples.iter().enumerate() {
            if held.contains(e.writer()) {
                preds[i] = predict(&u, std::slice::from_ref(e), None).remove(0);
            }
        }
        eprintln!("fold {} of {folds}: held out {:?}", k + 1, held);
    }
    let r = eval::report(&examples, &preds);
    print_report(
        "cross-validation (writers held out), default thresholds",
        &r,
    );
    Ok(ExitCode::SUCCESS)
}

/// `frontdoor corpus check`: every line valid, ids unique, near-duplicates, and each indicator of
/// every area paraphrased at least three times at its own tier.
pub fn corpus_check() -> Result<ExitCode> {
    let rules = load_rules()?;
    let mut ok = true;
    let mut all: Vec<(String, Example)> = Vec::new();
    for part in ["train", "validation", "test"] {
        let dir = Path::new(CORPUS).join(part);
        // The test set (messages written after a model change, to check it) is optional.
        if part == "test" && !dir.exists() {
            continue;
        }
        let (ex, problems) = load_examples(&dir, &rules)?;
        for p in &problems {
            println!("{p}");
        }
        ok &= problems.is_empty();
        let mut by_tier = BTreeMap::new();
        let mut writers = BTreeMap::new();
        for e in &ex {
            *by_tier.entry(e.tier).or_insert(0) += 1;
            *writers.entry(e.writer().to_string()).or_insert(0) += 1;
        }
        let imm = ex.iter().filter(|e| e.immediate).count();
        println!(
            "{part}: {} messages by {} writers; tiers {:?}; immediate {imm}",
            ex.len(),
            writers.len(),
            by_tier
        );
        all.extend(ex.into_iter().map(|e| (part.to_string(), e)));
    }
    let examples: Vec<Example> = all.iter().map(|(_, e)| e.clone()).collect();
    let dups = corpus::duplicate_ids(&examples);
    if !dups.is_empty() {
        ok = false;
        println!("ids used twice: {}", dups.join(" "));
    }
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let near = corpus::near_duplicates(&texts, 0.8);
    for (a, b, j) in &near {
        println!(
            "near-duplicates ({:.0}% shared): {} and {}",
            j * 100.0,
            examples[*a].id,
            examples[*b].id
        );
    }
    ok &= near.is_empty();
    // A validation message must not be near a training one at all (leakage).
    // Coverage: each indicator of every area, three paraphrases at its own tier.
    let mut missing = 0;
    for area in rules.areas() {
        for ind in area
            .indicators
            .iter()
            .filter(|i| i.kind == IndicatorKind::Indicator)
        {
            let key = format!("{}/{}", area.id(), ind.id);
            let tier = area.indicator_tier(ind);
            let n = all
                .iter()
                .filter(|(part, e)| {
                    part == "train"
                        && e.indicator.as_deref() == Some(key.as_str())
                        && e.tier == tier
                })
                .count();
            if n < 3 {
                missing += 1;
                if missing <= 20 {
                    println!("{key} (tier {tier}): {n} paraphrase(s) at its own tier");
                }
            }
        }
    }
    if missing > 0 {
        ok = false;
        println!("{missing} indicator(s) with fewer than 3 paraphrases at their own tier");
    }
    println!(
        "{}",
        if ok {
            "corpus ok"
        } else {
            "corpus has problems"
        }
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(title: &str, r: &Report) {
    println!("== {title} ({} cases)", r.cases);
    println!(
        "tier accuracy {:.1}%  under-triage {:.1}%  severe under-triage {}  tier-4 below 3 {:.1}%  advice rated 3-4 {:.1}%",
        r.tier_accuracy * 100.0,
        r.under_triage * 100.0,
        r.severe_under_triage,
        r.tier4_below_3 * 100.0,
        r.tier1_given_3_or_4 * 100.0
    );
    println!(
        "immediate recall {:.1}%  precision {:.1}%",
        r.immediate_recall * 100.0,
        r.immediate_precision * 100.0
    );
    if let Some(t) = r.need_in_top3 {
        println!("right need in the top three {:.1}%", t * 100.0);
    }
    println!("confusion (rows expected tier 1-4, columns given 0-4):");
    for (t, row) in r.confusion.iter().enumerate().skip(1) {
        println!("  {t}: {row:?}");
    }
}

fn print_details(r: &Report) {
    if !r.calibration_tier4.is_empty() {
        println!(
            "calibration (bin: cases, mean predicted, observed) for P(tier 4) | P(immediate):"
        );
        for (a, b) in r.calibration_tier4.iter().zip(&r.calibration_immediate) {
            println!(
                "  {:.1}-{:.1}: {:>4} {:.2} {:.2} | {:>4} {:.2} {:.2}",
                a.from,
                a.from + 0.1,
                a.count,
                a.predicted,
                a.observed,
                b.count,
                b.predicted,
                b.observed
            );
        }
    }
    if !r.needs.is_empty() {
        println!("per need (labelled, given, precision, recall):");
        for (n, f) in &r.needs {
            println!(
                "  {n:<34} {:>4} {:>4}  P {:>5.1}%  R {:>5.1}%",
                f.labelled,
                f.given,
                f.precision() * 100.0,
                f.recall() * 100.0
            );
        }
    }
    if !r.severe.is_empty() {
        println!("severe errors:");
        for s in &r.severe {
            println!(
                "  {} [{}] expected {}{} given {}{}: {}",
                s.id,
                s.kind,
                s.expected.0,
                if s.expected.1 { " immediate" } else { "" },
                s.predicted.0,
                if s.predicted.1 { " immediate" } else { "" },
                s.text
            );
        }
    }
}

/// `frontdoor eval --cases PATH [--area ID|all] [--plot FILE.svg] [--no-floor] [--details]`.
pub fn eval(
    cases_path: &Path,
    which: &str,
    plot: Option<&Path>,
    no_floor: bool,
    details: bool,
    model: Option<&Path>,
) -> Result<ExitCode> {
    let rules = load_rules()?;
    let cases = load_cases(cases_path, &rules)?;
    let mut u = match model {
        None => Understanding::builtin(&rules.needs)?,
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let policy_path = path.with_file_name("policy.toml");
            let policy = match std::fs::read_to_string(&policy_path) {
                Ok(text) => {
                    #[derive(serde::Deserialize)]
                    struct File {
                        policy: Policy,
                    }
                    toml::from_str::<File>(&text)
                        .with_context(|| format!("reading {}", policy_path.display()))?
                        .policy
                }
                Err(_) => Policy::default(),
            };
            Understanding::new(Model::from_bytes(&bytes)?, policy, &rules.needs)?
        }
    };
    if no_floor {
        u = u.without_floor();
    }
    let areas: Vec<&Area> = if which == "all" {
        rules.areas().collect()
    } else {
        vec![rules.area(which).with_context(|| {
            format!(
                "no area {which:?}; choose one of: {}",
                rules.area_ids().join(", ")
            )
        })?]
    };
    let at = contacts::parse_local("2026-11-24T10:00").context("fixed evaluation time")?;
    let mut all_ok = true;
    let mut first: Option<Report> = None;
    for area in areas {
        let mut preds = Vec::with_capacity(cases.len());
        let mut micros = Vec::with_capacity(cases.len());
        for case in &cases {
            let start = Instant::now();
            let a = assess_text(area, &u, &rules.bank_holidays, &case.text, None, at)?;
            micros.push(start.elapsed().as_secs_f64() * 1e6);
            preds.push(Prediction {
                tier: a.tier,
                immediate: a.immediate,
                needs: a.reading.needs.iter().map(|n| n.id.clone()).collect(),
                p_tier4: Some(a.reading.tier_probabilities[3]),
                p_immediate: Some(a.reading.immediate_probability),
            });
        }
        micros.sort_by(f64::total_cmp);
        let r = eval::report(&cases, &preds);
        let ok = r.tier_accuracy >= FLOOR_ACCURACY
            && r.immediate_recall >= FLOOR_IMMEDIATE_RECALL
            && r.severe_under_triage == 0
            && r.tier1_given_3_or_4 <= CEILING_TIER1_HIGH
            && r.need_in_top3.is_none_or(|t| t >= FLOOR_NEED_TOP3);
        all_ok &= ok;
        print_report(
            &format!(
                "{} {}",
                area.id(),
                if ok { "targets met" } else { "TARGETS NOT MET" }
            ),
            &r,
        );
        println!(
            "latency per message: median {:.0} µs, p99 {:.0} µs",
            eval::quantile(&micros, 0.5),
            eval::quantile(&micros, 0.99)
        );
        if details {
            print_details(&r);
        }
        first.get_or_insert(r);
    }
    if let (Some(path), Some(r)) = (plot, first) {
        let title = format!("{} ({} cases)", cases_path.display(), r.cases);
        let svg = eval::plot::svg(&r, &title).map_err(anyhow::Error::msg)?;
        std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `frontdoor corpus explain`: the figures behind `explain::MIN_SIMILARITY`. For every writer, the
/// indicator profiles are built without that writer; each of the writer's paraphrases of an area
/// indicator is then explained for the need it was labelled with, and the indicator shown is
/// compared with the one paraphrased, at each least similarity. Training data only: the
/// validation set stays unseen.
pub fn corpus_explain() -> Result<ExitCode> {
    use frontdoor::understanding::explain;
    let rules = load_rules()?;
    let base = Understanding::builtin(&rules.needs)?;
    let examples = train_set(&rules)?;
    let members = profiles::members(base.model(), &rules, &examples);
    let writers: std::collections::BTreeSet<&str> = examples.iter().map(|e| e.writer()).collect();
    const LEAST: [f32; 9] = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5];
    let mut shown = [0usize; LEAST.len()];
    let mut exact = [0usize; LEAST.len()];
    let mut total = 0usize;
    for writer in writers {
        let held_out = Profiles::from_members(
            base.model(),
            members
                .iter()
                .filter(|(_, w, _)| w != writer)
                .map(|(k, _, v)| (k.as_str(), v.as_slice())),
        );
        let u = base.clone().with_profiles(held_out);
        for e in examples
            .iter()
            .filter(|e| e.writer() == writer && e.variant.as_deref() == Some("paraphrase"))
        {
            let Some((area_id, indicator_id)) =
                e.indicator.as_deref().and_then(|k| k.split_once('/'))
            else {
                continue;
            };
            let Some(area) = rules.area(area_id) else {
                continue;
            };
            let Some(paraphrased) = area.indicator(indicator_id) else {
                continue;
            };
            let Some(need) = paraphrased.needs.iter().find(|n| e.needs.contains(n)) else {
                continue;
            };
            total += 1;
            let message = profiles::vector(u.model(), &e.text);
            let fitted = explain::fits(area, &u, need, e.tier, &message);
            for (k, least) in LEAST.iter().enumerate() {
                if let Some((i, _)) = explain::choose(&fitted, *least) {
                    shown[k] += 1;
                    exact[k] += usize::from(i.id == paraphrased.id);
                }
            }
        }
    }
    println!("{total} paraphrases of an area indicator in corpus/train, each writer's against profiles built without it");
    println!("| least similarity | an indicator shown | the one paraphrased, of those shown |");
    println!("|---|---|---|");
    for (k, least) in LEAST.iter().enumerate() {
        println!(
            "| {least:.2} | {:.1}% | {:.1}% |",
            100.0 * shown[k] as f64 / total.max(1) as f64,
            100.0 * exact[k] as f64 / shown[k].max(1) as f64
        );
    }
    println!("shipped: least similarity {:.2}", explain::MIN_SIMILARITY);
    Ok(ExitCode::SUCCESS)
}
