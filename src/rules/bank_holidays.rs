//! Bank holidays of England and Wales, computed for any year by their rules, with the one-off
//! changes kept as data.
//!
//! The rules (Banking and Financial Dealings Act 1971, Schedule 1, and the usual royal
//! proclamations): New Year's Day, Good Friday, Easter Monday, the first and last Mondays in May,
//! the last Monday in August, Christmas Day and Boxing Day, with a substitute weekday when one of
//! them falls at a weekend. Easter Sunday comes from the Gregorian computus. One-off changes
//! (a holiday moved, an extra holiday for a jubilee, a coronation or a state funeral) are listed in
//! `rules/bank-holidays.toml`.
//!
//! A one-off change can be announced at short notice, so the dates are trusted only for the years
//! the data covers: from `first_year` (the first year checked against the published lists) to
//! `reviewed` + `horizon`. For any other year [`BankHolidays::doubt`] gives a warning to show with
//! the answer, so that the bot never says "open now" about a day it cannot be sure of.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Bank holidays in England and Wales: the rules, and the one-off changes as data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankHolidays {
    /// Where the rules and the one-off changes come from.
    pub source: String,
    /// The first year whose dates were checked against the published lists.
    pub first_year: i32,
    /// The year in which the one-off changes were last reviewed.
    pub reviewed: i32,
    /// How many years after `reviewed` the dates are still trusted.
    pub horizon: i32,
    /// Holidays moved to another day for one year only.
    #[serde(rename = "moved", default)]
    pub moved: Vec<MovedHoliday>,
    /// Extra holidays for one year only.
    #[serde(rename = "extra", default)]
    pub extra: Vec<BankHoliday>,
}

/// One bank holiday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankHoliday {
    /// The date the holiday is observed.
    pub date: NaiveDate,
    /// Its name.
    pub name: String,
}

/// A holiday moved to another day for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovedHoliday {
    /// The day the rules give.
    pub from: NaiveDate,
    /// The day it was moved to.
    pub to: NaiveDate,
    /// Its name on the day it was moved to.
    pub name: String,
}

/// Easter Sunday in the Gregorian calendar (the anonymous Gregorian computus, valid for any year
/// from 1583).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as u32, day as u32)
}

/// A date that is valid by construction; falls back to 1 January of the year (never reached for
/// the days computed here) rather than panicking.
fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| NaiveDate::from_ymd_opt(year, 1, 1))
        .unwrap_or(NaiveDate::MIN)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The first `weekday` on or after `from`.
fn on_or_after(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    from + Duration::days(i64::from(ahead))
}

