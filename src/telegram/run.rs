//! Running the bot: fetching updates (long polling or a webhook), one queue per chat, and
//! stopping.
//!
//! - **Per chat, in order.** Each chat's updates are handled one after another by its own task;
//!   chats run side by side.
//! - **Confirmed only when answered.** Long polling asks Telegram for updates from an offset,
//!   and an offset confirms every update below it. The offset only moves past an update once it
//!   is handled (its answer saved and its reply sent, or given up), and never past an earlier
//!   one still in hand; in webhook mode Telegram gets its `200 OK` only then. teloxide's own
//!   listener confirms an update as soon as it is handed to a worker, so it is not used.
//! - **Stopping** (SIGTERM, Ctrl-C): fetching stops at once; the updates in hand are finished,
//!   their replies sent without waiting for the rate limit, within [`Tuning::grace`] (4 s; with the
//!   last confirmation the bot is gone within 5 s, inside Docker's default 10 s); what is not finished by then is left unconfirmed, so Telegram
//!   delivers it again after the restart, and its saved answer is recognised.

use std::collections::{BTreeMap, HashMap};
use std::future::{Future, IntoFuture};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use teloxide::types::Update;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::api::{webhook_secret, Api, Identity, Incoming};
use super::handlers::{self, chat_of, Handled};
use super::send::{Limits, Sender, Stop, StopHandle, Tuning};
use super::{texts, Clock, Context, TelegramError};
use crate::app::App;
use crate::config::{TelegramConfig, Webhook};

/// The kinds of update the bot asks for.
const KINDS: &[&str] = &["message", "edited_message", "callback_query"];

/// How long a chat's task waits for its next update before ending.
const CHAT_IDLE: Duration = Duration::from_secs(60);

/// How the bot runs: the clock and the timings. The defaults are for production.
#[derive(Clone)]
pub struct Options {
    /// The current time.
    pub clock: Clock,
    /// Pacing, retries and the stop's grace.
    pub tuning: Tuning,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Arc::new(Utc::now),
            tuning: Tuning::default(),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("tuning", &self.tuning)
            .finish_non_exhaustive()
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// From the stop signal to the end of the run.
    pub took: Duration,
    /// Updates left unconfirmed for Telegram to deliver again (not finished within the grace).
    pub left: usize,
}

/// Runs the bot until SIGINT or SIGTERM: long polling, or a webhook when configured.
pub async fn run(app: Arc<App>, settings: TelegramConfig) -> Result<(), TelegramError> {
    let stopped = run_until(app, settings, Options::default(), signal()).await?;
    tracing::info!(
        took_ms = stopped.took.as_millis() as u64,
        left = stopped.left,
        "stopped; every answer is saved"
    );
    Ok(())
}

/// Runs the bot until `stop` resolves, then stops as described in the module documentation.
pub async fn run_until(
    app: Arc<App>,
    settings: TelegramConfig,
    options: Options,
    stop: impl Future<Output = ()>,
) -> Result<Stopped, TelegramError> {
    let api = Api::new(settings.token.expose(), settings.api_url.as_ref())
        .map_err(TelegramError::Connect)?;
    let me = api.get_me().await.map_err(TelegramError::Connect)?;
    tracing::info!(
        bot = me.username.as_deref().unwrap_or(""),
        "connected to the Bot API"
    );
    if let Err(e) = api.set_my_commands(&texts::commands()).await {
        tracing::warn!(error = %e, "could not register the command menu");
    }
    let ctx = Context::new(app.clone(), &settings, options.clock.clone());
    let (stopper, stopping) = StopHandle::new();
    let limits = Arc::new(Limits::tuned(&options.tuning));
    let sender = Sender::new(
        api.clone(),
        limits.clone(),
        options.tuning,
        stopping.clone(),
    );
    let chats = Arc::new(Chats::new(ctx, sender, me));
    let mut background = JoinSet::new();
    background.spawn(purge(app.clone(), limits));

    let tuning = options.tuning;
    let signalled = async {
        stop.await;
        let at = Instant::now();
        tracing::info!("stopping: no new updates; finishing those in hand");
        stopper.stop(at + tuning.grace);
        at
    };
    let (left, stop_at) = match &settings.webhook {
        None => poll(&api, &chats, tuning, &stopping, signalled).await?,
        Some(w) => {
            let secret = webhook_secret(settings.token.expose());
            serve(&api, chats.clone(), w, secret, tuning, &stopping, signalled).await?
        }
    };
    chats.abort();
    background.abort_all();
    app.store().flush()?;
    Ok(Stopped {
        took: stop_at.elapsed(),
        left,
    })
}

/// One update handed to a chat's task, and where to say it is done.
struct Job {
    update: Update,
    done: oneshot::Sender<Handled>,
}

