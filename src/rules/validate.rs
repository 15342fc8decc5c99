//! Checks on rules files beyond what their types enforce.
//!
//! Each check returns problems instead of failing, so that a rules author sees every mistake
//! at once: duplicate ids, unknown levels, tiers out of order, bad phone numbers or hours.

use std::collections::HashSet;

use chrono::Datelike;

use super::bank_holidays::by_rule;
use super::load::Problem;
use super::{Area, AreaId, BankHolidays, OpeningHours, Purpose, SCHEMA_VERSION};

/// Validates one area file.
pub fn area(file: &str, area: &Area, all_ids: &[AreaId]) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut bad = |place: String, message: String| {
        out.push(Problem {
            file: file.to_string(),
            place,
            message,
        })
    };
    if area.schema != SCHEMA_VERSION {
        bad(
            "schema".into(),
            format!(
                "schema {} is not supported (this build reads {SCHEMA_VERSION})",
                area.schema
            ),
        );
    }
    let expected_file = format!("{}.toml", area.meta.id);
    if file != expected_file && !file.ends_with(&format!("/{expected_file}")) {
        bad(
            "[area] id".into(),
            format!(
                "area id {:?} does not match the file name (expected {expected_file})",
                area.meta.id.as_str()
            ),
        );
    }
    if !valid_id(area.meta.id.as_str()) {
        bad(
            "[area] id".into(),
            "ids use lower-case letters, digits and '-'".into(),
        );
    }
    if let Some(next) = &area.meta.superseded_by {
        if !all_ids.contains(next) {
            bad(
                "[area] superseded_by".into(),
                format!("no area {:?}", next.as_str()),
            );
        }
    }
    if area.meta.source == 0 {
        bad(
            "[area] source".into(),
            "source line must be 1 or more".into(),
        );
    }

    // Levels: present, unique, tiers in 1..=4 and never descending.
    if area.levels.is_empty() {
        bad("[[level]]".into(), "no levels".into());
    }
    let mut level_ids = HashSet::new();
    let mut last_tier = 0u8;
    for level in &area.levels {
        let place = format!("level {:?}", level.id);
        if !level_ids.insert(level.id.as_str()) {
            bad(place.clone(), "duplicate level id".into());
        }
        if !(1..=4).contains(&level.tier) {
            bad(
                place.clone(),
                format!("tier {} is not on the common scale 1-4", level.tier),
            );
        }
        if level.tier < last_tier {
            bad(
                place.clone(),
                "levels must be in ascending order of tier".into(),
            );
        }
        last_tier = last_tier.max(level.tier);
        if !level.tiers.is_empty() {
            let contiguous = level.tiers.windows(2).all(|w| w[1] == w[0] + 1);
            if !level.tiers.contains(&level.tier)
                || !contiguous
                || level.tiers.iter().any(|t| !(1..=4).contains(t))
            {
                bad(
                    place.clone(),
                    format!(
                        "tiers {:?} must be consecutive tiers of 1-4, in order, including tier {}",
                        level.tiers, level.tier
                    ),
                );
            }
        }
        if level.source == 0 {
            bad(place.clone(), "missing source line".into());
        }
        if level.response.trim().is_empty() || level.name.trim().is_empty() {
            bad(place, "name and response must not be empty".into());
        }
    }

    // Indicators.
    let mut indicator_ids = HashSet::new();
    for ind in &area.indicators {
        let place = format!("indicator {:?}", ind.id);
        if !valid_id(&ind.id) {
            bad(
                place.clone(),
                "ids use lower-case letters, digits and '-'".into(),
            );
        }
        if !indicator_ids.insert(ind.id.as_str()) {
            bad(place.clone(), "duplicate indicator id".into());
        }
        match area.level(&ind.level) {
            None => bad(
                place.clone(),
                format!("level {:?} does not exist", ind.level),
            ),
            Some(level) => {
                if let Some(tier) = ind.tier {
                    if !(1..=4).contains(&tier) {
                        bad(
                            place.clone(),
                            format!("tier {tier} is not on the common scale 1-4"),
                        );
                    } else if !level.covers(tier) {
                        bad(
                            place.clone(),
                            format!(
                                "tier {tier} is not one its level {:?} spans (add it to the level's `tiers`)",
                                level.id
                            ),
                        );
                    }
                }
            }
        }
        if ind.text.trim().is_empty() {
            bad(place.clone(), "empty text".into());
        }
        if ind.domain.trim().is_empty() {
            bad(place.clone(), "empty domain".into());
        }
        if ind.source == 0 {
            bad(place.clone(), "missing source line".into());
        }
        if ind.immediate && ind.positive {
            bad(
                place.clone(),
                "an indicator cannot be both immediate and positive".into(),
            );
        }
        for other in &ind.same_need_as {
            match area.indicator(other) {
                None => bad(
                    place.clone(),
                    format!("same_need_as: no indicator {other:?}"),
                ),
                Some(o) if o.id == ind.id || !o.same_need_as.is_empty() || o.positive => bad(
                    place.clone(),
                    format!("same_need_as: {other:?} must be another need that lists none itself"),
                ),
                Some(_) => {}
            }
        }
        if ind.positive && !ind.same_need_as.is_empty() {
            bad(place.clone(), "a strength has no same_need_as".into());
        }
        for k in &ind.keywords {
            if k.trim().is_empty() || k.to_lowercase() != *k {
                bad(
                    place.clone(),
                    format!("keyword {k:?} must be non-empty lower case"),
                );
            }
        }
    }
    if area.indicators.is_empty() {
        bad("[[indicator]]".into(), "no indicators".into());
    }

    // Decision rule.
    if area.decision.source == 0 {
        bad("[decision]".into(), "missing source line".into());
    }
    if !area.decision.highest_wins && area.decision.steps.is_empty() {
        bad(
            "[decision]".into(),
            "needs highest_wins = true or at least one step".into(),
        );
    }
    for (i, step) in area.decision.steps.iter().enumerate() {
        let place = format!("decision step {}", i + 1);
        for l in step.levels.iter().chain(step.outcome.iter()) {
            if area.level(l).is_none() {
                bad(place.clone(), format!("level {l:?} does not exist"));
            }
        }
        if step.min_count == 0 || step.levels.is_empty() {
            bad(
                place.clone(),
                "needs levels and min_count of 1 or more".into(),
            );
        }
    }

    // Consent, requirements, timescales: unique ids and sources.
    let mut other_ids = HashSet::new();
    let items = area
        .consent
        .iter()
        .map(|c| ("consent", &c.id, c.source, &c.text))
        .chain(
            area.requirements
                .iter()
                .map(|r| ("requirement", &r.id, r.source, &r.text)),
        )
        .chain(
            area.timescales
                .iter()
                .map(|t| ("timescale", &t.id, t.source, &t.text)),
        )
        .chain(
            area.next_steps
                .iter()
                .map(|t| ("next_step", &t.id, t.source, &t.text)),
        );
    for (kind, id, source, text) in items {
        let place = format!("{kind} {id:?}");
        if !other_ids.insert((kind, id.as_str())) {
            bad(place.clone(), format!("duplicate {kind} id"));
        }
        if source == 0 {
            bad(place.clone(), "missing source line".into());
        }
        if text.trim().is_empty() {
            bad(place, "empty text".into());
        }
    }
    for (kind, t) in area
        .timescales
        .iter()
        .map(|t| ("timescale", t))
        .chain(area.next_steps.iter().map(|t| ("next_step", t)))
    {
        let place = format!("{kind} {:?}", t.id);
        for tier in t.tiers.iter().flatten() {
            if !(1..=4).contains(tier) {
                bad(
                    place.clone(),
                    format!("tiers: {tier} is not on the common scale 1-4"),
                );
            }
        }
        for i in &t.indicators {
            if area.indicator(i).is_none() {
                bad(place.clone(), format!("indicators: no indicator {i:?}"));
            }
        }
        if t.context.as_deref().is_some_and(|c| c.trim().is_empty()) {
            bad(place, "context must not be empty when given".into());
        }
    }
    if area.consent.is_empty() {
        bad("[[consent]]".into(), "no consent rules".into());
    }

    // Contacts.
    let mut contact_ids = HashSet::new();
    for c in &area.contacts {
        let place = format!("contact {:?}", c.id);
        if !contact_ids.insert(c.id.as_str()) {
            bad(place.clone(), "duplicate contact id".into());
        }
        if let Err(why) = check_phone_number(&c.number) {
            bad(place.clone(), format!("number {:?}: {why}", c.number));
        }
        if c.purpose == Purpose::Emergency && digits(&c.number) != "999" {
            bad(place.clone(), "the emergency contact must be 999".into());
        }
        for h in &c.hours {
            if let Err(e) = OpeningHours::parse(h) {
                bad(place.clone(), e.to_string());
            }
        }
        for t in &c.tiers {
            if !(1..=3).contains(t) {
                bad(
                    place.clone(),
                    format!("tiers: {t} is not 1-3 (tier 4 and immediate danger go to the front door or out of hours)"),
                );
            }
        }
        if !c.tiers.is_empty()
            && !matches!(
                c.purpose,
                Purpose::FrontDoor | Purpose::EarlyHelp | Purpose::Consultation
            )
        {
            bad(
                place.clone(),
                "tiers are only for front_door, early_help and consultation lines".into(),
            );
        }
        if c.source == 0 {
            bad(place, "missing source line".into());
        }
    }
    if area.emergency().is_none() {
        bad("[[contact]]".into(), "no emergency (999) contact".into());
    }
    if area.contacts_for(Purpose::FrontDoor).next().is_none() {
        bad("[[contact]]".into(), "no front_door contact".into());
    }
    out
}

