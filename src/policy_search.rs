//! The safety policy's search (`frontdoor train --policy`): the decision thresholds chosen on
//! the locked validation set, severe under-triage 0 first.

use frontdoor::eval::Case;
use frontdoor::understanding::policy::Policy;
use frontdoor::understanding::Understanding;

use crate::learn_cli::{CEILING_TIER1_HIGH, FLOOR_IMMEDIATE_PRECISION, FLOOR_IMMEDIATE_RECALL};

/// The probabilities the policy decides on, with the red-flag floor's verdict.
pub struct Scored {
    /// Probability of each tier 1-4.
    pub tiers: [f32; 4],
    /// Probability of immediate danger (whole message).
    pub immediate: f32,
    /// The highest probability of immediate danger of one sentence read alone.
    pub part_immediate: f32,
    /// A red flag makes it tier 4.
    pub flag_tier4: bool,
    /// A red flag makes it immediate.
    pub flag_immediate: bool,
}

/// Reads every case as the consultation would, with the one-sentence reading on.
pub fn scored(u: &Understanding, cases: &[Case]) -> Vec<Scored> {
    let u = u.clone().with_part_reading();
    cases
        .iter()
        .map(|c| {
            let r = u.read(&c.text, None);
            Scored {
                tiers: r.tier_probabilities,
                immediate: r.immediate_probability,
                part_immediate: r.part_immediate_probability,
                flag_tier4: !r.red_flags.is_empty(),
                flag_immediate: r.red_flags.iter().any(|f| f.immediate),
            }
        })
        .collect()
}

/// The tier and immediacy `policy` gives, with the red-flag floor on top.
pub fn apply(policy: &Policy, s: &Scored) -> (u8, bool) {
    let d = policy.decide(&s.tiers, s.immediate, s.part_immediate);
    let mut tier = d.tier;
    let immediate = d.immediate || s.flag_immediate;
    if s.flag_tier4 || immediate {
        tier = 4;
    }
    (tier, immediate)
}

