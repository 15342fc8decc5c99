//! Levels and tiers: the level named always spans the tier shown, the 2018 Triage Tool counts
//! issues as the document does, and the tier corrections of the rules hold.

use frontdoor::rules::{load_embedded, Area, Indicator, RuleSet};
use frontdoor::triage::{decide, Outcome};

fn rules() -> RuleSet {
    load_embedded().expect("valid rules")
}

fn ind<'a>(area: &'a Area, id: &str) -> &'a Indicator {
    area.indicator(id)
        .unwrap_or_else(|| panic!("{} has {id}", area.id()))
}

fn outcome<'a>(area: &'a Area, ids: &[&str]) -> Outcome<'a> {
    let confirmed: Vec<&Indicator> = ids.iter().map(|id| ind(area, id)).collect();
    decide(area, &confirmed).expect("an outcome")
}

#[test]
fn the_level_named_always_spans_the_tier_shown() {
    let rules = rules();
    for area in rules.areas() {
        let needs: Vec<&Indicator> = area.indicators.iter().filter(|i| !i.positive).collect();
        for (k, i) in needs.iter().enumerate() {
            // Alone, and with the next need of the document.
            let mut sets = vec![vec![*i]];
            if let Some(j) = needs.get(k + 1) {
                sets.push(vec![*i, *j]);
            }
            for set in sets {
                let o = decide(area, &set).expect("outcome");
                assert!(
                    o.level.covers(o.tier),
                    "{}: {:?} gave {} at tier {}",
                    area.id(),
                    set.iter().map(|i| &i.id).collect::<Vec<_>>(),
                    o.level.name,
                    o.tier
                );
                let highest = set.iter().map(|i| area.indicator_tier(i)).max();
                assert!(
                    Some(o.tier) >= highest,
                    "{}: {:?} under-rated at {}",
                    area.id(),
                    set.iter().map(|i| &i.id).collect::<Vec<_>>(),
                    o.tier
                );
            }
        }
    }
}

#[test]
fn warwickshire_2018_counts_issues_as_the_triage_tool_does() {
    let rules = rules();
    let a = rules.area("warwickshire-2018").expect("area");
    // One orange issue: Orange, with the single-agency response (000:137).
    let o = outcome(a, &["health-3-04"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("orange", 3));
    assert_eq!(o.action, "single-agency response");
    // One yellow issue: Yellow, single agency.
    let o = outcome(a, &["edu-2-01"]);
    assert_eq!(
        (o.level.id.as_str(), o.action.as_str()),
        ("yellow", "single-agency response")
    );
    // Two issues in one outcome row count as two (per issue, not per row).
    let o = outcome(a, &["health-2-01", "health-2-04"]);
    assert_eq!(
        (o.level.id.as_str(), o.action.as_str()),
        ("orange", "multi-agency response")
    );
    // The same need listed twice (grid row and early-help list) is one issue.
    let o = outcome(a, &["health-2-02", "eh-2-02"]);
    assert_eq!(
        (o.level.id.as_str(), o.action.as_str()),
        ("yellow", "single-agency response")
    );
    // The early-help list follows the grid where the grid places the same need higher.
    let o = outcome(a, &["eh-2-05"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("orange", 3), "{}", o.rule);
    assert!(o.rule.contains("multiple missing episodes"), "{}", o.rule);
    let o = outcome(a, &["eh-2-06"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("purple", 4), "{}", o.rule);
    // Purple child-in-need rows are Purple at tier 3 (000:379), child protection rows tier 4.
    let o = outcome(a, &["csc-4-13"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("purple", 3));
    let o = outcome(a, &["csc-4-13", "csc-4-06"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("purple", 4));
}

#[test]
fn warwickshire_abuse_rows_are_child_protection_within_family_help() {
    let rules = rules();
    let a = rules.area("warwickshire").expect("area");
    for id in ["abn-3-03", "abn-3-04", "abn-3-07", "dv-3-01", "efh-3-02"] {
        let o = outcome(a, &[id]);
        assert_eq!((o.level.name.as_str(), o.tier), ("Family Help", 4), "{id}");
    }
    // A Family Help row without such wording stays at tier 3.
    let o = outcome(a, &["edu-3-01"]);
    assert_eq!((o.level.name.as_str(), o.tier), ("Family Help", 3));
    // Early support stays early support.
    let es = a
        .indicators
        .iter()
        .find(|i| i.level == "early-support" && !i.positive)
        .expect("one");
    let o = decide(a, &[es]).expect("outcome");
    assert_eq!((o.level.name.as_str(), o.tier), ("Early Support", 2));
}

#[test]
fn salford_s20_with_agreement_is_child_in_need() {
    let rules = rules();
    let a = rules.area("salford").expect("area");
    let o = outcome(a, &["care-4-04"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("getting-risk-support", 3));
    let o = outcome(a, &["care-4-02"]);
    assert_eq!(o.tier, 4, "a lost or abandoned child stays at tier 4");
    // With a Getting More Help row, the outcome is named by the level whose own tier it is.
    let o = outcome(a, &["care-4-04", "s17-3-01"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("getting-more-help", 3));
    let o = outcome(a, &["s17-3-01", "care-4-04"]);
    assert_eq!((o.level.id.as_str(), o.tier), ("getting-more-help", 3));
}

#[test]
fn medway_significant_harm_is_level_3_at_tier_4() {
    let rules = rules();
    let a = rules.area("medway").expect("area");
    let harm = a
        .indicators
        .iter()
        .find(|i| i.tier == Some(4))
        .expect("a tier-4 row");
    let o = decide(a, &[harm]).expect("outcome");
    assert_eq!((o.level.id.as_str(), o.tier), ("complex", 4));
}
