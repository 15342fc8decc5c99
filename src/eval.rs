//! Measuring understanding and triage on labelled messages.
//!
//! Pure: the caller loads the cases and times the calls; this module turns predictions into the
//! figures the product is held to: tier accuracy, under-triage, severe under-triage (a
//! child-protection message given early help or less), immediate recall and precision, advice
//! cases rated tier 3-4, the right need among the first three, per-need precision and recall, and
//! calibration of the child-protection and immediate probabilities. [`plot`] draws the confusion
//! matrix and the calibration as SVG.

pub mod plot;

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::understanding::corpus::Example as Case;

/// What was predicted for one case.
#[derive(Debug, Clone, Default)]
pub struct Prediction {
    /// Predicted tier, 0-4 (0: nothing could be read).
    pub tier: u8,
    /// Predicted immediate protection.
    pub immediate: bool,
    /// Needs given, best first.
    pub needs: Vec<String>,
    /// The model's probability of tier 4 (for calibration; `None` for rule-based predictors).
    pub p_tier4: Option<f32>,
    /// The model's probability of immediate danger.
    pub p_immediate: Option<f32>,
}

/// Precision and recall of one need.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NeedFigures {
    /// Cases labelled with it.
    pub labelled: usize,
    /// Cases given it.
    pub given: usize,
    /// Cases labelled with it and given it.
    pub both: usize,
}

impl NeedFigures {
    /// Share of cases given it that are labelled with it.
    pub fn precision(&self) -> f64 {
        ratio(self.both, self.given)
    }
    /// Share of cases labelled with it that are given it.
    pub fn recall(&self) -> f64 {
        ratio(self.both, self.labelled)
    }
}

/// One bin of a calibration table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Bin {
    /// Lower edge of the predicted probability.
    pub from: f64,
    /// Cases in the bin.
    pub count: usize,
    /// Mean predicted probability.
    pub predicted: f64,
    /// Share of the cases in the bin where it was true.
    pub observed: f64,
}

/// A serious error, for inspection.
#[derive(Debug, Clone, Serialize)]
pub struct SevereError {
    /// Case id.
    pub id: String,
    /// Which kind of error.
    pub kind: &'static str,
    /// Expected tier and immediacy.
    pub expected: (u8, bool),
    /// Predicted tier and immediacy.
    pub predicted: (u8, bool),
    /// The start of the message.
    pub text: String,
}

/// The figures for one area.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Number of cases.
    pub cases: usize,
    /// Share predicted at exactly the expected tier.
    pub tier_accuracy: f64,
    /// Share predicted below the expected tier.
    pub under_triage: f64,
    /// Count of expected tier 4 predicted at tier 2 or less.
    pub severe_under_triage: usize,
    /// Share of expected tier-4 cases predicted below tier 3.
    pub tier4_below_3: f64,
    /// Share of expected-immediate cases predicted immediate.
    pub immediate_recall: f64,
    /// Share of predicted-immediate cases expected immediate.
    pub immediate_precision: f64,
    /// Share of expected tier-1 cases predicted tier 3 or 4.
    pub tier1_given_3_or_4: f64,
    /// Share of cases with labelled needs whose first need is among the first three given.
    pub need_in_top3: Option<f64>,
    /// Per-need figures (cases with labelled needs only).
    pub needs: BTreeMap<String, NeedFigures>,
    /// Calibration of P(tier 4), ten bins (model predictions only).
    pub calibration_tier4: Vec<Bin>,
    /// Calibration of P(immediate), ten bins.
    pub calibration_immediate: Vec<Bin>,
    /// confusion[expected][predicted], tiers 0-4.
    pub confusion: [[usize; 5]; 5],
    /// Ids of cases predicted below their tier.
    pub under: Vec<String>,
    /// Severe errors: child protection rated 2 or less, immediate missed, advice rated 3-4.
    pub severe: Vec<SevereError>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

fn calibration(pairs: &[(f32, bool)]) -> Vec<Bin> {
    let mut bins: Vec<Bin> = (0..10)
        .map(|k| Bin {
            from: k as f64 / 10.0,
            ..Bin::default()
        })
        .collect();
    let mut sums = [(0.0f64, 0usize); 10];
    for &(p, truth) in pairs {
        let k = ((p * 10.0) as usize).min(9);
        bins[k].count += 1;
        sums[k].0 += f64::from(p);
        sums[k].1 += usize::from(truth);
    }
    for (b, (sum, hits)) in bins.iter_mut().zip(sums) {
        if b.count > 0 {
            b.predicted = sum / b.count as f64;
            b.observed = hits as f64 / b.count as f64;
        }
    }
    bins
}

fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(100).collect();
    if text.chars().count() > 100 {
        s.push('…');
    }
    s
}

