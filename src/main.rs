//! The `frontdoor` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use frontdoor::rules::{self, RuleSet};

#[derive(Parser)]
#[command(name = "frontdoor", version, about = "A children's-services Front Door consultation, any hour of the day")]
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
        Some(Command::Rules { command: RulesCommand::Check { dir, seeds } }) => rules_check(dir, seeds),
        None => {
            let rules = rules::load_embedded()?;
            for a in rules.areas() {
                println!("{}: {} indicators", a.id(), a.indicators.len());
            }
            Ok(ExitCode::SUCCESS)
        }
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
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading seed {}", path.display()))?;
            problems.extend(rules::trace::check(&format!("{}.toml", area.id()), area, &text));
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    for area in rules.areas() {
        println!("{}: {} levels, {} indicators, {} contacts", area.id(), area.levels.len(), area.indicators.len(), area.contacts.len());
    }
    if problems.is_empty() {
        println!("rules ok");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} problem(s)", problems.len());
        Ok(ExitCode::FAILURE)
    }
}
