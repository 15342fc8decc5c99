//! `frontdoor telegram`: the Telegram bot, with its settings from the environment or `.env`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;

use frontdoor::app::App;
use frontdoor::config::{Config, TelegramConfig};

/// Runs the bot until SIGINT or SIGTERM.
pub fn telegram() -> Result<ExitCode> {
    let config = Config::load().context("configuration")?;
    let settings = TelegramConfig::load().context("Telegram settings")?;
    frontdoor::logs::init("info");
    let dir = config.data_dir.clone();
    let app = App::open(config.clone(), Utc::now())
        .with_context(|| format!("starting with data in {}", dir.display()))?;
    crate::records_cli::report_problems(app.store());
    let _service = crate::records_cli::serve(app.store().clone(), config)?;
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