/// The last `weekday` on or before `to`.
fn on_or_before(to: NaiveDate, weekday: Weekday) -> NaiveDate {
    let back = (7 + to.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
    to - Duration::days(i64::from(back))
}

fn holiday(date: NaiveDate, name: &str) -> BankHoliday {
    BankHoliday {
        date,
        name: name.to_string(),
    }
}

/// The bank holidays the rules give for `year`, before any one-off change, in date order.
pub fn by_rule(year: i32) -> Vec<BankHoliday> {
    let mut out = Vec::with_capacity(8);
    let new_year = date(year, 1, 1);
    out.push(if is_weekend(new_year) {
        holiday(
            on_or_after(new_year, Weekday::Mon),
            "New Year's Day (substitute day)",
        )
    } else {
        holiday(new_year, "New Year's Day")
    });
    let easter = easter_sunday(year);
    out.push(holiday(easter - Duration::days(2), "Good Friday"));
    out.push(holiday(easter + Duration::days(1), "Easter Monday"));
    out.push(holiday(
        on_or_after(date(year, 5, 1), Weekday::Mon),
        "Early May bank holiday",
    ));
    out.push(holiday(
        on_or_before(date(year, 5, 31), Weekday::Mon),
        "Spring bank holiday",
    ));
    out.push(holiday(
        on_or_before(date(year, 8, 31), Weekday::Mon),
        "Summer bank holiday",
    ));
    let christmas = date(year, 12, 25);
    let boxing = date(year, 12, 26);
    match christmas.weekday() {
        // Christmas on Saturday: both move to Monday 27 and Tuesday 28.
        Weekday::Sat => {
            out.push(holiday(
                date(year, 12, 27),
                "Christmas Day (substitute day)",
            ));
            out.push(holiday(date(year, 12, 28), "Boxing Day (substitute day)"));
        }
        // Christmas on Sunday: Boxing Day is Monday 26, Christmas moves to Tuesday 27.
        Weekday::Sun => {
            out.push(holiday(boxing, "Boxing Day"));
            out.push(holiday(
                date(year, 12, 27),
                "Christmas Day (substitute day)",
            ));
        }
        // Christmas on Friday: Boxing Day (Saturday) moves to Monday 28.
        Weekday::Fri => {
            out.push(holiday(christmas, "Christmas Day"));
            out.push(holiday(date(year, 12, 28), "Boxing Day (substitute day)"));
        }
        _ => {
            out.push(holiday(christmas, "Christmas Day"));
            out.push(holiday(boxing, "Boxing Day"));
        }
    }
    out
}

impl BankHolidays {
    /// The bank holidays of `year`: the rules' dates with the one-off changes applied, in date
    /// order. Years outside [`Self::sure_years`] use the rules alone (see [`Self::doubt`]).
    pub fn in_year(&self, year: i32) -> Vec<BankHoliday> {
        let mut out: Vec<BankHoliday> = by_rule(year)
            .into_iter()
            .map(|h| match self.moved.iter().find(|m| m.from == h.date) {
                Some(m) => holiday(m.to, &m.name),
                None => h,
            })
            .collect();
        out.extend(self.extra.iter().filter(|e| e.date.year() == year).cloned());
        out.sort_by_key(|h| h.date);
        out.dedup_by_key(|h| h.date);
        out
    }

    /// The holiday on `date`, if any.
    pub fn on(&self, date: NaiveDate) -> Option<BankHoliday> {
        self.in_year(date.year())
            .into_iter()
            .find(|h| h.date == date)
    }

    /// Whether `date` is a bank holiday.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.on(date).is_some()
    }

    /// The years whose bank holidays the data vouches for.
    pub fn sure_years(&self) -> std::ops::RangeInclusive<i32> {
        self.first_year..=self.reviewed + self.horizon
    }

    /// A warning for a date whose bank holidays cannot be vouched for, `None` when they can.
    pub fn doubt(&self, date: NaiveDate) -> Option<String> {
        let year = date.year();
        let sure = self.sure_years();
        if sure.contains(&year) {
            return None;
        }
        let why = if year < *sure.start() {
            format!("my list of bank holidays starts in {}", sure.start())
        } else {
            format!(
                "my list of bank holidays was checked up to {} (one-off changes, such as an extra holiday for a royal event, may have been announced since)",
                sure.end()
            )
        };
        Some(format!(
            "I cannot be sure whether {} is a bank holiday: {why}. If it is, the front door is closed and the out-of-hours line is the one to call.",
            date.format("%A %-d %B %Y")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computus_gives_the_known_easter_sundays() {
        // Easter Sundays as published (Church of England calendar).
        for (y, m, d) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2018, 4, 1),
            (2019, 4, 21),
            (2024, 3, 31),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(y), date(y, m, d), "{y}");
        }
    }

    #[test]
    fn weekday_helpers() {
        let fri = date(2026, 5, 1);
        assert_eq!(on_or_after(fri, Weekday::Mon), date(2026, 5, 4));
        assert_eq!(
            on_or_after(date(2026, 5, 4), Weekday::Mon),
            date(2026, 5, 4)
        );
        assert_eq!(
            on_or_before(date(2026, 5, 31), Weekday::Mon),
            date(2026, 5, 25)
        );
    }

    #[test]
    fn christmas_substitutes_for_every_weekday() {
        // 2021: Saturday; 2022: Sunday; 2026: Friday; 2028: Monday.
        let dec = |y: i32| -> Vec<NaiveDate> {
            by_rule(y)
                .into_iter()
                .filter(|h| h.date.month() == 12)
                .map(|h| h.date)
                .collect()
        };
        assert_eq!(dec(2021), vec![date(2021, 12, 27), date(2021, 12, 28)]);
        assert_eq!(dec(2022), vec![date(2022, 12, 26), date(2022, 12, 27)]);
        assert_eq!(dec(2026), vec![date(2026, 12, 25), date(2026, 12, 28)]);
        assert_eq!(dec(2028), vec![date(2028, 12, 25), date(2028, 12, 26)]);
    }
}
