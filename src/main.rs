//! The `frontdoor` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use frontdoor::rules::{self, RuleSet};

/// Like `println!`, but a closed output is an error to return, not a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        {
            use std::io::Write as _;
            writeln!(std::io::stdout(), $($arg)*)?
        }
    };
}

mod chat_cli;
mod cli;
mod learn_cli;
mod policy_search;
mod records_cli;
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
    /// List, show, export, delete or purge consultation records (also while the bot runs).
    Records {
        #[command(subcommand)]
        command: records_cli::RecordsCommand,
    },
    /// Write an encrypted backup of the data directory to FILE (a new file).
    Backup {
        /// The backup file to create.
        file: PathBuf,
    },
    /// Restore a backup into the data directory, which must be empty (but for master.key).
    Restore {
        /// The backup file.
        file: PathBuf,
    },
    /// Rescue what can be read from a damaged data directory into a backup FILE.
    Salvage {
        /// The backup file to create.
        file: PathBuf,
    },
    /// Benchmark full consultations through engine and store (durable writes): steps per
    /// second, and the data directory's size after them and after purging them.
    Bench {
        /// How many consultations.
        #[arg(long, default_value_t = 200)]
        consultations: usize,
        /// Keep the data in this directory (default: a temporary one, removed after).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Store without encryption, to measure what it costs.
        #[arg(long)]
        no_encryption: bool,
        /// Do not purge at the end (to inspect or time the directory afterwards; needs --dir).
        #[arg(long, requires = "dir")]
        keep: bool,
    },
    /// Measure understanding on labelled cases: tier accuracy, under-triage, immediate recall,
    /// needs, calibration, severe errors, latency.
    Eval {
        /// JSON lines with "id", "text", "tier", "immediate" (and "needs"), or a folder of them.
        #[arg(long)]
        cases: PathBuf,
        /// Area id, or `all`.
        #[arg(long, default_value = "all")]
        area: String,
        /// Draw the confusion matrix and calibration (of the first area) into this SVG file.
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Without the red-flag floor: what the model does alone.
        #[arg(long)]
        no_floor: bool,
        /// Also print calibration, per-need precision and recall, and every severe error.
        #[arg(long)]
        details: bool,
        /// Measure this model file instead of the built-in one (and model/policy.toml beside
        /// it when present).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Rebuild the shipped model from corpus/train (run from the repository's top folder).
    Train {
        /// Check that model/understanding.bin is what the corpus gives, instead of writing it.
        #[arg(long)]
        check: bool,
        /// Compare model families: trained on corpus/train, measured on corpus/validation.
        #[arg(long, conflicts_with_all = ["check", "policy", "cv"])]
        compare: bool,
        /// Choose the safety policy's thresholds on corpus/validation; write model/policy.toml.
        #[arg(long, conflicts_with_all = ["check", "cv"])]
        policy: bool,
        /// With --policy: the unsure band around each threshold.
        #[arg(long, default_value_t = 0.05)]
        margin: f32,
        /// Cross-validate with whole writers held out, in this many folds.
        #[arg(long)]
        cv: Option<usize>,
        /// With --cv: inverse regularisation C of every output (default: the shipped settings).
        #[arg(long, requires = "cv")]
        l2: Option<f64>,
        /// With --cv: character n-gram lengths, e.g. "3,4,5" ("" for none).
        #[arg(long, requires = "cv")]
        chars: Option<String>,
        /// With --cv: a feature must occur in at least this many messages.
        #[arg(long, requires = "cv")]
        min_df: Option<usize>,
        /// Only rebuild model/indicators.bin (the indicator profiles) for the shipped model.
        #[arg(long, conflicts_with_all = ["check", "compare", "policy", "cv"])]
        indicators: bool,
    },
    /// Check the labelled corpus (run from the repository's top folder).
    Corpus {
        #[command(subcommand)]
        command: CorpusCommand,
    },
}

#[derive(Subcommand)]
enum CorpusCommand {
    /// Every line valid, ids unique, no near-duplicates, every indicator paraphrased 3 times.
    Check,
    /// How often the indicator shown for a paraphrase is the one paraphrased, by least fit: the
    /// figures behind explain::MIN_FIT.
    Explain,
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
        // Whoever read the output stopped reading (e.g. `| head`): nothing to say.
        Err(e) if closed_output(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frontdoor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether the error is a write to a closed pipe.
fn closed_output(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
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
            at,
            text,
        }) => cli::assess(&area, jsonl, at.as_deref(), text.as_deref()),
        Some(Command::Eval {
            cases,
            area,
            plot,
            no_floor,
            details,
            model,
        }) => learn_cli::eval(
            &cases,
            &area,
            plot.as_deref(),
            no_floor,
            details,
            model.as_deref(),
        ),
        Some(Command::Train {
            check,
            compare,
            policy,
            margin,
            cv,
            l2,
            chars,
            min_df,
            indicators,
        }) => match (compare, policy, cv) {
            _ if indicators => learn_cli::indicators(),
            (true, _, _) => learn_cli::compare(),
            (_, true, _) => learn_cli::policy(margin),
            (_, _, Some(folds)) => learn_cli::cross_validate(folds, l2, chars.as_deref(), min_df),
            _ => learn_cli::train(check),
        },
        Some(Command::Corpus {
            command: CorpusCommand::Check,
        }) => learn_cli::corpus_check(),
        Some(Command::Corpus {
            command: CorpusCommand::Explain,
        }) => learn_cli::corpus_explain(),
        Some(Command::Records { command }) => records_cli::records(command),
        Some(Command::Backup { file }) => records_cli::backup(&file),
        Some(Command::Restore { file }) => records_cli::restore(&file),
        Some(Command::Salvage { file }) => records_cli::salvage(&file),
        Some(Command::Bench {
            consultations,
            dir,
            no_encryption,
            keep,
        }) => chat_cli::bench(consultations, dir, !no_encryption, keep),
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
        say!(
            "{}: {} levels, {} indicators, {} contacts",
            area.id(),
            area.levels.len(),
            area.indicators.len(),
            area.contacts.len()
        );
    }
    if problems.is_empty() {
        say!("rules ok");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} problem(s)", problems.len());
        Ok(ExitCode::FAILURE)
    }
}
