//! The one entry point for every front end: load the session, step the engine, save, reply.
//!
//! [`App::handle`] is what the terminal, Telegram and the tests call with a conversation key
//! (e.g. `terminal:local`, `telegram:<chat id>`), the caller's input and the current time. The
//! session is saved and flushed before the replies are returned, so the next question is only
//! shown once the answer is on disk. Finished consultations get their reference here and their
//! record is stored with the session. Nothing here names a terminal or Telegram type.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Europe::London;

use crate::config::Config;
use crate::dialogue::clean;
use crate::dialogue::{self, Engine, Input, Reply, Script, ScriptError};
use crate::rules::{self, RuleSet, RulesError};
use crate::store::{Step, Store, StoreError};

/// How often purging runs while the program is up.
pub const PURGE_EVERY: Duration = Duration::hours(1);

/// The application could not start or could not store an answer.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The built-in rules are invalid.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The dialogue script is invalid.
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configured front door hours cannot be applied.
    #[error(transparent)]
    Hours(#[from] crate::rules::DeploymentError),
    /// The shipped understanding does not fit the rules' need taxonomy.
    #[error(transparent)]
    Understanding(#[from] crate::understanding::UnderstandingError),
    /// The configured default area is not in the rules.
    #[error("FRONTDOOR_AREA={0:?} is not an area in the rules (use one of: {1})")]
    UnknownArea(String, String),
}

/// The application: the engine, the store and the configuration.
#[derive(Debug)]
pub struct App {
    engine: Engine,
    store: Store,
    config: Config,
    /// Serialises steps, so that two messages of one conversation never race; also holds
    /// when the last purge ran.
    state: Mutex<Option<DateTime<Utc>>>,
}

/// UK local time (Europe/London, with summer time) for a UTC instant.
pub fn uk_local(now: DateTime<Utc>) -> NaiveDateTime {
    now.with_timezone(&London).naive_local()
}

impl App {
    /// Opens the application on the built-in rules and script, with the store in the
    /// configured data directory, and purges expired data.
    pub fn open(config: Config, now: DateTime<Utc>) -> Result<App, AppError> {
        let rules = rules::load_embedded()?;
        let script = dialogue::load_embedded()?;
        App::new(config, rules, script, now)
    }

    /// Opens the application on the built-in rules and script with a store already open (e.g.
    /// one without encryption, to measure what encryption costs).
    pub fn with_store(config: Config, store: Store, now: DateTime<Utc>) -> Result<App, AppError> {
        let rules = rules::load_embedded()?;
        let script = dialogue::load_embedded()?;
        App::build(config, rules, script, store, now)
    }

    /// Opens the application on the given rules and script.
    pub fn new(
        config: Config,
        rules: RuleSet,
        script: Script,
        now: DateTime<Utc>,
    ) -> Result<App, AppError> {
        let store = Store::open_with(&config.data_dir, &config.store_options())?;
        App::build(config, rules, script, store, now)
    }

    fn build(
        config: Config,
        mut rules: RuleSet,
        script: Script,
        store: Store,
        now: DateTime<Utc>,
    ) -> Result<App, AppError> {
        rules.set_front_door_hours(&config.front_door_hours)?;
        if let Some(a) = &config.default_area {
            if rules.area(a).is_none() {
                return Err(AppError::UnknownArea(
                    a.clone(),
                    rules.area_ids().join(", "),
                ));
            }
        }
        let app = App {
            engine: Engine::try_new(script, rules)?,
            store,
            config,
            state: Mutex::new(None),
        };
        app.purge(now)?;
        Ok(app)
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Purges idle sessions and old records now.
    pub fn purge(&self, now: DateTime<Utc>) -> Result<crate::store::Purged, AppError> {
        let purged = self
            .store
            .purge(now, self.config.session_idle(), self.config.retention())?;
        if let Ok(mut last) = self.state.lock() {
            *last = Some(now);
        }
        Ok(purged)
    }

    /// Whether the conversation `key` has an unfinished consultation with at least one answer,
    /// so that starting a new one would lose something.
    pub fn in_progress(&self, key: &str, now: DateTime<Utc>) -> Result<bool, AppError> {
        match self
            .store
            .load_session(key, now, self.config.session_idle())
        {
            Ok(Some(s)) => {
                Ok(!s.is_finished() && (!s.order.is_empty() || !s.concerns.messages.is_empty()))
            }
            Ok(None) => Ok(false),
            Err(e) if e.is_unreadable_value() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Handles one input of the conversation `key` at `now`: the replies to show, after the
    /// new state is on disk.
    pub fn handle(
        &self,
        key: &str,
        input: Input,
        now: DateTime<Utc>,
    ) -> Result<Vec<Reply>, AppError> {
        self.handle_delivered(key, input, now, None)
    }

    /// [`App::handle`] for an input that came as a delivery (e.g. a Telegram update) which may
    /// be delivered again after a crash: with `delivered`, the delivery is marked as handled in
    /// the same flushed write as the session ([`Store::save_step`]).
    pub fn handle_delivered(
        &self,
        key: &str,
        input: Input,
        now: DateTime<Utc>,
        delivered: Option<&str>,
    ) -> Result<Vec<Reply>, AppError> {
        // A poisoned lock only means another step panicked; the data is in the store.
        let mut last_purge = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if last_purge.is_none_or(|t| now - t >= PURGE_EVERY) {
            self.store
                .purge(now, self.config.session_idle(), self.config.retention())?;
            *last_purge = Some(now);
        }
        let local = uk_local(now);
        let input = clean::input(input);
        // Only the kind of input is logged, never its text.
        let kind = match &input {
            Input::Start => "start",
            Input::Text(_) => "text",
            Input::Choice(_) => "choice",
            Input::Command(_) => "command",
        };
        tracing::trace!(kind, "step");
        let mut replies = Vec::new();
        let loaded = self
            .store
            .load_session(key, now, self.config.session_idle());
        let before = match &loaded {
            Ok(Some(s)) => Some((s.started, s.is_finished(), s.generation)),
            _ => None,
        };
        let session = match loaded {
            Ok(Some(s)) => s,
            Ok(None) => self
                .engine
                .new_session(local, self.config.default_area.as_deref()),
            Err(e) if e.is_unreadable_value() => {
                // The error names the conversation key (a chat id), so only its kind is logged.
                let why = match e {
                    StoreError::NewerVersion { .. } => "written by a newer version",
                    _ => "unreadable",
                };
                tracing::warn!(why, "could not resume a stored session; starting a new one");
                replies.push(Reply::Say("I could not resume your earlier consultation, so we are starting again. Sorry.".into()));
                self.engine
                    .new_session(local, self.config.default_area.as_deref())
            }
            Err(e) => return Err(e.into()),
        };
        let (mut session, step_replies) = self.engine.step(session, input, local);
        replies.extend(step_replies);
        let mut finished = None;
        for r in replies.iter_mut() {
            if let Reply::Finished(record) = r {
                if record.reference.is_empty() {
                    record.reference = self.store.next_reference(local.date())?;
                }
                session.finished = Some(record.reference.clone());
                finished = Some(record.clone());
            }
        }
        // A new consultation in this conversation (after /cancel, or after the last one
        // finished) gets a new key; the old session's key is destroyed, so none of its answers
        // can be read again (a finished one lives on in its record, under the record's key).
        let new_consultation = before.is_some_and(|(started, was_finished, generation)| {
            generation != session.generation
                || (was_finished && !session.is_finished())
                || started != session.started
        });
        self.store.save_step(
            &Step {
                key,
                session: &session,
                record: finished.as_deref(),
                new_consultation,
                delivered,
            },
            now,
        )?;
        Ok(replies)
    }
}
