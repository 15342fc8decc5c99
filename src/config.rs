//! The one configuration, read from the environment (and `.env`) once and passed explicitly.
//!
//! | Variable                      | Default  | Meaning                                          |
//! |-------------------------------|----------|--------------------------------------------------|
//! | `FRONTDOOR_DATA_DIR`          | `./data` | where sessions and records are stored            |
//! | `FRONTDOOR_RETENTION_DAYS`    | `30`     | records are purged after this many days          |
//! | `FRONTDOOR_SESSION_IDLE_HOURS`| `24`     | an unfinished consultation expires after this    |
//! | `FRONTDOOR_AREA`              | none     | a deployment's fixed area (the area question is skipped) |
//! | `FRONTDOOR_HOURS_<AREA>`      | none     | a front door's opening hours where its document states none, e.g. `FRONTDOOR_HOURS_MEDWAY="mon-thu 08:30-17:00; fri 08:30-16:30"` |
//! | `FRONTDOOR_DATA_KEY`          | none     | the master key (64 hex digits); default: `master.key` in the data directory |
//!
//! `<AREA>` is the area id in capitals with `_` for `-` (`FRONTDOOR_HOURS_WARWICKSHIRE_2018`).
//! Without it, such a front door is assumed open on weekdays 08:00-18:00 except bank holidays,
//! and every answer says that this is an assumption. A value that cannot be read, or a name
//! that is no area, stops the program at start with the setting named.
//!
//! The Telegram bot (`frontdoor telegram`) reads [`TelegramConfig`] as well:
//!
//! | Variable                      | Default  | Meaning                                          |
//! |-------------------------------|----------|--------------------------------------------------|
//! | `TELOXIDE_TOKEN`              | none     | the bot's token from BotFather (required)        |
//! | `FRONTDOOR_ALLOWED_USERS`     | none     | Telegram user ids allowed to consult, comma-separated |
//! | `FRONTDOOR_INVITE_CODES`      | none     | invite codes (8+ characters) that register a user |
//! | `FRONTDOOR_WEBHOOK_URL`       | none     | public HTTPS URL: webhook mode instead of long polling |
//! | `FRONTDOOR_WEBHOOK_BIND`      | none     | local address the webhook listens on, e.g. `0.0.0.0:8443` |
//! | `TELOXIDE_API_URL`            | Telegram | another Bot API server, e.g. a self-hosted `telegram-bot-api` |
//!
//! Secrets (such as a bot token) are kept in [`Secret`], which never prints its value.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::Duration;

use crate::rules::{hours_setting, load::embedded_area_ids, OpeningHours};
use crate::store::keys::MasterKey;
use crate::store::StoreOptions;

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
    /// An opening-hours setting cannot be read.
    #[error("{name}={value:?}: {why} (expected e.g. \"mon-thu 08:30-17:00; fri 08:30-16:30\")")]
    Hours {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What is wrong.
        why: String,
    },
    /// A `FRONTDOOR_HOURS_` variable names no area.
    #[error("{name} is set, but there is no such area (the hours settings are: {known})")]
    UnknownHours {
        /// The variable.
        name: String,
        /// The settings that exist.
        known: String,
    },
    /// A required variable is not set.
    #[error("{name} is not set: {why}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What it is for and where to get it.
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
    /// Front door opening hours set for this deployment, by area id (`FRONTDOOR_HOURS_<AREA>`).
    pub front_door_hours: BTreeMap<String, Vec<OpeningHours>>,
    /// The master key sealing the stored data's keys (64 hex digits), when it is kept outside
    /// the data directory; otherwise `master.key` in the data directory is used.
    pub data_key: Option<Secret>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            retention_days: 30,
            session_idle_hours: 24,
            default_area: None,
            front_door_hours: BTreeMap::new(),
            data_key: None,
        }
    }
}

impl Config {
    /// Reads `.env` (if present) and then the process environment.
    pub fn load() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        // vars_os: a variable that is not valid Unicode must not panic here.
        check_hours_names(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
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
        for id in embedded_area_ids() {
            let name = hours_setting(id);
            if let Some(value) = get(&name) {
                let spans = parse_hours(&name, &value)?;
                c.front_door_hours.insert(id.to_string(), spans);
            }
        }
        if let Some(k) = get("FRONTDOOR_DATA_KEY") {
            if MasterKey::from_hex(&k).is_none() {
                return Err(ConfigError::Invalid {
                    name: "FRONTDOOR_DATA_KEY",
                    value: "[hidden]".into(),
                    why: "must be 64 hexadecimal digits (32 random bytes), e.g. from `openssl rand -hex 32`",
                });
            }
            c.data_key = Some(Secret::new(k));
        }
        Ok(c)
    }

