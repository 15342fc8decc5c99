//! Sending: Telegram's rate limits, retries of what can be retried, and an honest account of
//! what was delivered when sending gives up.
//!
//! - **Limits** ([`Limits`]) as Telegram documents them: about one message a second in a chat
//!   (a short burst allowed, so a step never waits), 20 a minute in a group, 30 a second in all.
//!   teloxide's throttle applies its group limit to private chats too, which stalled a
//!   consultation (about 35 messages) for 40 s; it is not used.
//! - **Retries** ([`Sender::persist`]): network errors, time-outs, 5xx answers (a proxy's 502
//!   page too) and malformed answers are sent again after a short, growing pause, and "too many
//!   requests" after the time Telegram asks for, until [`Tuning::give_up_after`]. A refusal is
//!   not retried. Messages are sent in order and a retry resumes at the message that failed, so
//!   nothing already delivered is sent twice.
//! - **Stopping** ([`Stop`]): once the bot is stopping, messages in hand go out without waiting
//!   for the rate limit, and no retry goes past the deadline.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId};
use tokio::sync::watch;
use tokio::time::Instant;

use super::api::{Api, ApiError};
use super::render::Outgoing;
use super::split::{split, MAX_MESSAGE};

/// How sending is paced and retried. The defaults suit Telegram; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// The first pause before sending again after a failure; it doubles up to `retry_max`.
    pub retry_first: Duration,
    /// The longest pause between two tries.
    pub retry_max: Duration,
    /// How long one message is tried before giving up.
    pub give_up_after: Duration,
    /// How long a stop may take: updates in hand are finished within it.
    pub grace: Duration,
    /// How long one long-polling request waits for an update.
    pub poll_wait: Duration,
    /// Messages a second to one chat (Telegram: about one), after a burst of `chat_burst`.
    pub chat_rate: u32,
    /// Messages sent to one chat at once before `chat_rate` applies.
    pub chat_burst: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            retry_first: Duration::from_millis(250),
            retry_max: Duration::from_secs(2),
            give_up_after: Duration::from_secs(15),
            grace: Duration::from_secs(4),
            poll_wait: Duration::from_secs(25),
            chat_rate: 1,
            chat_burst: 3,
        }
    }
}

fn per(n: u32, every: Duration, burst: u32) -> Quota {
    let one = NonZeroU32::MIN;
    Quota::with_period(every / n.max(1))
        .unwrap_or_else(|| Quota::per_second(one))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(one))
}

type Keyed<C> = RateLimiter<i64, HashMapStateStore<i64>, C, NoOpMiddleware<<C as Clock>::Instant>>;
type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Telegram's rate limits: per chat, per group and overall.
#[derive(Debug)]
pub struct Limits<C: Clock = MonotonicClock> {
    clock: C,
    chat: Keyed<C>,
    group: Keyed<C>,
    all: Direct<C>,
}

impl Limits<MonotonicClock> {
    /// The limits on the real clock.
    pub fn new() -> Limits<MonotonicClock> {
        Limits::with_clock(MonotonicClock)
    }

    /// The limits on the real clock, with the per-chat rate of `tuning`.
    pub fn tuned(tuning: &Tuning) -> Limits<MonotonicClock> {
        Limits::with_rates(MonotonicClock, tuning.chat_rate, tuning.chat_burst)
    }
}

impl Default for Limits<MonotonicClock> {
    fn default() -> Self {
        Limits::new()
    }
}

impl<C: Clock + Clone> Limits<C> {
    /// The limits on `clock`: one message a second per chat with a burst of three, 20 a minute
    /// per group, 30 a second overall.
    pub fn with_clock(clock: C) -> Limits<C> {
        let t = Tuning::default();
        Limits::with_rates(clock, t.chat_rate, t.chat_burst)
    }

    /// The limits on `clock` with `rate` messages a second per chat after a burst of `burst`.
    pub fn with_rates(clock: C, rate: u32, burst: u32) -> Limits<C> {
        Limits {
            chat: RateLimiter::hashmap_with_clock(
                per(rate, Duration::from_secs(1), burst),
                clock.clone(),
            ),
            group: RateLimiter::hashmap_with_clock(
                per(20, Duration::from_secs(60), 1),
                clock.clone(),
            ),
            all: RateLimiter::direct_with_clock(per(30, Duration::from_secs(1), 30), clock.clone()),
            clock,
        }
    }

    /// Takes a slot for one message to `chat` now, or says how long to wait before asking again.
    pub fn take(&self, chat: ChatId) -> Result<(), Duration> {
        let now = self.clock.now();
        self.all.check().map_err(|n| n.wait_time_from(now))?;
        self.chat
            .check_key(&chat.0)
            .map_err(|n| n.wait_time_from(now))?;
        if chat.0 < 0 {
            self.group
                .check_key(&chat.0)
                .map_err(|n| n.wait_time_from(now))?;
        }
        Ok(())
    }