/// Chooses thresholds on `cases`: immediate recall at least the floor and no child-protection case
/// at tier 2 or less (both required), with the tier-4 threshold never below the tier-3 one; within
/// that, the best tier accuracy among thresholds that
/// keep advice rated 3-4 at most the ceiling, or, when none do, the best accuracy less twice the
/// excess over the ceiling. Returns the policy, its accuracy and its share of advice rated 3-4.
pub fn choose_policy(scores: &[Scored], cases: &[Case], margin: f32) -> Option<(Policy, f64, f64)> {
    let grid: Vec<f32> = (1..=60).map(|k| k as f32 * 0.015).collect();
    // Immediate: the pair of thresholds (whole message; one sentence alone, or not used) with
    // the highest recall among those at which at least `FLOOR_IMMEDIATE_PRECISION` of the
    // messages flagged (by the model or the red flags) are immediate, recall counted up to the
    // floor, then the best F1; when no pair is that precise, the best F1. 999 for a question
    // about after-school clubs would teach callers to ignore it.
    let expected_imm = cases.iter().filter(|c| c.immediate).count().max(1);
    let part_grid: Vec<Option<f32>> = std::iter::once(None)
        .chain((20..=66).map(|k| Some(k as f32 * 0.015)))
        .collect();
    let mut chosen: Option<((f32, Option<f32>), f64, f64)> = None; // (thresholds, recall, f1)
    let mut fallback: Option<((f32, Option<f32>), f64)> = None;
    for &t in grid.iter().rev() {
        for &part in &part_grid {
            let flagged: Vec<bool> = scores
                .iter()
                .map(|s| {
                    s.immediate >= t
                        || part.is_some_and(|p| s.part_immediate >= p)
                        || s.flag_immediate
                })
                .collect();
            let hits = flagged
                .iter()
                .zip(cases)
                .filter(|(f, c)| **f && c.immediate)
                .count();
            let n = flagged.iter().filter(|f| **f).count().max(1);
            let precision = hits as f64 / n as f64;
            let recall = hits as f64 / expected_imm as f64;
            let f1 = 2.0 * precision * recall / (precision + recall).max(1e-12);
            if fallback.is_none_or(|(_, best)| f1 > best + 1e-12) {
                fallback = Some(((t, part), f1));
            }
            let capped = recall.min(FLOOR_IMMEDIATE_RECALL);
            let better = chosen.is_none_or(|(_, r, best_f1)| {
                capped > r + 1e-12 || ((capped - r).abs() <= 1e-12 && f1 > best_f1 + 1e-12)
            });
            if precision >= FLOOR_IMMEDIATE_PRECISION && better {
                chosen = Some(((t, part), capped, f1));
            }
        }
    }
    let (t_imm, t_part) = chosen
        .map(|(t, _, _)| t)
        .or(fallback.map(|(t, _)| t))
        .unwrap_or((0.5, None));
    let t1 = cases.iter().filter(|c| c.tier == 1).count().max(1);
    let mut best: Option<(Policy, f64, f64, f64)> = None;
    for &t4 in &grid {
        // Child protection is never easier to reach than child in need: P(4) is at most P(3 or 4),
        // so a tier-4 threshold below the tier-3 one would rate a message 4 on less evidence than
        // it takes to rate it 3, a policy fitted to a few messages rather than a coherent one.
        for &t3 in grid.iter().filter(|&&t3| t3 <= t4) {
            for &t2 in &grid {
                let p = Policy {
                    tier4: t4,
                    tier3: t3,
                    tier2: t2,
                    immediate: t_imm,
                    part_immediate: t_part,
                    margin,
                    chosen_on: String::new(),
                };
                let (mut right, mut severe, mut high1) = (0, 0, 0);
                for (s, c) in scores.iter().zip(cases) {
                    let (tier, _) = apply(&p, s);
                    if tier == c.tier {
                        right += 1;
                    }
                    if c.tier == 4 && tier <= 2 {
                        severe += 1;
                    }
                    if c.tier == 1 && tier >= 3 {
                        high1 += 1;
                    }
                }
                if severe > 0 {
                    continue;
                }
                let acc = right as f64 / cases.len().max(1) as f64;
                let high = high1 as f64 / t1 as f64;
                let score = acc - 2.0 * (high - CEILING_TIER1_HIGH).max(0.0);
                if best.as_ref().is_none_or(|b| score > b.3 + 1e-12) {
                    best = Some((p, acc, high, score));
                }
            }
        }
    }
    best.map(|(p, a, h, _)| (p, a, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, tier: u8) -> Case {
        Case {
            id: id.to_string(),
            text: String::new(),
            tier,
            immediate: false,
            needs: Vec::new(),
            age: None,
            basis: None,
            variant: None,
            indicator: None,
            voice: None,
            style: None,
        }
    }

    fn scores(tiers: [f32; 4]) -> Scored {
        Scored {
            tiers,
            immediate: 0.0,
            part_immediate: 0.0,
            flag_tier4: false,
            flag_immediate: false,
        }
    }

    #[test]
    fn no_child_protection_case_is_rated_early_help_or_less() {
        let cases = [case("a", 4), case("b", 2), case("c", 2), case("d", 4)];
        let s = [
            scores([0.1, 0.5, 0.2, 0.2]),
            scores([0.1, 0.8, 0.05, 0.05]),
            scores([0.2, 0.7, 0.05, 0.05]),
            scores([0.0, 0.0, 0.1, 0.9]),
        ];
        let (p, _, _) = choose_policy(&s, &cases, 0.0).expect("a policy exists");
        for (s, c) in s.iter().zip(&cases) {
            let (tier, _) = apply(&p, s);
            assert!(c.tier < 4 || tier >= 3, "{}: given {tier}", c.id);
        }
    }

    /// A tier-4 case whose probability sits mostly on tier 2 must not be caught by a tier-4
    /// threshold below the tier-3 one (that would rate every message with a little P(4) as 4):
    /// the tier-3 threshold comes down to it instead.
    #[test]
    fn the_tier_4_threshold_is_never_below_the_tier_3_threshold() {
        let mut cases = vec![case("hard", 4)];
        let mut s = vec![scores([0.25, 0.5, 0.1, 0.15])];
        for i in 0..6 {
            cases.push(case(&format!("two{i}"), 2));
            s.push(scores([0.2, 0.5, 0.25, 0.05]));
            cases.push(case(&format!("three{i}"), 3));
            s.push(scores([0.0, 0.2, 0.7, 0.1]));
        }
        let (p, _, _) = choose_policy(&s, &cases, 0.0).expect("a policy exists");
        assert!(p.tier4 >= p.tier3, "{p:?}");
        assert!(apply(&p, &s[0]).0 >= 3);
    }
}