/// Computes the report from cases and their predictions (same order).
pub fn report(cases: &[Case], predictions: &[Prediction]) -> Report {
    let mut r = Report {
        cases: cases.len(),
        ..Report::default()
    };
    let (mut right, mut under, mut t4, mut t4_low) = (0, 0, 0, 0);
    let (mut imm_expected, mut imm_found, mut imm_predicted) = (0, 0, 0);
    let (mut t1, mut t1_high) = (0, 0);
    let (mut with_needs, mut top3) = (0, 0);
    let (mut cal4, mut cal_imm) = (Vec::new(), Vec::new());
    for (c, p) in cases.iter().zip(predictions) {
        let (e, got) = (c.tier.min(4) as usize, p.tier.min(4) as usize);
        r.confusion[e][got] += 1;
        let severe = |kind| SevereError {
            id: c.id.clone(),
            kind,
            expected: (c.tier, c.immediate),
            predicted: (p.tier, p.immediate),
            text: excerpt(&c.text),
        };
        if e == got {
            right += 1;
        }
        if got < e {
            under += 1;
            r.under.push(c.id.clone());
        }
        if e == 4 {
            t4 += 1;
            if got <= 2 {
                r.severe_under_triage += 1;
                t4_low += 1;
                r.severe.push(severe("child protection rated 2 or less"));
            }
        }
        if e == 1 {
            t1 += 1;
            if got >= 3 {
                t1_high += 1;
                r.severe.push(severe("advice rated 3 or 4"));
            }
        }
        if c.immediate {
            imm_expected += 1;
            if p.immediate {
                imm_found += 1;
            } else {
                r.severe.push(severe("immediate danger not flagged"));
            }
        }
        if p.immediate {
            imm_predicted += 1;
        }
        if let Some(first) = c.needs.first() {
            with_needs += 1;
            if p.needs.iter().take(3).any(|n| n == first) {
                top3 += 1;
            }
            for n in &c.needs {
                let f = r.needs.entry(n.clone()).or_default();
                f.labelled += 1;
                if p.needs.contains(n) {
                    f.both += 1;
                }
            }
            for n in &p.needs {
                r.needs.entry(n.clone()).or_default().given += 1;
            }
        }
        if let Some(q) = p.p_tier4 {
            cal4.push((q, c.tier == 4));
        }
        if let Some(q) = p.p_immediate {
            cal_imm.push((q, c.immediate));
        }
    }
    r.tier_accuracy = ratio(right, cases.len());
    r.under_triage = ratio(under, cases.len());
    r.tier4_below_3 = ratio(t4_low, t4);
    r.immediate_recall = ratio(imm_found, imm_expected);
    r.immediate_precision = ratio(imm_found, imm_predicted);
    r.tier1_given_3_or_4 = if t1 == 0 { 0.0 } else { ratio(t1_high, t1) };
    r.need_in_top3 = (with_needs > 0).then(|| ratio(top3, with_needs));
    if !cal4.is_empty() {
        r.calibration_tier4 = calibration(&cal4);
        r.calibration_immediate = calibration(&cal_imm);
    }
    r
}

/// The value at quantile `q` (0.0-1.0) of sorted samples.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, tier: u8, immediate: bool, needs: &[&str]) -> Case {
        serde_json::from_value(serde_json::json!({
            "id": id, "text": "a message", "tier": tier, "immediate": immediate, "needs": needs
        }))
        .unwrap()
    }

    fn pred(tier: u8, immediate: bool, needs: &[&str]) -> Prediction {
        Prediction {
            tier,
            immediate,
            needs: needs.iter().map(|s| s.to_string()).collect(),
            p_tier4: Some(if tier == 4 { 0.9 } else { 0.1 }),
            p_immediate: Some(if immediate { 0.8 } else { 0.05 }),
        }
    }

    #[test]
    fn counts_under_triage_immediate_and_needs() {
        let cases = [
            case("a", 4, true, &["injury"]),
            case("b", 4, false, &["neglect"]),
            case("c", 2, false, &["attendance"]),
            case("d", 1, false, &["universal-advice"]),
        ];
        let preds = [
            pred(4, true, &["injury", "physical-abuse"]),
            pred(
                2,
                false,
                &["hygiene-clothing", "hunger-nutrition", "supervision"],
            ),
            pred(3, true, &["attendance"]),
            pred(3, false, &["universal-advice"]),
        ];
        let r = report(&cases, &preds);
        assert_eq!(r.tier_accuracy, 0.25);
        assert_eq!(r.under_triage, 0.25);
        assert_eq!(r.severe_under_triage, 1);
        assert_eq!(r.tier4_below_3, 0.5);
        assert_eq!(r.immediate_recall, 1.0);
        assert_eq!(r.immediate_precision, 0.5);
        assert_eq!(r.tier1_given_3_or_4, 1.0);
        assert_eq!(r.need_in_top3, Some(0.75));
        assert_eq!(r.confusion[4][2], 1);
        assert_eq!(r.needs["injury"].recall(), 1.0);
        assert_eq!(r.needs["neglect"].recall(), 0.0);
        let kinds: Vec<&str> = r.severe.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec!["child protection rated 2 or less", "advice rated 3 or 4"]
        );
        assert_eq!(
            r.calibration_tier4.iter().map(|b| b.count).sum::<usize>(),
            4
        );
    }

    #[test]
    fn quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.99), 5.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