    /// Forgets chats that have been quiet long enough to be back at a full burst.
    pub fn forget_quiet(&self) {
        self.chat.retain_recent();
        self.group.retain_recent();
    }
}

/// Whether the bot is stopping, and by when it must be done.
#[derive(Debug, Clone)]
pub struct Stop(Option<watch::Receiver<Option<Instant>>>);

/// Starts a stop ([`StopHandle::stop`]).
#[derive(Debug)]
pub struct StopHandle(watch::Sender<Option<Instant>>);

impl StopHandle {
    /// A handle and the [`Stop`] it controls.
    pub fn new() -> (StopHandle, Stop) {
        let (tx, rx) = watch::channel(None);
        (StopHandle(tx), Stop(Some(rx)))
    }

    /// Starts stopping: everything must be done by `deadline`.
    pub fn stop(&self, deadline: Instant) {
        self.0.send_replace(Some(deadline));
    }
}

impl Stop {
    /// A stop that never comes (for one-off handling, e.g. in tests).
    pub fn never() -> Stop {
        Stop(None)
    }

    /// The deadline, once stopping.
    pub fn deadline(&self) -> Option<Instant> {
        self.0.as_ref().and_then(|rx| *rx.borrow())
    }

    /// Whether the bot is stopping.
    pub fn stopping(&self) -> bool {
        self.deadline().is_some()
    }

    /// Resolves once the bot starts stopping.
    pub async fn stopped(&self) {
        match self.0.clone() {
            Some(mut rx) => {
                if rx.wait_for(Option::is_some).await.is_err() {
                    // The handle is gone without a stop: none will come.
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

/// Sending gave up: how many of the messages were delivered, and why the next was not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{delivered} message(s) delivered, then: {error}")]
pub struct Undelivered {
    /// How many of the messages were delivered (in order).
    pub delivered: usize,
    /// Why the next was not.
    pub error: ApiError,
    /// Whether sending stopped because the bot is stopping.
    pub stopping: bool,
    /// What of the messages was delivered.
    pub sent: Delivered,
}

/// What was delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// The last message sent with buttons.
    pub keyboard: Option<MessageId>,
}

/// Sends to Telegram within its limits, retrying what can be retried.
#[derive(Debug, Clone)]
pub struct Sender {
    api: Api,
    limits: Arc<Limits>,
    tuning: Tuning,
    stop: Stop,
}

impl Sender {
    /// A sender over `api`.
    pub fn new(api: Api, limits: Arc<Limits>, tuning: Tuning, stop: Stop) -> Sender {
        Sender {
            api,
            limits,
            tuning,
            stop,
        }
    }

    /// The API, for requests that are not messages.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Waits for a slot to send to `chat` (not at all once stopping).
    async fn slot(&self, chat: ChatId) {
        loop {
            if self.stop.stopping() {
                return;
            }
            match self.limits.take(chat) {
                Ok(()) => return,
                Err(wait) => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = self.stop.stopped() => return,
                    }
                }
            }
        }
    }

    /// Runs `request` until it succeeds, is refused, or has been tried for long enough.
    pub async fn persist<T, F, Fut>(&self, mut request: F) -> Result<T, (ApiError, bool)>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let started = Instant::now();
        let mut pause = self.tuning.retry_first;
        loop {
            let error = match request().await {
                Ok(v) => return Ok(v),
                Err(e) if !e.is_transient() => return Err((e, false)),
                Err(e) => e,
            };
            let wait = match &error {
                ApiError::RetryAfter(after) => *after,
                _ => {
                    let p = pause;
                    pause = (pause * 2).min(self.tuning.retry_max);
                    p
                }
            };
            let resume = Instant::now() + wait;
            if let Some(deadline) = self.stop.deadline() {
                if resume > deadline {
                    return Err((error, true));
                }
            }
            if resume > started + self.tuning.give_up_after {
                return Err((error, false));
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // A stop sets a deadline: check it against the pause again.
                _ = self.stop.stopped(), if !self.stop.stopping() => {
                    if self.stop.deadline().is_some_and(|d| resume > d) {
                        return Err((error, true));
                    }
                    tokio::time::sleep_until(resume).await;
                }
            }
        }
    }

    /// Sends messages to `chat` in order: long texts split, buttons on the last part, files as
    /// documents. Stops at the first message that cannot be delivered.
    pub async fn deliver(
        &self,
        chat: ChatId,
        messages: &[Outgoing],
    ) -> Result<Delivered, Undelivered> {
        let mut delivered = Delivered::default();
        for (i, m) in messages.iter().enumerate() {
            let sent = delivered;
            let failed = |(error, stopping)| Undelivered {
                delivered: i,
                error,
                stopping,
                sent,
            };
            if let Some(doc) = &m.document {
                self.slot(chat).await;
                let caption: String = m.text.chars().take(1000).collect();
                self.persist(|| {
                    self.api
                        .send_document(chat, &doc.name, doc.content.as_bytes(), &caption)
                })
                .await
                .map_err(failed)?;
                continue;
            }
            let keyboard = m.has_buttons().then(|| keyboard(m));
            let mut parts = split(&m.text, MAX_MESSAGE);
            if parts.is_empty() && keyboard.is_some() {
                parts.push("Choose:".into());
            }
            let last = parts.len().saturating_sub(1);
            for (j, part) in parts.iter().enumerate() {
                let buttons = keyboard.as_ref().filter(|_| j == last);
                self.slot(chat).await;
                let id = self
                    .persist(|| self.api.send_message(chat, part, buttons))
                    .await
                    .map_err(failed)?;
                if buttons.is_some() {
                    delivered.keyboard = Some(id);
                }
            }
        }
        Ok(delivered)
    }

    /// One try of a request whose failure only costs looks (an edit, an acknowledgement).
    pub async fn once<T, Fut>(&self, request: Fut) -> Option<T>
    where
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        match request.await {
            Ok(v) => Some(v),
            Err(e) => {
                if e.refusal().is_none() {
                    tracing::debug!(error = %e, "a best-effort request failed");
                }
                None
            }
        }
    }
}

