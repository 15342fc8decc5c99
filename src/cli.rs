//! The commands that inspect the rules and the matcher: `rules export`, `contacts`, `assess`
//! and `eval`. Each loads the built-in rules, does its work through the library and prints.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;
use serde_json::json;

use frontdoor::assess::{assess as assess_text, Assessment};
use frontdoor::contacts::{self, CallNowJson, Urgency};
use frontdoor::eval::{self, Case, Prediction};
use frontdoor::matcher::Matcher;
use frontdoor::rules::{self, Area, RuleSet};

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
    a: &Assessment<'_>,
    call: &contacts::CallNow<'_>,
    at: NaiveDateTime,
) -> Result<()> {
    if a.immediate {
        say!(
            "IMMEDIATE PROTECTION: call {} now, then {} on {}.",
            a.call.emergency.number,
            a.call.now.service,
            a.call.now.number
        );
    }
    if !a.analysis.concepts.is_empty() {
        say!("Understood: {}", a.analysis.concepts.join("; "));
    }
    if !a.analysis.red_flags.is_empty() {
        say!("Red flags: {}", a.analysis.red_flags.join("; "));
    }
    if a.found.is_empty() {
        say!("No indicator of {} matched. Tell us more: what has happened, how often, how old is the child?", area.meta.document);
    }
    for f in &a.found {
        let level = area
            .level(&f.indicator.level)
            .map_or(f.indicator.level.as_str(), |l| l.name.as_str());
        say!(
            "- [{}] {} (level: {level}, tier {}, score {:.2}{}; matched: {})",
            f.indicator.id,
            f.indicator.text,
            f.tier,
            f.score,
            if f.red_flag { ", red flag" } else { "" },
            f.matched.join(", ")
        );
    }
    if let Some(o) = &a.outcome {
        let level = area.level_covering(a.tier, o.level);
        say!("Level of need: {} (tier {})", level.name, a.tier);
        say!("Action: {}", o.action);
    }
    say!("Who to call: {}", call.text(at));
    say!("In an emergency: {}", call.emergency.number);
    Ok(())
}

fn assessment_json(
    id: &serde_json::Value,
    area: &Area,
    a: &Assessment<'_>,
    call: &contacts::CallNow<'_>,
) -> serde_json::Value {
    json!({
        "id": id,
        "area": area.id(),
        "tier": a.tier,
        "level": a.outcome.as_ref().map(|o| area.level_covering(a.tier, o.level).id.clone()),
        "immediate": a.immediate,
        "red_flags": a.analysis.red_flags,
        "indicators": a.found.iter().map(|f| json!({
            "id": f.indicator.id,
            "text": f.indicator.text,
            "level": f.indicator.level,
            "tier": f.tier,
            "domain": f.indicator.domain,
            "score": (f.score * 1000.0).round() / 1000.0,
        })).collect::<Vec<_>>(),
        "action": a.outcome.as_ref().map(|o| o.action.clone()),
        "contact": { "service": call.now.service, "number": call.now.number, "first": call.first_number() },
    })
}

/// The matcher's working, for tuning: every ranked indicator, cues and age.
fn explanation(area: &Area, a: &Assessment<'_>) -> serde_json::Value {
    json!({
        "age": a.analysis.age,
        "concepts": a.analysis.concepts,
        "tier_floor": a.analysis.tier_floor,
        "cues": [a.analysis.cues.0, a.analysis.cues.1],
        "ranked": a.analysis.ranked.iter().filter_map(|m| {
            let i = area.indicator(&m.indicator)?;
            Some(json!({"id": i.id, "tier": area.indicator_tier(i), "domain": i.domain, "positive": i.positive, "score": m.score, "words": m.matched, "text": i.text}))
        }).collect::<Vec<_>>(),
    })
}