/// One queue and task per chat with updates in hand.
struct Chats {
    ctx: Arc<Context>,
    sender: Sender,
    me: Arc<Identity>,
    queues: Arc<Mutex<HashMap<i64, mpsc::UnboundedSender<Job>>>>,
    tasks: Mutex<JoinSet<()>>,
}

impl Chats {
    fn new(ctx: Arc<Context>, sender: Sender, me: Identity) -> Chats {
        Chats {
            ctx,
            sender,
            me: Arc::new(me),
            queues: Arc::new(Mutex::new(HashMap::new())),
            tasks: Mutex::new(JoinSet::new()),
        }
    }

    /// Queues an update behind the others of its chat; resolves when it is handled.
    fn submit(&self, update: Update) -> oneshot::Receiver<Handled> {
        let (done, handled) = oneshot::channel();
        let Some(chat) = chat_of(&update) else {
            let _ = done.send(Handled::Done);
            return handled;
        };
        let job = Job { update, done };
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let job = match queues.get(&chat.0) {
            Some(queue) => match queue.send(job) {
                Ok(()) => return handled,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        queues.insert(chat.0, tx);
        drop(queues);
        let worker = worker(
            chat.0,
            rx,
            self.queues.clone(),
            self.ctx.clone(),
            self.sender.clone(),
            self.me.clone(),
        );
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .spawn(worker);
        handled
    }

    /// Ends every chat's task (what they had in hand stays unconfirmed).
    fn abort(&self) {
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .abort_all();
    }
}

/// A chat's task: its updates in order, until it has been idle for a while.
async fn worker(
    chat: i64,
    mut rx: mpsc::UnboundedReceiver<Job>,
    queues: Arc<Mutex<HashMap<i64, mpsc::UnboundedSender<Job>>>>,
    ctx: Arc<Context>,
    sender: Sender,
    me: Arc<Identity>,
) {
    loop {
        let job = match tokio::time::timeout(CHAT_IDLE, rx.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_) => {
                // Idle: leave, unless an update arrived meanwhile (checked under the lock the
                // submitter holds while queueing).
                let mut q = queues.lock().unwrap_or_else(|p| p.into_inner());
                match rx.try_recv() {
                    Ok(job) => job,
                    Err(_) => {
                        q.remove(&chat);
                        return;
                    }
                }
            }
        };
        let handled = handlers::handle(&ctx, &sender, &me, &job.update).await;
        let _ = job.done.send(handled);
    }
}

/// Long polling until stopped; returns how many updates were left unconfirmed and when the
/// stop began.
async fn poll(
    api: &Api,
    chats: &Chats,
    tuning: Tuning,
    stopping: &Stop,
    signalled: impl Future<Output = Instant>,
) -> Result<(usize, Instant), TelegramError> {
    if let Err(e) = api.delete_webhook().await {
        tracing::warn!(error = %e, "could not remove a webhook before long polling");
    }
    tracing::info!("long polling");
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(i64, Handled)>();
    // Updates fetched and not yet confirmable: id -> handled (and may be confirmed).
    let mut in_hand: BTreeMap<i64, bool> = BTreeMap::new();
    let mut offset: i64 = 0;
    let mut pause = tuning.retry_first;
    let mut signalled = std::pin::pin!(signalled);
    let fetch = |offset: i64, at: Instant| {
        let api = api.clone();
        Box::pin(async move {
            tokio::time::sleep_until(at).await;
            api.get_updates(offset, tuning.poll_wait, 100, KINDS).await
        })
    };
    let mut request = fetch(offset, Instant::now());
    let stop_at = loop {
        tokio::select! {
            biased;
            at = &mut signalled => break at,
            Some((id, handled)) = done_rx.recv() => {
                if handled == Handled::Done {
                    in_hand.insert(id, true);
                }
                while let Some((&id, &true)) = in_hand.first_key_value() {
                    in_hand.remove(&id);
                    offset = id + 1;
                }
            }
            fetched = &mut request => {
                let mut next = Instant::now();
                match fetched {
                    Ok(batch) => {
                        pause = tuning.retry_first;
                        let mut new = 0;
                        for incoming in batch {
                            let id = incoming.id();
                            if id < offset || in_hand.contains_key(&id) {
                                continue;
                            }
                            new += 1;
                            match incoming {
                                Incoming::Update(update) => {
                                    in_hand.insert(id, false);
                                    let handled = chats.submit(*update);
                                    let done = done_tx.clone();
                                    tokio::spawn(async move {
                                        if let Ok(h) = handled.await {
                                            let _ = done.send((id, h));
                                        }
                                    });
                                }
                                Incoming::Unreadable(_) => {
                                    tracing::warn!(update = id, "an update could not be read; skipped");
                                    in_hand.insert(id, true);
                                }
                            }
                        }
                        // Only updates already in hand came back: give them time to finish
                        // rather than asking again at once.
                        if new == 0 && !in_hand.is_empty() {
                            next += Duration::from_millis(200);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "polling failed");
                        next += pause;
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                }
                while let Some((&id, &true)) = in_hand.first_key_value() {
                    in_hand.remove(&id);
                    offset = id + 1;
                }
                request = fetch(offset, next);
            }
        }
    };
    drop(request);
    let deadline = stopping
        .deadline()
        .unwrap_or_else(|| stop_at + tuning.grace);
    // Finish what is in hand, within the grace. An update given back (its reply not sent in
    // time) stays unconfirmed, and so does everything after it: Telegram delivers them again.
    let mut given_back = std::collections::BTreeSet::new();
    while in_hand
        .iter()
        .any(|(id, done)| !done && !given_back.contains(id))
    {
        tokio::select! {
            Some((id, handled)) = done_rx.recv() => match handled {
                Handled::Done => {
                    in_hand.insert(id, true);
                }
                Handled::Again => {
                    given_back.insert(id);
                }
            },
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    while let Some((&id, &true)) = in_hand.first_key_value() {
        in_hand.remove(&id);
        offset = id + 1;
    }
    let left = in_hand.len();
    // Confirm what was answered (no wait; at most one update comes back, unconfirmed).
    let confirm = api.get_updates(offset, Duration::ZERO, 1, KINDS);
    match tokio::time::timeout(Duration::from_millis(500), confirm).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not confirm the last updates"),
        Err(_) => tracing::warn!("could not confirm the last updates in time"),
    }
    Ok((left, stop_at))
}

/// What the webhook's handler needs.
#[derive(Clone)]
struct Hook {
    chats: Arc<Chats>,
    secret: Arc<str>,
    stopping: Stop,
}

/// Webhook mode until stopped.
async fn serve(
    api: &Api,
    chats: Arc<Chats>,
    webhook: &Webhook,
    secret: String,
    tuning: Tuning,
    stopping: &Stop,
    signalled: impl Future<Output = Instant>,
) -> Result<(usize, Instant), TelegramError> {
    use axum::routing::post;

    let listener = tokio::net::TcpListener::bind(webhook.bind)
        .await
        .map_err(|e| TelegramError::Bind(webhook.bind, e))?;
    api.set_webhook(&webhook.url, &secret, KINDS)
        .await
        .map_err(TelegramError::Connect)?;
    tracing::info!(bind = %webhook.bind, "webhook");
    let hook = Hook {
        chats,
        secret: secret.into(),
        stopping: stopping.clone(),
    };
    let path = match webhook.url.path() {
        "" => "/",
        p => p,
    };
    let router = axum::Router::new()
        .route(path, post(on_webhook))
        .with_state(hook);
    let stop = stopping.clone();
    let server = tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.stopped().await })
            .into_future(),
    );
    let stop_at = signalled.await;
    let deadline = stopping
        .deadline()
        .unwrap_or_else(|| stop_at + tuning.grace);
    // The server waits for the requests in hand; past the deadline they are cut off, and
    // Telegram, without its 200 OK, delivers them again.
    match tokio::time::timeout_at(deadline + Duration::from_millis(200), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e.kind(), "the webhook server failed"),
        Ok(Err(_)) | Err(_) => tracing::warn!("the webhook server did not stop in time"),
    }
    Ok((0, stop_at))
}

