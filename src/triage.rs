//! Confirmed indicators to a level of need, using the area's own decision rule.
//!
//! Confirmed indicators are first gathered into **issues**: indicators that the rules mark as
//! the same need (`same_need_as`, e.g. an entry of the 2018 early-help list that repeats a row of
//! the grid) are one issue, rated at the highest of their levels. Then two kinds of rule:
//! "highest level wins" (the highest level among the issues is the floor), and counting steps
//! (the 2018 Warwickshire Triage Tool: one yellow or orange issue is a single-agency response at
//! that issue's colour, two or more a multi-agency one, any purple specialist). On top of either,
//! an indicator whose own tier is above its level's (significant harm) and any indicator calling
//! for immediate protection lift the outcome: the rule never under-rates what the document itself
//! rates higher. The outcome's level always spans its tier, so the two never disagree.

use crate::rules::{Area, Indicator, Level};

/// The level of need for a set of confirmed indicators.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// Tier on the common scale (1-4).
    pub tier: u8,
    /// The area's level (it spans `tier`).
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

/// One need: the confirmed indicators that describe it, and the indicator that rates it.
#[derive(Debug, Clone)]
pub struct Issue<'a> {
    /// The indicator that rates the need: the highest-tier of those describing it (which may be
    /// one the caller did not confirm, named by `same_need_as`).
    pub rated_by: &'a Indicator,
    /// The confirmed indicators that describe it.
    pub confirmed: Vec<&'a Indicator>,
}

