//! Confirmed indicators to a level of need, using the area's own decision rule.
//!
//! Two kinds of rule are encoded: "highest level wins" (the highest level among the indicators
//! is the floor), and counting steps (the 2018 Warwickshire Triage Tool: one yellow or orange
//! issue is a single-agency response, two or more a multi-agency one, any purple specialist).
//! On top of either, an indicator whose own tier is above its level's (significant harm) and any
//! indicator calling for immediate protection lift the outcome: the rule never under-rates what
//! the document itself rates higher.

use crate::rules::{Area, Indicator, Level};

/// The level of need for a set of confirmed indicators.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// Tier on the common scale (1-4).
    pub tier: u8,
    /// The area's level.
    pub level: &'a Level,
    /// Whether any indicator calls for immediate protection.
    pub immediate: bool,
    /// The recommended action, in the area's words.
    pub action: String,
    /// Which part of the decision rule gave the outcome, for the record.
    pub rule: String,
    /// Source line of that part of the rule.
    pub source: u32,
}

/// Decides the outcome for `confirmed` indicators of `area`. `None` when nothing was confirmed.
pub fn decide<'a>(area: &'a Area, confirmed: &[&'a Indicator]) -> Option<Outcome<'a>> {
    if confirmed.is_empty() {
        return None;
    }
    let needs: Vec<&Indicator> = confirmed.iter().copied().filter(|i| !i.positive).collect();
    let lowest = area.levels.first()?;
    let mut best = Outcome {
        tier: lowest.tier,
        level: lowest,
        immediate: false,
        action: lowest.response.clone(),
        rule: if needs.is_empty() {
            "Only strengths were confirmed: needs are met by universal services.".to_string()
        } else {
            area.decision.text.clone()
        },
        source: if needs.is_empty() {
            lowest.source
        } else {
            area.decision.source
        },
    };

    if area.decision.highest_wins {
        for ind in &needs {
            if let Some(level) = area.level(&ind.level) {
                best.raise(
                    level.tier,
                    level,
                    level.response.clone(),
                    area.decision.text.clone(),
                    area.decision.source,
                );
            }
        }
    }
    // Counting steps: for "highest wins" areas every step that applies may raise the outcome;
    // for counting rules (no highest_wins) the first step that applies is the rule's answer.
    for step in &area.decision.steps {
        let count = needs
            .iter()
            .filter(|i| step.levels.contains(&i.level))
            .count();
        if count as u32 >= step.min_count {
            if let Some(level) = area.level(&step.outcome) {
                let action = step
                    .response
                    .clone()
                    .unwrap_or_else(|| level.response.clone());
                let rule = format!("{} ({} matching indicator(s))", area.decision.text, count);
                best.raise(level.tier, level, action, rule, step.source);
            }
            if !area.decision.highest_wins {
                break;
            }
        }
    }
    // Explicit tier overrides (significant harm) and immediate protection lift the outcome.
    for ind in &needs {
        let tier = if ind.immediate {
            4
        } else {
            ind.tier.unwrap_or(0)
        };
        if tier > best.tier {
            let level = area
                .level_for_tier(tier)
                .or_else(|| area.level(&ind.level))
                .unwrap_or(best.level);
            best.raise(
                tier,
                level,
                level.response.clone(),
                format!("The document rates \"{}\" at tier {tier}.", ind.text),
                ind.source,
            );
        }
        if ind.immediate {
            best.immediate = true;
        }
    }
    Some(best)
}

impl<'a> Outcome<'a> {
    fn raise(&mut self, tier: u8, level: &'a Level, action: String, rule: String, source: u32) {
        if tier > self.tier {
            self.tier = tier;
            self.level = level;
            self.action = action;
            self.rule = rule;
            self.source = source;
        }
    }
}
