//! The child's age, as the caller states it.
//!
//! Read from the words: "7 year old", "7yo", "aged 7", "8wk", "10 months", "Y4" or "Year 4" (a school
//! year: its usual age), "reception", "newborn", and a number in brackets after a name
//! ("Sofia (3)"). The first age under 18 is the child's: "Y9 girl, 19 yo boyfriend" is 14.

use super::text::Text;

/// Ages in years below this are a baby.
const BABY: f32 = 1.0;

/// The child's age in years from the words of `text` (the caller's `raw` text gives brackets).
pub fn child_age(text: &Text, raw: &str) -> Option<f32> {
    // An adult's age ("19 yo boyfriend") is skipped; the child's may follow.
    (0..text.words.len())
        .filter_map(|i| age_at(text, raw, i))
        .find(|age| *age < 18.0)
}

fn age_at(text: &Text, raw: &str, i: usize) -> Option<f32> {
    let w = &text.words;
    let form = w[i].form.as_str();
    let next = |k: usize| w.get(i + k).map(|x| x.form.as_str());
    match form {
        "newborn" | "neonate" => return Some(0.0),
        "reception" => return Some(4.0),
        _ => {}
    }
    // School years: "y4", "yr 4", "year 4" (not "4 year old").
    if let Some(n) = form
        .strip_prefix('y')
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|n| (1..=13).contains(n))
    {
        return Some(n as f32 + 4.0);
    }
    if matches!(form, "year" | "yr" | "y") && (i == 0 || w[i - 1].form.parse::<f32>().is_err()) {
        if let Some(n) = next(1).and_then(|d| d.parse::<u32>().ok()) {
            if (1..=13).contains(&n) && next(2) != Some("old") {
                return Some(n as f32 + 4.0);
            }
        }
    }
    if matches!(form, "aged" | "age") {
        if let Some(n) = next(1).and_then(|d| d.parse::<f32>().ok()) {
            return Some(n);
        }
    }
    let n: f32 = form.parse().ok()?;
    let unit = next(1).unwrap_or("");
    // "she is 14", "he's 9": a bare number after "is" (a unit, if any, is read below).
    let after_is = i > 0 && matches!(w[i - 1].form.as_str(), "is" | "hes" | "shes" | "turned");
    if after_is
        && n < 18.0
        && !matches!(
            unit,
            "month"
                | "months"
                | "week"
                | "weeks"
                | "day"
                | "days"
                | "wk"
                | "wks"
                | "mth"
                | "mths"
                | "mo"
        )
    {
        return Some(n);
    }
    let scale = match unit {
        "year" | "years" | "yr" | "yrs" | "y" | "yo" | "yearold" => 1.0,
        "month" | "months" | "mth" | "mths" | "mo" | "mos" | "m" => 1.0 / 12.0,
        "week" | "weeks" | "wk" | "wks" | "w" => 1.0 / 52.0,
        "day" | "days" | "d" => 1.0 / 365.0,
        _ => {
            // "Sofia (3)": a number in brackets right after a word.
            let span = &w[i].span;
            let before = raw[..span.start].trim_end();
            let after = raw[span.end..].trim_start();
            if before.ends_with('(') && after.starts_with(')') && n < 18.0 {
                return Some(n);
            }
            return None;
        }
    };
    // "3 weeks" alone is a duration ("for 3 weeks"); with "old" or a baby word it is an age.
    let old = matches!(
        next(2),
        Some("old" | "baby" | "babies" | "infant" | "girl" | "boy")
    );
    let duration_word = i > 0
        && matches!(
            w[i - 1].form.as_str(),
            "for" | "last" | "past" | "ago" | "every" | "in" | "within" | "after"
        );
    if scale == 1.0 {
        // "14 year old", "14yo", "14 yrs"; but not "for 3 years".
        if duration_word && !old {
            return None;
        }
        return Some(n);
    }
    if old || (!duration_word && next(2).is_none_or(|x| x != "ago")) {
        return Some(n * scale);
    }
    None
}

/// The age group the model reads (one feature), from an age in years.
pub fn age_group(age: Option<f32>) -> &'static str {
    match age {
        None => "unknown",
        Some(a) if a < BABY => "baby",
        Some(a) if a < 3.0 => "toddler",
        Some(a) if a < 5.0 => "preschool",
        Some(a) if a < 11.0 => "primary",
        Some(a) if a < 16.0 => "teen",
        Some(_) => "older",
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::Reader;
    use super::*;

    fn age(s: &str) -> Option<f32> {
        child_age(&Reader::builtin().read(s), s)
    }

    #[test]
    fn ages_in_the_ways_callers_write_them() {
        assert_eq!(age("7 year old boy"), Some(7.0));
        assert_eq!(age("7yo"), Some(7.0));
        assert_eq!(age("girl aged 12"), Some(12.0));
        assert_eq!(age("Y4 teacher here"), Some(8.0));
        assert_eq!(age("year 10 lad"), Some(14.0));
        assert_eq!(age("Sofia (3) came in"), Some(3.0));
        assert_eq!(age("newborn on the ward"), Some(0.0));
        let weeks = age("8wk old, bruise on cheek").unwrap();
        assert!(weeks < 0.2);
        let months = age("10 month old crawling").unwrap();
        assert!((months - 10.0 / 12.0).abs() < 0.01);
    }

    #[test]
    fn the_first_age_under_18_is_the_childs() {
        assert_eq!(age("19 yo boyfriend, she is 14"), Some(14.0));
        assert_eq!(age("Y9 girl, 19 yo boyfriend"), Some(13.0));
    }

    #[test]
    fn durations_are_not_ages() {
        assert_eq!(age("off school for 3 weeks"), None);
        assert_eq!(age("known for 2 years"), None);
        assert_eq!(age("no age given"), None);
    }

    #[test]
    fn groups() {
        assert_eq!(age_group(Some(0.2)), "baby");
        assert_eq!(age_group(Some(14.0)), "teen");
        assert_eq!(age_group(None), "unknown");
    }
}
