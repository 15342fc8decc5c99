//! The commands around the consultation: the terminal chat (the default) and `bench`. Each reads the one [`Config`] from the environment and works through the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Utc;

use frontdoor::app::App;
use frontdoor::config::Config;
use frontdoor::dialogue::{self, Input, Reply};
use frontdoor::line_editor::LineEditor;
use frontdoor::store::{Store, StoreOptions};
use frontdoor::terminal::{self, TERMINAL_KEY};

fn config() -> Result<Config> {
    Config::load().context("configuration")
}

/// The terminal consultation on stdin and stdout; `records` commands are answered meanwhile.
pub fn chat() -> Result<ExitCode> {
    let config = config()?;
    frontdoor::logs::init("warn");
    let dir = config.data_dir.clone();
    let app = App::open(config.clone(), Utc::now())
        .with_context(|| format!("starting with data in {}", dir.display()))?;
    crate::records_cli::report_problems(app.store());
    let service = crate::records_cli::serve(app.store().clone(), config)?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let ended = if stdin.is_terminal() {
        // Someone typing: line editing, history in memory, lines of any length; Ctrl-C and
        // Ctrl-D reach the chat as keys, which says the answers are saved and how to resume.
        let mut editor = LineEditor::new().context("the terminal's line editor")?;
        terminal::run_with(
            &app,
            TERMINAL_KEY,
            &mut editor,
            stdout.lock(),
            terminal::Options { echo: false },
            Utc::now,
        )
    } else {
        // A script or a pipe: read as it comes, each answer echoed so the output reads like a
        // conversation.
        terminal::run(
            &app,
            TERMINAL_KEY,
            stdin.lock(),
            stdout.lock(),
            terminal::Options { echo: true },
            Utc::now,
        )
    }
    .context("terminal chat")?;
    // The records socket goes before the process does.
    drop(service);
    Ok(match ended {
        terminal::Ended::Input => ExitCode::SUCCESS,
        // The shell's convention for a stop by Ctrl-C (128 + SIGINT).
        terminal::Ended::Interrupted => ExitCode::from(130),
    })
}

/// `frontdoor bench`: full consultations through the app with durable writes; steps per second,
/// step latency, and the data directory's size after them and after purging them.
pub fn bench(
    consultations: usize,
    dir: Option<PathBuf>,
    encrypt: bool,
    keep: bool,
) -> Result<ExitCode> {
    let temp = tempfile_dir()?;
    let dir = dir.unwrap_or_else(|| temp.clone());
    let config = Config {
        data_dir: dir.clone(),
        ..Config::default()
    };
    let store = Store::open_with(
        &dir,
        &StoreOptions {
            master: None,
            encrypt,
        },
    )?;
    let app = App::with_store(config.clone(), store, Utc::now())?;
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
    let now = Utc::now();
    for n in 0..consultations {
        // One conversation per consultation: the finished session stays, as in a chat.
        let key = format!("bench:{n}");
        let answers = &areas[n % areas.len()];
        for a in std::iter::once(Input::Start).chain(answers.iter().map(|a| Input::parse(a))) {
            let t = Instant::now();
            let replies = app.handle(&key, a, now)?;
            latencies.push(t.elapsed());
            if replies.iter().any(|r| matches!(r, Reply::Finished(_))) {
                break;
            }
        }
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
    let (sessions, records) = app.store().counts();
    let size = dir_size(&dir)?;
    if keep {
        say!(
            "{consultations} consultations, {} steps/s; data directory {}: {:.1} MiB with {records} records and {sessions} sessions (kept)",
            (latencies.len() as f64 / elapsed.as_secs_f64()).round(),
            dir.display(),
            size as f64 / 1_048_576.0
        );
        return Ok(ExitCode::SUCCESS);
    }
    let purge_started = Instant::now();
    let later = now + config.retention() + chrono::Duration::days(1);
    let purged = app
        .store()
        .purge(later, config.session_idle(), config.retention())?;
    let purge_time = purge_started.elapsed();
    let after = dir_size(&dir)?;
    say!(
        "{consultations} consultations, {} steps in {:.2?}, encryption {}",
        latencies.len(),
        elapsed,
        if encrypt { "on" } else { "off" }
    );
    say!(
        "steps/s: {:.0}",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    say!(
        "step latency p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        p(0.5),
        p(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    say!(
        "data directory {}: {:.1} MiB with {records} records and {sessions} sessions",
        dir.display(),
        size as f64 / 1_048_576.0,
    );
    say!(
        "after purging them ({} records, {} sessions, in {:.2?}): {:.1} MiB, {} keys left",
        purged.records,
        purged.sessions,
        purge_time,
        after as f64 / 1_048_576.0,
        app.store().key_count()
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
