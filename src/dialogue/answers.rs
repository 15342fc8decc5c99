//! Answers parsed into types at the edge: names, phone numbers and emails, dates of birth and
//! ages, addresses with UK postcodes, yes/no and "don't know".
//!
//! Every parser returns either a value that is valid by construction or a [`Hint`]: a specific,
//! plain sentence saying what was wrong and what would do, which the engine shows before asking
//! again. An unclear answer is never an error of the program.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};

use super::Choice;
use serde::{Deserialize, Serialize};

/// Why an answer could not be taken, and what would do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint(pub String);

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hint(text: impl Into<String>) -> Hint {
    Hint(text.into())
}

/// The longest answer taken for a short question (the concerns take much more).
pub const MAX_SHORT_ANSWER: usize = 1_000;

/// Lower-cased text with punctuation at the ends and repeated spaces removed, for comparisons.
pub fn normalise(text: &str) -> String {
    let lower = text.trim().to_lowercase().replace(['’', '‘'], "'");
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric());
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the answer means "I don't know".
pub fn is_dont_know(text: &str) -> bool {
    matches!(
        normalise(text).as_str(),
        "don't know"
            | "dont know"
            | "do not know"
            | "dk"
            | "not known"
            | "unknown"
            | "no idea"
            | "not sure"
            | "i don't know"
            | "i dont know"
    )
}

/// Yes or no.
pub fn parse_yes_no(text: &str) -> Result<bool, Hint> {
    match normalise(text).as_str() {
        "y" | "yes" | "yeah" | "yep" | "yes please" | "true" | "ok" | "okay" => Ok(true),
        "n" | "no" | "nope" | "no thanks" | "false" | "not now" => Ok(false),
        _ => Err(hint("Please answer yes or no.")),
    }
}

/// Yes or no, also accepting the `yes_words` and `no_words` of a particular question; `None`
/// when the answer is neither.
pub fn parse_yes_no_or(text: &str, yes_words: &[&str], no_words: &[&str]) -> Option<bool> {
    let n = normalise(text);
    if yes_words.contains(&n.as_str()) {
        return Some(true);
    }
    if no_words.contains(&n.as_str()) {
        return Some(false);
    }
    parse_yes_no(text).ok()
}

/// The answer to the follow-up question about `factor`: the answer as recorded, and whether
/// it is the worrying one. "Don't know" is accepted and is not worrying (the tier already
/// given, the higher of two, stands). A yes or no may be followed by words ("yes, her
/// stepdad"). For the child's age, an age or date of birth (the concern is then read again
/// with it, so the answer itself is not judged here).
pub fn parse_follow_up(
    factor: crate::rules::needs::Factor,
    text: &str,
    today: NaiveDate,
) -> Result<(String, bool), Hint> {
    let t = text.trim();
    if is_dont_know(t) || normalise(t) == "dont_know" {
        return Ok(("don't know".into(), false));
    }
    if t.chars().count() > MAX_SHORT_ANSWER {
        return Err(hint("Please answer more briefly here."));
    }
    if factor == crate::rules::needs::Factor::Age {
        let age = parse_child_age(t, today)?;
        return Ok((age.describe(today), false));
    }
    let n = normalise(t);
    let first = n
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .next()
        .unwrap_or("");
    let worrying = match parse_yes_no(first) {
        Ok(b) => b,
        Err(_) => match parse_yes_no(&n) {
            Ok(b) => b,
            Err(_) => {
                return Err(hint(
                    "Please start with yes, no or \"don't know\" (you can add words after it, e.g. \"yes, her stepdad\").",
                ))
            }
        },
    };
    Ok((t.to_string(), worrying))
}

/// A confirmation: `Some(true)` for yes ("yes", "ok", "correct", "confirm", "done", a button's
/// "confirm"), `Some(false)` for none ("none", "no", "none of these fit"), else `None`.
pub fn parse_confirm(text: &str) -> Option<bool> {
    match normalise(text).as_str() {
        "yes"
        | "y"
        | "confirm"
        | "confirmed"
        | "correct"
        | "ok"
        | "okay"
        | "that's right"
        | "right"
        | "yes these fit"
        | "yes show the outcome"
        | "done" => Some(true),
        "none" | "no" | "none of these" | "none of these fit" | "none fit" => Some(false),
        _ => None,
    }
}

