//! The whole Telegram bot over real HTTP: the real `run_until` pointed (with `TELOXIDE_API_URL`)
//! at a fake Bot API on 127.0.0.1 ([`fake`]). A full consultation with buttons and typing
//! through 500, 502, 429 and malformed answers; a reply that cannot be delivered; kills at exact
//! moments and restarts on the same data; webhook mode end to end; 20 users at once with a stop
//! and a restart in the middle. Every wait is bounded by a timeout; nothing asserts a timing.
//! The 20-user run prints the step latency users saw and how long the stop took
//! (`cargo test --test telegram_http -- --nocapture`). Names are fictional.
//!
//! The scenarios run one after another in one test, so that the figures are not skewed by the
//! others and one log capture serves all.

mod fake;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use fake::{Fake, Fault, Sent, TOKEN};
use frontdoor::app::App;
use frontdoor::config::{Config, TelegramConfig};
use frontdoor::dialogue::engine::Answer;
use frontdoor::dialogue::sample;
use frontdoor::telegram::{self, Options, Stopped, TelegramError, Tuning};

/// The first of the test users' Telegram ids (all allow-listed).
const FIRST_USER: i64 = 700_400_001;
/// How long any one reply is waited for.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// Retries and limits shortened for the functional scenarios (the 20 users get the real ones).
fn quick() -> Tuning {
    Tuning {
        retry_first: Duration::from_millis(20),
        retry_max: Duration::from_millis(100),
        give_up_after: Duration::from_secs(3),
        poll_wait: Duration::from_secs(5),
        chat_rate: 50,
        chat_burst: 50,
        ..Tuning::default()
    }
}

/// A running bot.
struct Bot {
    task: JoinHandle<Result<Stopped, TelegramError>>,
    stop: oneshot::Sender<()>,
    app: Arc<App>,
}

/// Opens the application on `dir`, waiting for a killed predecessor to let go of the data.
async fn open(dir: &Path) -> Arc<App> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let config = Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        };
        match App::open(config, Utc::now()) {
            Ok(app) => return Arc::new(app),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the data directory does not open again: {e}"),
        }
    }
}

fn settings(fake: &Fake, users: usize, webhook: Option<String>) -> TelegramConfig {
    let allowed = (0..users as i64)
        .map(|i| (FIRST_USER + i).to_string())
        .collect::<Vec<_>>()
        .join(",");
    let api = fake.url();
    TelegramConfig::from_vars(move |name| match name {
        "TELOXIDE_TOKEN" => Some(TOKEN.into()),
        "TELOXIDE_API_URL" => Some(api.clone()),
        "FRONTDOOR_ALLOWED_USERS" => Some(allowed.clone()),
        "FRONTDOOR_WEBHOOK_URL" => webhook
            .as_ref()
            .map(|_| "https://bot.example.org/telegram".into()),
        "FRONTDOOR_WEBHOOK_BIND" => webhook.clone(),
        _ => None,
    })
    .expect("valid settings")
}

async fn start(fake: &Fake, dir: &Path, users: usize, tuning: Tuning) -> Bot {
    start_with(fake, dir, settings(fake, users, None), tuning).await
}

async fn start_with(fake: &Fake, dir: &Path, settings: TelegramConfig, tuning: Tuning) -> Bot {
    let app = open(dir).await;
    let (stop, stopped) = oneshot::channel::<()>();
    let options = Options {
        tuning,
        ..Options::default()
    };
    let task = tokio::spawn(telegram::run_until(
        app.clone(),
        settings,
        options,
        async move {
            let _ = stopped.await;
        },
    ));
    let _ = fake;
    Bot { task, stop, app }
}

impl Bot {
    /// A graceful stop (as on SIGTERM); the bot must be gone within 6 s.
    async fn stop(self) -> Stopped {
        let Bot { task, stop, app } = self;
        drop(app);
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(6), task)
            .await
            .expect("the bot stops within 6 s")
            .expect("the bot's task")
            .expect("the bot ran")
    }

    /// A kill: the bot's task is dropped wherever it is.
    async fn kill(self) {
        let Bot { task, stop, app } = self;
        task.abort();
        let _ = task.await;
        drop(stop);
        drop(app);
    }
}

