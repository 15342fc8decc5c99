//! Bank holidays of England and Wales: the rules with the one-off changes give exactly the dates
//! GOV.UK published for 2018 to 2028, and a year the data cannot vouch for carries a warning.

use chrono::NaiveDate;
use frontdoor::rules::{bank_holidays::easter_sunday, load_embedded, BankHolidays};

/// The GOV.UK lists for England and Wales, 2018-2028 (www.gov.uk/bank-holidays and its archived
/// copies), as (year, [(month, day)]).
const PUBLISHED: &[(i32, &[(u32, u32)])] = &[
    (
        2018,
        &[
            (1, 1),
            (3, 30),
            (4, 2),
            (5, 7),
            (5, 28),
            (8, 27),
            (12, 25),
            (12, 26),
        ],
    ),
    (
        2019,
        &[
            (1, 1),
            (4, 19),
            (4, 22),
            (5, 6),
            (5, 27),
            (8, 26),
            (12, 25),
            (12, 26),
        ],
    ),
    (
        2020,
        &[
            (1, 1),
            (4, 10),
            (4, 13),
            (5, 8),
            (5, 25),
            (8, 31),
            (12, 25),
            (12, 28),
        ],
    ),
    (
        2021,
        &[
            (1, 1),
            (4, 2),
            (4, 5),
            (5, 3),
            (5, 31),
            (8, 30),
            (12, 27),
            (12, 28),
        ],
    ),
    (
        2022,
        &[
            (1, 3),
            (4, 15),
            (4, 18),
            (5, 2),
            (6, 2),
            (6, 3),
            (8, 29),
            (9, 19),
            (12, 26),
            (12, 27),
        ],
    ),
    (
        2023,
        &[
            (1, 2),
            (4, 7),
            (4, 10),
            (5, 1),
            (5, 8),
            (5, 29),
            (8, 28),
            (12, 25),
            (12, 26),
        ],
    ),
    (
        2024,
        &[
            (1, 1),
            (3, 29),
            (4, 1),
            (5, 6),
            (5, 27),
            (8, 26),
            (12, 25),
            (12, 26),
        ],
    ),
    (
        2025,
        &[
            (1, 1),
            (4, 18),
            (4, 21),
            (5, 5),
            (5, 26),
            (8, 25),
            (12, 25),
            (12, 26),
        ],
    ),
    (
        2026,
        &[
            (1, 1),
            (4, 3),
            (4, 6),
            (5, 4),
            (5, 25),
            (8, 31),
            (12, 25),
            (12, 28),
        ],
    ),
    (
        2027,
        &[
            (1, 1),
            (3, 26),
            (3, 29),
            (5, 3),
            (5, 31),
            (8, 30),
            (12, 27),
            (12, 28),
        ],
    ),
    (
        2028,
        &[
            (1, 3),
            (4, 14),
            (4, 17),
            (5, 1),
            (5, 29),
            (8, 28),
            (12, 25),
            (12, 26),
        ],
    ),
];

fn holidays() -> BankHolidays {
    load_embedded().expect("valid rules").bank_holidays
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

#[test]
fn the_published_dates_2018_to_2028_exactly() {
    let h = holidays();
    for (year, dates) in PUBLISHED {
        let expected: Vec<NaiveDate> = dates.iter().map(|&(m, d)| day(*year, m, d)).collect();
        let computed: Vec<NaiveDate> = h.in_year(*year).iter().map(|b| b.date).collect();
        assert_eq!(computed, expected, "{year}");
        assert!(h.doubt(day(*year, 6, 1)).is_none(), "{year} is vouched for");
    }
}

#[test]
fn easter_sundays_2018_to_2028() {
    for (year, dates) in PUBLISHED {
        // Good Friday is the second date of every published year.
        let good_friday = day(*year, dates[1].0, dates[1].1);
        assert_eq!(
            easter_sunday(*year) - chrono::Duration::days(2),
            good_friday,
            "{year}"
        );
    }
}

#[test]
fn names_say_what_the_day_is() {
    let h = holidays();
    assert_eq!(
        h.on(day(2026, 12, 28)).map(|b| b.name),
        Some("Boxing Day (substitute day)".to_string())
    );
    assert_eq!(
        h.on(day(2023, 5, 8)).map(|b| b.name),
        Some("Bank holiday for the coronation of King Charles III".to_string())
    );
    assert_eq!(
        h.on(day(2020, 5, 8)).map(|b| b.name),
        Some("Early May bank holiday (VE day)".to_string())
    );
    assert!(!h.contains(day(2020, 5, 4)), "moved to VE day");
    assert!(!h.contains(day(2022, 5, 30)), "moved for the Jubilee");
}

#[test]
fn any_year_is_computed_and_years_beyond_the_data_carry_a_warning() {
    let h = holidays();
    // 25 December 2029 is a Tuesday: Christmas Day by the rules, but not vouched for.
    assert!(h.contains(day(2029, 12, 25)));
    let warning = h.doubt(day(2029, 12, 25)).expect("2029 is beyond the data");
    assert!(warning.contains("cannot be sure"), "{warning}");
    assert!(warning.contains("2028"), "{warning}");
    assert!(h.doubt(day(2031, 3, 4)).is_some());
    assert!(h.doubt(day(2017, 3, 4)).is_some(), "before the first year");
    // 2031: Easter Sunday 13 April, so Good Friday 11 April and Easter Monday 14 April.
    assert!(h.contains(day(2031, 4, 11)) && h.contains(day(2031, 4, 14)));
    assert_eq!(h.in_year(2031).len(), 8);
}

#[test]
fn a_bad_change_is_refused_with_its_place() {
    use frontdoor::rules::load::{load_sources, EMBEDDED};
    let edit = |from: &str, to: &str| -> String {
        let files = EMBEDDED
            .iter()
            .map(|(n, t)| {
                let t = if *n == "bank-holidays.toml" {
                    t.replacen(from, to, 1)
                } else {
                    t.to_string()
                };
                (n.to_string(), t)
            })
            .collect();
        match load_sources(files) {
            Ok(_) => panic!("{to:?} was accepted"),
            Err(e) => e.to_string(),
        }
    };
    let msg = edit("from = \"2020-05-04\"", "from = \"2020-05-05\"");
    assert!(msg.contains("moved 2020-05-05"), "{msg}");
    let msg = edit("date = \"2023-05-08\"", "date = \"2023-05-29\"");
    assert!(msg.contains("already a bank holiday"), "{msg}");
    let msg = edit("horizon = 2", "horizon = 40");
    assert!(msg.contains("horizon"), "{msg}");
}