/// A choice's key from a number, the key itself, or the label's words.
pub fn resolve_choice(choices: &[Choice], text: &str) -> Option<String> {
    let n = normalise(text);
    if n.is_empty() {
        return None;
    }
    if let Ok(i) = n.parse::<usize>() {
        return i
            .checked_sub(1)
            .and_then(|i| choices.get(i))
            .map(|c| c.key.clone());
    }
    if let Some(c) = choices
        .iter()
        .find(|c| c.key == text.trim() || c.key == n || normalise(&c.label) == n)
    {
        return Some(c.key.clone());
    }
    if n.len() >= 3 {
        let starts: Vec<&Choice> = choices
            .iter()
            .filter(|c| normalise(&c.label).starts_with(&n))
            .collect();
        if starts.len() == 1 {
            return Some(starts[0].key.clone());
        }
    }
    // Common ways of saying the consent and yes/no choices.
    let synonyms: &[(&str, &[&str])] = &[
        ("yes", &["y", "yeah", "yep"]),
        ("no", &["n", "nope", "not yet"]),
        (
            "agreed",
            &["agreed", "they agree", "consent given", "yes they agree"],
        ),
        ("refused", &["refused", "they refused", "consent refused"]),
        ("not_yet", &["not asked", "not yet", "not yet asked"]),
        ("not_sought", &["not sought", "would put the child at risk"]),
        ("i_am", &["i am", "me", "i am the dsl", "i'm the dsl"]),
    ];
    synonyms
        .iter()
        .filter(|(_, words)| words.contains(&n.as_str()))
        .find_map(|(key, _)| choices.iter().find(|c| c.key == *key))
        .map(|c| c.key.clone())
}

/// `text` after one of `words` (a whole word at its start), if it starts with one.
pub fn strip_word<'t>(text: &'t str, words: &[&str]) -> Option<&'t str> {
    words.iter().find_map(|w| {
        text.strip_prefix(w)
            .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    })
}

/// Short free text: not empty, not enormous.
pub fn parse_text(text: &str) -> Result<String, Hint> {
    let t = text.trim();
    if t.is_empty() {
        return Err(hint("The answer was empty. Please type a short answer."));
    }
    if t.chars().count() > MAX_SHORT_ANSWER {
        return Err(hint(format!(
            "That is longer than this question needs ({} characters; up to {MAX_SHORT_ANSWER} are kept here). Please give a shorter answer; you can describe your concerns in full later.",
            t.chars().count()
        )));
    }
    Ok(t.to_string())
}

/// A person's name. Anonymous answers are refused: front doors do not take anonymous consultations.
pub fn parse_name(text: &str) -> Result<String, Hint> {
    let t = parse_text(text)?;
    let n = normalise(&t);
    if matches!(
        n.as_str(),
        "anonymous"
            | "anon"
            | "n/a"
            | "na"
            | "none"
            | "no"
            | "prefer not to say"
            | "rather not say"
            | "x"
    ) {
        return Err(hint("Front doors do not take anonymous consultations: please give a name (the front door needs to know who it is advising and about whom)."));
    }
    if t.chars().count() > 100 {
        return Err(hint("A name of up to 100 characters, please."));
    }
    if t.chars().any(|c| c.is_ascii_digit()) {
        return Err(hint(
            "A name should not contain digits. Please type the name, e.g. \"Sam Fictional\".",
        ));
    }
    if !t.chars().any(char::is_alphabetic) {
        return Err(hint("Please type a name with letters in it."));
    }
    if t.chars().any(|c| {
        !(c.is_alphabetic()
            || c == ' '
            || c == '-'
            || c == '\''
            || c == '.'
            || c == '’'
            || c == '('
            || c == ')'
            || c == ',')
    }) {
        return Err(hint(
            "A name can have letters, spaces, hyphens and apostrophes. Please type the name only.",
        ));
    }
    Ok(t.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// How the front door can reach the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ContactDetail {
    /// A UK phone number, as digits grouped for reading.
    Phone(String),
    /// An email address.
    Email(String),
}

impl fmt::Display for ContactDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactDetail::Phone(p) | ContactDetail::Email(p) => f.write_str(p),
        }
    }
}

/// A UK phone number or an email address.
pub fn parse_contact(text: &str) -> Result<ContactDetail, Hint> {
    let t = text.trim();
    if t.is_empty() {
        return Err(hint("Please give a phone number or an email address: front doors need to be able to call you back."));
    }
    if t.contains('@') {
        return parse_email(t).map(ContactDetail::Email);
    }
    parse_phone(t).map(ContactDetail::Phone)
}

