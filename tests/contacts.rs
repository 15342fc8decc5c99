//! Who to call, by urgency and by the clock: one table of moments in every area.
//!
//! Each row: area, moment (UK local, or a UTC instant for the clock changes), urgency, the number
//! given first, the children's services line (after 999 when that comes first), the fallback, and
//! why. Rows cover nights, weekends, bank holidays (including a year beyond the data), the clock
//! changes, each boundary minute of stated hours, assumed hours and hours set by a deployment.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone, Utc};
use frontdoor::config::parse_hours;
use frontdoor::contacts::{parse_local, route, uk_local, CallNow, Timing, Urgency};
use frontdoor::rules::{load_embedded, RuleSet};

const FR: &str = "01634 334466"; // Medway First Response
const MOOH: &str = "03000 419191"; // Medway out of hours
const BRIDGE: &str = "0161 603 4500"; // Salford, The Bridge
const BP: &str = "0161 603 4555"; // Salford, The Bridge Partnership (advice)
const IFD: &str = "01782 235100"; // Stoke-on-Trent Integrated Front Door (and its early help line)
const EDT: &str = "01782 234234"; // Stoke-on-Trent Emergency Duty Team
const FC: &str = "01926 414144"; // Warwickshire Family Connect / 2018 Front Door
const WOOH: &str = "01926 886922"; // Warwickshire Emergency Out of Hours Social Work Service
const NONE: &str = "-";

