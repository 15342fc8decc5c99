//! The commands on the stored data: `records ...`, `backup`, `restore` and `salvage`.
//!
//! `records` commands work while the bot or a chat holds the store: a running `frontdoor`
//! serves them on a Unix socket in the data directory (`records.sock`, mode 0600, in a 0700
//! directory), and a `records` command that finds the store in use sends its arguments there
//! and prints the answer. The socket is only for commands of the same user on the same machine.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use frontdoor::config::Config;
use frontdoor::dialogue::clean;
use frontdoor::store::{backup, Store, StoreError};

/// `frontdoor records ...`.
#[derive(Subcommand, Debug, Clone)]
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
    /// Delete one record (and the session that made it): its key is destroyed, so no copy
    /// left on disk can be read.
    Delete {
        /// The reference.
        reference: String,
    },
    /// Remove idle sessions and records older than FRONTDOOR_RETENTION_DAYS now.
    Purge,
}

/// Export formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// Plain text.
    Txt,
    /// JSON.
    Json,
}

/// The socket's file name in the data directory.
pub const SOCKET: &str = "records.sock";

fn config() -> Result<Config> {
    Config::load().context("configuration")
}

/// Prints what opening found wrong but did not stop it, once, to stderr.
pub fn report_problems(store: &Store) {
    for p in store.problems() {
        eprintln!("frontdoor: {p}");
    }
}

/// `frontdoor records ...`: on the store directly, or through the running process holding it.
pub fn records(command: RecordsCommand) -> Result<ExitCode> {
    let config = config()?;
    frontdoor::logs::init("warn");
    let store = match Store::open_with(&config.data_dir, &config.store_options()) {
        Ok(s) => s,
        Err(StoreError::Locked { dir }) => return remote(&dir),
        Err(e) => return Err(e.into()),
    };
    report_problems(&store);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run(&store, &config, command, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs one `records` command on `store`, writing what it prints to `out`.
pub fn run(
    store: &Store,
    config: &Config,
    command: RecordsCommand,
    out: &mut dyn Write,
) -> Result<()> {
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
                        let line = format!(
                            "{}  {}  {:<16}  {:<24}  {}",
                            rec.reference,
                            rec.created.format("%d/%m/%Y %H:%M"),
                            area,
                            rec.child.name,
                            rec.level_phrase()
                        );
                        writeln!(out, "{}", clean::text(&line).replace('\n', " "))?;
                    }
                    Err(e) => writeln!(out, "(unreadable: {e})")?,
                }
            }
        }
        RecordsCommand::Show { reference } => {
            let r = store
                .record(&reference)?
                .with_context(|| format!("no record {reference}"))?;
            // Records stored before input was cleaned may hold escape sequences: never print
            // them raw.
            write!(out, "{}", clean::text(&r.record.to_text()))?;
        }
        RecordsCommand::Export { reference, format } => {
            let r = store
                .record(&reference)?
                .with_context(|| format!("no record {reference}"))?;
            match format {
                Format::Md => write!(out, "{}", clean::text(&r.record.to_markdown()))?,
                Format::Txt => write!(out, "{}", clean::text(&r.record.to_text()))?,
                Format::Json => writeln!(out, "{}", r.record.to_json()?)?,
            }
        }
        RecordsCommand::Delete { reference } => {
            if !store.delete_record(&reference)? {
                bail!("no record {reference}");
            }
            writeln!(
                out,
                "Deleted {reference} (and its session); its key is destroyed."
            )?;
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
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    args: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Response {
    out: String,
    error: Option<String>,
}

#[derive(Parser)]
#[command(name = "records", no_binary_name = false)]
struct RecordsArgs {
    #[command(subcommand)]
    command: RecordsCommand,
}

/// The arguments after `records` on this command line.
fn records_args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .skip_while(|a| a != "records")
        .skip(1)
        .collect()
}