fn parse_email(t: &str) -> Result<String, Hint> {
    let bad = || {
        hint(format!(
            "\"{t}\" does not look like an email address (it should be like name@example.org)."
        ))
    };
    if t.chars().any(char::is_whitespace) || t.len() > 254 {
        return Err(bad());
    }
    let (local, domain) = t.rsplit_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || local.contains('@') || !domain_ok {
        return Err(bad());
    }
    Ok(t.to_string())
}

fn parse_phone(t: &str) -> Result<String, Hint> {
    if t.chars().any(char::is_alphabetic) {
        return Err(hint(format!(
            "\"{t}\" has letters in it: a phone number has only digits (spaces are fine), e.g. 01632 960123. Or give an email address."
        )));
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'))
    {
        return Err(hint("A phone number has only digits, spaces and perhaps +44, e.g. 01632 960123. Or give an email address."));
    }
    let mut digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if t.trim_start().starts_with('+') {
        if !digits.starts_with("44") {
            return Err(hint(
                "Please give a UK number (starting 0 or +44), or an email address.",
            ));
        }
        digits = format!(
            "0{}",
            digits.trim_start_matches("44").trim_start_matches('0')
        );
    }
    if !digits.starts_with('0') {
        return Err(hint(
            "A UK phone number starts with 0 (or +44), e.g. 01632 960123 or 07700 900123.",
        ));
    }
    if !(digits.len() == 11 || (digits.len() == 10 && digits.starts_with("01"))) {
        return Err(hint(format!(
            "That number has {} digits; UK numbers have 11 (a few have 10), e.g. 01632 960123.",
            digits.len()
        )));
    }
    let (a, b) = if digits.starts_with("02") {
        digits.split_at(3)
    } else {
        digits.split_at(5)
    };
    Ok(format!("{a} {b}"))
}

/// The child's age as given: a date of birth, an age, or unborn with a due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ChildAge {
    /// A date of birth.
    Born {
        /// The date of birth.
        dob: NaiveDate,
    },
    /// An age in whole years (0-18).
    Years {
        /// Years.
        years: u8,
    },
    /// An age under two, in months.
    Months {
        /// Months.
        months: u8,
    },
    /// Under a year, in days ("3 weeks", "2 days", "newborn" = 0).
    Days {
        /// Days.
        days: u16,
    },
    /// A school year, which is an age range: Reception (0) is 4-5, Year 1 is 5-6 ... Year 13
    /// is 17-18 (England and Wales).
    SchoolYear {
        /// The year group (0 for Reception).
        year: u8,
    },
    /// Not yet born.
    Unborn {
        /// The due date.
        due: NaiveDate,
    },
}

impl ChildAge {
    /// Age in whole years on `today`, when known (unborn is `None`).
    pub fn years_on(&self, today: NaiveDate) -> Option<u32> {
        match self {
            ChildAge::Born { dob } => today.years_since(*dob),
            ChildAge::Years { years } => Some(u32::from(*years)),
            ChildAge::Months { months } => Some(u32::from(*months) / 12),
            ChildAge::Days { days } => Some(u32::from(*days) / 365),
            // The youngest age in the year group: the safe side for how vulnerable the child is.
            ChildAge::SchoolYear { year } => Some(u32::from(*year) + 4),
            ChildAge::Unborn { .. } => None,
        }
    }

    /// The age as shown in summaries and records, e.g. "12/05/2017 (age 8)".
    pub fn describe(&self, today: NaiveDate) -> String {
        match self {
            ChildAge::Born { dob } => {
                let age = match today.years_since(*dob) {
                    Some(0) => {
                        let months = months_between(*dob, today);
                        format!("{months} month{}", if months == 1 { "" } else { "s" })
                    }
                    Some(y) => format!("age {y}"),
                    None => "age unknown".into(),
                };
                format!("born {} ({age})", dob.format("%d/%m/%Y"))
            }
            ChildAge::Years { years } => format!("age {years}"),
            ChildAge::Months { months } => {
                format!("{months} month{} old", if *months == 1 { "" } else { "s" })
            }
            ChildAge::Days { days: 0 } => "newborn".into(),
            ChildAge::Days { days } if days % 7 == 0 => {
                let w = days / 7;
                format!("{w} week{} old", if w == 1 { "" } else { "s" })
            }
            ChildAge::Days { days } => {
                format!("{days} day{} old", if *days == 1 { "" } else { "s" })
            }
            ChildAge::SchoolYear { year: 0 } => "Reception (age 4-5)".into(),
            ChildAge::SchoolYear { year } => format!("Year {year} (age {}-{})", year + 4, year + 5),
            ChildAge::Unborn { due } => format!("unborn, due {}", due.format("%d/%m/%Y")),
        }
    }
}

