//! Scripted consultations through the real App on a temporary sled store, in every area.
//!
//! The matcher is being improved while these tests are written, so concerns are either
//! clear-cut red flags (asserted on tier, never on exact indicators) or confirmed explicitly
//! ("none" then "add <indicator id>"). All names are fictional. Time is passed in.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use frontdoor::app::App;
use frontdoor::config::Config;
use frontdoor::dialogue::{self, sample, Input, Reply};
use frontdoor::record::Record;
use frontdoor::rules::{self, Area, RuleSet};
use tempfile::TempDir;

const KEY: &str = "test:1";

/// Tuesday 24 November 2026, 10:00 in London: the front doors with stated hours are open.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
        .single()
        .expect("valid time")
}

fn embedded() -> RuleSet {
    rules::load_embedded().expect("the built-in rules load")
}

fn fixture() -> RuleSet {
    rules::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules"))
        .expect("the fixture rules load")
}

struct Harness {
    app: App,
    _dir: TempDir,
}

impl Harness {
    fn new(rules: RuleSet) -> Harness {
        Harness::with_config(rules, |_| {})
    }

    fn with_config(rules: RuleSet, change: impl FnOnce(&mut Config)) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        change(&mut config);
        let script = dialogue::load_embedded().expect("the script loads");
        let app = App::new(config, rules, script, now()).expect("app opens");
        Harness { app, _dir: dir }
    }

    fn send(&self, line: &str) -> Vec<Reply> {
        self.app
            .handle(KEY, Input::parse(line), now())
            .expect("step is stored")
    }

    /// The one transcript helper: sends each line, returns every reply in order.
    fn run(&self, lines: &[&str]) -> Vec<Reply> {
        let mut all = self.send_input(Input::Start);
        for l in lines {
            all.extend(self.send(l));
        }
        all
    }

    fn send_input(&self, input: Input) -> Vec<Reply> {
        self.app.handle(KEY, input, now()).expect("step is stored")
    }

    /// A consultation driven by the question being asked: `answers` by step id, "yes" to the
    /// matches and the summary, "both" to follow-ups. Returns the record and every reply.
    fn consult(&self, answers: &BTreeMap<&str, String>) -> (Record, Vec<Reply>) {
        let mut all = self.send_input(Input::Start);
        let mut used_concerns = 0;
        for _ in 0..80 {
            if let Some(r) = finished(&all) {
                return (r, all);
            }
            let line = match all.last() {
                Some(Reply::ConfirmMatches(m)) if m.items.is_empty() => "done".to_string(),
                Some(Reply::ConfirmMatches(_)) => "yes".to_string(),
                Some(Reply::Ask(q)) => match q.step.as_str() {
                    "summary" => "yes".to_string(),
                    "follow_up" => "don't know".to_string(),
                    "concerns" => {
                        used_concerns += 1;
                        let key = if used_concerns == 1 {
                            "concerns"
                        } else {
                            "concerns_more"
                        };
                        answers
                            .get(key)
                            .cloned()
                            .unwrap_or_else(|| "done".to_string())
                    }
                    step => answers
                        .get(step)
                        .cloned()
                        .unwrap_or_else(|| panic!("no answer for step {step}; replies: {all:#?}")),
                },
                other => panic!("unexpected last reply {other:?}"),
            };
            all.extend(self.send(&line));
        }
        panic!("the consultation did not finish: {all:#?}");
    }
}

fn finished(replies: &[Reply]) -> Option<Record> {
    replies.iter().find_map(|r| match r {
        Reply::Finished(r) => Some((**r).clone()),
        _ => None,
    })
}

fn last_question(replies: &[Reply]) -> (String, Option<String>) {
    match replies.last() {
        Some(Reply::Ask(q)) => (q.step.clone(), q.hint.clone()),
        Some(Reply::ConfirmMatches(_)) => ("concerns".into(), None),
        other => panic!("expected a question, got {other:?}"),
    }
}

