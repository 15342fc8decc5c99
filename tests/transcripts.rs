//! Conversations as transcripts: one helper runs a list of inputs through the engine and renders
//! every reply as the terminal shows it; the result is compared with a stored snapshot
//! (`tests/snapshots/transcripts__*.snap`). One per area (the routine path) and one per path
//! (immediate danger, consent refused, consent not sought, /back, restart with /cancel), so a
//! change to any question, advice or number shows up as a reviewed diff.
//!
//! Each transcript starts with what it measures: the answers typed before the first advice, the
//! answers to the record, and the outcome's lines at 80 columns. All names are fictional; the
//! time is fixed (Tuesday 24 November 2026, 10:00, every front door open).

use frontdoor::contacts::parse_local;
use frontdoor::dialogue::{self, screen, Engine, Input, Reply};
use frontdoor::rules;
use frontdoor::terminal::render;

const AT: &str = "2026-11-24T10:00";

/// Runs `lines` (after the start) and returns the transcript with its measures.
fn transcript(engine: &Engine, lines: &[&str]) -> String {
    let at = parse_local(AT).expect("time");
    let mut session = engine.new_session(at, None);
    let mut replies;
    (session, replies) = engine.step(session, Input::Start, at);
    let mut text: String = replies.iter().map(render).collect();
    let (mut answers, mut first_advice, mut to_record, mut outcome_lines) = (0, None, None, None);
    for line in lines {
        text.push_str(line);
        text.push('\n');
        let input = Input::parse(line);
        if !matches!(input, Input::Command(_)) {
            answers += 1;
        }
        (session, replies) = engine.step(session, input, at);
        for r in &replies {
            match r {
                Reply::Say(t) if t.starts_with("First advice") && first_advice.is_none() => {
                    first_advice = Some(answers);
                }
                Reply::Say(t) if t.starts_with("Outcome for") => {
                    outcome_lines = Some(screen::lines(t));
                }
                Reply::Finished(_) if to_record.is_none() => to_record = Some(answers),
                _ => {}
            }
        }
        text.extend(replies.iter().map(render));
    }
    let show = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
    format!(
        "answers to first advice: {}\nanswers to the record: {}\noutcome lines at 80 columns: {}\n\n{text}",
        show(first_advice),
        show(to_record),
        show(outcome_lines)
    )
}

fn engine() -> Engine {
    Engine::new(
        dialogue::load_embedded().expect("script"),
        rules::load_embedded().expect("rules"),
    )
}

/// The typical path: a concern confirmed as understood, consent agreed, a child of 8.
fn routine(area: &str) -> Vec<&str> {
    vec![
        "no",
        area,
        "Alex (8) has been late most mornings this term, says she is hungry and tired, and her attendance has dropped to 91%",
        "yes",
        "Alex Example, Example Primary",
        "8",
        "12 Example Road, Exampletown CV34 4RL",
        "Sam Fictional",
        "Class teacher at Example Primary, her teacher since September",
        "01632 960123",
        "1",
        "Mum and a brother aged 4; English; the school nurse",
        "Mum comes to every parents' evening; breakfast club offered; Alex says she is tired",
        "yes",
    ]
}

/// Answers "don't know" to a follow-up question, if one is asked, so the path stays the same
/// length whatever the model is unsure about (the higher tier stands).
fn with_follow_up(engine: &Engine, lines: Vec<&str>) -> Vec<String> {
    let at = parse_local(AT).expect("time");
    let mut session = engine.new_session(at, None);
    (session, _) = engine.step(session, Input::Start, at);
    let mut out = Vec::new();
    for line in lines {
        let mut replies;
        (session, replies) = engine.step(session, Input::parse(line), at);
        out.push(line.to_string());
        while matches!(replies.last(), Some(Reply::Ask(q)) if q.step == "follow_up") {
            out.push("don't know".to_string());
            (session, replies) = engine.step(session, Input::parse("don't know"), at);
        }
    }
    out
}

fn check(name: &str, engine: &Engine, lines: Vec<&str>) -> String {
    let lines = with_follow_up(engine, lines);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t = transcript(engine, &lines);
    insta::assert_snapshot!(name, t);
    t
}