    /// How to open the store: the master key from `FRONTDOOR_DATA_KEY` when it is set.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            master: self
                .data_key
                .as_ref()
                .and_then(|k| MasterKey::from_hex(k.expose())),
            encrypt: true,
        }
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

/// The shortest invite code accepted: shorter codes could be guessed.
pub const MIN_INVITE_CODE: usize = 8;

/// Where Telegram delivers updates in webhook mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The public HTTPS URL Telegram posts to.
    pub url: url::Url,
    /// The local address the server listens on (a reverse proxy forwards the URL to it).
    pub bind: SocketAddr,
}

/// The settings of the Telegram bot, read from the environment (and `.env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramConfig {
    /// The bot token from BotFather.
    pub token: Secret,
    /// Telegram user ids allowed to consult without an invite code.
    pub allowed_users: BTreeSet<u64>,
    /// Invite codes with which a user registers for access.
    pub invite_codes: Vec<Secret>,
    /// Webhook mode, when both the URL and the bind address are set; long polling otherwise.
    pub webhook: Option<Webhook>,
    /// The Bot API server, when not Telegram's own (`https://api.telegram.org`).
    pub api_url: Option<url::Url>,
}

impl TelegramConfig {
    /// Reads `.env` (if present) and then the process environment.
    pub fn load() -> Result<TelegramConfig, ConfigError> {
        let _ = dotenvy::dotenv();
        TelegramConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the settings from a lookup function (the environment, or a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<TelegramConfig, ConfigError> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let token = get("TELOXIDE_TOKEN").ok_or(ConfigError::Missing {
            name: "TELOXIDE_TOKEN",
            why: "put the bot's token from BotFather in .env (see README.md, \"Telegram\")",
        })?;
        if !token.contains(':') || token.chars().any(char::is_whitespace) {
            return Err(ConfigError::Invalid {
                name: "TELOXIDE_TOKEN",
                value: "[hidden]".into(),
                why: "a bot token looks like 123456789:AA..., as BotFather gives it",
            });
        }
        let mut allowed_users = BTreeSet::new();
        for id in list(get("FRONTDOOR_ALLOWED_USERS")) {
            match id.parse::<u64>() {
                Ok(n) if n > 0 => {
                    allowed_users.insert(n);
                }
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "FRONTDOOR_ALLOWED_USERS",
                        value: id,
                        why: "must be numeric Telegram user ids, separated by commas",
                    })
                }
            }
        }
        let mut invite_codes = Vec::new();
        for code in list(get("FRONTDOOR_INVITE_CODES")) {
            if code.chars().count() < MIN_INVITE_CODE {
                return Err(ConfigError::Invalid {
                    name: "FRONTDOOR_INVITE_CODES",
                    value: "[hidden]".into(),
                    why: "every invite code needs at least 8 characters, so that it cannot be guessed",
                });
            }
            invite_codes.push(Secret::new(code));
        }
        let webhook =
            match (get("FRONTDOOR_WEBHOOK_URL"), get("FRONTDOOR_WEBHOOK_BIND")) {
                (None, None) => None,
                (Some(url), Some(bind)) => {
                    let url = match url::Url::parse(&url) {
                        Ok(u) if u.scheme() == "https" => u,
                        _ => {
                            return Err(ConfigError::Invalid {
                                name: "FRONTDOOR_WEBHOOK_URL",
                                value: url,
                                why: "must be a public https:// URL",
                            })
                        }
                    };
                    let bind = bind
                        .parse::<SocketAddr>()
                        .map_err(|_| ConfigError::Invalid {
                            name: "FRONTDOOR_WEBHOOK_BIND",
                            value: bind.clone(),
                            why: "must be an address and port, e.g. 0.0.0.0:8443",
                        })?;
                    Some(Webhook { url, bind })
                }
                (Some(_), None) => return Err(ConfigError::Missing {
                    name: "FRONTDOOR_WEBHOOK_BIND",
                    why: "webhook mode needs both FRONTDOOR_WEBHOOK_URL and FRONTDOOR_WEBHOOK_BIND",
                }),
                (None, Some(_)) => return Err(ConfigError::Missing {
                    name: "FRONTDOOR_WEBHOOK_URL",
                    why: "webhook mode needs both FRONTDOOR_WEBHOOK_URL and FRONTDOOR_WEBHOOK_BIND",
                }),
            };
        let api_url = get("TELOXIDE_API_URL").map(|u| api_url(&u)).transpose()?;
        Ok(TelegramConfig {
            token: Secret::new(token),
            allowed_users,
            invite_codes,
            webhook,
            api_url,
        })
    }
}

