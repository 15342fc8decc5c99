//! The safety policy: from the model's probabilities to a tier, erring on the safe side.
//!
//! A missed child-protection concern costs far more than a cautious answer, so the tier is not
//! the most probable one: it is the highest tier whose cumulative probability reaches that tier's
//! threshold (P(tier 4) for 4, P(tier 3 or 4) for 3, ...). The thresholds are chosen on the locked
//! validation set by `frontdoor train --policy` so that no child-protection message there is rated
//! early help or less (severe under-triage 0) and immediate recall reaches its floor, and, within
//! that, tier accuracy is highest. They live in `model/policy.toml`, with what they were chosen on.

use serde::{Deserialize, Serialize};

/// The decision thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Tier 4 when P(tier 4) reaches this.
    pub tier4: f32,
    /// Tier 3 (at least) when P(tier 3 or 4) reaches this.
    pub tier3: f32,
    /// Tier 2 (at least) when P(tier 2, 3 or 4) reaches this.
    pub tier2: f32,
    /// Immediate protection when P(immediate) reaches this.
    pub immediate: f32,
    /// Immediate protection also when one sentence read alone reaches this P(immediate): a
    /// serious fact in a long story is not diluted by the rest of it. `None`: not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_immediate: Option<f32>,
    /// Unsure when a cumulative probability is within this of a threshold: the consultation asks
    /// one follow-up question, and quick advice gives the higher tier and says what would lower it.
    pub margin: f32,
    /// What the thresholds were chosen on, and the figures there.
    pub chosen_on: String,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            tier4: 0.5,
            tier3: 0.5,
            tier2: 0.5,
            immediate: 0.5,
            part_immediate: None,
            margin: 0.1,
            chosen_on: "defaults".to_string(),
        }
    }
}

/// A tier decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The tier given (1-4).
    pub tier: u8,
    /// Immediate protection.
    pub immediate: bool,
    /// When the model was unsure: the two tiers it was between (lower, higher). The tier given is
    /// already the higher.
    pub unsure: Option<(u8, u8)>,
}

impl Policy {
    /// P(tier >= t) for t = 2, 3, 4.
    fn cumulative(tiers: &[f32; 4]) -> [f32; 3] {
        [
            tiers[1] + tiers[2] + tiers[3],
            tiers[2] + tiers[3],
            tiers[3],
        ]
    }

    /// The tier and immediacy for the model's probabilities: of each tier and of immediate
    /// danger for the whole message, and the highest P(immediate) of one sentence read alone.
    pub fn decide(&self, tiers: &[f32; 4], immediate: f32, part_immediate: f32) -> Decision {
        let cum = Self::cumulative(tiers);
        let thresholds = [self.tier2, self.tier3, self.tier4];
        let mut tier = 1;
        for (k, (&c, &t)) in cum.iter().zip(&thresholds).enumerate() {
            if c >= t {
                tier = k as u8 + 2;
            }
        }
        let immediate =
            immediate >= self.immediate || self.part_immediate.is_some_and(|t| part_immediate >= t);
        if immediate {
            tier = 4;
        }
        // Unsure: the next tier up was nearly reached, or the tier given was only just reached.
        let mut unsure = None;
        if !immediate {
            if tier < 4 {
                let k = (tier - 1) as usize; // index of the next tier up in `cum`
                if cum[k] >= thresholds[k] - self.margin {
                    unsure = Some((tier, tier + 1));
                }
            }
            if unsure.is_none() && tier > 1 {
                let k = (tier - 2) as usize;
                if cum[k] < thresholds[k] + self.margin {
                    unsure = Some((tier - 1, tier));
                }
            }
        }
        if let Some((_, higher)) = unsure {
            tier = tier.max(higher);
        }
        Decision {
            tier,
            immediate,
            unsure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_tier_reaching_its_threshold_is_given() {
        let p = Policy {
            tier4: 0.3,
            tier3: 0.4,
            tier2: 0.5,
            immediate: 0.6,
            part_immediate: None,
            margin: 0.0,
            chosen_on: String::new(),
        };
        // Most probable is tier 2, but P(4) = 0.35 reaches the tier-4 threshold.
        let d = p.decide(&[0.05, 0.5, 0.1, 0.35], 0.1, 0.0);
        assert_eq!((d.tier, d.immediate), (4, false));
        let d = p.decide(&[0.9, 0.05, 0.03, 0.02], 0.1, 0.0);
        assert_eq!(d.tier, 1);
        let d = p.decide(&[0.9, 0.05, 0.03, 0.02], 0.7, 0.0);
        assert_eq!((d.tier, d.immediate), (4, true));
    }

    #[test]
    fn near_a_threshold_is_unsure_and_takes_the_higher_tier() {
        let p = Policy {
            margin: 0.1,
            ..Policy::default()
        };
        // P(3 or 4) = 0.45: just under 0.5.
        let d = p.decide(&[0.1, 0.45, 0.3, 0.15], 0.0, 0.0);
        assert_eq!(d.unsure, Some((2, 3)));
        assert_eq!(d.tier, 3);
        // Clear: no question.
        let d = p.decide(&[0.97, 0.01, 0.01, 0.01], 0.0, 0.0);
        assert_eq!(d.unsure, None);
    }

    #[test]
    fn one_sentence_alone_can_make_it_immediate_when_the_policy_says_so() {
        let mut p = Policy::default();
        let calm = [0.6, 0.3, 0.05, 0.05];
        // Without the part threshold, a sentence read alone changes nothing.
        assert!(!p.decide(&calm, 0.1, 0.9).immediate);
        p.part_immediate = Some(0.8);
        let d = p.decide(&calm, 0.1, 0.9);
        assert_eq!((d.tier, d.immediate), (4, true));
        assert!(!p.decide(&calm, 0.1, 0.7).immediate);
    }
}