fn months_between(from: NaiveDate, to: NaiveDate) -> u32 {
    let mut m = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
    if to.day() < from.day() {
        m -= 1;
    }
    m.max(0) as u32
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A date as people type it: 12/05/2017, 12-5-17, 2017-05-12, 12 May 2017. Impossible dates
/// (31/02/2019) get a hint naming the problem.
pub fn parse_date(text: &str) -> Result<NaiveDate, Hint> {
    let t = normalise(text);
    let bad = || {
        hint(format!(
            "\"{}\" is not a date I can read. Please use day/month/year, e.g. 12/05/2017.",
            text.trim()
        ))
    };
    let parts: Vec<&str> = t
        .split(['/', '-', '.', ' ', ','])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let month_word = |s: &str| {
        let s = s.trim_end_matches('.');
        MONTHS
            .iter()
            .position(|m| s.len() >= 3 && m.starts_with(s))
            .map(|i| i as u32 + 1)
    };
    let day_num = |s: &str| num(s.trim_end_matches(|c: char| c.is_alphabetic()));
    let (day, month, year, year_text) =
        if parts[0].len() == 4 && parts[0].chars().all(|c| c.is_ascii_digit()) {
            (
                num(parts[2]).ok_or_else(bad)?,
                num(parts[1]).ok_or_else(bad)?,
                num(parts[0]).ok_or_else(bad)?,
                parts[0],
            )
        } else {
            let month = num(parts[1])
                .or_else(|| month_word(parts[1]))
                .ok_or_else(bad)?;
            (
                day_num(parts[0]).ok_or_else(bad)?,
                month,
                num(parts[2]).ok_or_else(bad)?,
                parts[2],
            )
        };
    let year = match year_text.len() {
        4 => year as i32,
        2 => 2000 + year as i32,
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&month) {
        return Err(hint(format!(
            "There is no month {month}: please use day/month/year, e.g. 12/05/2017."
        )));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let last = (28..=31).rev().find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some()).unwrap_or(28);
        hint(format!(
            "{} is not a date: {} {year} has {last} days. Please check the date of birth (day/month/year).",
            text.trim(),
            capitalise(MONTHS[(month - 1) as usize])
        ))
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A date of birth, an age (0-18, or months or weeks for a baby), or unborn with a due date.
/// A school year group: "Year 4", "Y10", "yr 6", "year r", "reception". `Some(None)` when it
/// looks like a year group but the number is not one.
fn school_year(t: &str) -> Option<Option<u8>> {
    if matches!(t, "reception" | "year r" | "yr r" | "y r") {
        return Some(Some(0));
    }
    let rest = ["year ", "year", "yr ", "yr", "y ", "y"]
        .iter()
        .find_map(|p| t.strip_prefix(p))?;
    let rest = rest.trim();
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) || rest.len() > 2 {
        return None;
    }
    Some(rest.parse().ok())
}

/// "15yo" -> "15 yo", "3weeks" -> "3 weeks": a space between a number and an age unit joined
/// to it (dates such as "12th may" are left alone).
fn split_number_units(t: &str) -> String {
    const UNITS: &[&str] = &[
        "yo", "y", "yr", "yrs", "year", "years", "m", "mo", "mth", "mths", "month", "months", "w",
        "wk", "wks", "week", "weeks", "d", "day", "days",
    ];
    t.split(' ')
        .map(|w| {
            let digits = w.chars().take_while(|c| c.is_ascii_digit()).count();
            let (n, unit) = w.split_at(digits);
            if digits > 0 && UNITS.contains(&unit) {
                format!("{n} {unit}")
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn parse_child_age(text: &str, today: NaiveDate) -> Result<ChildAge, Hint> {
    let t = normalise(text);
    if t.is_empty() {
        return Err(hint(
            "Please give a date of birth (e.g. 12/05/2017) or an age (e.g. 8), or \"don't know\".",
        ));
    }
    if t.contains("unborn")
        || t.contains("pregnan")
        || t.starts_with("due")
        || t.contains("not born")
        || t.contains("not yet born")
    {
        return parse_due(&t, today);
    }
    if matches!(
        t.as_str(),
        "newborn" | "new born" | "new-born" | "a newborn" | "just born" | "born today"
    ) {
        return Ok(ChildAge::Days { days: 0 });
    }
    if let Some(year) = school_year(&t) {
        return match year {
            Some(y) if y <= 13 => Ok(ChildAge::SchoolYear { year: y }),
            _ => Err(hint(
                "School years run from Reception to Year 13. Please give the year group (e.g. Year 4), an age or a date of birth.",
            )),
        };
    }
    // "15yo", "3weeks": a number joined to its unit.
    let t = split_number_units(&t);
    // A bare number, or "8 years", "age 8", "8 yrs old", "3 months", "6 weeks".
    let words: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    let numbers: Vec<u32> = words.iter().filter_map(|w| w.parse::<u32>().ok()).collect();
    let looks_like_date = t.contains('/')
        || words
            .iter()
            .any(|w| w.len() == 4 && w.parse::<u32>().is_ok())
        || words.len() >= 3
            && words.iter().any(|w| {
                MONTHS.iter().any(|m| w.len() >= 3 && m.starts_with(*w)) && !w.starts_with("mon")
            });
    if !looks_like_date && numbers.len() == 1 {
        let n = numbers[0];
        let unit = words.iter().find(|w| {
            w.parse::<u32>().is_err()
                && !matches!(**w, "age" | "aged" | "old" | "is" | "about" | "around")
        });
        return match unit.map(|u| u.trim_end_matches('s')) {
            None | Some("year") | Some("yr") | Some("y") | Some("yo") | Some("year old") => {
                if n >= 18 {
                    Err(hint(format!(
                        "{n} is 18 or older: the front door works with children and young people under 18. Please check the age, or give the date of birth."
                    )))
                } else {
                    Ok(ChildAge::Years { years: n as u8 })
                }
            }
            Some("month") | Some("mth") | Some("mo") | Some("m") => {
                if n / 12 >= 18 {
                    Err(hint("That is 18 or older. Please check the age."))
                } else if n >= 24 {
                    Ok(ChildAge::Years { years: (n / 12) as u8 })
                } else {
                    Ok(ChildAge::Months { months: n as u8 })
                }
            }
            Some("week") | Some("wk") | Some("w") | Some("day") | Some("d") => {
                let days = if unit.is_some_and(|u| u.starts_with('w')) { n * 7 } else { n };
                if days > 730 {
                    Err(hint("Please give the age in years or months, or the date of birth."))
                } else if days < 365 {
                    Ok(ChildAge::Days { days: days as u16 })
                } else {
                    Ok(ChildAge::Months { months: (days / 30) as u8 })
                }
            }
            Some(_) => Err(hint("Please give an age in years (e.g. 8), months (e.g. 3 months) or a date of birth (e.g. 12/05/2017).")),
        };
    }
    let dob = parse_date(&t).map_err(|h| {
        if looks_like_date {
            h
        } else {
            hint("Please give a date of birth (e.g. 12/05/2017) or an age (e.g. 8, or 3 months). For an unborn baby, type \"unborn, due\" and the due date.")
        }
    })?;
    if dob > today {
        return Err(hint(format!(
            "{} is in the future. For an unborn baby, type \"unborn, due {}\"; otherwise check the date of birth.",
            dob.format("%d/%m/%Y"),
            dob.format("%d/%m/%Y")
        )));
    }
    match today.years_since(dob) {
        Some(y) if y >= 18 => Err(hint(format!(
            "A child born on {} would be {y} now: the front door works with children and young people under 18. Please check the year.",
            dob.format("%d/%m/%Y")
        ))),
        _ => Ok(ChildAge::Born { dob }),
    }
}

fn parse_due(t: &str, today: NaiveDate) -> Result<ChildAge, Hint> {
    let rest: String = t
        .replace("unborn", " ")
        .replace("pregnancy", " ")
        .replace("pregnant", " ")
        .replace("not yet born", " ")
        .replace("not born", " ")
        .replace("due date", " ")
        .replace("due", " ")
        .replace("baby", " ")
        .replace(" on ", " ")
        .replace(" in ", " ")
        .replace(',', " ");
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(hint(
            "For an unborn baby, please give the due date too, e.g. \"unborn, due 14/03/2026\".",
        ));
    }
    let due = parse_date(rest)?;
    let latest = today.checked_add_months(Months::new(10)).unwrap_or(today);
    let earliest = today.checked_sub_months(Months::new(1)).unwrap_or(today);
    if due < earliest {
        return Err(hint(format!(
            "A due date of {} has passed: if the baby has been born, give the date of birth instead.",
            due.format("%d/%m/%Y")
        )));
    }
    if due > latest {
        return Err(hint(format!(
            "A due date of {} is more than ten months away. Please check it.",
            due.format("%d/%m/%Y")
        )));
    }
    Ok(ChildAge::Unborn { due })
}

/// An address, with its UK postcode found and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The address as given.
    pub text: String,
    /// The postcode, upper case with one space, e.g. "CV34 4RL".
    pub postcode: String,
}

/// An address containing a UK postcode.
pub fn parse_address(text: &str) -> Result<Address, Hint> {
    let t = parse_text(text)?;
    let tokens: Vec<String> = t
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_ascii_uppercase()
        })
        .collect();
    // The postcode is usually last: look from the end for "OUT IN" or "OUTIN".
    for i in (0..tokens.len()).rev() {
        if i + 1 < tokens.len() {
            if let Some(pc) = postcode(&tokens[i], &tokens[i + 1]) {
                return Ok(Address {
                    text: t,
                    postcode: pc,
                });
            }
        }
        let tok = &tokens[i];
        if (5..=7).contains(&tok.len()) && tok.is_ascii() {
            let (out, inw) = tok.split_at(tok.len() - 3);
            if let Some(pc) = postcode(out, inw) {
                return Ok(Address {
                    text: t,
                    postcode: pc,
                });
            }
        }
    }
    Err(hint(
        "I could not find a UK postcode in that address. A postcode looks like CV34 4RL or M5 3LN; please add it, or type \"don't know\" if you do not have it.",
    ))
}

/// A UK postcode from its outward and inward parts, normalised, if it can be one.
pub fn postcode(outward: &str, inward: &str) -> Option<String> {
    let o: Vec<char> = outward.to_ascii_uppercase().chars().collect();
    let i: Vec<char> = inward.to_ascii_uppercase().chars().collect();
    let a = |c: &char| c.is_ascii_uppercase();
    let d = |c: &char| c.is_ascii_digit();
    let inward_ok =
        i.len() == 3 && d(&i[0]) && i[1..].iter().all(|c| a(c) && !"CIKMOV".contains(*c));
    let outward_ok = match o.as_slice() {
        [x, y] => a(x) && d(y),
        [x, y, z] => a(x) && ((d(y) && d(z)) || (a(y) && d(z)) || (d(y) && a(z))),
        [w, x, y, z] => a(w) && a(x) && d(y) && (d(z) || a(z)),
        _ => false,
    };
    let first_ok = o.first().is_some_and(|c| !"QVX".contains(*c));
    let special = outward.eq_ignore_ascii_case("GIR") && inward.eq_ignore_ascii_case("0AA");
    ((inward_ok && outward_ok && first_ok) || special).then(|| {
        format!(
            "{} {}",
            outward.to_ascii_uppercase(),
            inward.to_ascii_uppercase()
        )
    })
}

/// Words a worried caller may type alone, capitalised, at "What is worrying you?": never taken
/// for a name. (A name check, not a reading of the concern: the understanding reads these.)
const CONCERN_WORDS: &[&str] = &[
    "abuse",
    "abused",
    "absent",
    "absence",
    "alcohol",
    "angry",
    "anxious",
    "anxiety",
    "assault",
    "assaulted",
    "attendance",
    "behaviour",
    "bruise",
    "bruised",
    "bruises",
    "bruising",
    "bullied",
    "bullying",
    "burn",
    "burns",
    "cce",
    "concern",
    "concerned",
    "concerns",
    "crying",
    "cse",
    "cuts",
    "depressed",
    "dirty",
    "disclosure",
    "domestic",
    "drinking",
    "drugs",
    "eviction",
    "excluded",
    "exploitation",
    "exploited",
    "fgm",
    "fighting",
    "frightened",
    "gangs",
    "grooming",
    "groomed",
    "harm",
    "help",
    "homeless",
    "hungry",
    "hurt",
    "injured",
    "injury",
    "late",
    "lateness",
    "missing",
    "neglect",
    "neglected",
    "pregnant",
    "rape",
    "sad",
    "scared",
    "self-harm",
    "selfharm",
    "sexting",
    "smell",
    "smells",
    "smelly",
    "suicidal",
    "suicide",
    "thin",
    "tired",
    "truancy",
    "truanting",
    "unsafe",
    "violence",
    "violent",
    "weight",
    "worried",
    "worry",
    "yes",
    "no",
    "none",
    "hello",
    "hi",
    "help",
];

/// Whether `name` starts with a title ("Mr Smith", "Dr Khan"): an adult, not a child.
pub fn is_title(name: &str) -> bool {
    name.split_whitespace().next().is_some_and(|w| {
        matches!(
            w.trim_end_matches('.').to_lowercase().as_str(),
            "mr" | "mrs" | "ms" | "miss" | "mx" | "dr" | "prof" | "sir" | "dame" | "rev"
        )
    })
}

/// Whether `text`, typed where the concern is asked, is only a person's name ("Tom Smith",
/// "Amelia"): one to three capitalised words of letters (with ' or -), none of them a word a
/// worried caller types alone ("Neglect", "Bruises"). Returns the name as typed. A lower-case
/// name is not recognised (it could as well be a one-word concern), nor is anything longer.
pub fn looks_like_a_name(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', '!']);
    let words: Vec<&str> = t.split_whitespace().collect();
    if words.is_empty() || words.len() > 3 || t.chars().count() > 40 {
        return None;
    }
    let capitalised = |w: &str| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_uppercase)
            && w.chars().count() >= 2
            && w.chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '’' || c == '-')
            && w.chars().any(char::is_lowercase)
    };
    if !words
        .iter()
        .all(|w| capitalised(w) || (is_title(w) && capitalised(w.trim_end_matches('.'))))
    {
        return None;
    }
    if words
        .iter()
        .any(|w| CONCERN_WORDS.contains(&w.to_lowercase().as_str()))
    {
        return None;
    }
    parse_name(t).ok()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_name_alone_is_recognised_and_a_one_word_concern_is_not() {
        for name in [
            "Tom Smith",
            "Amelia",
            "Mary-Jane O'Neill",
            "Tom Smith.",
            "Mr. Smith",
        ] {
            assert!(looks_like_a_name(name).is_some(), "{name}");
        }
        assert!(is_title("Mr. Smith") && is_title("Dr Khan") && !is_title("Tom Smith"));
        for concern in [
            "Neglect",
            "Bruises",
            "Self-harm",
            "Hungry",
            "tom smith",
            "Tom hits his sister",
            "He is hungry",
            "Y10",
            "ALEX",
            "Anonymous",
            "",
        ] {
            assert!(looks_like_a_name(concern).is_none(), "{concern}");
        }
    }

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
    }

    #[test]
    fn dates_reject_impossible_days_with_a_hint() {
        let h = parse_child_age("31/02/2019", today())
            .err()
            .map(|h| h.0)
            .unwrap_or_default();
        assert!(
            h.contains("not a date") && h.contains("February 2019 has 28 days"),
            "{h}"
        );
        let h = parse_child_age("29/02/2020", today());
        assert_eq!(
            h,
            Ok(ChildAge::Born {
                dob: NaiveDate::from_ymd_opt(2020, 2, 29).unwrap_or_default()
            })
        );
        assert!(parse_child_age("12/13/2019", today())
            .err()
            .is_some_and(|h| h.0.contains("no month 13")));
    }

    #[test]
    fn dates_in_several_forms() {
        let d = NaiveDate::from_ymd_opt(2017, 5, 12).unwrap_or_default();
        for t in [
            "12/05/2017",
            "12-5-2017",
            "2017-05-12",
            "12 May 2017",
            "12th may 2017",
            "12.05.17",
        ] {
            assert_eq!(
                parse_child_age(t, today()),
                Ok(ChildAge::Born { dob: d }),
                "{t}"
            );
        }
    }

    #[test]
    fn ages_are_0_to_18() {
        assert_eq!(
            parse_child_age("8", today()),
            Ok(ChildAge::Years { years: 8 })
        );
        assert_eq!(
            parse_child_age("aged 15 years", today()),
            Ok(ChildAge::Years { years: 15 })
        );
        assert_eq!(
            parse_child_age("3 months", today()),
            Ok(ChildAge::Months { months: 3 })
        );
        assert_eq!(
            parse_child_age("6 weeks", today()),
            Ok(ChildAge::Days { days: 42 })
        );
        assert!(parse_child_age("40", today())
            .err()
            .is_some_and(|h| h.0.contains("18 or older")));
        assert!(parse_child_age("12/05/1990", today())
            .err()
            .is_some_and(|h| h.0.contains("under 18")));
        assert!(parse_child_age("12/05/2027", today())
            .err()
            .is_some_and(|h| h.0.contains("future")));
        assert!(parse_child_age("soon", today()).is_err());
    }

    #[test]
    fn school_years_weeks_days_newborn_and_18() {
        let age = |t: &str| parse_child_age(t, today());
        assert_eq!(age("Year 4"), Ok(ChildAge::SchoolYear { year: 4 }));
        assert_eq!(age("Y10"), Ok(ChildAge::SchoolYear { year: 10 }));
        assert_eq!(age("yr 6"), Ok(ChildAge::SchoolYear { year: 6 }));
        assert_eq!(age("Reception"), Ok(ChildAge::SchoolYear { year: 0 }));
        assert!(age("Year 14").is_err());
        assert_eq!(
            ChildAge::SchoolYear { year: 4 }.describe(today()),
            "Year 4 (age 8-9)"
        );
        assert_eq!(ChildAge::SchoolYear { year: 4 }.years_on(today()), Some(8));
        assert_eq!(age("3 weeks"), Ok(ChildAge::Days { days: 21 }));
        assert_eq!(age("2 days"), Ok(ChildAge::Days { days: 2 }));
        assert_eq!(ChildAge::Days { days: 21 }.describe(today()), "3 weeks old");
        assert_eq!(ChildAge::Days { days: 2 }.describe(today()), "2 days old");
        assert_eq!(age("newborn"), Ok(ChildAge::Days { days: 0 }));
        assert_eq!(ChildAge::Days { days: 0 }.describe(today()), "newborn");
        assert_eq!(age("15yo"), Ok(ChildAge::Years { years: 15 }));
        assert_eq!(age("3weeks"), Ok(ChildAge::Days { days: 21 }));
        assert_eq!(age("17"), Ok(ChildAge::Years { years: 17 }));
        for grown in ["18", "19", "18yo"] {
            assert!(
                age(grown)
                    .err()
                    .is_some_and(|h| h.0.contains("18 or older")),
                "{grown}"
            );
        }
        // "8 y" is still 8 years.
        assert_eq!(age("8 y"), Ok(ChildAge::Years { years: 8 }));
    }

    #[test]
    fn unborn_needs_a_plausible_due_date() {
        assert_eq!(
            parse_child_age("unborn, due 14/03/2027", today()),
            Ok(ChildAge::Unborn {
                due: NaiveDate::from_ymd_opt(2027, 3, 14).unwrap_or_default()
            })
        );
        assert!(parse_child_age("unborn", today())
            .err()
            .is_some_and(|h| h.0.contains("due date")));
        assert!(parse_child_age("unborn due 01/01/2020", today())
            .err()
            .is_some_and(|h| h.0.contains("passed")));
        assert!(parse_child_age("pregnant due 01/01/2029", today())
            .err()
            .is_some_and(|h| h.0.contains("ten months")));
    }

    #[test]
    fn postcodes() {
        for (text, pc) in [
            ("12 Example Road, Exampletown CV34 4RL", "CV34 4RL"),
            ("flat 2, 3 high st, m5 3ln", "M5 3LN"),
            ("ME4 4TR", "ME4 4TR"),
            ("1 Road, ST42EE", "ST4 2EE"),
            ("10 Downing Street SW1A 2AA", "SW1A 2AA"),
        ] {
            assert_eq!(
                parse_address(text).map(|a| a.postcode),
                Ok(pc.to_string()),
                "{text}"
            );
        }
        for bad in [
            "12 Example Road",
            "CV34 4CL",
            "QQ1 1AA",
            "12345",
            "Exampletown",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_and_emails() {
        assert_eq!(
            parse_contact("01632 960123"),
            Ok(ContactDetail::Phone("01632 960123".into()))
        );
        assert_eq!(
            parse_contact("+44 7700 900123"),
            Ok(ContactDetail::Phone("07700 900123".into()))
        );
        assert_eq!(
            parse_contact("020 7946 0000"),
            Ok(ContactDetail::Phone("020 79460000".into()))
        );
        assert_eq!(
            parse_contact("sam@example.org"),
            Ok(ContactDetail::Email("sam@example.org".into()))
        );
        assert!(parse_contact("01632 96O123")
            .err()
            .is_some_and(|h| h.0.contains("letters")));
        assert!(parse_contact("12345").is_err());
        assert!(parse_contact("sam@example").is_err());
        assert!(parse_contact("").is_err());
    }

    #[test]
    fn names_are_not_anonymous() {
        assert_eq!(parse_name("  Sam   Fictional "), Ok("Sam Fictional".into()));
        assert_eq!(
            parse_name("Aoife O'Example-Smith"),
            Ok("Aoife O'Example-Smith".into())
        );
        assert!(parse_name("anonymous")
            .err()
            .is_some_and(|h| h.0.contains("anonymous")));
        assert!(parse_name("R2D2").is_err());
        assert!(parse_name("").is_err());
    }

    #[test]
    fn yes_no_and_dont_know() {
        assert_eq!(parse_yes_no("Yes."), Ok(true));
        assert_eq!(parse_yes_no("no"), Ok(false));
        assert!(parse_yes_no("maybe").is_err());
        assert!(is_dont_know("Don’t know"));
        assert!(is_dont_know("not known"));
        assert!(!is_dont_know("I know"));
    }
}