fn keyboard(m: &Outgoing) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(m.buttons.iter().filter(|row| !row.is_empty()).map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.action.encode()))
            .collect::<Vec<_>>()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn a_private_chat_is_not_held_to_the_group_limit() {
        let clock = FakeRelativeClock::default();
        let limits = Limits::with_clock(clock.clone());
        let chat = ChatId(700_100_001);
        // A whole consultation (about 35 messages), answered promptly: never a wait.
        for _ in 0..40 {
            assert_eq!(limits.take(chat), Ok(()));
            clock.advance(Duration::from_millis(1_100));
        }
        // A burst of three goes at once; the fourth waits under a second.
        for _ in 0..3 {
            assert_eq!(limits.take(chat), Ok(()));
        }
        let wait = limits.take(chat).err().unwrap_or_default();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }

    #[test]
    fn groups_get_twenty_a_minute_and_everyone_thirty_a_second() {
        let clock = FakeRelativeClock::default();
        let limits = Limits::with_clock(clock.clone());
        let group = ChatId(-100_200);
        let mut sent = 0;
        for _ in 0..120 {
            if limits.take(group).is_ok() {
                sent += 1;
            }
            clock.advance(Duration::from_millis(500));
        }
        assert!((19..=21).contains(&sent), "{sent} in a minute");
        let clock = FakeRelativeClock::default();
        let limits = Limits::with_clock(clock.clone());
        let taken = (0..40)
            .filter(|i| limits.take(ChatId(1_000 + i)).is_ok())
            .count();
        assert_eq!(taken, 30);
    }

    fn sender(tuning: Tuning, stop: Stop) -> Sender {
        let api = Api::with_client(
            reqwest::Client::new(),
            "1:x",
            url::Url::parse("http://127.0.0.1:9").unwrap_or_else(|_| unreachable!()),
        );
        Sender::new(api, Arc::new(Limits::new()), tuning, stop)
    }

    fn quick() -> Tuning {
        Tuning {
            retry_first: Duration::from_millis(1),
            retry_max: Duration::from_millis(4),
            give_up_after: Duration::from_secs(2),
            ..Tuning::default()
        }
    }

    #[tokio::test]
    async fn retries_server_errors_and_malformed_answers_but_not_refusals() {
        let s = sender(quick(), Stop::never());
        let calls = AtomicU32::new(0);
        let result = s
            .persist(|| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    match n {
                        0 => Err(ApiError::Server(500)),
                        1 => Err(ApiError::Server(502)),
                        2 => Err(ApiError::Malformed(200)),
                        3 => Err(ApiError::Network { connect: true }),
                        4 => Err(ApiError::RetryAfter(Duration::from_millis(0))),
                        _ => Ok(n),
                    }
                }
            })
            .await;
        assert_eq!(result, Ok(5));
        let calls = AtomicU32::new(0);
        let refused: Result<(), _> = s
            .persist(|| {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err(ApiError::Refused {
                        code: 403,
                        kind: super::super::api::Refusal::Forbidden,
                    })
                }
            })
            .await;
        assert!(refused.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a refusal is not retried");
    }

    #[tokio::test]
    async fn gives_up_in_time_and_sooner_when_stopping() {
        let tuning = Tuning {
            give_up_after: Duration::from_millis(50),
            ..quick()
        };
        let s = sender(tuning, Stop::never());
        let failing: Result<(), _> = s.persist(|| async { Err(ApiError::Server(500)) }).await;
        assert_eq!(failing, Err((ApiError::Server(500), false)));
        // A "retry after" longer than the deadline of a stop gives up at once.
        let (handle, stop) = StopHandle::new();
        let s = sender(quick(), stop);
        handle.stop(Instant::now() + Duration::from_millis(100));
        let waiting: Result<(), _> = s
            .persist(|| async { Err(ApiError::RetryAfter(Duration::from_secs(30))) })
            .await;
        assert_eq!(
            waiting,
            Err((ApiError::RetryAfter(Duration::from_secs(30)), true))
        );
    }
}