/// One update posted by Telegram: answered `200 OK` only once handled.
async fn on_webhook(
    axum::extract::State(hook): axum::extract::State<Hook>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    use axum::http::StatusCode;

    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok());
    if given != Some(&*hook.secret) {
        return StatusCode::UNAUTHORIZED;
    }
    if hook.stopping.stopping() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let update = match serde_json::from_slice::<Update>(&body) {
        Ok(u) => u,
        Err(_) => {
            // Acknowledged, so that Telegram does not send it again and again; only the kind
            // of problem is logged.
            tracing::warn!("a webhook update could not be read; skipped");
            return StatusCode::OK;
        }
    };
    match hook.chats.submit(update).await {
        Ok(Handled::Done) => StatusCode::OK,
        Ok(Handled::Again) | Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Purges expired data every hour.
async fn purge(app: Arc<App>, limits: Arc<Limits>) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        limits.forget_quiet();
        let app = app.clone();
        let purged = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            let p = app.purge(now)?;
            let chats = app
                .store()
                .purge_chat_states(now, app.config().session_idle())?;
            Ok::<_, TelegramError>((p, chats))
        })
        .await;
        match purged {
            Ok(Ok((p, chats))) => {
                tracing::info!(sessions = p.sessions, records = p.records, chats, "purged")
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "purge failed"),
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
