//! The `frontdoor` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use frontdoor::rules::{self, RuleSet};

mod chat_cli;
mod cli;
mod telegram_cli;

#[derive(Parser)]
#[command(
    name = "frontdoor",
    version,
    about = "A children's-services Front Door consultation, any hour of the day"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check or export the threshold documents' data.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Who to call in an area at a given moment (UK local time).
    Contacts {
        /// Area id (see `frontdoor rules check` for the list).
        #[arg(long)]
        area: String,
        /// UK local time, YYYY-MM-DDTHH:MM (default: now).
        #[arg(long)]
        at: Option<String>,
        /// The tier of need (1-4) on the common scale; without it, a concern not yet assessed.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4), conflicts_with = "immediate")]
        tier: Option<u8>,
        /// A child in immediate danger: 999 first.
        #[arg(long)]
        immediate: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Match a concern to the area's indicators and give the level of need and who to call.
    Assess {
        /// Area id.
        #[arg(long)]
        area: String,
        /// Read JSON lines {"id","text"} on stdin and write one JSON line per input.
        #[arg(long)]
        jsonl: bool,
        /// With --jsonl: add the matcher's working (ranked indicators, cues, age) to each line.
        #[arg(long, requires = "jsonl")]
        explain: bool,
        /// UK local time for the number to call, YYYY-MM-DDTHH:MM (default: now).
        #[arg(long)]
        at: Option<String>,
        /// The concern, in free text.
        text: Option<String>,
    },
    /// Start a consultation in the terminal (the default when no command is given).
    Chat,
    /// Run the Telegram bot (token and settings from the environment or .env).
    Telegram,
    /// List, show, export, delete or purge consultation records.
    Records {
        #[command(subcommand)]
        command: chat_cli::RecordsCommand,
    },
    /// Benchmark full consultations through engine and store (durable writes).
    Bench {
        /// How many consultations.
        #[arg(long, default_value_t = 200)]
        consultations: usize,
        /// Keep the data in this directory (default: a temporary one, removed after).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Measure the matcher on labelled cases: accuracy, under-triage, immediate recall, latency.
    Eval {
        /// JSON lines with "id", "text", "tier", "immediate".
        #[arg(long)]
        cases: PathBuf,
        /// Area id, or `all`.
        #[arg(long, default_value = "all")]
        area: String,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Validate every rules file and report every problem with its file and place.
    Check {
        /// Read the rules from this directory instead of the copies built into the binary.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Also check every cited source line against the seed files in this directory.
        #[arg(long)]
        seeds: Option<PathBuf>,
    },
    /// Print every indicator as one JSON object per line.
    Export {
        /// Only this area.
        #[arg(long)]
        area: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("frontdoor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Rules {
            command: RulesCommand::Check { dir, seeds },
        }) => rules_check(dir, seeds),
        Some(Command::Rules {
            command: RulesCommand::Export { area },
        }) => cli::rules_export(area.as_deref()),
        Some(Command::Contacts {
            area,
            at,
            tier,
            immediate,
            json,
        }) => cli::contacts(&area, at.as_deref(), tier, immediate, json),
        Some(Command::Assess {
            area,
            jsonl,
            explain,
            at,
            text,
        }) => cli::assess(&area, jsonl, explain, at.as_deref(), text.as_deref()),
        Some(Command::Eval { cases, area }) => cli::eval(&cases, &area),
        Some(Command::Records { command }) => chat_cli::records(command),
        Some(Command::Bench { consultations, dir }) => chat_cli::bench(consultations, dir),
        Some(Command::Telegram) => telegram_cli::telegram(),
        Some(Command::Chat) | None => chat_cli::chat(),
    }
}

fn load(dir: Option<&PathBuf>) -> Result<RuleSet> {
    Ok(match dir {
        Some(d) => rules::load_dir(d).with_context(|| format!("rules in {}", d.display()))?,
        None => rules::load_embedded().context("built-in rules")?,
    })
}

fn rules_check(dir: Option<PathBuf>, seeds: Option<PathBuf>) -> Result<ExitCode> {
    let rules = match load(dir.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e:#}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut problems = Vec::new();
    if let Some(seeds) = seeds {
        for area in rules.areas() {
            let path = seeds.join(&area.meta.seed);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading seed {}", path.display()))?;
            problems.extend(rules::trace::check(
                &format!("{}.toml", area.id()),
                area,
                &text,
            ));
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    for area in rules.areas() {
        println!(
            "{}: {} levels, {} indicators, {} contacts",
            area.id(),
            area.levels.len(),
            area.indicators.len(),
            area.contacts.len()
        );
    }
    if problems.is_empty() {
        println!("rules ok");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} problem(s)", problems.len());
        Ok(ExitCode::FAILURE)
    }
}
