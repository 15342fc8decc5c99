//! The Telegram bot: the consultation, quick advice and who to call, in a Telegram chat.
//!
//! The only module that names teloxide (whose types it uses for what Telegram sends). It is a
//! thin adapter around [`App::handle`], in parts that can each be read alone:
//! - [`api`]: the Bot API over HTTP (any server: `TELOXIDE_API_URL`), failures sorted by kind;
//! - [`send`]: Telegram's rate limits, retries, and what was delivered when sending gives up;
//! - [`handlers`]: what each message, edit or button press does (with `commands.rs`, and
//!   `turn.rs` for one update's saving, reply and confirmation);
//! - [`run`]: long polling or a webhook, one queue per chat, confirming an update to Telegram
//!   only once it is answered, and stopping within seconds without losing what is in hand;
//! - [`access`]: who may consult; [`render`]: replies as messages and buttons; [`split`]: long
//!   texts; [`texts`]: what the bot says outside the consultation; [`chat`]: what it keeps per chat.
//!
//! Sessions live in the sled store under `telegram:<chat id>`, with the chat's live keyboard and
//! the question last shown, so a restart resumes every consultation as the user left it.
//!
//! Safety rules enforced here:
//! - `/urgent`, `/contacts` and `/help` answer anyone, and nothing about them is stored;
//! - consultations and `/ask` only for allow-listed users or users registered with an invite
//!   code ([`access`]); others are told how to get access and who to call meanwhile;
//! - private chats only for personal data: in a group only `/urgent` and `/help` are answered;
//! - an answer is saved before its reply is sent and an update is confirmed only after that, so
//!   a kill at any moment loses nothing Telegram will not deliver again; an update delivered
//!   twice is answered once ([`handlers`]);
//! - an answer is only taken for the question on screen: a double tap, an old button or a
//!   message typed while a reply was lost never answers another question;
//! - logs carry kinds of errors and keyed hashes of ids, never message text or response bodies.
//!
//! [`schema`] runs the same handlers inside teloxide's dispatcher, for teloxide_tests.

pub mod access;
pub mod api;
pub mod chat;
mod commands;
pub mod handlers;
pub mod render;
pub mod run;
pub mod send;
pub mod split;
pub mod texts;
mod turn;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::Me;

use crate::app::{uk_local, App, AppError};
use crate::config::TelegramConfig;
use crate::dialogue::{Command, Input, Reply};
use crate::rules::Area;
use crate::store::StoreError;

use access::Access;
use api::{ApiError, Identity};
use chat::Current;

pub use run::{run, run_until, Options, Stopped};
pub use send::Tuning;
pub use texts::commands;

