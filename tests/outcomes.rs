//! The outcome a caller is shown, per area, for a tier 1, 2, 3, 4 and an immediate-protection
//! case, by day and by night: snapshots (`tests/snapshots/`), each line reviewed against the
//! area's seed. The concern is confirmed explicitly ("none", then "add <indicator id>"), so the
//! snapshots do not depend on the matcher. All names are fictional.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use frontdoor::contacts::parse_local;
use frontdoor::dialogue::{self, Engine, Input, Reply};
use frontdoor::rules;

/// Tuesday 24 November 2026, 10:00: every front door is open (stated or assumed hours).
const DAY: &str = "2026-11-24T10:00";
/// Wednesday 25 November 2026, 02:00: every front door is closed.
const NIGHT: &str = "2026-11-25T02:00";

/// The indicator confirmed for each case, per area: tier 1, 2, 3, 4, immediate protection.
const CASES: &[(&str, [&str; 5])] = &[
    (
        "medway",
        ["lon-1-02", "dev-2-01", "dev-3-01", "s47-3-01", "par-3-06"],
    ),
    (
        "salford",
        ["adv-1-02", "help-2-03", "s17-3-01", "cp-4-02", "imm-4-03"],
    ),
    (
        "stoke-on-trent",
        ["edu-2-01", "edu-3-01", "edu-4-01", "spec-5-04", "csc-5-01"],
    ),
    (
        "warwickshire",
        ["efh-1-01", "hea-2-01", "edu-3-01", "abn-3-04", "ip-4-02"],
    ),
    (
        "warwickshire-2018",
        [
            "health-1-03",
            "edu-2-01",
            "health-3-04",
            "par-4-02",
            "urg-4-01",
        ],
    ),
];

const NAMES: [&str; 5] = [
    "tier 1",
    "tier 2",
    "tier 3",
    "tier 4",
    "immediate protection",
];

