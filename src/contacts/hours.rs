//! When a line is open: the hours its document states, the hours the deployment set, or, with
//! neither, an assumption that is always said out loud.
//!
//! A line is never open on a bank holiday. The next opening is found by walking forward day by
//! day in UK local time, so "opens Monday 08:30" is right across weekends, bank holidays and the
//! clock changes.

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime, Weekday};

use crate::rules::{Area, BankHolidays, Contact, OpeningHours, Purpose};

/// The hours assumed for a front door whose document states none and whose deployment set none:
/// weekdays from 08:00 to 18:00, closed at weekends and on bank holidays.
pub const ASSUMED_HOURS: &str = "mon-fri 08:00-18:00";

/// Where the hours used for a line come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursBasis {
    /// The document states them.
    Document,
    /// The deployment set them (`FRONTDOOR_HOURS_<AREA>`).
    Deployment,
    /// Neither: weekdays 08:00-18:00 is assumed, and the answer says so.
    Assumed,
}

/// The opening hours used for one line, and where they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHours {
    /// The spans.
    pub spans: Vec<OpeningHours>,
    /// Where they come from.
    pub basis: HoursBasis,
}

/// Why a line is closed at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// A bank holiday, by name.
    BankHoliday(String),
    /// Saturday or Sunday.
    Weekend,
    /// A weekday outside the hours (night, early morning, evening).
    OutsideHours,
}

impl Closed {
    /// A short stable code, for tables and JSON: `bank-holiday`, `weekend`, `outside-hours`.
    pub fn code(&self) -> &'static str {
        match self {
            Closed::BankHoliday(_) => "bank-holiday",
            Closed::Weekend => "weekend",
            Closed::OutsideHours => "outside-hours",
        }
    }

    /// In words: "it is a bank holiday (Christmas Day)".
    pub fn phrase(&self) -> String {
        match self {
            Closed::BankHoliday(name) => format!("it is a bank holiday ({name})"),
            Closed::Weekend => "it is the weekend".to_string(),
            Closed::OutsideHours => "it is outside its opening hours".to_string(),
        }
    }
}

fn assumed() -> Vec<OpeningHours> {
    OpeningHours::parse(ASSUMED_HOURS).into_iter().collect()
}

fn parsed(contact: &Contact) -> Vec<OpeningHours> {
    contact
        .hours
        .iter()
        .filter_map(|h| OpeningHours::parse(h).ok())
        .collect()
}

/// The hours of the area's front door: the document's, else the deployment's, else assumed.
pub fn front_door_hours(area: &Area) -> LineHours {
    let front = area.contacts_for(Purpose::FrontDoor).next();
    if let Some(front) = front.filter(|c| !c.hours.is_empty()) {
        return LineHours {
            spans: parsed(front),
            basis: HoursBasis::Document,
        };
    }
    if !area.deployment.front_door_hours.is_empty() {
        return LineHours {
            spans: area.deployment.front_door_hours.clone(),
            basis: HoursBasis::Deployment,
        };
    }
    LineHours {
        spans: assumed(),
        basis: HoursBasis::Assumed,
    }
}

/// The hours of any children's services line: its own stated hours, else the front door's (a
/// line without stated hours is taken to keep the same office hours as the front door).
pub fn line_hours(area: &Area, contact: &Contact) -> LineHours {
    if contact.hours.is_empty() {
        front_door_hours(area)
    } else {
        LineHours {
            spans: parsed(contact),
            basis: HoursBasis::Document,
        }
    }
}

impl LineHours {
    /// `Ok(())` when open at `at`, else why it is closed.
    pub fn state(&self, at: NaiveDateTime, holidays: &BankHolidays) -> Result<(), Closed> {
        if let Some(h) = holidays.on(at.date()) {
            return Err(Closed::BankHoliday(h.name));
        }
        if self.spans.iter().any(|s| s.covers(at)) {
            return Ok(());
        }
        if matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
            Err(Closed::Weekend)
        } else {
            Err(Closed::OutsideHours)
        }
    }

    /// The first moment after `at` when the line opens, looking up to three weeks ahead.
    pub fn next_open(&self, at: NaiveDateTime, holidays: &BankHolidays) -> Option<NaiveDateTime> {
        for ahead in 0..21 {
            let day = at.date() + Duration::days(ahead);
            if holidays.contains(day) {
                continue;
            }
            let opening = self
                .spans
                .iter()
                .filter(|s| s.days.contains(day.weekday()))
                .map(|s| day.and_time(s.open))
                .filter(|t| *t > at)
                .min();
            if opening.is_some() {
                return opening;
            }
        }
        None
    }

    /// The spans as one phrase, e.g. "Mon-Thu 08:30-17:00, Fri 08:30-16:30".
    pub fn text(&self) -> String {
        self.spans
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// When a line opens, relative to `now`: "today at 08:30", "tomorrow (Tuesday) at 08:30",
/// "Monday 08:30", or with the date when it is more than a week away.
pub fn opens_phrase(now: NaiveDateTime, opens: NaiveDateTime) -> String {
    let time = opens.format("%H:%M");
    let days = (opens.date() - now.date()).num_days();
    match days {
        0 => format!("today at {time}"),
        1 => format!("tomorrow ({}) at {time}", opens.format("%A")),
        2..=6 => format!("{} {time}", opens.format("%A")),
        _ => format!("{} {time}", opens.format("%A %-d %B")),
    }
}

/// A time of day, for tests and callers that build moments.
pub fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .map(|d| d.and_time(hm(h, min)))
            .unwrap_or_default()
    }

    #[test]
    fn phrases_for_the_next_opening() {
        let fri = at(2026, 11, 20, 17, 0);
        assert_eq!(opens_phrase(fri, at(2026, 11, 23, 8, 30)), "Monday 08:30");
        assert_eq!(
            opens_phrase(fri, at(2026, 11, 21, 8, 30)),
            "tomorrow (Saturday) at 08:30"
        );
        assert_eq!(opens_phrase(fri, at(2026, 11, 20, 18, 0)), "today at 18:00");
        assert_eq!(
            opens_phrase(fri, at(2026, 12, 1, 8, 30)),
            "Tuesday 1 December 08:30"
        );
    }
}
