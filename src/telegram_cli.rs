//! `frontdoor telegram`: the Telegram bot, with its settings from the environment or `.env`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;
use tracing_subscriber::EnvFilter;

use frontdoor::app::App;
use frontdoor::config::{Config, TelegramConfig};

/// Runs the bot until SIGINT or SIGTERM.
pub fn telegram() -> Result<ExitCode> {
    let config = Config::load().context("configuration")?;
    let settings = TelegramConfig::load().context("Telegram settings")?;
    init_logs();
    let dir = config.data_dir.clone();
    let app = App::open(config, Utc::now())
        .with_context(|| format!("starting with data in {}", dir.display()))?;
    if settings.allowed_users.is_empty() && settings.invite_codes.is_empty() {
        tracing::warn!(
            "neither FRONTDOOR_ALLOWED_USERS nor FRONTDOOR_INVITE_CODES is set: only /urgent, /contacts and /help will answer"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime
        .block_on(frontdoor::telegram::run(Arc::new(app), settings))
        .context("the Telegram bot")?;
    Ok(ExitCode::SUCCESS)
}

/// Logs to stderr, filtered by RUST_LOG (default `info`). The HTTP libraries are capped at
/// `info`, because their debug output would include addresses holding the bot's token; the bot's
/// own logs carry kinds of errors and hashed ids, never message text or response bodies.
fn init_logs() {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in [
        "teloxide=info",
        "teloxide_core=info",
        "reqwest=info",
        "hyper=info",
        "hyper_util=info",
        "axum=info",
        "tower_http=info",
    ] {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