/// `frontdoor assess --area ID "text"` or `--jsonl`.
pub fn assess(
    id: &str,
    jsonl: bool,
    explain: bool,
    at: Option<&str>,
    text: Option<&str>,
) -> Result<ExitCode> {
    let rules = load()?;
    let area = area(&rules, id)?;
    let matcher = Matcher::new(area);
    let at = at_or_now(at)?;
    if !jsonl {
        let Some(text) = text else {
            bail!("give the concern as text, e.g. frontdoor assess --area {id} \"yr 9 girl missing 3x this month\", or use --jsonl");
        };
        let a = assess_text(area, &matcher, &rules.bank_holidays, text, at)?;
        let call = routed(area, &rules, &a, at)?;
        print_assessment(area, &a, &call, at)?;
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
        let a = assess_text(area, &matcher, &rules.bank_holidays, text, at)?;
        let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
        let call = routed(area, &rules, &a, at)?;
        let mut line = assessment_json(&id, area, &a, &call);
        if explain {
            line["explain"] = explanation(area, &a);
        }
        writeln!(out, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdoor eval --cases FILE [--area ID|all]`.
pub fn eval(cases_path: &Path, which: &str) -> Result<ExitCode> {
    let rules = load()?;
    let text = std::fs::read_to_string(cases_path)
        .with_context(|| format!("reading {}", cases_path.display()))?;
    let mut cases = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Case = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a case", cases_path.display(), n + 1))?;
        cases.push(case);
    }
    let areas: Vec<&Area> = if which == "all" {
        rules.areas().collect()
    } else {
        vec![area(&rules, which)?]
    };
    let at = contacts::parse_local("2026-11-24T10:00").context("fixed evaluation time")?;
    let mut all_ok = true;
    for area in areas {
        let matcher = Matcher::new(area);
        let mut predictions = Vec::with_capacity(cases.len());
        let mut micros = Vec::with_capacity(cases.len());
        for case in &cases {
            let start = Instant::now();
            let a = assess_text(area, &matcher, &rules.bank_holidays, &case.text, at)?;
            micros.push(start.elapsed().as_secs_f64() * 1e6);
            predictions.push(Prediction {
                tier: a.tier,
                immediate: a.immediate,
            });
        }
        let mut slowest: Vec<(f64, &str)> = micros
            .iter()
            .copied()
            .zip(cases.iter().map(|c| c.id.as_str()))
            .collect();
        slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
        micros.sort_by(f64::total_cmp);
        let r = eval::report(&cases, &predictions);
        let ok = r.tier_accuracy >= 0.8
            && r.immediate_recall >= 1.0
            && r.severe_under_triage == 0
            && r.tier4_below_3 <= 0.05;
        all_ok &= ok;
        say!(
            "== {} ({} cases) {}",
            area.id(),
            r.cases,
            if ok { "targets met" } else { "TARGETS NOT MET" }
        );
        say!(
            "tier accuracy {:.1}%  under-triage {:.1}%  severe under-triage {}  tier-4 below 3 {:.1}%",
            r.tier_accuracy * 100.0,
            r.under_triage * 100.0,
            r.severe_under_triage,
            r.tier4_below_3 * 100.0
        );
        say!(
            "immediate recall {:.1}%  precision {:.1}%",
            r.immediate_recall * 100.0,
            r.immediate_precision * 100.0
        );
        say!(
            "index: {} indicators, about {} KiB",
            area.indicators.len(),
            matcher.approx_heap_bytes() / 1024
        );
        say!(
            "latency per message: median {:.0} µs, p99 {:.0} µs",
            eval::quantile(&micros, 0.5),
            eval::quantile(&micros, 0.99)
        );
        say!(
            "slowest: {}",
            slowest
                .iter()
                .take(3)
                .map(|(us, id)| format!("{id} {us:.0} µs"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        say!("confusion (rows expected tier 0-4, columns predicted 0-4):");
        for (t, row) in r.confusion.iter().enumerate().skip(1) {
            say!("  {t}: {:?}", row);
        }
        if !r.under.is_empty() {
            say!("under-triaged: {}", r.under.join(" "));
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
