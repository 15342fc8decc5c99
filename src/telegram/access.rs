//! Who may consult: allow-listed Telegram users, or users who registered with an invite code.
//!
//! A consultation takes personal data about a child, so it is open only to professionals the
//! deployment knows. Registration keeps a fingerprint of the code used, never the code: when a
//! code is withdrawn from `FRONTDOOR_INVITE_CODES`, the access it gave is withdrawn too. Wrong
//! codes are limited per user, so that codes cannot be guessed by trying.

use std::collections::BTreeSet;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::config::TelegramConfig;
use crate::store::{Store, StoreError};

/// Wrong codes a user may try before having to wait.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long a user who tried too many wrong codes waits.
pub const LOCKOUT: Duration = Duration::hours(1);

/// The outcome of trying an invite code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// The code is right: the user is registered.
    Yes,
    /// The code is not one of the deployment's.
    WrongCode,
    /// Too many wrong codes lately: the code was not checked.
    TooManyAttempts,
}

/// The access rules of one deployment.
#[derive(Debug)]
pub struct Access {
    allowed: BTreeSet<u64>,
    codes: Vec<String>,
    /// Serialises tries, so that two at once cannot both pass the limit.
    trying: Mutex<()>,
}

/// Wrong tries of one user, as stored: how many, and when the first of them was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Attempts {
    wrong: u32,
    first: DateTime<Utc>,
}

fn attempts_key(user: u64) -> String {
    format!("invite-attempts:{}", user_key(user))
}

/// Whether a single word someone without access sent looks like an invite code rather than an
/// ordinary word: 8 to 100 characters with a digit, a hyphen or an underscore in it (as random
/// and hyphenated codes have). Other words are not counted as wrong codes.
pub fn looks_like_code(text: &str) -> bool {
    let t = text.trim();
    (crate::config::MIN_INVITE_CODE..=100).contains(&t.chars().count())
        && !t.contains(char::is_whitespace)
        && t.chars()
            .any(|c| c.is_ascii_digit() || c == '-' || c == '_')
}

/// The store key of a Telegram user's registration.
pub fn user_key(user: u64) -> String {
    format!("telegram:{user}")
}

/// A fingerprint of an invite code (what is stored instead of the code).
pub fn fingerprint(code: &str) -> String {
    let digest = Sha256::digest(format!("frontdoor-invite:{}", code.trim()).as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

impl Access {
    /// The rules from the settings.
    pub fn new(settings: &TelegramConfig) -> Access {
        Access {
            allowed: settings.allowed_users.clone(),
            codes: settings
                .invite_codes
                .iter()
                .map(|c| fingerprint(c.expose()))
                .collect(),
            trying: Mutex::new(()),
        }
    }

    /// Whether registration with a code is possible at all.
    pub fn has_codes(&self) -> bool {
        !self.codes.is_empty()
    }

    /// Whether `text` is one of the deployment's invite codes.
    pub fn is_code(&self, text: &str) -> bool {
        !self.codes.is_empty() && self.codes.contains(&fingerprint(text))
    }

    /// Whether `user` may consult: allow-listed, or registered with a code still valid.
    pub fn is_allowed(&self, store: &Store, user: u64) -> Result<bool, StoreError> {
        if self.allowed.contains(&user) {
            return Ok(true);
        }
        Ok(match store.registration(&user_key(user)) {
            Ok(Some(r)) => self.codes.contains(&r.code),
            Ok(None) => false,
            // An unreadable registration gives no access; registering again repairs it.
            Err(e) if e.is_unreadable_value() => false,
            Err(e) => return Err(e),
        })
    }

    /// Tries `code` for `user`; registers them (persisted) when it is right. Wrong tries are
    /// counted in the store.
    pub fn try_register(
        &self,
        store: &Store,
        user: u64,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Registered, StoreError> {
        let _one_at_a_time = self.trying.lock().unwrap_or_else(|p| p.into_inner());
        let key = attempts_key(user);
        let mut attempts = match store.chat_state::<Attempts>(&key) {
            Ok(a) => a.filter(|a| now - a.first <= LOCKOUT),
            // An unreadable count is started again rather than locking the user out for good.
            Err(e) if e.is_unreadable_value() => None,
            Err(e) => return Err(e),
        };
        if attempts.is_some_and(|a| a.wrong >= MAX_ATTEMPTS) {
            return Ok(Registered::TooManyAttempts);
        }
        let print = fingerprint(code);
        if self.codes.contains(&print) {
            store.register_user(&user_key(user), &print, now)?;
            store.save_chat_state::<Attempts>(&key, None, now)?;
            return Ok(Registered::Yes);
        }
        let a = attempts.get_or_insert(Attempts {
            wrong: 0,
            first: now,
        });
        a.wrong += 1;
        store.save_chat_state(&key, Some(&*a), now)?;
        store.flush()?;
        Ok(Registered::WrongCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use chrono::TimeZone;

    #[test]
    fn ordinary_words_are_not_taken_for_codes() {
        for word in [
            "safeguarding",
            "Hello",
            "neglected",
            "Wednesday",
            "please help me",
        ] {
            assert!(!looks_like_code(word), "{word}");
        }
        for code in [
            "fictional-invite-2026",
            "3f9a1c0b7d2e4a6b8c9d0e1f",
            "team_alpha7",
        ] {
            assert!(looks_like_code(code), "{code}");
        }
    }

    #[test]
    fn codes_register_and_wrong_codes_are_limited() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        let store = Store::open(dir.path())?;
        let settings = TelegramConfig {
            token: Secret::new("1:x"),
            allowed_users: [42].into_iter().collect(),
            invite_codes: vec![Secret::new("fictional-invite")],
            webhook: None,
            api_url: None,
        };
        let access = Access::new(&settings);
        let now = Utc
            .with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
            .single()
            .unwrap_or_default();
        assert!(access.is_allowed(&store, 42)?);
        assert!(!access.is_allowed(&store, 7)?);
        for _ in 0..MAX_ATTEMPTS {
            assert_eq!(
                access.try_register(&store, 7, "guess-guess", now)?,
                Registered::WrongCode
            );
        }
        assert_eq!(
            access.try_register(&store, 7, "fictional-invite", now)?,
            Registered::TooManyAttempts
        );
        let later = now + LOCKOUT + Duration::minutes(1);
        assert_eq!(
            access.try_register(&store, 7, " fictional-invite ", later)?,
            Registered::Yes
        );
        assert!(access.is_allowed(&store, 7)?);
        // The lock-out survives a restart (a new Access on the same store).
        for _ in 0..MAX_ATTEMPTS {
            access.try_register(&store, 8, "guess-guess", now)?;
        }
        let restarted = Access::new(&settings);
        assert_eq!(
            restarted.try_register(&store, 8, "fictional-invite", now + Duration::minutes(5))?,
            Registered::TooManyAttempts
        );
        // Withdrawing the code withdraws the access.
        let withdrawn = Access::new(&TelegramConfig {
            invite_codes: vec![Secret::new("another-invite")],
            ..settings
        });
        assert!(!withdrawn.is_allowed(&store, 7)?);
        Ok(())
    }
}