/// The current time, passed in so that tests can fix it (night, bank holidays).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The bot could not start, or failed while running.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// The application failed (storage).
    #[error(transparent)]
    App(#[from] AppError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A step of the application could not be run.
    #[error("a blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The Bot API server could not be used with the token.
    #[error("cannot connect to the Bot API (check TELOXIDE_TOKEN, TELOXIDE_API_URL and the network): {0}")]
    Connect(ApiError),
    /// The webhook's address cannot be listened on.
    #[error("FRONTDOOR_WEBHOOK_BIND={0}: cannot listen there: {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// What the handlers share: the application, the access rules and the clock. Put in the
/// dispatcher's dependencies as `Arc<Context>` for teloxide_tests.
pub struct Context {
    app: Arc<App>,
    access: Arc<Access>,
    clock: Clock,
    /// Keys the hashes of ids in logs, so that they cannot be reversed by trying every id.
    log_key: [u8; 32],
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("access", &self.access)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// The shared state for the handlers.
    pub fn new(app: Arc<App>, settings: &TelegramConfig, clock: Clock) -> Arc<Context> {
        let log_key = Sha256::digest(format!("frontdoor-log:{}", settings.token.expose()));
        Arc::new(Context {
            app,
            access: Arc::new(Access::new(settings)),
            clock,
            log_key: log_key.into(),
        })
    }

    /// The application.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// A short keyed hash of an id, for logs.
    fn tag(&self, id: i64) -> String {
        let mut h = Sha256::new();
        h.update(self.log_key);
        h.update(id.to_be_bytes());
        h.finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Runs `f` on the application off the async threads (it may write to disk).
    async fn blocking<T, E, F>(&self, f: F) -> Result<T, TelegramError>
    where
        T: Send + 'static,
        E: Into<TelegramError>,
        F: FnOnce(&App) -> Result<T, E> + Send + 'static,
    {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || f(&app).map_err(Into::into)).await?
    }

    /// One step of the consultation in the conversation `key`, saved (with the delivery mark
    /// `delivered`, when given) before it returns.
    async fn step(
        &self,
        key: &str,
        input: Input,
        now: DateTime<Utc>,
        delivered: Option<String>,
    ) -> Result<Vec<Reply>, TelegramError> {
        let key = key.to_string();
        self.blocking(move |app| app.handle_delivered(&key, input, now, delivered.as_deref()))
            .await
    }

    /// Where the conversation `key` stands and the question it is asking, without changing it.
    async fn current(&self, key: &str, now: DateTime<Utc>) -> Result<Current, TelegramError> {
        let key = key.to_string();
        self.blocking(move |app| {
            let idle = app.config().session_idle();
            let session = match app.store().load_session(&key, now, idle) {
                Ok(s) => s,
                // The next step starts again (and says so); until then nothing is asked.
                Err(e) if e.is_unreadable_value() => None,
                Err(e) => return Err(e),
            };
            let local = uk_local(now);
            let engine = app.engine();
            let session = session
                .unwrap_or_else(|| engine.new_session(local, app.config().default_area.as_deref()));
            if let Some(reference) = &session.finished {
                return Ok(Current::Finished(reference.clone()));
            }
            if session.pending_ask.is_some() {
                return Ok(Current::AskArea);
            }
            let started = !session.order.is_empty() || !session.concerns.messages.is_empty();
            let (_, replies) = engine.step(session, Input::Start, local);
            let question: Vec<Reply> = replies
                .into_iter()
                .filter(|r| matches!(r, Reply::Ask(_) | Reply::ConfirmMatches(_)))
                .collect();
            let id = question.last().and_then(render::question_id);
            Ok(Current::Asking {
                started,
                id,
                question,
            })
        })
        .await
    }

    /// The replies to `/urgent` or `/contacts` without a stored session: for anyone, in any
    /// chat. Only the messages are kept (not the question a session would go on to ask).
    fn public(&self, command: Command, area: Option<&Area>, now: DateTime<Utc>) -> Vec<Reply> {
        let engine = self.app.engine();
        let local = uk_local(now);
        let area = area
            .map(|a| a.id().to_string())
            .or_else(|| self.app.config().default_area.clone());
        let session = engine.new_session(local, area.as_deref());
        let (_, replies) = engine.step(session, Input::Command(command), local);
        replies
            .into_iter()
            .filter(|r| matches!(r, Reply::Say(_)))
            .collect()
    }

    /// The area named in a command's argument (id, name or the start of either).
    fn area(&self, text: &str) -> Option<&Area> {
        let t = text.trim().to_lowercase();
        if t.is_empty() {
            return None;
        }
        let rules = self.app.engine().rules();
        let current = |a: &&Area| a.meta.superseded_by.is_none();
        rules
            .areas()
            .find(|a| a.id() == t)
            .or_else(|| {
                rules
                    .areas()
                    .filter(current)
                    .find(|a| a.meta.name.to_lowercase() == t)
            })
            .or_else(|| {
                let starts: Vec<&Area> = rules
                    .areas()
                    .filter(current)
                    .filter(|a| {
                        t.len() >= 3
                            && (a.id().starts_with(&t)
                                || a.meta.name.to_lowercase().starts_with(&t))
                    })
                    .collect();
                (starts.len() == 1).then(|| starts[0])
            })
    }
}

/// The handlers inside teloxide's dispatcher, for teloxide_tests' mock bot: each update is
/// handled as [`run`] handles it, sent through the bot's API server.
pub fn schema() -> UpdateHandler<TelegramError> {
    dptree::entry().endpoint(
        |bot: Bot, me: Me, update: Update, ctx: Arc<Context>| async move {
            let sender = send::Sender::new(
                api::Api::from_bot(&bot),
                Arc::new(send::Limits::new()),
                Tuning::default(),
                send::Stop::never(),
            );
            let me = Identity {
                id: me.id.0,
                username: me.username.clone(),
            };
            handlers::handle(&ctx, &sender, &me, &update).await;
            Ok(())
        },
    )
}