fn measure(t: &str, what: &str) -> Option<usize> {
    t.lines()
        .find_map(|l| l.strip_prefix(what))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn routine_in_every_area() {
    let engine = engine();
    for area in engine.rules().area_ids() {
        let t = check(&format!("routine-{area}"), &engine, routine(area));
        assert!(
            measure(&t, "answers to first advice:").is_some_and(|n| n <= 4),
            "{t}"
        );
        assert!(
            measure(&t, "answers to the record:").is_some_and(|n| n <= 15),
            "{t}"
        );
        assert!(
            measure(&t, "outcome lines at 80 columns:").is_some_and(|n| n <= screen::MAX_LINES),
            "{t}"
        );
    }
}

#[test]
fn immediate_danger_path() {
    let engine = engine();
    let t = check("immediate", &engine, vec!["yes", "no"]);
    assert!(t.contains("999"), "{t}");
}

#[test]
fn consent_refused_and_not_sought_paths() {
    let engine = engine();
    let mut refused = routine("medway");
    refused[2] = "Year 5 girl told me her stepdad touches her private parts at night";
    refused[10] = "2";
    refused.insert(11, "Mum said she would not agree to anything");
    let t = check("consent-refused", &engine, refused);
    assert!(t.contains("Do not let the refusal stop you"), "{t}");
    let mut not_sought = routine("stoke-on-trent");
    not_sought[2] = "I am worried a 14 year old girl is being taken abroad to be married";
    not_sought[10] = "4";
    not_sought.insert(11, "Asking would put her at risk");
    not_sought.insert(12, "Jo Example, safeguarding lead");
    check("consent-not-sought", &engine, not_sought);
}

#[test]
fn back_and_restart_paths() {
    let engine = engine();
    let mut back = routine("salford");
    back.insert(5, "/back");
    back.insert(6, "Alex Example");
    check("back", &engine, back);
    let mut restart = routine("warwickshire");
    restart.insert(4, "/cancel");
    restart.insert(5, "no");
    restart.insert(6, "/cancel");
    restart.insert(7, "yes");
    let mut again = routine("warwickshire");
    restart.splice(8..8, again.drain(..));
    let t = check("restart", &engine, restart);
    assert!(
        t.contains("Kept: nothing was deleted") && t.contains("Cancelled"),
        "{t}"
    );
}

#[test]
fn several_children() {
    let engine = engine();
    let mut lines = routine("medway");
    lines.insert(5, "/child");
    lines.insert(6, "Robin Example");
    lines.insert(7, "3 weeks");
    lines.insert(8, "don't know");
    lines.insert(9, "yes");
    let t = check("several-children", &engine, lines);
    assert!(
        t.contains("Another child: Robin Example, 3 weeks old"),
        "{t}"
    );
    // The concern does not name Robin: asked, and the answer goes to the summary and outcome.
    assert!(
        t.contains("Is your concern about Robin Example too?"),
        "{t}"
    );
    assert!(
        t.contains("the concern is about this child too: yes"),
        "{t}"
    );
    assert!(
        t.contains("Outcome for Alex Example and Robin Example"),
        "{t}"
    );
}

#[test]
fn a_child_the_concern_names_is_recorded_as_its_subject_without_a_question() {
    let engine = engine();
    let mut lines = routine("medway");
    lines[2] = "Alex (8) and her brother Robin (6) have been late most mornings this term; both say they are hungry and tired";
    lines.insert(5, "/child");
    lines.insert(6, "Robin Example");
    lines.insert(7, "6");
    lines.insert(8, "Example Primary");
    let lines = with_follow_up(&engine, lines);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t = transcript(&engine, &lines);
    assert!(!t.contains("Is your concern about Robin"), "{t}");
    // One answer fewer than when Robin has to be asked about (the routine 14, plus name, age
    // and setting; one more if the reading was unsure and the follow-up was asked).
    assert!(
        measure(&t, "answers to the record:").is_some_and(|n| n <= 18),
        "{t}"
    );
    assert!(t.contains("Your concern names them"), "{t}");
    assert!(
        t.contains("the concern is about this child too: yes (named in the concern)"),
        "{t}"
    );
    assert!(
        t.contains("Outcome for Alex Example and Robin Example"),
        "{t}"
    );
}

#[test]
fn a_child_the_concern_is_not_about_is_recorded_so() {
    let engine = engine();
    let mut lines = routine("medway");
    lines.insert(5, "/child");
    lines.insert(6, "Jo Example");
    lines.insert(7, "don't know");
    lines.insert(8, "don't know");
    lines.insert(9, "perhaps");
    // "2": the number of "No" as the terminal lists it.
    lines.insert(10, "2");
    let lines = with_follow_up(&engine, lines);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t = transcript(&engine, &lines);
    // An answer that is not yes, no or "don't know" is asked again, nothing lost.
    assert_eq!(
        t.matches("Is your concern about Jo Example too?").count(),
        2,
        "{t}"
    );
    assert!(t.contains("the concern is about this child too: no"), "{t}");
    assert!(t.contains("Outcome for Alex Example:"), "{t}");
}

#[test]
fn a_name_typed_as_the_concern_is_asked_about_and_kept_as_the_childs_name() {
    let engine = engine();
    let mut lines = routine("medway");
    lines.insert(2, "Tom Smith");
    lines[3] = "Tom (8) has been late most mornings this term, says he is hungry and tired, and his attendance has dropped to 91%";
    // The child's name is already known: its question is not asked.
    lines.remove(5);
    let lines = with_follow_up(&engine, lines);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t = transcript(&engine, &lines);
    assert!(t.contains("What is worrying you about Tom?"), "{t}");
    assert!(!t.contains("What is the child's name?"), "{t}");
    assert!(t.contains("Outcome for Tom Smith"), "{t}");
    // The name is not read as a concern.
    assert!(!t.contains("your words: Smith"), "{t}");
    // The name costs one answer before the first advice and saves the name question after it.
    assert!(measure(&t, "answers to first advice:") == Some(5), "{t}");
    assert!(
        measure(&t, "answers to the record:").is_some_and(|n| n <= 15),
        "{t}"
    );
}

#[test]
fn a_name_the_concern_does_not_use_is_offered_at_the_childs_name() {
    let engine = engine();
    let mut lines = routine("medway");
    lines.insert(2, "Amelia");
    lines[5] = "yes";
    let lines = with_follow_up(&engine, lines);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t = transcript(&engine, &lines);
    assert!(t.contains("What is worrying you about Amelia?"), "{t}");
    assert!(
        t.contains("Earlier you typed \"Amelia\": type \"yes\" if that is the child's name."),
        "{t}"
    );
    assert!(t.contains("Outcome for Amelia"), "{t}");
}

#[test]
fn a_one_word_concern_is_read_as_a_concern_not_a_name() {
    let engine = engine();
    for concern in ["Neglect", "Bruises", "tom smith"] {
        let t = transcript(&engine, &["no", "medway", concern]);
        assert!(!t.contains("What is worrying you about"), "{concern}: {t}");
        assert!(t.contains("I understood"), "{concern}: {t}");
    }
}

#[test]
fn the_record_keeps_what_was_asked_and_no_field_that_never_is() {
    let engine = engine();
    let at = parse_local(AT).expect("time");
    let mut session = engine.new_session(at, None);
    (session, _) = engine.step(session, Input::Start, at);
    let mut record = None;
    for line in with_follow_up(&engine, routine("warwickshire")) {
        let replies;
        (session, replies) = engine.step(session, Input::parse(&line), at);
        for r in replies {
            if let Reply::Finished(r) = r {
                record = Some(r);
            }
        }
    }
    let record = record.expect("a record");
    let text = record.to_text();
    assert!(
        text.contains("Role, organisation, link to the child, safeguarding lead: Class teacher at Example Primary, her teacher since September"),
        "{text}"
    );
    assert!(
        text.contains("Household, language, other professionals: Mum and a brother aged 4; English; the school nurse"),
        "{text}"
    );
    let json = record.to_json().expect("json");
    for never_asked in [
        "organisation",
        "relationship",
        "safeguarding_lead",
        "language",
        "professionals",
        "tried",
    ] {
        assert!(
            !json.contains(&format!("\"{never_asked}\"")),
            "{never_asked}: {json}"
        );
    }
}

#[test]
fn a_first_message_that_is_not_a_concern_is_asked_again_and_nothing_is_lost() {
    let engine = engine();
    for reply in ["yes", "hi", "no"] {
        let t = transcript(&engine, &["no", "medway", reply]);
        assert!(
            t.contains("! Please tell me in your own words what is worrying you"),
            "{reply}: {t}"
        );
        assert!(!t.contains("I understood"), "{reply}: {t}");
    }
    // An age alone is kept as the child's age, and its question is not asked again.
    let mut lines = routine("medway");
    lines.insert(2, "Year 4");
    lines.remove(6);
    let lines = with_follow_up(&engine, lines);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t = transcript(&engine, &lines);
    assert!(t.contains("Thanks: the child's age is noted"), "{t}");
    assert!(
        !t.contains("What is the child's date of birth, or their age?"),
        "{t}"
    );
    assert!(t.contains("Outcome for Alex Example"), "{t}");
    // An adult's name is asked about by name and never offered as the child's.
    let t = transcript(&engine, &["no", "medway", "Mr Smith"]);
    assert!(t.contains("What is worrying you about Mr Smith?"), "{t}");
    let mut lines = routine("medway");
    lines.insert(2, "Mr Smith");
    let lines = with_follow_up(&engine, lines);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let t = transcript(&engine, &lines);
    assert!(!t.contains("Earlier you typed"), "{t}");
}
