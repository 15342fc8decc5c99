//! The one configuration, read from the environment (and `.env`) once and passed explicitly.
//!
//! | Variable                      | Default  | Meaning                                          |
//! |-------------------------------|----------|--------------------------------------------------|
//! | `FRONTDOOR_DATA_DIR`          | `./data` | where sessions and records are stored            |
//! | `FRONTDOOR_RETENTION_DAYS`    | `30`     | records are purged after this many days          |
//! | `FRONTDOOR_SESSION_IDLE_HOURS`| `24`     | an unfinished consultation expires after this    |
//! | `FRONTDOOR_AREA`              | none     | a deployment's fixed area (the area question is skipped) |
//!
//! Secrets (such as a bot token) are kept in [`Secret`], which never prints its value.

use std::fmt;
use std::path::PathBuf;

use chrono::Duration;

/// A value that must not appear in logs: `Debug` and `Display` print `[hidden]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// A setting could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{name}={value:?}: {why}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What would do.
        why: &'static str,
    },
}

/// Everything the program can be configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where sessions and records are stored.
    pub data_dir: PathBuf,
    /// Records are purged after this many days.
    pub retention_days: u32,
    /// An unfinished consultation expires after this many idle hours.
    pub session_idle_hours: u32,
    /// A deployment's fixed area id, if any.
    pub default_area: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            retention_days: 30,
            session_idle_hours: 24,
            default_area: None,
        }
    }
}

impl Config {
    /// Reads `.env` (if present) and then the process environment.
    pub fn load() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Config::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the configuration from a lookup function (the environment, or a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(d) = get("FRONTDOOR_DATA_DIR") {
            c.data_dir = PathBuf::from(d);
        }
        if let Some(v) = get("FRONTDOOR_RETENTION_DAYS") {
            c.retention_days = positive("FRONTDOOR_RETENTION_DAYS", &v, 3650)?;
        }
        if let Some(v) = get("FRONTDOOR_SESSION_IDLE_HOURS") {
            c.session_idle_hours = positive("FRONTDOOR_SESSION_IDLE_HOURS", &v, 24 * 365)?;
        }
        c.default_area = get("FRONTDOOR_AREA").map(|a| a.to_lowercase());
        Ok(c)
    }

    /// How long records are kept.
    pub fn retention(&self) -> Duration {
        Duration::days(i64::from(self.retention_days))
    }

    /// How long an unfinished consultation is kept.
    pub fn session_idle(&self) -> Duration {
        Duration::hours(i64::from(self.session_idle_hours))
    }
}

fn positive(name: &'static str, value: &str, max: u32) -> Result<u32, ConfigError> {
    match value.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            why: "must be a whole number of 1 or more",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Config::from_vars(|_| None), Ok(Config::default()));
        let c = Config::from_vars(|n| match n {
            "FRONTDOOR_DATA_DIR" => Some("/tmp/fd".into()),
            "FRONTDOOR_RETENTION_DAYS" => Some("7".into()),
            "FRONTDOOR_AREA" => Some("Medway".into()),
            _ => None,
        });
        assert_eq!(c.as_ref().map(|c| c.retention_days), Ok(7));
        assert_eq!(
            c.as_ref().ok().and_then(|c| c.default_area.clone()),
            Some("medway".into())
        );
        assert!(
            Config::from_vars(|n| (n == "FRONTDOOR_SESSION_IDLE_HOURS").then(|| "0".into()))
                .is_err()
        );
        assert!(
            Config::from_vars(|n| (n == "FRONTDOOR_RETENTION_DAYS").then(|| "abc".into())).is_err()
        );
    }

    #[test]
    fn secrets_are_hidden() {
        let s = Secret::new("123:abc");
        assert_eq!(format!("{s:?} {s}"), "[hidden] [hidden]");
        assert_eq!(s.expose(), "123:abc");
    }
}