/// A Bot API server's address: `http(s)://host[:port][/path]`, without query or fragment. A
/// trailing slash is dropped, as the method paths are appended to it.
fn api_url(value: &str) -> Result<url::Url, ConfigError> {
    // A value holding a token (`.../bot123:AA...`) is not printed back.
    let shown = if value.contains("/bot") {
        "[hidden]".to_string()
    } else {
        value.to_string()
    };
    let invalid = || {
        ConfigError::Invalid {
        name: "TELOXIDE_API_URL",
        value: shown.clone(),
        why: "must be the address of a Bot API server, e.g. http://127.0.0.1:8081 (without /bot<token>)",
    }
    };
    let url = url::Url::parse(value.trim_end_matches('/')).map_err(|_| invalid())?;
    let fits = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && !url.cannot_be_a_base()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !url
            .path_segments()
            .is_some_and(|mut s| s.any(|seg| seg.starts_with("bot") && seg.contains(':')));
    if fits {
        Ok(url)
    } else {
        Err(invalid())
    }
}

/// Reads opening hours such as `mon-thu 08:30-17:00; fri 08:30-16:30`.
pub fn parse_hours(name: &str, value: &str) -> Result<Vec<OpeningHours>, ConfigError> {
    let invalid = |why: String| ConfigError::Hours {
        name: name.to_string(),
        value: value.to_string(),
        why,
    };
    let mut spans = Vec::new();
    for part in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let span = OpeningHours::parse(&part.to_ascii_lowercase())
            .map_err(|e| invalid(format!("{:?}: {}", e.text, e.reason)))?;
        spans.push(span);
    }
    if spans.is_empty() {
        return Err(invalid("no opening hours given".into()));
    }
    Ok(spans)
}

/// Refuses a `FRONTDOOR_HOURS_` variable that names no area (a typo would otherwise leave the
/// hours silently assumed).
pub fn check_hours_names(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    let known: Vec<String> = embedded_area_ids().into_iter().map(hours_setting).collect();
    for name in names {
        if name.starts_with("FRONTDOOR_HOURS_") && !known.contains(&name) {
            return Err(ConfigError::UnknownHours {
                name,
                known: known.join(", "),
            });
        }
    }
    Ok(())
}