fn remote(dir: &Path) -> Result<ExitCode> {
    let path = dir.join(SOCKET);
    // The process holding the store starts serving a moment after it opens it.
    let mut stream = std::os::unix::net::UnixStream::connect(&path);
    for _ in 0..50 {
        if stream.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        stream = std::os::unix::net::UnixStream::connect(&path);
    }
    let Ok(stream) = stream else {
        bail!(
            "the data in {} is held by another frontdoor process that does not answer records commands: in a chat, /record shows the last record and /export saves it; or stop that process (Ctrl-C) and run this again",
            dir.display()
        );
    };
    let mut writer = stream.try_clone().context("the records socket")?;
    let request = Request {
        args: records_args(),
    };
    writeln!(writer, "{}", serde_json::to_string(&request)?).context("the records socket")?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .context("the records socket")?;
    let response: Response =
        serde_json::from_str(&line).context("the running frontdoor's answer")?;
    std::io::stdout().write_all(response.out.as_bytes())?;
    match response.error {
        Some(e) => {
            eprintln!("frontdoor: {e}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The records service of a running process: answers `records` commands on the socket in the
/// data directory until the process ends. The socket is removed when it is dropped.
pub struct Service {
    path: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Starts serving `records` commands for `store` (in a thread of its own).
pub fn serve(store: Store, config: Config) -> Result<Service> {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixListener;
    let path = store.dir().join(SOCKET);
    // A socket left by a process that was killed: this process holds the store now.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("serving records commands on {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    std::thread::Builder::new()
        .name("records".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Err(e) = answer(&store, &config, stream) {
                    tracing::warn!(error = %e, "a records command could not be answered");
                }
            }
        })?;
    Ok(Service { path })
}

fn answer(store: &Store, config: &Config, stream: std::os::unix::net::UnixStream) -> Result<()> {
    let mut writer = stream.try_clone()?;
    let mut line = String::new();
    BufReader::new(stream.take_limit()).read_line(&mut line)?;
    let request: Request = serde_json::from_str(&line)?;
    let mut out = Vec::new();
    let error = match RecordsArgs::try_parse_from(
        std::iter::once("records".to_string()).chain(request.args),
    ) {
        Ok(args) => run(store, config, args.command, &mut out)
            .err()
            .map(|e| format!("{e:#}")),
        Err(e) => Some(e.to_string()),
    };
    let response = Response {
        out: String::from_utf8_lossy(&out).into_owned(),
        error,
    };
    writeln!(writer, "{}", serde_json::to_string(&response)?)?;
    Ok(())
}

trait TakeLimit: Sized {
    fn take_limit(self) -> std::io::Take<Self>;
}

impl TakeLimit for std::os::unix::net::UnixStream {
    /// A request is a short command line.
    fn take_limit(self) -> std::io::Take<Self> {
        std::io::Read::take(self, 64 * 1024)
    }
}

/// `frontdoor backup FILE`.
pub fn backup(file: &Path) -> Result<ExitCode> {
    let config = config()?;
    frontdoor::logs::init("warn");
    let store = Store::open_with(&config.data_dir, &config.store_options()).map_err(|e| match e {
        StoreError::Locked { dir } => anyhow::anyhow!(
            "the data in {} is in use by a running frontdoor; stop it (Ctrl-C), then run the backup",
            dir.display()
        ),
        e => e.into(),
    })?;
    report_problems(&store);
    let s = store.backup(file)?;
    say!(
        "Backed up {} consultation entries and {} other entries to {} (encrypted with the master key; restoring needs it).",
        s.sealed,
        s.plain,
        file.display()
    );
    if s.unreadable > 0 {
        say!("{} unreadable entries were left out.", s.unreadable);
    }
    Ok(ExitCode::SUCCESS)
}

/// `frontdoor restore FILE`: into an empty data directory.
pub fn restore(file: &Path) -> Result<ExitCode> {
    let config = config()?;
    frontdoor::logs::init("warn");
    let s = backup::restore(&config.data_dir, file, &config.store_options())?;
    say!(
        "Restored {} consultation entries and {} other entries into {}.",
        s.sealed,
        s.plain,
        config.data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `frontdoor salvage FILE`: what can be read from a damaged data directory, as a backup.
pub fn salvage(file: &Path) -> Result<ExitCode> {
    let config = config()?;
    frontdoor::logs::init("warn");
    let s = backup::salvage(&config.data_dir, file, &config.store_options())?;
    say!(
        "Rescued {} entries into {} ({} could not be read). Move {} aside, copy its master.key into a new empty data directory, and run `frontdoor restore {}`.",
        s.sealed,
        file.display(),
        s.unreadable,
        config.data_dir.display(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}