/// (area, moment, urgency, first, line, fallback, why).
/// Moment: `YYYY-MM-DDTHH:MM` UK local, or `utc YYYY-MM-DDTHH:MM`.
/// Urgency: `imm`, `t1`-`t4`, or `?` (not assessed). Area `medway+hours` is Medway with
/// FRONTDOOR_HOURS_MEDWAY="mon-thu 08:30-17:00; fri 08:30-16:30".
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // Medway: no stated hours, none set: weekdays 08:00-18:00 assumed (Wed 25 Nov 2026).
    ("medway", "2026-11-25T02:00", "t4", MOOH, MOOH, NONE, "out-of-hours:outside-hours"),
    ("medway", "2026-11-25T02:00", "imm", "999", MOOH, NONE, "out-of-hours:outside-hours"),
    ("medway", "2026-11-25T02:00", "t2", FR, FR, MOOH, "when-open:outside-hours"),
    ("medway", "2026-11-25T10:00", "t2", FR, FR, NONE, "open"),
    ("medway", "2026-11-25T10:00", "t4", FR, FR, MOOH, "open"),
    ("medway", "2026-11-25T10:00", "imm", "999", FR, MOOH, "open"),
    ("medway", "2026-11-25T07:59", "t4", MOOH, MOOH, NONE, "out-of-hours:outside-hours"),
    ("medway", "2026-11-25T08:00", "t4", FR, FR, MOOH, "open"),
    ("medway", "2026-11-25T17:59", "t3", FR, FR, NONE, "open"),
    ("medway", "2026-11-25T18:00", "t3", FR, FR, MOOH, "when-open:outside-hours"),
    ("medway", "2026-11-28T12:00", "t4", MOOH, MOOH, NONE, "out-of-hours:weekend"),
    ("medway", "2026-11-28T12:00", "t2", FR, FR, MOOH, "when-open:weekend"),
    ("medway", "2026-12-25T10:00", "t1", FR, FR, MOOH, "when-open:bank-holiday"),
    ("medway", "2026-12-25T10:00", "?", MOOH, MOOH, NONE, "out-of-hours:bank-holiday"),
    ("medway", "utc 2026-10-26T07:30", "t4", MOOH, MOOH, NONE, "out-of-hours:outside-hours"),
    ("medway", "utc 2026-10-19T07:30", "t4", FR, FR, MOOH, "open"),
    // Medway with hours set by the deployment: no assumption, no fallback inside them.
    ("medway+hours", "2026-11-27T16:45", "t4", MOOH, MOOH, NONE, "out-of-hours:outside-hours"),
    ("medway+hours", "2026-11-25T10:00", "t4", FR, FR, NONE, "open"),
    ("medway+hours", "2026-11-25T08:15", "t2", FR, FR, MOOH, "when-open:outside-hours"),
    ("medway+hours", "2026-11-25T17:00", "t3", FR, FR, MOOH, "when-open:outside-hours"),
    ("medway+hours", "2026-11-25T16:59", "imm", "999", FR, NONE, "open"),
    // Salford: no stated hours and no out-of-hours number; advice line for tiers 1-3.
    ("salford", "2026-11-25T02:00", "t4", BRIDGE, BRIDGE, NONE, "no-out-of-hours:outside-hours"),
    ("salford", "2026-11-25T02:00", "imm", "999", BRIDGE, NONE, "no-out-of-hours:outside-hours"),
    ("salford", "2026-11-25T02:00", "t3", BP, BP, NONE, "when-open:outside-hours"),
    ("salford", "2026-11-25T10:00", "t3", BP, BP, NONE, "open"),
    ("salford", "2026-11-25T10:00", "t2", BP, BP, NONE, "open"),
    ("salford", "2026-11-25T10:00", "t4", BRIDGE, BRIDGE, NONE, "open"),
    ("salford", "2026-11-29T15:00", "t1", BP, BP, NONE, "when-open:weekend"),
    ("salford", "2027-01-01T09:00", "?", BRIDGE, BRIDGE, NONE, "no-out-of-hours:bank-holiday"),
    // Stoke-on-Trent: Mon-Thu 08:30-17:00, Fri 08:30-16:30 (004:1102).
    ("stoke-on-trent", "2026-11-24T10:00", "t4", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "2026-11-24T10:00", "imm", "999", IFD, NONE, "open"),
    ("stoke-on-trent", "2026-11-24T10:00", "t2", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "2026-11-24T08:29", "t4", EDT, EDT, NONE, "out-of-hours:outside-hours"),
    ("stoke-on-trent", "2026-11-24T08:30", "t4", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "2026-11-26T16:59", "t4", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "2026-11-26T17:00", "t4", EDT, EDT, NONE, "out-of-hours:outside-hours"),
    ("stoke-on-trent", "2026-11-20T16:29", "t4", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "2026-11-20T16:30", "t4", EDT, EDT, NONE, "out-of-hours:outside-hours"),
    ("stoke-on-trent", "2026-11-20T16:45", "t3", IFD, IFD, EDT, "when-open:outside-hours"),
    ("stoke-on-trent", "2026-11-20T16:45", "t2", IFD, IFD, EDT, "when-open:outside-hours"),
    ("stoke-on-trent", "2026-11-21T11:00", "t2", IFD, IFD, EDT, "when-open:weekend"),
    ("stoke-on-trent", "2026-11-21T11:00", "imm", "999", EDT, NONE, "out-of-hours:weekend"),
    ("stoke-on-trent", "2026-12-25T10:00", "t4", EDT, EDT, NONE, "out-of-hours:bank-holiday"),
    ("stoke-on-trent", "2026-12-28T10:00", "t4", EDT, EDT, NONE, "out-of-hours:bank-holiday"),
    ("stoke-on-trent", "2026-12-28T10:00", "t3", IFD, IFD, EDT, "when-open:bank-holiday"),
    ("stoke-on-trent", "2029-12-25T10:00", "t4", EDT, EDT, NONE, "out-of-hours:bank-holiday"),
    ("stoke-on-trent", "2031-03-04T10:00", "t4", IFD, IFD, EDT, "open"),
    ("stoke-on-trent", "2031-03-04T10:00", "t2", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "2031-12-25T10:00", "?", EDT, EDT, NONE, "out-of-hours:bank-holiday"),
    // Stoke-on-Trent across the clock changes (29 March and 25 October 2026).
    ("stoke-on-trent", "utc 2026-03-30T07:30", "t4", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "utc 2026-03-23T07:30", "t4", EDT, EDT, NONE, "out-of-hours:outside-hours"),
    ("stoke-on-trent", "utc 2026-10-23T15:45", "t4", EDT, EDT, NONE, "out-of-hours:outside-hours"),
    ("stoke-on-trent", "utc 2026-10-30T15:45", "t4", IFD, IFD, NONE, "open"),
    ("stoke-on-trent", "utc 2026-03-29T01:30", "t2", IFD, IFD, EDT, "when-open:weekend"),
    // Warwickshire (Family Connect): no stated hours, none set.
    ("warwickshire", "2026-11-25T02:00", "t4", WOOH, WOOH, NONE, "out-of-hours:outside-hours"),
    ("warwickshire", "2026-11-25T23:30", "t3", FC, FC, WOOH, "when-open:outside-hours"),
    ("warwickshire", "2026-11-25T23:30", "imm", "999", WOOH, NONE, "out-of-hours:outside-hours"),
    ("warwickshire", "2026-11-25T11:00", "t2", FC, FC, NONE, "open"),
    ("warwickshire", "2026-11-25T11:00", "t4", FC, FC, WOOH, "open"),
    ("warwickshire", "2026-11-28T09:00", "t2", FC, FC, WOOH, "when-open:weekend"),
    ("warwickshire", "2026-11-27T16:45", "t2", FC, FC, NONE, "open"),
    ("warwickshire", "2026-12-28T09:00", "?", WOOH, WOOH, NONE, "out-of-hours:bank-holiday"),
    ("warwickshire", "2031-12-25T12:00", "t2", FC, FC, WOOH, "when-open:bank-holiday"),
    // Warwickshire 2018: no stated hours; the consultation line for tiers 1-3.
    ("warwickshire-2018", "2026-11-25T02:00", "t4", WOOH, WOOH, NONE, "out-of-hours:outside-hours"),
    ("warwickshire-2018", "2026-11-25T10:00", "t3", FC, FC, NONE, "open"),
    ("warwickshire-2018", "2026-11-25T10:00", "imm", "999", FC, WOOH, "open"),
    ("warwickshire-2018", "2026-11-29T10:00", "t2", FC, FC, WOOH, "when-open:weekend"),
    ("warwickshire-2018", "2026-04-03T10:00", "t4", WOOH, WOOH, NONE, "out-of-hours:bank-holiday"),
    ("warwickshire-2018", "2026-04-06T10:00", "t1", FC, FC, WOOH, "when-open:bank-holiday"),
];

