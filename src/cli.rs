//! The commands that inspect the rules and understanding: `rules export`, `contacts` and
//! `assess`. Each loads the built-in rules, does its work through the library and prints.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;
use serde_json::json;

use frontdoor::assess::{assess as assess_text, Assessment};
use frontdoor::contacts::{self, CallNowJson};
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

/// `frontdoor contacts --area ID [--at T] [--json]`.
pub fn contacts(id: &str, at: Option<&str>, as_json: bool) -> Result<ExitCode> {
    let rules = load()?;
    let area = area(&rules, id)?;
    let at = at_or_now(at)?;
    let answer = contacts::call_now(area, &rules.bank_holidays, at)?;
    if as_json {
        println!(
            "{}",
            serde_json::to_string(&CallNowJson::new(area, at, &answer))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} — {}",
        area.meta.name,
        at.format("%A %-d %B %Y, %H:%M (UK time)")
    );
    println!(
        "If a child is in immediate danger: call {} ({}).",
        answer.emergency.number, answer.emergency.service
    );
    println!("Call now: {} on {}", answer.now.service, answer.now.number);
    println!("  {}", answer.reason);
    println!();
    println!("All numbers in {}:", area.meta.document);
    for c in &area.contacts {
        let hours = contacts::hours_text(c)
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        println!(
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

fn print_assessment(area: &Area, text: &str, a: &Assessment<'_>) {
    if a.immediate {
        println!(
            "IMMEDIATE PROTECTION: call {} now, then {} on {}.",
            a.call.emergency.number, a.call.now.service, a.call.now.number
        );
    }
    if a.reading.empty {
        println!("Nothing to read: tell us what has happened, how often, and how old the child is.");
    }
    for f in &a.reading.red_flags {
        let words: Vec<&str> = f.spans.iter().filter_map(|r| text.get(r.clone())).collect();
        println!("Red flag: {} (your words: \"{}\")", f.name, words.join("\", \""));
    }
    for s in &a.shown {
        println!("Understood: {} ({:.0}%)", s.need.name, s.probability * 100.0);
        if !s.your_words.is_empty() {
            println!("  your words: \"{}\"", s.your_words.join("\", \""));
        }
        match s.indicator {
            Some(i) => {
                let level = area.level(&i.level).map_or(i.level.as_str(), |l| l.name.as_str());
                println!(
                    "  {}: \"{}\" ({level}; {}:{})",
                    area.meta.document, i.text, area.meta.seed, i.source
                );
            }
            None => println!(
                "  {} has no indicator of this need; basis: {}",
                area.meta.document, s.need.basis
            ),
        }
    }
    if let Some(o) = &a.outcome {
        println!("Level of need: {} (tier {})", o.level.name, a.tier);
        println!("Why: {}", o.rule);
        println!("Action: {}", o.action);
    }
    if let Some((lower, higher)) = a.reading.unsure {
        println!("Unsure between tier {lower} and tier {higher}: the higher is given.");
    }
    if let Some(f) = &a.follow_up {
        println!("Worth asking ({}): tier {} when {}", f.factor.as_str(), f.raises_to.0, f.when);
    }
    for (when, tier) in &a.would_lower {
        println!("Would be tier {tier} if: {when}");
    }
    println!(
        "Call now: {} on {} — {}",
        a.call.now.service, a.call.now.number, a.call.reason
    );
    println!("In an emergency: {}", a.call.emergency.number);
}

fn assessment_json(
    id: &serde_json::Value,
    area: &Area,
    text: &str,
    a: &Assessment<'_>,
) -> serde_json::Value {
    json!({
        "id": id,
        "area": area.id(),
        "tier": a.tier,
        "level": a.outcome.as_ref().map(|o| o.level.id.clone()),
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
        })).collect::<Vec<_>>(),
        "action": a.outcome.as_ref().map(|o| o.action.clone()),
        "contact": { "service": a.call.now.service, "number": a.call.now.number },
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
        print_assessment(area, text, &a);
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.context("reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(&line) {
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
        writeln!(out, "{}", assessment_json(&id, area, text, &a))?;
    }
    Ok(ExitCode::SUCCESS)
}
