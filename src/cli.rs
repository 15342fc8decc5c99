//! The commands that inspect the rules and understanding: `rules export`, `contacts` and
//! `assess`. Each loads the built-in rules, does its work through the library and prints.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;
use serde_json::json;

use frontdoor::assess::{assess as assess_text, Assessment};
use frontdoor::contacts::{self, CallNowJson, Urgency};
use frontdoor::rules::{self, Area, RuleSet};
use frontdoor::understanding::Understanding;

fn load() -> Result<RuleSet> {
    rules::load_embedded().context("the built-in rules are invalid")
}

fn area<'a>(rules: &'a RuleSet, id: &str) -> Result<&'a Area> {
    rules.area(id).with_context(|| {
        format!(
            "no area {id:?}; choose one of: {}",
            rules.area_ids().join(", ")
        )
    })
}

fn at_or_now(at: Option<&str>) -> Result<NaiveDateTime> {
    match at {
        None => Ok(contacts::uk_local(chrono::Utc::now())),
        Some(text) => contacts::parse_local(text).with_context(|| {
            format!(
                "--at {text:?}: expected UK local time as YYYY-MM-DDTHH:MM, e.g. 2026-11-24T10:00"
            )
        }),
    }
}

/// `frontdoor rules export [--area ID]`.
pub fn rules_export(only: Option<&str>) -> Result<ExitCode> {
    let rules = load()?;
    if let Some(id) = only {
        area(&rules, id)?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for a in rules.areas().filter(|a| only.is_none_or(|id| a.id() == id)) {
        for i in &a.indicators {
            let line = json!({
                "area": a.id(),
                "id": i.id,
                "domain": i.domain,
                "level": i.level,
                "tier": a.indicator_tier(i),
                "immediate": i.immediate,
                "positive": i.positive,
                "text": i.text,
                "source": format!("{}:{}", a.meta.seed, i.source),
            });
            writeln!(out, "{line}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The built-in rules with this deployment's settings applied (front door hours).
fn load_deployed() -> Result<RuleSet> {
    let mut rules = load()?;
    let config = frontdoor::config::Config::load().context("configuration")?;
    rules.set_front_door_hours(&config.front_door_hours)?;
    Ok(rules)
}

/// `frontdoor contacts --area ID [--at T] [--tier N | --immediate] [--json]`.
pub fn contacts(
    id: &str,
    at: Option<&str>,
    tier: Option<u8>,
    immediate: bool,
    as_json: bool,
) -> Result<ExitCode> {
    let rules = load_deployed()?;
    let area = area(&rules, id)?;
    let at = at_or_now(at)?;
    let urgency = Urgency::of(tier, immediate);
    let answer = contacts::route(area, &rules.bank_holidays, urgency, at)?;
    if as_json {
        say!(
            "{}",
            serde_json::to_string(&CallNowJson::new(area, at, &answer))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "{} — {}",
        area.meta.name,
        at.format("%A %-d %B %Y, %H:%M (UK time)")
    );
    let what = match urgency {
        Urgency::Immediate => "a child in immediate danger".to_string(),
        Urgency::Tier(t) => format!(
            "a concern at tier {t} ({})",
            area.level_for_tier(t).map_or("", |l| l.name.as_str())
        ),
        Urgency::Unassessed => "a concern that may not wait (not yet assessed)".to_string(),
    };
    say!("For {what}:");
    for line in answer.lines(at) {
        say!("  {line}");
    }
    say!(
        "If a child is in immediate danger: call {} ({}).",
        answer.emergency.number,
        answer.emergency.service
    );
    say!();
    say!("All numbers in {}:", area.meta.document);
    for c in &area.contacts {
        let hours = contacts::hours_text(c)
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        say!(
            "  {:<14} {}{} [{}; {}]",
            c.number,
            c.service,
            hours,
            c.purpose.as_str(),
            contacts::source_ref(area, c)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The line to call for an assessment's tier and immediacy (nothing matched: as /urgent).
fn routed<'a>(
    area: &'a Area,
    rules: &RuleSet,
    a: &Assessment<'_>,
    at: NaiveDateTime,
) -> Result<contacts::CallNow<'a>> {
    let tier = (a.tier > 0).then_some(a.tier);
    Ok(contacts::route(
        area,
        &rules.bank_holidays,
        Urgency::of(tier, a.immediate),
        at,
    )?)
}

fn print_assessment(
    area: &Area,
    text: &str,
    a: &Assessment<'_>,
    call: &contacts::CallNow<'_>,
    at: NaiveDateTime,
) -> Result<()> {
    if a.immediate {
        say!(
            "IMMEDIATE PROTECTION: call {} now, then {} on {}.",
            call.emergency.number,
            call.now.service,
            call.now.number
        );
    }
    if a.reading.empty {
        say!("Nothing to read: tell us what has happened, how often, and how old the child is.");
    }
    for f in &a.reading.red_flags {
        let words: Vec<&str> = f.spans.iter().filter_map(|r| text.get(r.clone())).collect();
        say!(
            "Red flag: {} (your words: \"{}\")",
            f.name,
            words.join("\", \"")
        );
    }
    for s in &a.shown {
        say!(
            "Understood: {} ({:.0}%)",
            s.need.name,
            s.probability * 100.0
        );
        if !s.your_words.is_empty() {
            say!("  your words: \"{}\"", s.your_words.join("\", \""));
        }
        match s.indicator {
            Some(i) => {
                let level = area
                    .level(&i.level)
                    .map_or(i.level.as_str(), |l| l.name.as_str());
                say!(
                    "  {}: \"{}\" ({level}; {}:{})",
                    area.meta.document,
                    i.text,
                    area.meta.seed,
                    i.source
                );
            }
            None if s.none_fits => say!(
                "  {}'s indicators of this need say more than you described; in plain words: {} (basis: {})",
                area.meta.document,
                s.need.definition,
                s.need.basis
            ),
            None => say!(
                "  {} has no indicator of this need; in plain words: {} (basis: {})",
                area.meta.document,
                s.need.definition,
                s.need.basis
            ),
        }
    }
    if let Some(o) = &a.outcome {
        let level = area.level_covering(a.tier, o.level);
        say!("Level of need: {} (tier {})", level.name, a.tier);
        say!("Why: {}", o.rule);
        say!("Action: {}", o.action);
    }
    if let Some((lower, higher)) = a.reading.unsure {
        say!("Unsure between tier {lower} and tier {higher}: the higher is given.");
    }
    if let Some(f) = &a.follow_up {
        say!(
            "Worth asking ({}): tier {} when {}",
            f.factor.as_str(),
            f.raises_to.0,
            f.when
        );
    }
    for (when, tier) in &a.would_lower {
        say!("Would be tier {tier} if: {when}");
    }
    say!("Who to call: {}", call.text(at));
    say!("In an emergency: {}", call.emergency.number);
    Ok(())
}

fn assessment_json(
    id: &serde_json::Value,
    area: &Area,
    text: &str,
    a: &Assessment<'_>,
    call: &contacts::CallNow<'_>,
) -> serde_json::Value {
    json!({
        "id": id,
        "area": area.id(),
        "tier": a.tier,
        "level": a.outcome.as_ref().map(|o| area.level_covering(a.tier, o.level).id.clone()),
        "immediate": a.immediate,
        "tier_probabilities": a.reading.tier_probabilities,
        "immediate_probability": a.reading.immediate_probability,
        "unsure": a.reading.unsure,
        "age": a.reading.age,
        "red_flags": a.reading.red_flags.iter().map(|f| json!({
            "name": f.name,
            "words": f.spans.iter().filter_map(|r| text.get(r.clone())).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "needs": a.shown.iter().map(|s| json!({
            "need": s.need.id,
            "probability": (s.probability * 1000.0).round() / 1000.0,
            "your_words": s.your_words,
            "indicator": s.indicator.map(|i| json!({
                "id": i.id,
                "text": i.text,
                "level": i.level,
                "tier": area.indicator_tier(i),
                "source": format!("{}:{}", area.meta.seed, i.source),
            })),
            "closest": s.closest.map(|(i, similarity)| json!({
                "id": i.id,
                "text": i.text,
                "similarity": (similarity * 1000.0).round() / 1000.0,
            })),
        })).collect::<Vec<_>>(),
        "action": a.outcome.as_ref().map(|o| o.action.clone()),
        "contact": { "service": call.now.service, "number": call.now.number, "first": call.first_number() },
    })
}

/// `frontdoor assess --area ID "text"` or `--jsonl`.
pub fn assess(id: &str, jsonl: bool, at: Option<&str>, text: Option<&str>) -> Result<ExitCode> {
    let rules = load()?;
    let area = area(&rules, id)?;
    let understanding = Understanding::builtin(&rules.needs)?;
    let at = at_or_now(at)?;
    if !jsonl {
        let Some(text) = text else {
            bail!("give the concern as text, e.g. frontdoor assess --area {id} \"yr 9 girl missing 3x this month\", or use --jsonl");
        };
        let a = assess_text(area, &understanding, &rules.bank_holidays, text, None, at)?;
        let call = routed(area, &rules, &a, at)?;
        print_assessment(area, text, &a, &call, at)?;
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut input = stdin.lock();
    let mut bytes = Vec::new();
    for n in 0.. {
        bytes.clear();
        if input
            .read_until(b'\n', &mut bytes)
            .context("reading stdin")?
            == 0
        {
            break;
        }
        let Ok(line) = std::str::from_utf8(&bytes) else {
            // One bad line is reported in place; the batch goes on.
            writeln!(
                out,
                "{}",
                json!({"line": n + 1, "error": "not valid UTF-8 text"})
            )?;
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                writeln!(
                    out,
                    "{}",
                    json!({"line": n + 1, "error": format!("not JSON: {e}")})
                )?;
                continue;
            }
        };
        let Some(text) = value.get("text").and_then(|t| t.as_str()) else {
            writeln!(
                out,
                "{}",
                json!({"id": value.get("id"), "line": n + 1, "error": "no \"text\" string"})
            )?;
            continue;
        };
        let a = assess_text(area, &understanding, &rules.bank_holidays, text, None, at)?;
        let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
        let call = routed(area, &rules, &a, at)?;
        writeln!(out, "{}", assessment_json(&id, area, text, &a, &call))?;
    }
    Ok(ExitCode::SUCCESS)
}