/// Gathers confirmed needs (strengths are left out) into issues, in the order confirmed.
pub fn issues<'a>(area: &'a Area, confirmed: &[&'a Indicator]) -> Vec<Issue<'a>> {
    let mut out: Vec<(Vec<&str>, Issue<'a>)> = Vec::new();
    for &ind in confirmed.iter().filter(|i| !i.positive) {
        let mut names: Vec<&str> = vec![ind.id.as_str()];
        names.extend(ind.same_need_as.iter().map(String::as_str));
        match out
            .iter_mut()
            .find(|(ids, _)| ids.iter().any(|id| names.contains(id)))
        {
            Some((ids, issue)) => {
                if !issue.confirmed.iter().any(|c| c.id == ind.id) {
                    issue.confirmed.push(ind);
                }
                for n in names {
                    if !ids.contains(&n) {
                        ids.push(n);
                    }
                }
            }
            None => out.push((
                names,
                Issue {
                    rated_by: ind,
                    confirmed: vec![ind],
                },
            )),
        }
    }
    out.into_iter()
        .map(|(ids, mut issue)| {
            for id in ids {
                if let Some(candidate) = area.indicator(id) {
                    let better = (
                        area.indicator_tier(candidate),
                        area.level_rank(&candidate.level),
                    ) > (
                        area.indicator_tier(issue.rated_by),
                        area.level_rank(&issue.rated_by.level),
                    );
                    if better {
                        issue.rated_by = candidate;
                    }
                }
            }
            issue
        })
        .collect()
}

impl Issue<'_> {
    /// A sentence saying which row rated the need, when it is not one the caller confirmed.
    fn note(&self, area: &Area) -> Option<String> {
        if self.confirmed.iter().any(|c| c.id == self.rated_by.id) {
            return None;
        }
        let level = area
            .level(&self.rated_by.level)
            .map_or(self.rated_by.level.as_str(), |l| l.name.as_str());
        let words: Vec<String> = self
            .confirmed
            .iter()
            .map(|c| format!("\"{}\"", c.text))
            .collect();
        Some(format!(
            "{} is the same need as \"{}\", which the document places at {level} (line {}).",
            words.join(" and "),
            self.rated_by.text,
            self.rated_by.source
        ))
    }
}

/// Decides the outcome for `confirmed` indicators of `area`. `None` when nothing was confirmed.
pub fn decide<'a>(area: &'a Area, confirmed: &[&'a Indicator]) -> Option<Outcome<'a>> {
    if confirmed.is_empty() {
        return None;
    }
    let issues = issues(area, confirmed);
    let lowest = area.levels.first()?;
    let mut best = Outcome {
        tier: lowest.tier,
        level: lowest,
        immediate: false,
        action: lowest.response.clone(),
        rule: if issues.is_empty() {
            "Only strengths were confirmed: needs are met by universal services.".to_string()
        } else {
            area.decision.text.clone()
        },
        source: if issues.is_empty() {
            lowest.source
        } else {
            area.decision.source
        },
    };

    if area.decision.highest_wins {
        for issue in &issues {
            let ind = issue.rated_by;
            if let Some(level) = area.level(&ind.level) {
                // The level's own tier, or below it where the row's wording says so (a child in
                // need row of a level that also covers child protection); overrides above the
                // level's tier are applied below, with their own reason.
                let tier = area.indicator_tier(ind).min(level.tier);
                best.raise(
                    area,
                    tier,
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
        let counted: Vec<&Issue> = issues
            .iter()
            .filter(|i| step.levels.contains(&i.rated_by.level))
            .collect();
        if counted.len() as u32 >= step.min_count {
            let level = match &step.outcome {
                Some(id) => area.level(id),
                None => counted
                    .iter()
                    .max_by_key(|i| area.level_rank(&i.rated_by.level))
                    .and_then(|i| area.level(&i.rated_by.level)),
            };
            if let Some(level) = level {
                // The tier of the issues at the outcome level (a child in need row of a level
                // that also covers child protection is tier 3), else the level's own.
                let tier = counted
                    .iter()
                    .filter(|i| i.rated_by.level == level.id)
                    .map(|i| area.indicator_tier(i.rated_by).min(level.tier))
                    .max()
                    .unwrap_or(level.tier);
                let action = step
                    .response
                    .clone()
                    .unwrap_or_else(|| level.response.clone());
                let rule = format!(
                    "{} ({} issue(s) counted)",
                    area.decision.text,
                    counted.len()
                );
                best.raise(area, tier, level, action, rule, step.source);
            }
            if !area.decision.highest_wins {
                break;
            }
        }
    }
    // Explicit tier overrides (significant harm) and immediate protection lift the outcome.
    for issue in &issues {
        let ind = issue.rated_by;
        let tier = if ind.immediate {
            4
        } else {
            area.indicator_tier(ind)
        };
        if tier > best.tier {
            let own = area.level(&ind.level).unwrap_or(best.level);
            let level = area.level_covering(tier, own);
            best.raise(
                area,
                tier,
                level,
                level.response.clone(),
                format!("The document rates \"{}\" at tier {tier}.", ind.text),
                ind.source,
            );
        }
        if issue.confirmed.iter().any(|i| i.immediate) || ind.immediate {
            best.immediate = true;
        }
    }
    // The level shown always spans the tier shown.
    if !best.level.covers(best.tier) {
        best.level = area.level_covering(best.tier, best.level);
    }
    let notes: Vec<String> = issues.iter().filter_map(|i| i.note(area)).collect();
    if !notes.is_empty() {
        best.rule = format!("{} {}", best.rule, notes.join(" "));
    }
    Some(best)
}

impl<'a> Outcome<'a> {
    /// Takes a higher tier; at the same tier, the level whose own tier it is (Getting More Help
    /// rather than a child-in-need row of Getting Risk Support), else a higher level.
    fn raise(
        &mut self,
        area: &Area,
        tier: u8,
        level: &'a Level,
        action: String,
        rule: String,
        source: u32,
    ) {
        let key = |l: &Level| (l.tier == tier, area.level_rank(&l.id));
        let higher = tier > self.tier || (tier == self.tier && key(level) > key(self.level));
        if higher {
            self.tier = tier;
            self.level = level;
            self.action = action;
            self.rule = rule;
            self.source = source;
        }
    }
}