fn said(replies: &[Reply]) -> String {
    replies
        .iter()
        .filter_map(|r| match r {
            Reply::Say(t) => Some(t.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The steps after the concerns on the routine path (consent missing adds its reason).
const AFTER_CONCERNS: [&str; 10] = [
    "child_name",
    "child_age",
    "address",
    "caller_name",
    "caller_role",
    "caller_contact",
    "consent",
    "consent_reason",
    "household",
    "strengths",
];

/// The answers of a routine consultation, by step id.
fn routine(area: &Area) -> BTreeMap<&'static str, String> {
    [
        ("danger", "no"),
        ("danger_continue", "yes"),
        ("area", area.id()),
        ("caller_name", "Sam Fictional"),
        ("caller_role", "Health visitor"),
        ("caller_org", "Example Health Trust"),
        ("caller_contact", "sam.fictional@example.org"),
        (
            "relationship",
            "Health visitor to the family since the birth",
        ),
        ("safeguarding_lead", "I am the safeguarding lead"),
        ("child_name", "Robin Example"),
        ("child_age", "9"),
        ("address", "4 Sample Street, Exampletown ST4 2EE"),
        ("household", "Dad, and a sister aged 12"),
        ("language", "English"),
        ("professionals", "don't know"),
        ("tried", "Parenting advice at home visits"),
        ("strengths", "Dad is keen for help"),
        ("consent", "1"),
        (
            "consent_reason",
            "Dad was not reachable today; I will ask him tomorrow",
        ),
        ("consent_approval", "Jo Example, safeguarding lead"),
        ("child_view", "Robin says home is fine but he is tired"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

/// The first need (not a strength, not immediate) of the area at `tier`.
fn indicator_at(area: &Area, tier: u8) -> Option<String> {
    area.indicators
        .iter()
        .find(|i| !i.positive && !i.immediate && area.indicator_tier(i) == tier)
        .map(|i| i.id.clone())
}

const RED_FLAG: &str = "baby 3 months old has a bruise on his ear and mum can't explain it";

#[test]
fn every_area_routine_early_help_with_consent() {
    let rules = embedded();
    for area in rules.areas() {
        let h = Harness::new(rules.clone());
        let replies = h.run(
            &sample::answers(area)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        let record = finished(&replies)
            .unwrap_or_else(|| panic!("{}: not finished: {replies:#?}", area.id()));
        assert!(
            record.reference.starts_with("FD-20261124-"),
            "{}",
            record.reference
        );
        assert!(record.completed);
        assert_eq!(record.caller.name, "Sam Fictional");
        assert_eq!(record.child.name, "Alex Example");
        assert_eq!(record.indicators.len(), 1, "{}", area.id());
        let outcome = record.outcome.clone().expect("a level");
        // The indicator confirmed, or higher where the words read higher (the safe side).
        assert!(outcome.tier >= record.indicators[0].tier, "{}", area.id());
        assert!(
            record.consent.status.contains("agree"),
            "{}",
            record.consent.status
        );
        // The number to call is the area's, from the rules, for this level at this moment.
        let call = frontdoor::contacts::route(
            area,
            &rules.bank_holidays,
            frontdoor::contacts::Urgency::of(Some(outcome.tier), outcome.immediate),
            frontdoor::app::uk_local(now()),
        )
        .expect("call now");
        assert!(
            record.numbers.iter().any(|n| n.number == call.now.number),
            "{}: {:?}",
            area.id(),
            record.numbers
        );
        assert!(record.call_now_reason.contains(&call.now.number));
        // Stored durably under its reference.
        let stored = h
            .app
            .store()
            .record(&record.reference)
            .expect("read")
            .expect("stored");
        assert_eq!(stored.record, record);
        // The record names the document and ends with the line about professional judgement.
        let text = record.to_text();
        assert!(text.contains(&area.meta.document));
        assert!(text.contains("does not replace"));
    }
}

#[test]
fn every_area_immediate_danger_path() {
    let rules = embedded();
    for area in rules.areas() {
        // Stop after the safety advice: a record of the advice is kept.
        let h = Harness::new(rules.clone());
        let first = h.send_input(Input::Start);
        let (step, _) = last_question(&first);
        assert_eq!(
            step, "danger",
            "the first question is the immediate-danger question"
        );
        let replies = h.send("yes");
        let text = said(&replies);
        assert!(text.contains("999"), "{text}");
        let replies = h.send("no");
        let record = finished(&replies).expect("a record of the safety advice");
        assert!(record.immediate_danger && !record.completed);
        assert!(record.numbers.iter().any(|n| n.number == "999"));

        // Or go on: the outcome is never below the top tier when a child is in danger.
        let h = Harness::new(rules.clone());
        let mut answers = routine(area);
        answers.insert("danger", "yes".into());
        answers.insert(
            "concerns",
            "Robin said dad hit him last night and he is scared to go home".into(),
        );
        let (record, replies) = h.consult(&answers);
        assert!(said(&replies).contains("999"));
        let outcome = record.outcome.expect("a level");
        assert_eq!(outcome.tier, 4, "{}", area.id());
        assert!(outcome.immediate);
        assert!(record.numbers.iter().any(|n| n.number == "999"));
        let area_numbers: Vec<&str> = area.contacts.iter().map(|c| c.number.as_str()).collect();
        assert!(
            record
                .numbers
                .iter()
                .any(|n| n.number != "999" && area_numbers.contains(&n.number.as_str())),
            "{:?}",
            record.numbers
        );
    }
}

#[test]
fn every_area_consent_refused_with_child_protection_concerns() {
    let rules = embedded();
    for area in rules.areas() {
        let h = Harness::new(rules.clone());
        let mut answers = routine(area);
        answers.insert("child_age", "3 months".into());
        answers.insert("concerns", RED_FLAG.into());
        answers.insert("consent", "refused".into());
        answers.insert(
            "consent_reason",
            "Mum refused and said it is none of our business".into(),
        );
        let (record, _) = h.consult(&answers);
        let outcome = record
            .outcome
            .clone()
            .unwrap_or_else(|| panic!("{}: no level for a red flag", area.id()));
        assert!(
            outcome.tier >= 3,
            "{}: tier {} for {RED_FLAG:?}",
            area.id(),
            outcome.tier
        );
        assert!(record.consent.status.contains("refused"));
        assert_eq!(
            record.consent.reason,
            "Mum refused and said it is none of our business"
        );
        // A red flag was described: the refusal never stops the referral.
        assert!(
            record.consent.guidance[0].contains("Record that consent was refused"),
            "{}: {:?}",
            area.id(),
            record.consent.guidance
        );
        if area.id() == "stoke-on-trent" {
            // What 004:1133-1141 require after a refusal, in the document's words.
            let required = record.consent.required.join("\n");
            for line in [":1133)", ":1137)", ":1140)", ":1141)"] {
                assert!(required.contains(line), "{line}: {required}");
            }
        }
        assert!(
            record.consent.child_view.is_empty(),
            "a baby's own view is not asked"
        );
    }
}

#[test]
fn every_area_consent_not_yet_sought_for_early_help() {
    let rules = embedded();
    for area in rules.areas() {
        let Some(id) = indicator_at(area, 2) else {
            continue;
        };
        let h = Harness::new(rules.clone());
        let mut answers = routine(area);
        answers.insert("concerns", "Robin's attendance has dropped to 92% and mum would like some help with morning routines".into());
        answers.insert("concerns_more", format!("add {id}"));
        answers.insert("consent", "not asked yet".into());
        // Drop whatever was understood, then add the one early-help indicator.
        let mut lines: Vec<String> = vec![answers["danger"].clone(), answers["area"].clone()];
        lines.extend([
            "Robin's attendance has dropped to 92% and mum would like some help with morning routines".to_string(),
            "none".into(),
            format!("add {id}"),
            "yes".into(),
        ]);
        for step in AFTER_CONCERNS {
            lines.push(answers[step].clone());
        }
        lines.push("yes".into());
        let replies = h.run(&lines.iter().map(String::as_str).collect::<Vec<_>>());
        let record = finished(&replies).unwrap_or_else(|| panic!("{}: {replies:#?}", area.id()));
        let outcome = record.outcome.expect("a level");
        assert_eq!(outcome.tier, 2, "{}", area.id());
        assert!(
            record.consent.guidance[0].contains("Early help needs the family's consent"),
            "{:?}",
            record.consent.guidance
        );
        assert_eq!(
            record.consent.reason,
            "Dad was not reachable today; I will ask him tomorrow"
        );
    }
}

#[test]
fn back_corrects_the_last_answer_and_summary_corrects_any() {
    let rules = embedded();
    let area = rules.areas().next().expect("an area").clone();
    let h = Harness::new(rules);
    let answers = routine(&area);
    let id = indicator_at(&area, 2)
        .or_else(|| indicator_at(&area, 3))
        .expect("an indicator");
    let add = format!("add {id}");
    let replies = h.run(&["no", area.id(), "Robin is often late", "none", &add, "yes"]);
    assert_eq!(last_question(&replies).0, "child_name", "{replies:#?}");
    h.run(&["Robin Example", "9", &answers["address"], "Sam Fictionl"]);
    let replies = h.send("/back");
    assert_eq!(last_question(&replies).0, "caller_name");
    let replies = h.send("Sam Fictional");
    assert_eq!(last_question(&replies).0, "caller_role");
    let (record, _) = {
        // Carry on to the summary, then change the child's name by its number.
        let mut lines = vec![];
        for step in [
            "caller_role",
            "caller_contact",
            "consent",
            "household",
            "strengths",
        ] {
            lines.push(answers[step].clone());
        }
        let mut replies = Vec::new();
        for l in &lines {
            replies = h.send(l);
        }
        assert_eq!(last_question(&replies).0, "summary", "{replies:#?}");
        let summary = said(&replies);
        let n = summary
            .lines()
            .find(|l| l.contains("child's name"))
            .and_then(|l| l.split('.').next())
            .expect("numbered line")
            .to_string();
        let replies = h.send(&n);
        assert_eq!(last_question(&replies).0, "child_name");
        let replies = h.send("Robin Sample");
        assert_eq!(
            last_question(&replies).0,
            "summary",
            "back at the summary after the correction"
        );
        let replies = h.send("yes");
        (finished(&replies).expect("finished"), replies)
    };
    assert_eq!(record.caller.name, "Sam Fictional");
    assert_eq!(record.child.name, "Robin Sample");
    assert_eq!(
        record.child.household, "Dad, and a sister aged 12",
        "answers after the corrected one are kept"
    );
}

#[test]
fn bad_answers_at_every_kind_of_question_are_asked_again() {
    let rules = embedded();
    let area = rules.areas().next().expect("an area").clone();
    let h = Harness::new(rules);
    let bad = |line: &str, step: &str, hint_has: &str| {
        let replies = h.send(line);
        let (asked, hint) = last_question(&replies);
        assert_eq!(asked, step, "after {line:?}");
        let hint = hint.unwrap_or_else(|| panic!("no hint after {line:?}"));
        assert!(hint.contains(hint_has), "{line:?}: {hint}");
    };
    let good = |line: &str, step: &str| {
        let replies = h.send(line);
        assert_ne!(
            last_question(&replies).0,
            step,
            "{line:?} should be taken at {step}"
        );
    };
    h.send_input(Input::Start);
    bad("maybe", "danger", "yes or no");
    good("no", "danger");
    bad("Atlantis", "area", "do not know that area");
    good(area.id(), "area");
    bad("don't know", "concerns", "own words");
    h.send("Robin is often late");
    h.send("drop 99");
    h.send("none");
    let id = indicator_at(&area, 2).expect("an early-help indicator");
    h.send(&format!("add {id}"));
    h.send("yes");
    bad("R2D2", "child_name", "digits");
    good("Robin Example", "child_name");
    bad("31/02/2019", "child_age", "not a date");
    bad("40", "child_age", "18 or older");
    bad("18", "child_age", "18 or older");
    bad("unborn", "child_age", "due date");
    good("12/05/2017", "child_age");
    bad("12 Example Road", "address", "postcode");
    good("12 Example Road, Exampletown CV34 4RL", "address");
    bad("anonymous", "caller_name", "anonymous");
    good("Sam Fictional", "caller_name");
    bad("", "caller_role", "answer");
    bad("42", "caller_role", "few words");
    good("Class teacher at Example School", "caller_role");
    bad("01632 96O123", "caller_contact", "letters");
    bad("sam@example", "caller_contact", "email");
    good("01632 960123", "caller_contact");
    bad("7", "consent", "choose one");
    good("1", "consent");
    good("don't know", "household");
    bad(&"x".repeat(1500), "strengths", "longer than");
    good("Keen dad", "strengths");
    // Every answer is kept.
    let summary = said(&h.send("/summary"));
    for kept in [
        "Sam Fictional",
        "Class teacher",
        "Example School",
        "01632 960123",
        "Robin Example",
        "12/05/2017",
        "CV34 4RL",
        "Keen dad",
    ] {
        assert!(summary.contains(kept), "{kept} missing from\n{summary}");
    }
}

#[test]
fn a_10000_character_message_is_taken_and_a_longer_one_gets_a_hint() {
    let rules = embedded();
    let area = rules.areas().next().expect("an area").clone();
    let h = Harness::new(rules);
    h.run(&["no", area.id()]);
    let sentence = "He comes to school hungry and tired and his clothes are dirty. ";
    let long: String = sentence
        .repeat(10_000 / sentence.len() + 1)
        .chars()
        .take(10_000)
        .collect();
    assert_eq!(long.chars().count(), 10_000);
    let replies = h.send(&long);
    assert!(
        matches!(replies.last(), Some(Reply::ConfirmMatches(_))),
        "{:?}",
        replies.last()
    );
    let longer = "a".repeat(25_000);
    let replies = h.send(&longer);
    assert!(said(&replies).contains("very long"), "{replies:?}");
    // And as a name it is a hint, not a crash.
    let h = Harness::new(embedded());
    let id = indicator_at(&area, 2).expect("an indicator");
    h.run(&[
        "no",
        area.id(),
        "Robin is often late",
        "none",
        &format!("add {id}"),
        "yes",
    ]);
    let replies = h.send(&long);
    assert_eq!(last_question(&replies).0, "child_name");
}

/// A consultation's stored size is bounded: messages are kept whole up to a stated total, and
/// the caller is told the limits before writing and how much room is left when one is passed.
#[test]
fn concerns_are_kept_whole_up_to_a_stated_total() {
    use frontdoor::dialogue::engine::{MAX_CONCERNS_MESSAGE, MAX_CONCERNS_TOTAL};
    let rules = embedded();
    let area = rules.areas().next().expect("an area").clone();
    let h = Harness::new(rules);
    h.send_input(Input::Start);
    h.send("no");
    let replies = h.send(area.id());
    let (step, _) = last_question(&replies);
    assert_eq!(step, "concerns");
    let told = format!("{replies:?}");
    let thousands = |n: usize| format!("{},{:03}", n / 1000, n % 1000);
    assert!(
        told.contains(&thousands(MAX_CONCERNS_MESSAGE))
            && told.contains(&thousands(MAX_CONCERNS_TOTAL)),
        "the question states both limits: {told}"
    );
    let part = "He comes to school hungry and tired. ".repeat(600);
    let part: String = part.chars().take(MAX_CONCERNS_MESSAGE).collect();
    for _ in 0..2 {
        let replies = h.send(&part);
        assert!(
            matches!(replies.last(), Some(Reply::ConfirmMatches(_))),
            "{:?}",
            replies.last()
        );
    }
    let replies = h.send(&part.chars().take(15_000).collect::<String>());
    let hint = said(&replies) + &format!("{replies:?}");
    assert!(hint.contains("room for 10000 more"), "{hint}");
    let replies = h.send(&part.chars().take(10_000).collect::<String>());
    assert!(
        matches!(replies.last(), Some(Reply::ConfirmMatches(_))),
        "{:?}",
        replies.last()
    );
}

#[test]
fn unknown_command_gets_help_and_the_same_question() {
    let h = Harness::new(embedded());
    h.run(&["no"]);
    let replies = h.send("/frobnicate");
    assert!(said(&replies).contains("I do not know the command /frobnicate"));
    assert!(said(&replies).contains("/urgent"));
    assert_eq!(last_question(&replies).0, "area");
}

#[test]
fn commands_work_at_any_point() {
    let rules = embedded();
    let area = rules.areas().next().expect("an area").clone();
    let h = Harness::new(rules);
    let urgent = said(&h.run(&["/urgent"]));
    assert!(urgent.contains("999"));
    h.run(&["no", area.id()]);
    let urgent = said(&h.send("/urgent"));
    assert!(
        urgent.contains("999") && urgent.contains(&area.meta.name),
        "{urgent}"
    );
    let contacts = said(&h.send("/contacts"));
    for c in &area.contacts {
        assert!(contacts.contains(&c.number), "{contacts}");
    }
    assert!(said(&h.send("/why")).contains("advice in a minute"));
    assert!(said(&h.send("/help")).contains("/back"));
    assert!(said(&h.send("/summary")).contains(&area.meta.name));
    // /cancel asks first; anything but yes keeps the answers.
    let replies = h.send("/cancel");
    assert_eq!(last_question(&replies).0, "cancel");
    assert!(!said(&replies).contains("Cancelled"));
    let replies = h.send("no");
    assert!(said(&replies).contains("Kept"));
    assert_eq!(last_question(&replies).0, "concerns");
    assert!(said(&h.send("/summary")).contains(&area.meta.name));
    h.send("/cancel");
    let replies = h.send("yes");
    assert!(said(&replies).contains("Cancelled"));
    assert_eq!(last_question(&replies).0, "danger");
    assert!(said(&h.send("/summary")).contains("No answers yet"));
}

#[test]
fn quick_advice_without_a_consultation() {
    let rules = embedded();
    let area = rules
        .areas()
        .find(|a| a.meta.superseded_by.is_none())
        .expect("an area")
        .clone();
    let h = Harness::new(rules);
    let replies = h.send(&format!("/ask {RED_FLAG}"));
    assert_eq!(last_question(&replies).0, "ask_area");
    let replies = h.send(&area.meta.name);
    let text = said(&replies);
    assert!(
        text.contains("Quick advice") && text.contains("Who to call"),
        "{text}"
    );
    // The consultation itself has not moved on past the first question.
    assert_eq!(last_question(&replies).0, "danger");
}

#[test]
fn a_fixed_area_skips_the_area_question() {
    let rules = embedded();
    let id = rules.area_ids()[0].to_string();
    let h = Harness::with_config(rules, |c| c.default_area = Some(id.clone()));
    let replies = h.run(&["no"]);
    assert_eq!(last_question(&replies).0, "concerns");
}

#[test]
fn two_indicators_of_one_domain_at_different_levels_count_at_the_higher() {
    // The fictional fixture has two Education indicators at different levels; the caller keeps
    // both, and the level is never below the higher one.
    let h = Harness::new(fixture());
    let area = h
        .app
        .engine()
        .rules()
        .area("exampleshire")
        .expect("fixture area")
        .clone();
    let mut answers = routine(&area);
    answers.insert("consent", "not yet".into());
    answers.insert("consent_reason", "Dad was not reachable today".into());
    let mut script = vec!["He is never in school", "none", "add edu-2", "add edu-3"].into_iter();
    let mut all = h.send_input(Input::Start);
    for _ in 0..80 {
        if finished(&all).is_some() {
            break;
        }
        let line = match all.last() {
            Some(Reply::ConfirmMatches(_)) => script.next().unwrap_or("yes").to_string(),
            Some(Reply::Ask(q)) => match q.step.as_str() {
                "summary" => "yes".to_string(),
                "follow_up" => "don't know".to_string(),
                "concerns" => script.next().unwrap_or("done").to_string(),
                step => answers[step].clone(),
            },
            other => panic!("unexpected {other:?}"),
        };
        all.extend(h.send(&line));
    }
    let record = finished(&all).expect("finished");
    let ids: Vec<&str> = record.indicators.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["edu-2", "edu-3"]);
    assert!(record.outcome.map(|o| o.tier) >= Some(3));
    // Weekday 10:00: the fixture's front door is open.
    assert!(
        record.call_now_reason.contains("01632 960001"),
        "{}",
        record.call_now_reason
    );
}

#[test]
fn records_render_identically_for_the_same_input() {
    let rules = embedded();
    let area = rules.areas().next().expect("an area").clone();
    let lines = sample::answers(&area);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let a = finished(&Harness::new(rules.clone()).run(&lines)).expect("finished");
    let b = finished(&Harness::new(rules).run(&lines)).expect("finished");
    assert_eq!(a.to_markdown(), b.to_markdown());
    assert_eq!(a.to_text(), b.to_text());
    assert_eq!(a.to_json().ok(), b.to_json().ok());
}

#[test]
fn a_finished_consultation_starts_a_new_one() {
    let rules = embedded();
    let area = rules.areas().next().expect("an area").clone();
    let h = Harness::new(rules);
    let lines = sample::answers(&area);
    let replies = h.run(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let first = finished(&replies).expect("finished").reference;
    let replies = h.send("hello");
    assert_eq!(last_question(&replies).0, "danger");
    let replies = h.run(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let second = finished(&replies).expect("finished").reference;
    assert!(second > first, "{second} after {first}");
}

/// Drives a consultation by the question asked, with `on_matches` answering the list of matches
/// (given the list and how many times it was shown) and `answers` the other steps.
fn drive(
    h: &Harness,
    answers: &BTreeMap<&str, String>,
    mut on_matches: impl FnMut(&frontdoor::dialogue::engine::MatchList, usize) -> String,
) -> (Record, Vec<Reply>) {
    let mut all = h.send_input(Input::Start);
    let mut shown = 0;
    for _ in 0..80 {
        if let Some(r) = finished(&all) {
            return (r, all);
        }
        let line = match all.last() {
            Some(Reply::ConfirmMatches(m)) => {
                shown += 1;
                on_matches(m, shown)
            }
            Some(Reply::Ask(q)) => match q.step.as_str() {
                "summary" => "yes".to_string(),
                "follow_up" => "don't know".to_string(),
                "confirm_drop" => answers["confirm_drop"].clone(),
                "concerns" if shown > 0 => "done".to_string(),
                step => answers
                    .get(step)
                    .cloned()
                    .unwrap_or_else(|| panic!("no answer for step {step}; replies: {all:#?}")),
            },
            other => panic!("unexpected last reply {other:?}"),
        };
        all.extend(h.send(&line));
    }
    panic!("the consultation did not finish: {all:#?}");
}

fn red_flag_numbers(m: &frontdoor::dialogue::engine::MatchList) -> Vec<usize> {
    m.items
        .iter()
        .filter(|i| i.red_flag)
        .map(|i| i.number)
        .collect()
}

#[test]
fn a_dropped_red_flag_is_confirmed_first_and_the_safety_advice_stays() {
    const DISCLOSURE: &str = "Year 5 girl told me her stepdad touches her private parts at night";
    let rules = embedded();
    for id in ["medway", "warwickshire"] {
        let area = rules.area(id).expect("area").clone();
        // "No, keep it": the red flag stays and the level is child protection.
        let h = Harness::new(rules.clone());
        let mut answers = routine(&area);
        answers.insert("concerns", DISCLOSURE.into());
        answers.insert("consent", "not asked yet".into());
        answers.insert("confirm_drop", "no".into());
        let mut asked = String::new();
        let (record, replies) = drive(&h, &answers, |m, shown| {
            let red = red_flag_numbers(m);
            assert!(!red.is_empty(), "{id}: the red flag is shown");
            if shown == 1 {
                format!("drop {}", red[0])
            } else {
                "yes".to_string()
            }
        });
        for r in &replies {
            if let Reply::Ask(q) = r {
                if q.step == "confirm_drop" {
                    asked = q.text.clone();
                }
            }
        }
        assert!(asked.contains("Is that wrong"), "{id}: {asked}");
        assert!(said(&replies).contains("Kept."));
        assert_eq!(record.outcome.as_ref().map(|o| o.tier), Some(4), "{id}");
        assert!(
            record.consent.guidance[0].starts_with("You described"),
            "{id}: {:?}",
            record.consent.guidance
        );
        assert!(!record.consent.guidance[0].contains("Tell the parents"));

        // "Yes, that is wrong": removed, but the safety advice and the consent caution stay.
        let h = Harness::new(rules.clone());
        answers.insert("confirm_drop", "yes".into());
        let (record, replies) = drive(&h, &answers, |m, shown| {
            if shown == 1 {
                let all: Vec<String> = (1..=m.items.len()).map(|n| n.to_string()).collect();
                format!("drop {}", all.join(" "))
            } else {
                "yes".to_string()
            }
        });
        assert!(said(&replies).contains("You removed"), "{id}");
        assert!(
            record.indicators.is_empty(),
            "{id}: {:?}",
            record.indicators
        );
        assert!(
            record
                .next_steps
                .iter()
                .any(|s| s.contains("then said it was wrong") && s.contains("999")),
            "{id}: {:?}",
            record.next_steps
        );
        assert!(
            record.consent.guidance[0].starts_with("You described"),
            "{id}: {:?}",
            record.consent.guidance
        );
        assert!(!record.consent.guidance[0].contains("Tell the parents"));
    }
}

#[test]
fn a_vague_worry_whose_reading_is_dropped_keeps_the_level_read_from_the_words() {
    // With the understanding, any words give a level (the tier the words read as, on the safe
    // side); the caller saying that none of what was understood fits does not lower it.
    let rules = embedded();
    let area = rules.area("stoke-on-trent").expect("area").clone();
    let understanding =
        frontdoor::understanding::Understanding::builtin(&rules.needs).expect("understanding");
    const TEXT: &str = "I have a feeling something is not right for Robin";
    let read = understanding.read(TEXT, Some(9.0)).tier;
    let h = Harness::new(rules.clone());
    let mut answers = routine(&area);
    answers.insert("concerns", TEXT.into());
    answers.insert("consent", "not asked yet".into());
    answers.insert("confirm_drop", "no".into());
    let (record, _) = drive(&h, &answers, |m, _| {
        if m.items.iter().any(|i| i.red_flag) {
            panic!("no red flag in this message: {m:?}");
        }
        "none".to_string()
    });
    let outcome = record.outcome.expect("a level");
    assert!(
        outcome.tier >= read,
        "{outcome:?} below the reading's tier {read}"
    );
    assert!(outcome.rule.contains("reads as tier"), "{}", outcome.rule);
    assert!(record.indicators.is_empty(), "{:?}", record.indicators);
}

#[test]
fn a_record_carries_the_chosen_areas_numbers_and_999_only() {
    let rules = embedded();
    let area = rules.area("medway").expect("area").clone();
    let h = Harness::new(rules.clone());
    // Immediate danger before the area is chosen: every area's numbers are given.
    let text = said(&h.run(&["yes"]));
    assert!(
        text.contains("01782 235100") || text.contains("01782 234234"),
        "{text}"
    );
    let mut answers = routine(&area);
    answers.insert("danger", "yes".into());
    answers.insert("concerns", RED_FLAG.into());
    let h = Harness::new(rules.clone());
    let (record, _) = h.consult(&answers);
    let allowed: Vec<&str> = area.contacts.iter().map(|c| c.number.as_str()).collect();
    assert!(!record.numbers.is_empty());
    for n in &record.numbers {
        assert!(
            n.number == "999" || allowed.contains(&n.number.as_str()),
            "{} does not belong to Medway: {:?}",
            n.number,
            record.numbers
        );
    }
}

#[test]
fn a_dropped_domestic_abuse_indicator_still_keeps_the_family_from_being_told_first() {
    let rules = embedded();
    let area = rules.area("warwickshire").expect("area").clone();
    let early = indicator_at(&area, 2).expect("an early-support need");
    let h = Harness::new(rules);
    let mut answers = routine(&area);
    answers.insert(
        "concerns",
        "Mum told me there was domestic abuse from her ex in the past, he has moved out now".into(),
    );
    answers.insert("consent", "not asked yet".into());
    answers.insert("confirm_drop", "yes".into());
    // Drop what was understood, then confirm one early-support need that names no abuse.
    let mut added = false;
    let mut all = h.send_input(Input::Start);
    for _ in 0..80 {
        if finished(&all).is_some() {
            break;
        }
        let line = match all.last() {
            Some(Reply::ConfirmMatches(m)) if !added => {
                assert!(
                    m.items.iter().any(|i| i.text.contains("domestic abuse")),
                    "{m:?}"
                );
                added = true;
                "none".to_string()
            }
            Some(Reply::ConfirmMatches(_)) => "yes".to_string(),
            Some(Reply::Ask(q)) => match q.step.as_str() {
                "summary" => "yes".to_string(),
                "follow_up" => "don't know".to_string(),
                "concerns" if added => format!("add {early}"),
                step => answers[step].clone(),
            },
            other => panic!("unexpected {other:?}"),
        };
        all.extend(h.send(&line));
    }
    let record = finished(&all).expect("finished");
    // The early-support need confirmed, or higher where the words read higher (safe side).
    assert!(record.outcome.as_ref().map(|o| o.tier) >= Some(2));
    let headline = &record.consent.guidance[0];
    assert!(
        headline.starts_with(
            "You described domestic abuse (in what you said, although you removed the indicator)"
        ),
        "{headline}"
    );
    assert!(!headline.contains("Tell the parents"), "{headline}");
}

/// The answers up to the concerns, with the child's age given before them.
fn up_to_concerns(area: &Area, age: &str) -> Vec<String> {
    let answers = routine(area);
    let mut lines = Vec::new();
    for step in frontdoor::dialogue::load_embedded()
        .expect("script")
        .steps
        .iter()
        .map(|s| s.id.as_str())
        .take_while(|s| *s != "concerns")
    {
        match step {
            "danger_continue" | "consent_reason" | "consent_approval" | "child_view" => {}
            "child_age" => lines.push(age.to_string()),
            s => lines.push(answers[s].clone()),
        }
    }
    lines
}

#[test]
fn a_babys_bruises_with_the_age_given_earlier_are_child_protection() {
    let rules = embedded();
    for area in rules.areas().filter(|a| a.meta.superseded_by.is_none()) {
        let h = Harness::new(rules.clone());
        let mut lines = up_to_concerns(area, "4 months");
        // The message itself gives no age: the age given earlier is used to read it.
        lines.push("I noticed bruises on her cheek and upper arm when mum changed her".into());
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let replies = h.run(&lines);
        let Some(Reply::ConfirmMatches(m)) = replies
            .iter()
            .rev()
            .find(|r| matches!(r, Reply::ConfirmMatches(_)))
        else {
            panic!(
                "{}: no list of what was understood: {replies:#?}",
                area.id()
            )
        };
        assert!(!m.items.is_empty(), "{}", area.id());
        let mut answers = routine(area);
        answers.insert("child_age", "4 months".into());
        answers.insert("consent", "not asked yet".into());
        answers.insert(
            "concerns",
            "I noticed bruises on her cheek and upper arm when mum changed her".into(),
        );
        let h = Harness::new(rules.clone());
        let (record, _) = drive(&h, &answers, |_, _| "yes".to_string());
        let outcome = record.outcome.expect("an outcome");
        assert_eq!(outcome.tier, 4, "{}: {outcome:?}", area.id());
    }
}

#[test]
fn shown_indicators_are_of_the_described_need_and_your_words_are_the_callers() {
    use frontdoor::understanding::Understanding;
    const TEXT: &str =
        "Jo (14) has missed 30 days of school this term and mum says she cannot make her go";
    let rules = embedded();
    let understanding = Understanding::builtin(&rules.needs).expect("understanding");
    let reading = understanding.read(TEXT, None);
    assert!(!reading.needs.is_empty());
    for area in rules.areas() {
        let h = Harness::new(rules.clone());
        let mut lines = up_to_concerns(area, "14");
        lines.push(TEXT.into());
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let replies = h.run(&lines);
        let Some(Reply::ConfirmMatches(m)) = replies.last() else {
            panic!("{}: {replies:#?}", area.id())
        };
        assert!(!m.items.is_empty(), "{}", area.id());
        for item in &m.items {
            if let Some(ind) = area.indicator(&item.indicator) {
                assert!(
                    ind.needs
                        .iter()
                        .any(|n| reading.needs.iter().any(|r| &r.id == n)),
                    "{}: {:?} is not an indicator of {:?}",
                    area.id(),
                    ind.text,
                    reading.needs
                );
            } else {
                assert!(
                    item.text.contains("has no indicator for this"),
                    "{}: {}",
                    area.id(),
                    item.text
                );
            }
            for w in &item.matched {
                assert!(
                    TEXT.contains(w.as_str()),
                    "{}: {w:?} is not the caller's",
                    area.id()
                );
            }
        }
    }
}

#[test]
fn ask_when_unsure_gives_the_higher_tier_and_what_would_lower_it() {
    use frontdoor::understanding::Understanding;
    let rules = embedded();
    let understanding = Understanding::builtin(&rules.needs).expect("understanding");
    // The first message of the development corpus, then of the validation set, that the shipped
    // model is unsure about (and can say what would lower), so the test follows the model as it
    // is retrained.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut files = vec![root.join("train/dev.jsonl")];
    let mut validation: Vec<_> = std::fs::read_dir(root.join("validation"))
        .expect("the validation set")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    validation.sort();
    files.extend(validation);
    let texts: Vec<String> = files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .expect("a corpus file")
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let unsure = texts
        .iter()
        .map(String::as_str)
        .find(|t| {
            let r = understanding.read(t, None);
            r.unsure.is_some()
                && r.red_flags.is_empty()
                && !understanding.what_would_lower(&r).is_empty()
        })
        .expect("a message the model is unsure about");
    let reading = understanding.read(unsure, None);
    let (_, higher) = reading
        .unsure
        .expect("the model is unsure about this message");
    assert_eq!(reading.tier, higher);
    let area = rules.area("warwickshire").expect("area").clone();
    let h = Harness::new(rules.clone());
    let text = said(&h.run(&["no", area.id(), &format!("/ask {unsure}")]));
    assert!(
        text.contains(&format!("(tier {higher})")),
        "the higher tier is given: {text}"
    );
    assert!(text.contains("so I give the higher"), "{text}");
    assert!(text.contains("It would be lower if"), "{text}");
    let call = frontdoor::contacts::call_now(
        area_ref(&rules, "warwickshire"),
        &rules.bank_holidays,
        frontdoor::app::uk_local(now()),
    )
    .expect("call now");
    assert!(text.contains(&call.now.number), "{text}");
}

fn area_ref<'a>(rules: &'a RuleSet, id: &str) -> &'a Area {
    rules.area(id).expect("area")
}

/// Child protection the model does not read as immediate, about a need that is immediate when the
/// person lives with the child: one question asks, and a worrying answer gives 999 at once.
#[test]
fn a_worrying_answer_about_who_has_access_gives_immediate_protection_at_once() {
    let rules = embedded();
    let h = Harness::new(rules.clone());
    let concern = "Year 5 girl told me her stepdad touches her private parts at night";
    let text = said(&h.run(&["no", "medway", concern, "yes", "yes"]));
    assert!(text.contains("IMMEDIATE PROTECTION"), "{text}");
    if text.contains("One question") {
        assert!(
            text.contains("With your answer, the advice changes"),
            "the raised level is said at once: {text}"
        );
        assert!(text.contains("Call 999 now"), "{text}");
    }
}
