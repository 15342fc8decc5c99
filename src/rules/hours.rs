//! Opening hours as the documents state them, e.g. `mon-thu 08:30-17:00`.
//!
//! A contact's hours are a list of such spans. Bank holidays are never inside a span: the
//! documents that state hours send callers to the out-of-hours team on bank holidays.

use chrono::{Datelike, NaiveTime, Weekday};
use std::fmt;

/// A set of weekdays, as a bit mask (Monday = bit 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days(u8);

impl Days {
    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }
}

/// One span of opening hours: some weekdays, from `open` to `close` local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    /// The days it applies to.
    pub days: Days,
    /// Opening time, inclusive.
    pub open: NaiveTime,
    /// Closing time, exclusive.
    pub close: NaiveTime,
}

/// Why an hours string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hours {text:?}: {reason} (expected e.g. \"mon-fri 09:00-17:00\")")]
pub struct HoursError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

impl OpeningHours {
    /// Parses `DAYS HH:MM-HH:MM` where DAYS is `mon`, `mon-fri` or `sat,sun`.
    pub fn parse(text: &str) -> Result<Self, HoursError> {
        let err = |reason: &str| HoursError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = text.split_whitespace();
        let (Some(days), Some(times), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err(
                "needs a day range and a time range separated by one space",
            ));
        };
        let mut mask = 0u8;
        for piece in days.to_ascii_lowercase().split(',') {
            let (from, to) = match piece.split_once('-') {
                Some((a, b)) => (a, b),
                None => (piece, piece),
            };
            let (Some(from), Some(to)) = (weekday(from), weekday(to)) else {
                return Err(err("unknown day (use mon tue wed thu fri sat sun)"));
            };
            let (a, b) = (from.num_days_from_monday(), to.num_days_from_monday());
            if a > b {
                return Err(err("day range runs backwards"));
            }
            for d in a..=b {
                mask |= 1 << d;
            }
        }
        let Some((open, close)) = times.split_once('-') else {
            return Err(err("time range needs a '-'"));
        };
        let parse_time = |t: &str| {
            NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| err("times must be HH:MM, 24-hour"))
        };
        let (open, close) = (parse_time(open)?, parse_time(close)?);
        if open >= close {
            return Err(err("closing time must be after opening time"));
        }
        Ok(OpeningHours {
            days: Days(mask),
            open,
            close,
        })
    }

    /// Whether the span covers this local date and time (bank holidays are checked by the caller).
    pub fn covers(&self, at: chrono::NaiveDateTime) -> bool {
        self.days.contains(at.weekday()) && at.time() >= self.open && at.time() < self.close
    }
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let days: Vec<&str> = (0..7)
            .filter(|d| self.days.0 & (1 << d) != 0)
            .map(|d| NAMES[d as usize])
            .collect();
        let days = match days.as_slice() {
            [one] => one.to_string(),
            [first, .., last]
                if days.len() == (self.days.0.count_ones() as usize) && is_run(self.days.0) =>
            {
                format!("{first}-{last}")
            }
            _ => days.join(","),
        };
        write!(
            f,
            "{days} {}-{}",
            self.open.format("%H:%M"),
            self.close.format("%H:%M")
        )
    }
}

fn is_run(mask: u8) -> bool {
    let shifted = mask >> mask.trailing_zeros();
    shifted & (shifted + 1) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn parses_ranges_and_lists() {
        let h = OpeningHours::parse("mon-thu 08:30-17:00").unwrap();
        assert!(h.days.contains(Weekday::Mon) && h.days.contains(Weekday::Thu));
        assert!(!h.days.contains(Weekday::Fri));
        assert_eq!(h.to_string(), "Mon-Thu 08:30-17:00");
        let h = OpeningHours::parse("sat,sun 10:00-12:00").unwrap();
        assert_eq!(h.to_string(), "Sat-Sun 10:00-12:00");
        let h = OpeningHours::parse("mon,wed 10:00-12:00").unwrap();
        assert_eq!(h.to_string(), "Mon,Wed 10:00-12:00");
    }

    #[test]
    fn rejects_bad_hours() {
        for bad in [
            "",
            "mon-fri",
            "mon-fri 9-5",
            "fri-mon 09:00-17:00",
            "mon 17:00-09:00",
            "xyz 09:00-10:00",
            "mon 25:00-26:00",
        ] {
            assert!(OpeningHours::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn covers_is_half_open() {
        let h = OpeningHours::parse("fri 08:30-16:30").unwrap();
        let fri = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert!(h.covers(fri.and_hms_opt(8, 30, 0).unwrap()));
        assert!(h.covers(fri.and_hms_opt(16, 29, 0).unwrap()));
        assert!(!h.covers(fri.and_hms_opt(16, 30, 0).unwrap()));
        assert!(!h.covers(fri.and_hms_opt(16, 45, 0).unwrap()));
    }
}