/// A comma- (or whitespace-) separated list.
fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
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
    fn the_data_key_must_be_a_key_and_is_hidden() {
        let key = "0123456789abcdef".repeat(4);
        let c = Config::from_vars(|n| (n == "FRONTDOOR_DATA_KEY").then(|| key.clone()));
        assert!(c.as_ref().is_ok_and(|c| c.store_options().master.is_some()));
        assert!(!format!("{c:?}").contains(&key));
        let short = Config::from_vars(|n| (n == "FRONTDOOR_DATA_KEY").then(|| "secret".into()));
        assert!(short.is_err());
        assert!(!format!("{short:?}").contains("secret"));
    }

    #[test]
    fn telegram_settings() {
        let vars = |extra: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                [("TELOXIDE_TOKEN", "123456:replace-with-your-token")]
                    .iter()
                    .chain(extra)
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = TelegramConfig::from_vars(vars(&[
            ("FRONTDOOR_ALLOWED_USERS", "111, 222"),
            (
                "FRONTDOOR_INVITE_CODES",
                "fictional-code-1,fictional-code-2",
            ),
        ]));
        assert_eq!(
            c.as_ref()
                .map(|c| c.allowed_users.iter().copied().collect::<Vec<_>>()),
            Ok(vec![111, 222])
        );
        assert_eq!(c.as_ref().map(|c| c.invite_codes.len()), Ok(2));
        assert_eq!(c.as_ref().map(|c| c.webhook.is_none()), Ok(true));
        assert!(format!("{c:?}").contains("[hidden]"));
        assert!(!format!("{c:?}").contains("replace-with-your-token"));
        assert!(matches!(
            TelegramConfig::from_vars(|_| None),
            Err(ConfigError::Missing {
                name: "TELOXIDE_TOKEN",
                ..
            })
        ));
        assert!(TelegramConfig::from_vars(vars(&[("FRONTDOOR_INVITE_CODES", "short")])).is_err());
        assert!(TelegramConfig::from_vars(vars(&[("FRONTDOOR_ALLOWED_USERS", "@sam")])).is_err());
        assert!(TelegramConfig::from_vars(vars(&[(
            "FRONTDOOR_WEBHOOK_URL",
            "https://bot.example.org/telegram"
        )]))
        .is_err());
        let w = TelegramConfig::from_vars(vars(&[
            ("FRONTDOOR_WEBHOOK_URL", "https://bot.example.org/telegram"),
            ("FRONTDOOR_WEBHOOK_BIND", "127.0.0.1:8443"),
        ]));
        assert_eq!(
            w.ok().and_then(|c| c.webhook).map(|w| w.bind.port()),
            Some(8443)
        );
    }

    #[test]
    fn another_bot_api_server() {
        let with = |url: &'static str| {
            TelegramConfig::from_vars(move |n| match n {
                "TELOXIDE_TOKEN" => Some("123456:replace-with-your-token".into()),
                "TELOXIDE_API_URL" => Some(url.into()),
                _ => None,
            })
        };
        let c = with("http://127.0.0.1:8081/");
        assert_eq!(
            c.ok().and_then(|c| c.api_url).map(|u| u.to_string()),
            Some("http://127.0.0.1:8081/".to_string())
        );
        let c = with("https://bot-api.example.org/telegram/");
        assert_eq!(
            c.ok().and_then(|c| c.api_url).map(|u| u.path().to_string()),
            Some("/telegram".to_string())
        );
        for bad in [
            "api.telegram.org",
            "ftp://example.org",
            "http://",
            "http://example.org/?x=1",
            "https://api.telegram.org/bot123:abc",
            "not a url",
        ] {
            assert!(
                matches!(
                    with(bad),
                    Err(ConfigError::Invalid {
                        name: "TELOXIDE_API_URL",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let unset = TelegramConfig::from_vars(|n| {
            (n == "TELOXIDE_TOKEN").then(|| "123456:replace-with-your-token".into())
        });
        assert_eq!(unset.map(|c| c.api_url), Ok(None));
    }

    #[test]
    fn the_example_settings_are_valid() {
        let example = include_str!("../.env.example");
        let vars: std::collections::BTreeMap<&str, &str> = example
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .collect();
        for name in [
            "TELOXIDE_TOKEN",
            "FRONTDOOR_ALLOWED_USERS",
            "FRONTDOOR_INVITE_CODES",
            "FRONTDOOR_WEBHOOK_URL",
            "FRONTDOOR_WEBHOOK_BIND",
            "TELOXIDE_API_URL",
        ] {
            assert!(
                vars.contains_key(name),
                "{name} is documented in .env.example"
            );
        }
        let get = |n: &str| vars.get(n).map(|v| v.to_string());
        assert!(Config::from_vars(get).is_ok());
        // The commented hours examples name real settings and parse.
        let hours: Vec<(&str, &str)> = example
            .lines()
            .filter_map(|l| l.strip_prefix("# FRONTDOOR_HOURS_"))
            .filter_map(|l| l.split_once('='))
            .collect();
        assert_eq!(hours.len(), 4);
        for (area, value) in hours {
            let name = format!("FRONTDOOR_HOURS_{area}");
            assert!(
                check_hours_names([name.clone()].into_iter()).is_ok(),
                "{name}"
            );
            let value = value.trim_matches('"');
            assert!(parse_hours(&name, value).is_ok(), "{name}={value}");
        }
        let telegram = TelegramConfig::from_vars(get);
        assert!(
            telegram.as_ref().is_ok_and(|t| t.webhook.is_none()),
            "{telegram:?}"
        );
    }

    #[test]
    fn front_door_hours_per_area() {
        let c = Config::from_vars(|n| {
            (n == "FRONTDOOR_HOURS_MEDWAY").then(|| "Mon-Thu 08:30-17:00; fri 08:30-16:30".into())
        })
        .expect("valid hours");
        let medway = c.front_door_hours.get("medway").expect("set");
        assert_eq!(medway.len(), 2);
        assert_eq!(medway[1].to_string(), "Fri 08:30-16:30");
        assert!(!c.front_door_hours.contains_key("salford"));
        for bad in [
            "",
            ";",
            "mon-fri 9-5",
            "weekdays 08:00-18:00",
            "mon-fri 18:00-08:00",
        ] {
            let e = Config::from_vars(|n| {
                (n == "FRONTDOOR_HOURS_WARWICKSHIRE_2018").then(|| bad.to_string())
            });
            match (bad, e) {
                ("", Ok(c)) => assert!(c.front_door_hours.is_empty()),
                (_, Err(e)) => assert!(
                    e.to_string().contains("FRONTDOOR_HOURS_WARWICKSHIRE_2018"),
                    "{e}"
                ),
                (_, Ok(_)) => panic!("{bad:?} was accepted"),
            }
        }
        let e = check_hours_names(["FRONTDOOR_HOURS_MEDWAAY".to_string()].into_iter());
        assert!(e.is_err_and(|e| e.to_string().contains("FRONTDOOR_HOURS_MEDWAY")));
        assert!(
            check_hours_names(["FRONTDOOR_HOURS_STOKE_ON_TRENT".to_string()].into_iter()).is_ok()
        );
    }

    #[test]
    fn secrets_are_hidden() {
        let s = Secret::new("123:abc");
        assert_eq!(format!("{s:?} {s}"), "[hidden] [hidden]");
        assert_eq!(s.expose(), "123:abc");
    }
}
