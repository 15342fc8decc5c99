//! Logging: one set-up for every command, so that no level prints stored values.
//!
//! `RUST_LOG` (or the command's default) filters as usual, but only this crate's own events are
//! shown at every level; they never carry message text or personal data (Telegram ids are keyed
//! hashes). Dependencies are capped, whatever `RUST_LOG` says: sled is silenced entirely (its
//! debug and trace output prints pages, keys and values), the two teloxide modules that print a
//! whole update when it cannot be parsed are silenced, teloxide is capped at `info` (start-up and
//! connection messages), and every other crate at `warn`. `log` records (sled uses `log`) go
//! through the same filter.

use tracing::{Level, Metadata};
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Whether an event from `target` at `level` may be shown at all.
pub fn allowed(target: &str, level: &Level) -> bool {
    let under = |prefix: &str| target == prefix || target.starts_with(&format!("{prefix}::"));
    if under("frontdoor") {
        true
    } else if under("sled")
        || under("teloxide::dispatching::dispatcher")
        || under("teloxide::update_listeners::webhooks")
    {
        false
    } else if under("teloxide") || under("teloxide_core") {
        *level <= Level::INFO
    } else {
        *level <= Level::WARN
    }
}

fn allowed_meta(meta: &Metadata<'_>) -> bool {
    allowed(meta.target(), meta.level())
}

/// Logs to stderr, filtered by `RUST_LOG` (default `default`, e.g. `info`) and [`allowed`].
pub fn init(default: &str) {
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(env)
                .with_filter(filter_fn(allowed_meta)),
        )
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_are_capped_and_sled_is_silent() {
        assert!(allowed("frontdoor::store", &Level::TRACE));
        assert!(allowed("frontdoor", &Level::DEBUG));
        assert!(!allowed("sled::tree", &Level::ERROR));
        assert!(!allowed("sled", &Level::WARN));
        assert!(!allowed("teloxide::dispatching::dispatcher", &Level::ERROR));
        assert!(allowed("teloxide::bot", &Level::INFO));
        assert!(!allowed("teloxide_core::net", &Level::DEBUG));
        assert!(!allowed("reqwest::connect", &Level::INFO));
        assert!(allowed("hyper", &Level::WARN));
        assert!(!allowed("frontdoorish", &Level::TRACE) || allowed("frontdoorish", &Level::WARN));
    }
}