/// Validates the bank holidays file: the years it vouches for make sense, and every one-off
/// change moves a holiday the rules give or adds a day that is not already one.
pub fn bank_holidays(file: &str, holidays: &BankHolidays) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut bad = |place: String, message: String| {
        out.push(Problem {
            file: file.into(),
            place,
            message,
        })
    };
    if holidays.first_year < 1583 || holidays.first_year > holidays.reviewed {
        bad(
            "first_year".into(),
            format!(
                "{} must be a Gregorian year no later than `reviewed` ({})",
                holidays.first_year, holidays.reviewed
            ),
        );
    }
    if !(0..=10).contains(&holidays.horizon) {
        bad(
            "horizon".into(),
            format!(
                "{} years: one-off changes are announced a few years ahead at most; use 0 to 10",
                holidays.horizon
            ),
        );
    }
    if holidays.source.trim().is_empty() {
        bad("source".into(), "say where the dates come from".into());
    }
    let mut seen = HashSet::new();
    for m in &holidays.moved {
        let place = format!("moved {}", m.from);
        if !by_rule(m.from.year()).iter().any(|h| h.date == m.from) {
            bad(
                place.clone(),
                "`from` is not a bank holiday the rules give".into(),
            );
        }
        if m.to.year() != m.from.year() {
            bad(place.clone(), "a holiday moves within its year".into());
        }
        if by_rule(m.to.year()).iter().any(|h| h.date == m.to) {
            bad(place.clone(), "`to` is already a bank holiday".into());
        }
        if !seen.insert(m.to) {
            bad(place, format!("{} is listed twice", m.to));
        }
    }
    for e in &holidays.extra {
        let place = format!("extra {}", e.date);
        if by_rule(e.date.year()).iter().any(|h| h.date == e.date) {
            bad(place.clone(), "already a bank holiday by the rules".into());
        }
        if !seen.insert(e.date) {
            bad(place.clone(), format!("{} is listed twice", e.date));
        }
        if e.name.trim().is_empty() {
            bad(place, "needs a name".into());
        }
    }
    for d in holidays
        .moved
        .iter()
        .map(|m| m.to)
        .chain(holidays.extra.iter().map(|e| e.date))
    {
        if !holidays.sure_years().contains(&d.year()) {
            bad(
                format!("change {d}"),
                format!(
                    "outside the years the file vouches for ({}-{})",
                    holidays.first_year,
                    holidays.reviewed + holidays.horizon
                ),
            );
        }
    }
    out
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn digits(number: &str) -> String {
    number.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Checks that a number is a dialable UK number: 999, 101, 111, or 0 followed by 9 or 10
/// digits with a valid prefix; only digits and single spaces.
pub fn check_phone_number(number: &str) -> Result<(), String> {
    if number.trim() != number || number.contains("  ") {
        return Err("stray spaces".into());
    }
    if !number.chars().all(|c| c.is_ascii_digit() || c == ' ') {
        return Err("only digits and spaces are allowed".into());
    }
    let d = digits(number);
    if matches!(d.as_str(), "999" | "101" | "111" | "112") {
        return Ok(());
    }
    if !d.starts_with('0') {
        return Err("UK numbers start with 0 (or are 999, 101, 111)".into());
    }
    let ok_prefix = ["01", "02", "03", "05", "07", "08"]
        .iter()
        .any(|p| d.starts_with(p));
    if !ok_prefix {
        return Err("not a UK geographic, non-geographic, mobile or freephone prefix".into());
    }
    if !(d.len() == 11 || (d.len() == 10 && (d.starts_with("01") || d.starts_with("0800")))) {
        return Err(format!(
            "{} digits; UK numbers have 11 (some 01 and 0800 numbers have 10)",
            d.len()
        ));
    }
    Ok(())
}

/// Every indicator names needs that exist; an indicator of need names at least one.
pub fn indicator_needs(file: &str, area: &Area, taxonomy: &super::needs::Taxonomy) -> Vec<Problem> {
    let mut problems = Vec::new();
    for ind in &area.indicators {
        if ind.kind == super::IndicatorKind::Indicator && ind.needs.is_empty() {
            problems.push(Problem {
                file: file.to_string(),
                place: format!("indicator {:?}", ind.id),
                message: "names no need: add `needs = [...]` from needs.toml, or `kind = \"description\"` or `\"service\"` if it is not a sign of need".into(),
            });
        }
        for n in &ind.needs {
            if taxonomy.need(n).is_none() {
                problems.push(Problem {
                    file: file.to_string(),
                    place: format!("indicator {:?}", ind.id),
                    message: format!("unknown need {n:?} (see needs.toml)"),
                });
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::check_phone_number;

    #[test]
    fn phone_numbers() {
        for ok in [
            "999",
            "101",
            "01782 235100",
            "03000 419191",
            "0161 603 4500",
            "0800 408 1558",
            "0800 789 321",
        ] {
            assert_eq!(check_phone_number(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "12345",
            "01782 2351OO",
            "0178 223",
            "09876 543210",
            " 01782 235100",
            "01782  235100",
            "+44 1782 235100",
        ] {
            assert!(check_phone_number(bad).is_err(), "{bad}");
        }
    }
}