fn answers(area: &str) -> BTreeMap<&'static str, String> {
    [
        ("danger", "no"),
        ("area", area),
        ("caller_name", "Sam Fictional"),
        ("caller_role", "Class teacher"),
        ("caller_org", "Example Primary School"),
        ("caller_contact", "01632 960123"),
        ("relationship", "Her class teacher since September"),
        ("safeguarding_lead", "1"),
        ("child_name", "Alex Example"),
        ("child_age", "8"),
        ("address", "12 Example Road, Exampletown CV34 4RL"),
        ("household", "Mum and a brother aged 4"),
        ("language", "English"),
        ("professionals", "School nurse"),
        ("tried", "Extra reading support at school"),
        ("strengths", "Mum comes to every parents' evening"),
        ("consent", "not asked yet"),
        ("consent_reason", "I wanted advice first"),
        ("child_view", "Alex says things are fine"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// Runs one consultation confirming `indicator` at `at`; returns the outcome as shown.
fn outcome(engine: &Engine, area: &str, indicator: &str, at: NaiveDateTime) -> String {
    let answers = answers(area);
    let mut session = engine.new_session(at, None);
    let mut replies;
    (session, replies) = engine.step(session, Input::Start, at);
    let mut added = false;
    for _ in 0..60 {
        if let Some(text) = replies.iter().find_map(|r| match r {
            Reply::Say(t) if t.starts_with("Outcome for") => Some(t.clone()),
            _ => None,
        }) {
            return text;
        }
        let line = match replies.last() {
            Some(Reply::ConfirmMatches(_)) if added => "yes".to_string(),
            Some(Reply::ConfirmMatches(_)) => "none".to_string(),
            Some(Reply::Ask(q)) => match q.step.as_str() {
                "summary" => "yes".to_string(),
                "follow_up" => "don't know".to_string(),
                "confirm_drop" => "yes".to_string(),
                "concerns" if session.concerns.messages.is_empty() => {
                    "Alex's mum asked me which after-school clubs there are locally".to_string()
                }
                "concerns" => {
                    added = true;
                    format!("add {indicator}")
                }
                step => answers[step].clone(),
            },
            other => panic!("{area} {indicator}: unexpected {other:?}"),
        };
        (session, replies) = engine.step(session, Input::parse(&line), at);
    }
    panic!("{area} {indicator}: no outcome");
}

#[test]
fn outcomes_by_tier_day_and_night() {
    let engine = Engine::new(
        dialogue::load_embedded().expect("script"),
        rules::load_embedded().expect("rules"),
    );
    for (area, ids) in CASES {
        let mut text = String::new();
        for (name, id) in NAMES.iter().zip(ids) {
            for (when, at) in [("day", DAY), ("night", NIGHT)] {
                let at = parse_local(at).expect("time");
                let shown = outcome(&engine, area, id, at);
                let lines = dialogue::screen::lines(&shown);
                assert!(
                    lines <= dialogue::screen::MAX_LINES,
                    "{area} {id} {when}: the outcome takes {lines} lines at 80 columns:\n{shown}"
                );
                text.push_str(&format!("=== {name}, {when} ({id})\n{shown}\n\n"));
            }
        }
        insta::assert_snapshot!(format!("outcomes-{area}"), text);
    }
}

/// The line of the screen that starts with `label`, with the lines it wraps onto.
fn part<'a>(shown: &'a str, label: &str) -> Option<&'a str> {
    let start = shown.find(label)?;
    let rest = &shown[start..];
    let end = rest[1..].find('\n').map(|i| i + 1).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[test]
fn every_area_says_what_happens_next_from_its_own_document_and_never_another_areas() {
    let rules = rules::load_embedded().expect("rules");
    let engine = Engine::new(dialogue::load_embedded().expect("script"), rules.clone());
    let seeds: BTreeMap<String, String> = rules
        .areas()
        .map(|a| (a.id().to_string(), a.meta.seed.clone()))
        .collect();
    let at = parse_local(DAY).expect("time");
    for (area, ids) in CASES {
        let own = &seeds[*area];
        // Tiers 2, 3 and 4: a referral or early help, where the caller needs to know what follows.
        for (name, id) in NAMES.iter().zip(ids).skip(1).take(3) {
            let shown = outcome(&engine, area, id, at);
            let next = part(&shown, "What happens next: ")
                .unwrap_or_else(|| panic!("{area} {name}: no next step:\n{shown}"));
            // The screen clips at a sentence end, so the quote is compared by its opening words.
            let quote = next.trim_start_matches("What happens next: ");
            let quote = quote.split_once('"').map_or(quote, |(_, q)| q);
            let opening: String = quote.chars().take(40).collect();
            let own_words = |a: &str| {
                rules
                    .area(a)
                    .expect("area")
                    .next_steps
                    .iter()
                    .chain(&rules.area(a).expect("area").timescales)
                    .any(|t| t.text.contains(opening.as_str()))
            };
            assert!(
                own_words(area) || frontdoor::advice::next_steps::NO_NEXT_STEP.contains(&opening),
                "{area} {name}: the next step is not from its own document ({own}):\n{shown}"
            );
            for (other, seed) in &seeds {
                if other == area {
                    continue;
                }
                assert!(
                    !own_words(other),
                    "{area} {name}: the next step is {other}'s:\n{shown}"
                );
                assert!(
                    !shown.contains(seed.as_str()),
                    "{area} {name}: the outcome cites {other}'s document:\n{shown}"
                );
            }
        }
    }
    // Warwickshire's Family Connect: the pathway and the consultation feedback letter.
    let shown = outcome(&engine, "warwickshire", "edu-3-01", at);
    assert!(shown.contains("clearly defined pathway"), "{shown}");
    assert!(shown.contains("feedback letter"), "{shown}");
    // Medway's timescales for a referral.
    let shown = outcome(&engine, "medway", "dev-3-01", at);
    assert!(shown.contains("4HRS"), "{shown}");
}