/// One user's side of the chat.
struct User {
    id: i64,
    /// Messages seen so far.
    seen: usize,
    /// The latest message with buttons.
    keyboard: Option<Sent>,
}

impl User {
    fn new(id: i64) -> User {
        User {
            id,
            seen: 0,
            keyboard: None,
        }
    }

    /// Sends `answer` (pressing its button when the latest question has one) and waits for
    /// `replies` messages; returns them and how long the first took to come.
    async fn answer(&mut self, fake: &Fake, answer: &str, replies: usize) -> (Vec<Sent>, Duration) {
        let update = match self.button_for(answer) {
            Some((message, data)) => fake.press(self.id, &message, &data),
            None => fake.type_text(self.id, answer),
        };
        self.wait(fake, update, replies).await
    }

    /// Types `text` (never a button).
    async fn say(&mut self, fake: &Fake, text: &str, replies: usize) -> (Vec<Sent>, Duration) {
        let update = fake.type_text(self.id, text);
        self.wait(fake, update, replies).await
    }

    async fn wait(&mut self, fake: &Fake, update: i64, replies: usize) -> (Vec<Sent>, Duration) {
        let all = fake
            .wait_for(self.id, self.seen + replies, STEP_TIMEOUT)
            .await;
        let new: Vec<Sent> = all[self.seen.min(all.len())..].to_vec();
        assert!(
            new.len() >= replies,
            "user {}: {} of {replies} replies within {STEP_TIMEOUT:?}",
            self.id,
            new.len()
        );
        self.seen = all.len();
        if let Some(k) = new.iter().rev().find(|m| !m.buttons.is_empty()) {
            self.keyboard = Some(k.clone());
        } else if !new.is_empty() {
            self.keyboard = None;
        }
        let queued = fake.queued_at(update).unwrap_or_else(Instant::now);
        let latency = new
            .first()
            .map_or(Duration::ZERO, |m| m.at.saturating_duration_since(queued));
        (new, latency)
    }

    fn button_for(&self, answer: &str) -> Option<(Sent, String)> {
        let message = self.keyboard.as_ref()?;
        let choices: Vec<&String> = message
            .buttons
            .iter()
            .map(|(d, _)| d)
            .filter(|d| d.starts_with("c:"))
            .collect();
        let data = if answer == "don't know" {
            message
                .buttons
                .iter()
                .map(|(d, _)| d)
                .find(|d| *d == "dk")
                .cloned()
        } else if let Ok(n) = answer.parse::<usize>() {
            n.checked_sub(1)
                .and_then(|i| choices.get(i))
                .map(|d| d.to_string())
        } else {
            choices
                .iter()
                .find(|d| d[2..] == *answer)
                .map(|d| d.to_string())
        }?;
        Some((message.clone(), data))
    }
}

