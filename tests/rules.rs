//! The shipped rules files: they load, they are traceable to their seeds, broken copies are
//! refused with messages naming the problem, and the right number comes out at the right time.

use std::collections::BTreeMap;
use std::path::Path;

use frontdoor::contacts::{call_now, parse_local};
use frontdoor::rules::{load::load_sources, load::EMBEDDED, load_dir, load_embedded, trace};

fn sources() -> Vec<(String, String)> {
    EMBEDDED
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

fn with_edit(file: &str, from: &str, to: &str) -> Vec<(String, String)> {
    let mut files = sources();
    let f = files
        .iter_mut()
        .find(|(n, _)| n == file)
        .expect("file exists");
    assert!(f.1.contains(from), "{file} holds {from:?}");
    f.1 = f.1.replacen(from, to, 1);
    files
}

fn problems(files: Vec<(String, String)>) -> String {
    match load_sources(files) {
        Ok(_) => panic!("broken rules were accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn shipped_rules_load_and_match_the_directory() {
    let embedded = load_embedded().expect("built-in rules are valid");
    let on_disk = load_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("rules")
            .as_path(),
    )
    .expect("rules/ is valid");
    assert_eq!(
        embedded.area_ids(),
        vec![
            "medway",
            "salford",
            "stoke-on-trent",
            "warwickshire",
            "warwickshire-2018"
        ]
    );
    assert_eq!(on_disk.area_ids(), embedded.area_ids());
}

#[test]
fn every_cited_line_holds_the_quoted_words() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds");
    if !seeds.is_dir() {
        eprintln!("shared/seeds is not beside this checkout; source tracing not checked here");
        return;
    }
    let rules = load_embedded().expect("valid");
    let mut all = Vec::new();
    for area in rules.areas() {
        let text = std::fs::read_to_string(seeds.join(&area.meta.seed)).expect("seed readable");
        all.extend(trace::check(area.id(), area, &text));
    }
    assert!(
        all.is_empty(),
        "untraceable items:\n{}",
        all.iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn indicators_per_area_and_level() {
    // A table lost in an edit shows up here.
    let rules = load_embedded().expect("valid");
    let mut counts = BTreeMap::new();
    for area in rules.areas() {
        for i in &area.indicators {
            *counts
                .entry(format!("{}/{}", area.id(), i.level))
                .or_insert(0) += 1;
        }
    }
    let expected = [
        ("medway/universal", 23),
        ("medway/additional", 46),
        ("medway/complex", 53),
        ("salford/getting-advice", 5),
        ("salford/getting-help", 8),
        ("salford/getting-more-help", 19),
        ("salford/getting-risk-support", 27),
        ("stoke-on-trent/thriving", 62),
        ("stoke-on-trent/getting-advice", 59),
        ("stoke-on-trent/getting-help", 73),
        ("stoke-on-trent/getting-more-help", 74),
        ("stoke-on-trent/getting-risk-support", 74),
        ("warwickshire/universal", 33),
        ("warwickshire/early-support", 44),
        ("warwickshire/family-help", 57),
        ("warwickshire/immediate-protection", 12),
        ("warwickshire-2018/green", 35),
        ("warwickshire-2018/yellow", 55),
        ("warwickshire-2018/orange", 42),
        ("warwickshire-2018/purple", 54),
    ];
    for (key, n) in expected {
        assert_eq!(counts.get(key).copied(), Some(n), "{key}");
    }
    assert_eq!(counts.len(), expected.len());
}

#[test]
fn a_duplicate_id_is_refused() {
    let rules = load_embedded().expect("valid");
    let area = rules.area("medway").expect("medway");
    let (a, b) = (&area.indicators[0].id, &area.indicators[1].id);
    let msg = problems(with_edit(
        "medway.toml",
        &format!("id = \"{b}\""),
        &format!("id = \"{a}\""),
    ));
    assert!(
        msg.contains("medway.toml") && msg.contains("duplicate indicator id"),
        "{msg}"
    );
}

#[test]
fn an_unknown_level_is_refused() {
    let msg = problems(with_edit(
        "salford.toml",
        "level = \"getting-help\"",
        "level = \"getting-lost\"",
    ));
    assert!(
        msg.contains("salford.toml") && msg.contains("\"getting-lost\" does not exist"),
        "{msg}"
    );
}

#[test]
fn a_bad_number_is_refused() {
    let msg = problems(with_edit(
        "stoke-on-trent.toml",
        "number = \"01782 234234\"",
        "number = \"01782 23423X\"",
    ));
    assert!(
        msg.contains("stoke-on-trent.toml") && msg.contains("only digits and spaces"),
        "{msg}"
    );
}

#[test]
fn bad_hours_are_refused() {
    let msg = problems(with_edit(
        "stoke-on-trent.toml",
        "mon-thu 08:30-17:00",
        "mon-thu 17:00-08:30",
    ));
    assert!(
        msg.contains("closing time must be after opening time"),
        "{msg}"
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let mut files = with_edit(
        "stoke-on-trent.toml",
        "number = \"01782 234234\"",
        "number = \"01782 23423X\"",
    );
    let f = files
        .iter_mut()
        .find(|(n, _)| n == "salford.toml")
        .expect("salford");
    f.1 =
        f.1.replacen("level = \"getting-help\"", "level = \"getting-lost\"", 1);
    let msg = problems(files);
    assert!(
        msg.contains("stoke-on-trent.toml") && msg.contains("salford.toml"),
        "{msg}"
    );
}

#[test]
fn a_syntax_error_names_its_line() {
    let msg = problems(with_edit("medway.toml", "[[indicator]]", "[[indicator]"));
    assert!(msg.contains("medway.toml: line "), "{msg}");
}

#[test]
fn level_spans_and_same_needs_are_checked() {
    let msg = problems(with_edit(
        "medway.toml",
        "tier = 3\ntiers = [3, 4]",
        "tier = 3\ntiers = [2, 4]",
    ));
    assert!(msg.contains("level \"complex\": tiers [2, 4]"), "{msg}");
    let msg = problems(with_edit(
        "warwickshire.toml",
        "level = \"family-help\"\ntier = 4",
        "level = \"early-support\"\ntier = 4",
    ));
    assert!(msg.contains("is not one its level"), "{msg}");
    let msg = problems(with_edit(
        "warwickshire-2018.toml",
        "same_need_as = [\"exp-3-01\"]",
        "same_need_as = [\"exp-9-99\"]",
    ));
    assert!(
        msg.contains("same_need_as: no indicator \"exp-9-99\""),
        "{msg}"
    );
}

#[test]
fn missing_bank_holidays_are_refused() {
    let files: Vec<_> = sources()
        .into_iter()
        .filter(|(n, _)| n != "bank-holidays.toml")
        .collect();
    assert!(problems(files).contains("bank-holidays.toml"));
}

fn now_number(area: &str, at: &str) -> String {
    let rules = load_embedded().expect("valid");
    let area = rules.area(area).expect("area");
    let at = parse_local(at).expect("time");
    call_now(area, &rules.bank_holidays, at)
        .expect("contacts")
        .now
        .number
        .clone()
}

#[test]
fn stoke_on_trent_by_the_clock() {
    assert_eq!(
        now_number("stoke-on-trent", "2026-11-24T10:00"),
        "01782 235100"
    ); // Tuesday
    assert_eq!(
        now_number("stoke-on-trent", "2026-11-20T16:45"),
        "01782 234234"
    ); // Friday after 16:30
    assert_eq!(
        now_number("stoke-on-trent", "2026-11-26T16:45"),
        "01782 235100"
    ); // Thursday before 17:00
    assert_eq!(
        now_number("stoke-on-trent", "2026-12-25T10:00"),
        "01782 234234"
    ); // Christmas Day
    assert_eq!(
        now_number("stoke-on-trent", "2026-12-28T10:00"),
        "01782 234234"
    ); // Boxing Day substitute
    assert_eq!(
        now_number("stoke-on-trent", "2026-11-24T07:59"),
        "01782 234234"
    ); // before opening
    assert_eq!(
        now_number("stoke-on-trent", "2026-11-22T12:00"),
        "01782 234234"
    ); // Sunday
}

#[test]
fn medway_at_night_at_the_weekend() {
    assert_eq!(now_number("medway", "2026-11-21T03:00"), "03000 419191");
    assert_eq!(now_number("medway", "2026-12-25T12:00"), "03000 419191");
}

#[test]
fn no_stated_hours_assumes_office_hours_and_says_so() {
    let rules = load_embedded().expect("valid");
    let area = rules.area("warwickshire").expect("area");
    let at = parse_local("2026-11-24T10:00").expect("time");
    let answer = call_now(area, &rules.bank_holidays, at).expect("contacts");
    assert_eq!(answer.now.number, "01926 414144");
    assert!(answer.reason.contains("assumed hours"), "{}", answer.reason);
    assert!(
        answer.warnings[0].contains("states no opening hours"),
        "{:?}",
        answer.warnings
    );
    assert_eq!(
        answer.fallback.map(|c| c.number.as_str()),
        Some("01926 886922")
    );
}

#[test]
fn every_area_gives_999() {
    let rules = load_embedded().expect("valid");
    for area in rules.areas() {
        let at = parse_local("2026-11-24T03:00").expect("time");
        let answer = call_now(area, &rules.bank_holidays, at).expect("contacts");
        assert_eq!(answer.emergency.number, "999", "{}", area.id());
    }
}

#[test]
fn the_2018_triage_tool_counts_issues() {
    use frontdoor::triage::decide;
    let rules = load_embedded().expect("valid");
    let area = rules.area("warwickshire-2018").expect("area");
    let at = |level: &str, n: usize| -> Vec<&frontdoor::rules::Indicator> {
        area.indicators
            .iter()
            .filter(|i| i.level == level && !i.positive)
            .take(n)
            .collect()
    };
    let one_orange = decide(area, &at("orange", 1)).expect("outcome");
    assert_eq!(
        (one_orange.level.id.as_str(), one_orange.tier),
        ("orange", 3),
        "1 orange issue = Orange, with the single-agency response"
    );
    assert_eq!(one_orange.action, "single-agency response");
    let mut two = at("yellow", 1);
    two.extend(at("orange", 1));
    assert_eq!(decide(area, &two).expect("outcome").level.id, "orange");
    assert_eq!(decide(area, &at("purple", 1)).expect("outcome").tier, 4);
    assert_eq!(decide(area, &at("green", 2)).expect("outcome").tier, 1);
    assert!(decide(area, &[]).is_none());
}

#[test]
fn highest_level_wins_elsewhere() {
    use frontdoor::triage::decide;
    let rules = load_embedded().expect("valid");
    let area = rules.area("stoke-on-trent").expect("area");
    let low = area
        .indicators
        .iter()
        .find(|i| i.level == "getting-help")
        .expect("one");
    let high = area
        .indicators
        .iter()
        .find(|i| i.level == "getting-risk-support" && !i.positive)
        .expect("one");
    assert_eq!(decide(area, &[low]).expect("outcome").tier, 2);
    assert_eq!(decide(area, &[low, high]).expect("outcome").tier, 4);
}