fn rules() -> (RuleSet, RuleSet) {
    let plain = load_embedded().expect("valid rules");
    let mut deployed = plain.clone();
    let hours = parse_hours(
        "FRONTDOOR_HOURS_MEDWAY",
        "mon-thu 08:30-17:00; fri 08:30-16:30",
    )
    .expect("valid hours");
    deployed
        .set_front_door_hours(&BTreeMap::from([("medway".to_string(), hours)]))
        .expect("Medway states no hours");
    (plain, deployed)
}

fn moment(text: &str) -> NaiveDateTime {
    match text.strip_prefix("utc ") {
        Some(utc) => {
            let naive = parse_local(utc).expect("valid time");
            uk_local(Utc.from_utc_datetime(&naive))
        }
        None => parse_local(text).expect("valid time"),
    }
}

fn urgency(text: &str) -> Urgency {
    match text {
        "imm" => Urgency::Immediate,
        "?" => Urgency::Unassessed,
        t => Urgency::Tier(t.trim_start_matches('t').parse().expect("tier")),
    }
}

fn answer<'r>(rules: &'r (RuleSet, RuleSet), area: &str, at: &str, u: &str) -> CallNow<'r> {
    let (set, id) = match area.strip_suffix("+hours") {
        Some(id) => (&rules.1, id),
        None => (&rules.0, area),
    };
    let a = set.area(id).expect("area");
    route(a, &set.bank_holidays, urgency(u), moment(at)).expect("answer")
}

