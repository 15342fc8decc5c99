//! Measuring the matcher and triage on labelled cases.
//!
//! Pure: the caller loads the cases and times the calls; this module turns predictions into the
//! figures the product is held to (tier accuracy, under-triage, immediate recall and precision).

use serde::{Deserialize, Serialize};

/// A labelled practitioner message (other fields in the file are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// The message.
    pub text: String,
    /// Expected tier, 1-4.
    pub tier: u8,
    /// Whether immediate protection is expected.
    #[serde(default)]
    pub immediate: bool,
}

/// What was predicted for one case.
#[derive(Debug, Clone, Copy)]
pub struct Prediction {
    /// Predicted tier, 0-4 (0: nothing matched).
    pub tier: u8,
    /// Predicted immediate protection.
    pub immediate: bool,
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
    /// confusion[expected][predicted], tiers 0-4.
    pub confusion: [[usize; 5]; 5],
    /// Ids of cases predicted below their tier, for inspection.
    pub under: Vec<String>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Computes the report from cases and their predictions (same order).
pub fn report(cases: &[Case], predictions: &[Prediction]) -> Report {
    let mut r = Report {
        cases: cases.len(),
        ..Report::default()
    };
    let (mut right, mut under, mut t4, mut t4_low) = (0, 0, 0, 0);
    let (mut imm_expected, mut imm_found, mut imm_predicted) = (0, 0, 0);
    for (c, p) in cases.iter().zip(predictions) {
        let (e, got) = (c.tier.min(4) as usize, p.tier.min(4) as usize);
        r.confusion[e][got] += 1;
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
            }
        }
        if c.immediate {
            imm_expected += 1;
            if p.immediate {
                imm_found += 1;
            }
        }
        if p.immediate {
            imm_predicted += 1;
        }
    }
    r.tier_accuracy = ratio(right, cases.len());
    r.under_triage = ratio(under, cases.len());
    r.tier4_below_3 = ratio(t4_low, t4);
    r.immediate_recall = ratio(imm_found, imm_expected);
    r.immediate_precision = ratio(imm_found, imm_predicted);
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

    fn case(tier: u8, immediate: bool) -> Case {
        Case {
            id: format!("c{tier}{immediate}"),
            text: String::new(),
            tier,
            immediate,
        }
    }

    #[test]
    fn counts_under_triage_and_immediate() {
        let cases = [
            case(4, true),
            case(4, false),
            case(2, false),
            case(1, false),
        ];
        let preds = [
            Prediction {
                tier: 4,
                immediate: true,
            },
            Prediction {
                tier: 2,
                immediate: false,
            },
            Prediction {
                tier: 3,
                immediate: true,
            },
            Prediction {
                tier: 1,
                immediate: false,
            },
        ];
        let r = report(&cases, &preds);
        assert_eq!(r.tier_accuracy, 0.5);
        assert_eq!(r.under_triage, 0.25);
        assert_eq!(r.severe_under_triage, 1);
        assert_eq!(r.tier4_below_3, 0.5);
        assert_eq!(r.immediate_recall, 1.0);
        assert_eq!(r.immediate_precision, 0.5);
        assert_eq!(r.confusion[4][2], 1);
    }

    #[test]
    fn quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.99), 5.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
