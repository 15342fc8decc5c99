//! The commands around the consultation: the terminal chat (the default), `records ...` and
//! `bench`. Each reads the one [`Config`] from the environment and works through the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::{Subcommand, ValueEnum};

use frontdoor::app::App;
use frontdoor::config::Config;
use frontdoor::dialogue::{self, Input, Reply};
use frontdoor::store::Store;
use frontdoor::terminal::{self, TERMINAL_KEY};

/// `frontdoor records ...`.
#[derive(Subcommand)]
pub enum RecordsCommand {
    /// List the stored consultation records.
    List,
    /// Print one record as text.
    Show {
        /// The reference, e.g. FD-20261122-0007.
        reference: String,
    },
    /// Print one record as Markdown, text or JSON.
    Export {
        /// The reference.
        reference: String,
        /// The format.
        #[arg(long, value_enum, default_value = "md")]
        format: Format,
    },
    /// Delete one record.
    Delete {
        /// The reference.
        reference: String,
    },
    /// Remove idle sessions and records older than FRONTDOOR_RETENTION_DAYS now.
    Purge,
}

/// Export formats.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// Plain text.
    Txt,
    /// JSON.
    Json,
}

fn config() -> Result<Config> {
    Config::load().context("configuration")
}

/// The terminal consultation on stdin and stdout.
pub fn chat() -> Result<ExitCode> {
    let config = config()?;
    let dir = config.data_dir.clone();
    let app = App::open(config, Utc::now())
        .with_context(|| format!("starting with data in {}", dir.display()))?;
    let stdin = std::io::stdin();
    let options = terminal::Options {
        echo: !stdin.is_terminal(),
    };
    let stdout = std::io::stdout();
    terminal::run(
        &app,
        TERMINAL_KEY,
        stdin.lock(),
        stdout.lock(),
        options,
        Utc::now,
    )
    .context("terminal chat")?;
    Ok(ExitCode::SUCCESS)
}

fn store() -> Result<(Config, Store)> {
    let config = config()?;
    let store = Store::open(&config.data_dir)
        .with_context(|| format!("opening the data in {}", config.data_dir.display()))?;
    Ok((config, store))
}

/// `frontdoor records ...`.
pub fn records(command: RecordsCommand) -> Result<ExitCode> {
    let (config, store) = store()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        RecordsCommand::List => {
            let all = store.records()?;
            if all.is_empty() {
                writeln!(out, "No records in {}.", config.data_dir.display())?;
            }
            for r in all {
                match r {
                    Ok(r) => {
                        let rec = &r.record;
                        let area = rec.area.as_ref().map(|a| a.name.as_str()).unwrap_or("-");
                        writeln!(
                            out,
                            "{}  {}  {:<16}  {:<24}  {}",
                            rec.reference,
                            rec.created.format("%d/%m/%Y %H:%M"),
                            area,
                            rec.child.name,
                            rec.level_phrase()
                        )?;
                    }
                    Err(e) => writeln!(out, "(unreadable: {e})")?,
                }
            }
        }
        RecordsCommand::Show { reference } => {
            let r = store
                .record(&reference)?
                .with_context(|| format!("no record {reference}"))?;
            write!(out, "{}", r.record.to_text())?;
        }
        RecordsCommand::Export { reference, format } => {
            let r = store
                .record(&reference)?
                .with_context(|| format!("no record {reference}"))?;
            match format {
                Format::Md => write!(out, "{}", r.record.to_markdown())?,
                Format::Txt => write!(out, "{}", r.record.to_text())?,
                Format::Json => writeln!(out, "{}", r.record.to_json()?)?,
            }
        }
        RecordsCommand::Delete { reference } => {
            if !store.delete_record(&reference)? {
                bail!("no record {reference}");
            }
            writeln!(out, "Deleted {reference}.")?;
        }
        RecordsCommand::Purge => {
            let p = store.purge(Utc::now(), config.session_idle(), config.retention())?;
            writeln!(
                out,
                "Purged {} idle session(s) and {} record(s) older than {} days.",
                p.sessions, p.records, config.retention_days
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdoor bench`: full consultations through the app with durable writes; steps per second,
/// p99 step latency and the data directory's size afterwards.
pub fn bench(consultations: usize, dir: Option<PathBuf>) -> Result<ExitCode> {
    let temp = tempfile_dir()?;
    let dir = dir.unwrap_or_else(|| temp.clone());
    let config = Config {
        data_dir: dir.clone(),
        ..Config::default()
    };
    let app = App::open(config, Utc::now())?;
    let areas: Vec<Vec<String>> = app
        .engine()
        .rules()
        .areas()
        .map(dialogue::sample::answers)
        .collect();
    if areas.is_empty() {
        bail!("no areas");
    }
    let mut latencies = Vec::new();
    let started = Instant::now();
    for n in 0..consultations {
        let key = format!("bench:{n}");
        let answers = &areas[n % areas.len()];
        let now = Utc::now();
        for a in std::iter::once(Input::Start).chain(answers.iter().map(|a| Input::parse(a))) {
            let t = Instant::now();
            let replies = app.handle(&key, a, now)?;
            latencies.push(t.elapsed());
            if replies.iter().any(|r| matches!(r, Reply::Finished(_))) {
                break;
            }
        }
        app.store().delete_session(&key)?;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let p = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    app.store().flush()?;
    let size = dir_size(&dir)?;
    println!(
        "{consultations} consultations, {} steps in {:.2?}",
        latencies.len(),
        elapsed
    );
    println!(
        "steps/s: {:.0}",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "step latency p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        p(0.5),
        p(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!(
        "data directory {}: {:.1} MiB ({} records)",
        dir.display(),
        size as f64 / 1_048_576.0,
        app.store().counts().1
    );
    if dir == temp {
        drop(app);
        let _ = std::fs::remove_dir_all(&temp);
    }
    Ok(ExitCode::SUCCESS)
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("frontdoor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