#[test]
fn the_table_of_moments() {
    assert!(TABLE.len() >= 60, "{} rows", TABLE.len());
    let rules = rules();
    let mut failures = Vec::new();
    for &(area, at, u, first, line, fallback, why) in TABLE {
        let a = answer(&rules, area, at, u);
        let got = (
            a.first_number().to_string(),
            a.now.number.clone(),
            a.fallback.map_or(NONE.to_string(), |f| f.number.clone()),
            a.why.code(),
        );
        let want = (
            first.to_string(),
            line.to_string(),
            fallback.to_string(),
            why.to_string(),
        );
        if got != want {
            failures.push(format!(
                "{area} {at} {u}: got {got:?}, want {want:?} ({})",
                a.reason
            ));
        }
        assert_eq!(a.emergency.number, "999");
        if a.call_999_first {
            assert!(a.instruction(moment(at)).starts_with("Call 999 now, then"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_area_covers_day_night_weekend_and_holiday_for_every_urgency() {
    let areas: std::collections::BTreeSet<&str> = TABLE
        .iter()
        .map(|r| r.0.trim_end_matches("+hours"))
        .collect();
    assert_eq!(areas.len(), 5);
    for code in ["open", "outside-hours", "weekend", "bank-holiday"] {
        assert!(TABLE.iter().any(|r| r.6.contains(code)), "{code}");
    }
    for u in ["imm", "t1", "t2", "t3", "t4", "?"] {
        assert!(TABLE.iter().any(|r| r.2 == u), "{u}");
    }
}

#[test]
fn the_next_opening_is_named() {
    let rules = rules();
    let at = "2026-11-20T16:45";
    let a = answer(&rules, "stoke-on-trent", at, "t2");
    assert_eq!(a.timing, Timing::WhenOpen(Some(moment("2026-11-23T08:30"))));
    assert!(a
        .instruction(moment(at))
        .contains("when it opens (Monday 08:30)"));
    // Christmas Eve 2026, evening: Christmas Day (Friday), the weekend and the Boxing Day
    // substitute (Monday 28) all pass before it opens again.
    let a = answer(&rules, "stoke-on-trent", "2026-12-24T17:30", "t3");
    assert_eq!(a.timing, Timing::WhenOpen(Some(moment("2026-12-29T08:30"))));
    // Assumed hours open at 08:00.
    let a = answer(&rules, "medway", "2026-11-28T12:00", "t2");
    assert_eq!(a.timing, Timing::WhenOpen(Some(moment("2026-11-30T08:00"))));
    assert!(a.text(moment("2026-11-28T12:00")).contains("cannot wait"));
}

#[test]
fn assumptions_and_doubtful_years_are_said() {
    let rules = rules();
    for area in ["medway", "salford", "warwickshire", "warwickshire-2018"] {
        let a = answer(&rules, area, "2026-11-25T10:00", "t2");
        assert!(
            a.warnings
                .iter()
                .any(|w| w.contains("That is an assumption")),
            "{area}: {:?}",
            a.warnings
        );
    }
    let a = answer(&rules, "medway+hours", "2026-11-25T10:00", "t2");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert!(a.reason.contains("as set for this service"), "{}", a.reason);
    let a = answer(&rules, "stoke-on-trent", "2026-11-24T10:00", "t4");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    // 25 December 2029 and any day of 2031: never a silent "open now".
    for at in ["2029-12-25T10:00", "2031-03-04T10:00"] {
        let a = answer(&rules, "stoke-on-trent", at, "t4");
        assert!(
            a.warnings.iter().any(|w| w.contains("cannot be sure")),
            "{at}: {:?}",
            a.warnings
        );
    }
}

#[test]
fn early_help_is_never_sent_to_the_emergency_team_first() {
    let rules = rules();
    for &(area, at, u, ..) in TABLE {
        if matches!(u, "t1" | "t2" | "t3") {
            let a = answer(&rules, area, at, u);
            assert_ne!(
                a.now.purpose,
                frontdoor::rules::Purpose::OutOfHours,
                "{area} {at} {u}"
            );
            assert!(!a.call_999_first);
        }
    }
}

#[test]
fn hours_set_for_a_front_door_whose_document_states_them_are_refused() {
    let mut rules = load_embedded().expect("valid rules");
    let hours =
        parse_hours("FRONTDOOR_HOURS_STOKE_ON_TRENT", "mon-fri 09:00-17:00").expect("readable");
    let e = rules
        .set_front_door_hours(&BTreeMap::from([("stoke-on-trent".to_string(), hours)]))
        .expect_err("the document states Stoke-on-Trent's hours");
    let msg = e.to_string();
    assert!(msg.contains("FRONTDOOR_HOURS_STOKE_ON_TRENT"), "{msg}");
    assert!(msg.contains("line 1102"), "{msg}");
}