fn text_of(messages: &[Sent]) -> String {
    messages
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Everything logged while the test runs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// The sample consultation's answers (Stoke-on-Trent).
fn answers() -> Vec<String> {
    let rules = frontdoor::rules::load_embedded().expect("rules");
    sample::answers(rules.area("stoke-on-trent").expect("stoke-on-trent"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bot_over_http() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    consultation_through_faults().await;
    a_reply_that_cannot_be_delivered().await;
    kills_at_exact_moments().await;
    webhook_mode().await;
    twenty_users_with_a_restart().await;

    // Logs carry kinds, not bodies, text, names, ids or the token.
    let logs = logs.text();
    assert!(logs.contains("polling failed"), "{logs}");
    assert!(logs.contains("malformed response"), "{logs}");
    for private in [
        "Casey Leakname",
        "700999001",
        "Sam Fictional",
        "Alex Example",
        "Example Primary",
        "01632 960123",
        "fictional-token",
        "upstream connect error",
        "Bad Gateway</h1>",
        &FIRST_USER.to_string(),
    ] {
        assert!(!logs.contains(private), "{private} in the logs");
    }
}

/// A full consultation with buttons and typing while the API fails in every way it can
/// recover from: each step still gets exactly its one message, and every answer lands in its
/// own field.
async fn consultation_through_faults() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    // A broken proxy's 200 (holding a message's text) and a 502 page while polling.
    fake.fault("getUpdates", Fault::Malformed);
    fake.fault("getUpdates", Fault::BadGateway);
    let bot = start(&fake, dir.path(), 1, quick()).await;
    let mut user = User::new(FIRST_USER);
    let (r, _) = user.say(&fake, "/start", 1).await;
    assert!(text_of(&r).contains("Is any child in immediate danger"));
    let answers = answers();
    let (mut pressed, mut typed) = (0, 0);
    for (i, answer) in answers.iter().enumerate() {
        // Faults on the reply to some answers: each is retried, none is shown to the user.
        match i {
            2 => fake.fault("sendMessage", Fault::Server),
            3 => fake.fault("sendMessage", Fault::BadGateway),
            4 => fake.fault("sendMessage", Fault::Malformed),
            5 => fake.fault("sendMessage", Fault::TooMany(1)),
            6 => {
                fake.fault("sendMessage", Fault::Server);
                fake.fault("sendMessage", Fault::Server);
            }
            _ => {}
        }
        let last = i + 1 == answers.len();
        if user.button_for(answer).is_some() {
            pressed += 1;
        } else {
            typed += 1;
        }
        let (r, _) = user.answer(&fake, answer, if last { 2 } else { 1 }).await;
        let text = text_of(&r);
        assert!(!text.contains("may not have been taken"), "{text}");
        assert!(!text.contains("not taken"), "{answer}: {text}");
        if last {
            assert!(text.contains("Outcome for Alex Example"), "{text}");
            let (name, content) = r[1].document.clone().expect("the record as a document");
            assert!(name.ends_with(".md"));
            assert!(content.contains("Example Primary"));
        }
    }
    assert!(
        pressed >= 4 && typed >= 10,
        "pressed {pressed}, typed {typed}"
    );
    // Nothing more came (no duplicate of a retried message), and every press was acknowledged.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.sent(FIRST_USER).len(), user.seen);
    assert!(fake.acks() >= pressed);
    let app = bot.app.clone();
    let stopped = bot.stop().await;
    assert_eq!(stopped.left, 0);
    let record = app
        .store()
        .records()
        .expect("records")
        .into_iter()
        .next()
        .expect("one record")
        .expect("readable");
    assert_eq!(
        record.record.caller.role,
        "Class teacher at Example Primary, her teacher since September"
    );
    assert_eq!(fake.unconfirmed(), 0, "every update was confirmed");
}

/// The next question cannot be delivered after the answer was saved: nothing asks the user to
/// send it again, and when they do (having seen no question), it is not taken as the next answer.
async fn a_reply_that_cannot_be_delivered() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let bot = start(&fake, dir.path(), 1, quick()).await;
    let mut user = User::new(FIRST_USER);
    user.say(&fake, "/start", 1).await;
    // Up to the caller's name: safety, area, the concern (dropped, one indicator added,
    // confirmed: the first advice comes with the next question), the child, the address.
    let answers = answers();
    let name_at = answers
        .iter()
        .position(|a| a == "Sam Fictional")
        .expect("the caller's name");
    for text in &answers[..=name_at] {
        user.say(&fake, text, 1).await;
    }
    // The question after the role fails for longer than the bot tries.
    for _ in 0..1000 {
        fake.fault("sendMessage", Fault::Server);
    }
    fake.type_text(user.id, "Class teacher");
    // The bot gives up and confirms the update.
    let deadline = Instant::now() + STEP_TIMEOUT;
    while fake.unconfirmed() > 0 || fake.calls("sendMessage") < 5 {
        assert!(Instant::now() < deadline, "the bot gives up in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fake.clear_faults("sendMessage");
    let key = format!("telegram:{}", user.id);
    let session = |app: &App| {
        app.store()
            .load_session(&key, Utc::now(), chrono::Duration::hours(24))
            .expect("store")
            .expect("a session")
    };
    assert_eq!(
        session(&bot.app).answers.get("caller_role"),
        Some(&Answer::Text("Class teacher".into()))
    );
    // The user saw no question and sends the answer again.
    user.seen = fake.sent(user.id).len();
    let (r, _) = user.say(&fake, "Class teacher", 1).await;
    let text = text_of(&r);
    assert!(text.contains("Your last answer is saved"), "{text}");
    assert!(text.contains("not taken what you just sent"), "{text}");
    assert!(text.contains("phone number or email"), "{text}");
    assert!(!session(&bot.app).answers.contains_key("caller_contact"));
    user.say(&fake, "01632 960123", 1).await;
    assert!(session(&bot.app).answers.contains_key("caller_contact"));
    bot.stop().await;
}

/// Kills at the moments that matter: after an answer is saved but before its reply is sent,
/// and after a press is received but before its answer is saved. After a restart on the same
/// data, nothing is lost and nothing is taken twice.
async fn kills_at_exact_moments() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let bot = start(&fake, dir.path(), 1, quick()).await;
    let mut user = User::new(FIRST_USER);
    user.say(&fake, "/start", 1).await;
    let answers = answers();
    let name_at = answers
        .iter()
        .position(|a| a == "Sam Fictional")
        .expect("the caller's name");
    for text in &answers[..name_at] {
        user.say(&fake, text, 1).await;
    }
    // Killed while sending the reply to a saved answer.
    fake.fault("sendMessage", Fault::Hold);
    fake.type_text(user.id, "Sam Fictional");
    tokio::time::timeout(STEP_TIMEOUT, fake.holding())
        .await
        .expect("the reply is being sent");
    bot.kill().await;
    let bot = start(&fake, dir.path(), 1, quick()).await;
    let (r, _) = user.wait(&fake, 0, 1).await;
    let text = text_of(&r);
    assert!(text.contains("Your last answer is saved"), "{text}");
    assert!(text.contains("What is your role"), "{text}");
    let (r, _) = user.say(&fake, "Class teacher", 1).await;
    assert!(
        text_of(&r).contains("phone number or email"),
        "{}",
        text_of(&r)
    );
    let (r, _) = user.say(&fake, "01632 960123", 1).await;
    assert!(text_of(&r).contains("Do the parents"), "{}", text_of(&r));
    // Killed after a press arrived, before its answer was saved.
    fake.fault("answerCallbackQuery", Fault::Hold);
    let (message, data) = user.button_for("agreed").expect("a consent button");
    fake.press(user.id, &message, &data);
    tokio::time::timeout(STEP_TIMEOUT, fake.holding())
        .await
        .expect("the press is being acknowledged");
    bot.kill().await;
    let bot = start(&fake, dir.path(), 1, quick()).await;
    let (r, _) = user.wait(&fake, 0, 1).await;
    let text = text_of(&r);
    assert!(text.contains("Who lives with the child"), "{text}");
    let app = bot.app.clone();
    let s = app
        .store()
        .load_session(
            &format!("telegram:{}", user.id),
            Utc::now(),
            chrono::Duration::hours(24),
        )
        .expect("store")
        .expect("a session");
    assert_eq!(
        s.answers.get("caller_name"),
        Some(&Answer::Text("Sam Fictional".into()))
    );
    assert_eq!(
        s.answers.get("caller_role"),
        Some(&Answer::Text("Class teacher".into()))
    );
    assert_eq!(
        s.answers.get("consent"),
        Some(&Answer::Choice("agreed".into()))
    );
    assert!(!s.answers.contains_key("household"));
    drop(app);
    // A stop (SIGTERM) while a reply hangs: the bot is gone within the grace, the update is
    // left unconfirmed, and after the restart the user gets the question with "saved".
    fake.fault("sendMessage", Fault::Hold);
    fake.type_text(user.id, "Mum and a brother aged 4");
    tokio::time::timeout(STEP_TIMEOUT, fake.holding())
        .await
        .expect("the reply is being sent");
    let stopped = bot.stop().await;
    assert_eq!(stopped.left, 1);
    println!("stop with a reply hanging: {:?}", stopped.took);
    let bot = start(&fake, dir.path(), 1, quick()).await;
    let (r, _) = user.wait(&fake, 0, 1).await;
    let text = text_of(&r);
    assert!(text.contains("Your last answer is saved"), "{text}");
    assert!(text.contains("What is working well"), "{text}");
    bot.stop().await;
    assert_eq!(fake.unconfirmed(), 0);
}

/// Webhook mode: the webhook is set with a secret; an update posted with it is answered before
/// Telegram gets its 200; one without it is refused.
async fn webhook_mode() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let bot = start_with(
        &fake,
        dir.path(),
        settings(&fake, 1, Some(bind.clone())),
        quick(),
    )
    .await;
    let deadline = Instant::now() + STEP_TIMEOUT;
    let (url, secret) = loop {
        if let Some(w) = fake.webhook() {
            break w;
        }
        assert!(Instant::now() < deadline, "the webhook is set");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(url, "https://bot.example.org/telegram");
    assert!(!secret.is_empty() && !secret.contains("fictional-token"));
    let client = reqwest::Client::new();
    let post = |update: serde_json::Value, secret: String| {
        let client = client.clone();
        let bind = bind.clone();
        async move {
            client
                .post(format!("http://{bind}/telegram"))
                .header("X-Telegram-Bot-Api-Secret-Token", secret)
                .json(&update)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    let mut user = User::new(FIRST_USER);
    let wrong = post(fake.webhook_update(user.id, "/start"), "wrong".into()).await;
    assert_eq!(wrong.ok(), Some(401));
    for (text, expect) in [
        ("/start", "Is any child in immediate danger"),
        ("no", "Which area"),
        ("stoke-on-trent", "What is worrying you?"),
    ] {
        let status = post(fake.webhook_update(user.id, text), secret.clone()).await;
        assert_eq!(status.ok(), Some(200));
        // The reply was sent before the 200.
        let sent = fake.sent(user.id);
        assert_eq!(sent.len(), user.seen + 1, "{text}");
        assert!(
            sent[user.seen].text.contains(expect),
            "{}",
            sent[user.seen].text
        );
        user.seen += 1;
    }
    // The same update posted again (no 200 seen by Telegram) is answered once.
    let again = fake.webhook_update(user.id, "Alex is late most mornings and hungry");
    assert_eq!(post(again.clone(), secret.clone()).await.ok(), Some(200));
    assert_eq!(post(again, secret.clone()).await.ok(), Some(200));
    assert_eq!(fake.sent(user.id).len(), user.seen + 1);
    assert_eq!(fake.calls("getUpdates"), 0, "no polling in webhook mode");
    bot.stop().await;
}

/// 20 users in full consultations at once, on Telegram's real rate limits, answering about a
/// second after each question; the bot is stopped (as by SIGTERM) and restarted in the middle.
/// Prints the step latency users saw and the stop's duration.
async fn twenty_users_with_a_restart() {
    const USERS: usize = 20;
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let tuning = Tuning {
        poll_wait: Duration::from_secs(5),
        ..Tuning::default()
    };
    // Twenty more users, who only ask /urgent, twice, just before the stop.
    const ASKERS: usize = 20;
    let bot = start(&fake, dir.path(), USERS + ASKERS, tuning).await;
    let answers = Arc::new(answers());
    let latencies = Arc::new(Mutex::new(Vec::<(Duration, bool)>::new()));
    let restarting = Arc::new(Mutex::new(None::<(Instant, Instant)>));
    let mut users = Vec::new();
    for n in 0..USERS {
        let fake = fake.clone();
        let answers = answers.clone();
        let latencies = latencies.clone();
        let restarting = restarting.clone();
        users.push(tokio::spawn(async move {
            let mut user = User::new(FIRST_USER + n as i64);
            // Users arrive over the first second.
            tokio::time::sleep(Duration::from_millis(50 * n as u64)).await;
            user.say(&fake, "/start", 1).await;
            let mut records = 0;
            for (i, answer) in answers.iter().enumerate() {
                // About a second to read and answer (0.8-1.2 s).
                let think = 800 + (n as u64 * 37 + i as u64 * 53) % 400;
                tokio::time::sleep(Duration::from_millis(think)).await;
                let last = i + 1 == answers.len();
                let sent_at = Instant::now();
                let (r, latency) = user.answer(&fake, answer, if last { 2 } else { 1 }).await;
                let around_restart = restarting
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some_and(|(from, to)| {
                        sent_at <= to + Duration::from_secs(1) && sent_at + latency >= from
                    });
                latencies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((latency, around_restart));
                let text = text_of(&r);
                assert!(!text.contains("not taken"), "user {n}, {answer}: {text}");
                records += r.iter().filter(|m| m.document.is_some()).count();
            }
            records
        }));
    }
    // The stop comes when the users are about a third of the way through, with 40 more
    // updates just fetched.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let askers: Vec<i64> = (0..ASKERS)
        .map(|i| FIRST_USER + (USERS + i) as i64)
        .collect();
    for _ in 0..2 {
        for a in &askers {
            fake.type_text(*a, "/urgent");
        }
    }
    let deadline = Instant::now() + STEP_TIMEOUT;
    while fake.calls("getUpdates") > 0 && askers.iter().all(|a| fake.sent(*a).is_empty()) {
        assert!(Instant::now() < deadline, "the askers' updates are fetched");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stop_began = Instant::now();
    *restarting.lock().unwrap_or_else(|p| p.into_inner()) =
        Some((stop_began, stop_began + Duration::from_secs(10)));
    let stopped = bot.stop().await;
    let answered_before_restart: usize = askers.iter().map(|a| fake.sent(*a).len()).sum();
    let bot = start(&fake, dir.path(), USERS + ASKERS, tuning).await;
    *restarting.lock().unwrap_or_else(|p| p.into_inner()) = Some((stop_began, Instant::now()));
    let mut records = 0;
    for u in users {
        records += tokio::time::timeout(Duration::from_secs(90), u)
            .await
            .expect("every user finishes")
            .expect("a user's task");
    }
    assert_eq!(records, USERS, "every user got a record");
    // Every /urgent was answered exactly once, before the stop or after the restart.
    for a in &askers {
        let sent = fake.wait_for(*a, 2, STEP_TIMEOUT).await;
        assert_eq!(sent.len(), 2, "asker {a}");
        assert!(sent.iter().all(|m| m.text.contains("999")));
    }
    let app = bot.app.clone();
    assert_eq!(app.store().counts().1, USERS);
    drop(app);
    let last_stop = bot.stop().await;

    let all = latencies.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut steady: Vec<Duration> = all.iter().filter(|(_, r)| !r).map(|(d, _)| *d).collect();
    steady.sort();
    let mut everything: Vec<Duration> = all.iter().map(|(d, _)| *d).collect();
    everything.sort();
    let pct = |v: &[Duration], p: f64| {
        v.get(((v.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "20 users, {} steps: step latency p50 {:?}, p99 {:?}, max {:?} (outside the restart); with the steps around the restart p99 {:?}, max {:?}",
        steady.len(),
        pct(&steady, 0.5),
        pct(&steady, 0.99),
        steady.last().copied().unwrap_or_default(),
        pct(&everything, 0.99),
        everything.last().copied().unwrap_or_default(),
    );
    println!(
        "stop under load: {:?} ({answered_before_restart} of {} /urgent answered before it, {} update(s) left to Telegram); stop when idle: {:?}",
        stopped.took,
        2 * ASKERS,
        stopped.left,
        last_stop.took
    );
}
