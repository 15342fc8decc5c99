//! The Telegram bot through its real handlers, with teloxide_tests' MockBot (no network).
//!
//! teloxide_tests allows one MockBot per process, so this test binary holds one test that runs
//! every scenario in turn on the same mock bot; each scenario gets its own temporary data
//! directory and application, and the clock is fixed per scenario. Names are fictional.
//! The whole bot over real HTTP (polling, webhook, faults, restarts, load) is tested in
//! `tests/telegram_http/`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use teloxide::dptree::deps;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButtonKind, InlineKeyboardMarkup, User};
use teloxide_tests::mock_bot::DistributionKey;
use teloxide_tests::{
    MockBot, MockCallbackQuery, MockGroupChat, MockMessageText, MockPrivateChat, MockUser,
    Responses,
};

use frontdoor::app::App;
use frontdoor::config::{Config, Secret, TelegramConfig};
use frontdoor::dialogue::sample;
use frontdoor::telegram::{self, split, Context, TelegramError};

type TestBot = MockBot<TelegramError, DistributionKey>;

/// An allow-listed professional.
const SAM: u64 = 700_100_001;
/// Someone without access (until they register).
const JO: u64 = 700_200_002;
/// Someone who guesses codes.
const KIM: u64 = 700_300_003;
/// The invite code of the test deployment.
const CODE: &str = "fictional-invite-2026";

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("a valid time")
}

/// The mock bot, the fixed clock and the current application.
struct Harness {
    bot: TestBot,
    time: Arc<Mutex<DateTime<Utc>>>,
    app: Option<Arc<App>>,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            bot: MockBot::new(MockMessageText::new().text("/help"), telegram::schema()),
            time: Arc::new(Mutex::new(at(2026, 11, 24, 10))),
            app: None,
        }
    }

    /// A fresh application on `dir` (closing the previous one first, as a restart does).
    fn open(&mut self, dir: &Path) {
        self.bot.dependencies(deps![]);
        self.app = None;
        let config = Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        };
        let app = Arc::new(App::open(config, self.now()).expect("the app opens"));
        let settings = TelegramConfig {
            token: Secret::new("123456:fictional-token"),
            allowed_users: [SAM].into_iter().collect(),
            invite_codes: vec![Secret::new(CODE)],
            webhook: None,
            api_url: None,
        };
        let time = self.time.clone();
        let clock: telegram::Clock =
            Arc::new(move || *time.lock().unwrap_or_else(|p| p.into_inner()));
        let ctx = Context::new(app.clone(), &settings, clock);
        self.bot.dependencies(deps![ctx]);
        self.app = Some(app);
    }

    fn app(&self) -> &App {
        self.app.as_deref().expect("an app is open")
    }

    fn now(&self) -> DateTime<Utc> {
        *self.time.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_time(&self, t: DateTime<Utc>) {
        *self.time.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// `user` types `text` in their private chat.
    async fn say(&mut self, user: u64, text: &str) -> Responses {
        let message = MockMessageText::new()
            .text(text)
            .from(person(user))
            .chat(MockPrivateChat::new().id(user as i64).build());
        self.bot.update(message);
        self.bot.dispatch().await;
        self.bot.get_responses()
    }

    /// `user` types `text` in a group.
    async fn say_in_group(&mut self, user: u64, text: &str) -> Responses {
        let message = MockMessageText::new()
            .text(text)
            .from(person(user))
            .chat(MockGroupChat::new().build());
        self.bot.update(message);
        self.bot.dispatch().await;
        self.bot.get_responses()
    }

    /// `user` presses the button with `data` on `message`.
    async fn press(&mut self, user: u64, message: &Message, data: &str) -> Responses {
        let query = MockCallbackQuery::new()
            .data(data)
            .from(person(user))
            .message(message.clone());
        self.bot.update(query);
        self.bot.dispatch().await;
        self.bot.get_responses()
    }

    /// Delivers the last update again, as Telegram may after a network error.
    async fn redeliver(&mut self) -> Responses {
        let same = self.bot.updates.clone();
        self.bot.updates = same;
        self.bot.dispatch().await;
        self.bot.get_responses()
    }
}

fn person(id: u64) -> User {
    MockUser::new().id(id).first_name("Fictional").build()
}

fn texts(r: &Responses) -> Vec<String> {
    r.sent_messages_text
        .iter()
        .map(|m| m.message.text().unwrap_or_default().to_string())
        .collect()
}

fn all_text(r: &Responses) -> String {
    texts(r).join("\n\n")
}

/// The documents sent: file name and content.
fn documents(r: &Responses) -> Vec<(String, String)> {
    r.sent_messages_document
        .iter()
        .map(|d| {
            (
                d.bot_request.file_name.clone(),
                d.bot_request.file_data.clone(),
            )
        })
        .collect()
}

/// The last message sent with a keyboard, and its callback data.
fn keyboard(r: &Responses) -> Option<(Message, Vec<String>)> {
    r.sent_messages_text.iter().rev().find_map(|m| {
        let k: &InlineKeyboardMarkup = m.message.reply_markup()?;
        let data = k
            .inline_keyboard
            .iter()
            .flatten()
            .filter_map(|b| match &b.kind {
                InlineKeyboardButtonKind::CallbackData(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
        Some((m.message.clone(), data))
    })
}

/// Every text sent fits in one Telegram message.
fn assert_fits(r: &Responses) {
    for t in texts(r) {
        assert!(
            split::units(&t) <= 4096,
            "a message of {} units",
            split::units(&t)
        );
    }
}

/// The Stoke-on-Trent line of an /urgent answer.
fn stoke_line(r: &Responses) -> String {
    all_text(r)
        .lines()
        .find(|l| l.contains("Stoke-on-Trent"))
        .unwrap_or_default()
        .to_string()
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

#[tokio::test]
async fn the_telegram_bot() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let mut h = Harness::new();
    consultation_with_buttons_and_typing(&mut h).await;
    quick_advice(&mut h).await;
    urgent_at_night_and_on_bank_holidays(&mut h).await;
    access_and_invite_codes(&mut h).await;
    group_chats(&mut h).await;
    restart_mid_consultation(&mut h).await;
    delete_then_carry_on(&mut h).await;
    commands_outside_and_inside(&mut h).await;

    // The logs say what happened, with hashed ids and without anything the callers wrote.
    let logs = logs.text();
    assert!(
        logs.contains("message") && logs.contains("registered"),
        "{logs}"
    );
    for private in [
        SAM.to_string(),
        JO.to_string(),
        KIM.to_string(),
        "Fictional".into(),
        "Alex".into(),
        "Example Primary".into(),
        "01632 960123".into(),
        CODE.into(),
        "bruise".into(),
    ] {
        assert!(!logs.contains(&private), "{private} in the logs:\n{logs}");
    }
}

/// A whole consultation: buttons where there are buttons, typing otherwise; a long concern so
/// the record needs splitting; the record as text and as a Markdown file; repeats ignored.
async fn consultation_with_buttons_and_typing(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    h.set_time(at(2026, 11, 24, 10));
    let rules = frontdoor::rules::load_embedded().expect("rules");
    let area = rules.area("stoke-on-trent").expect("stoke-on-trent");
    let mut answers = sample::answers(area);
    // A long concern, in paragraphs, sent as two messages, so the record is long.
    let concern_at = answers
        .iter()
        .position(|a| a.starts_with("Alex has been late"))
        .expect("the concern");
    let long = (1..=12)
        .map(|i| format!("Week {i}: Alex was late on three mornings and said she had not had breakfast; she fell asleep in a reading lesson and asked the class teacher for food at break."))
        .collect::<Vec<_>>()
        .join("\n\n");
    answers[concern_at] = long.clone();
    answers.insert(concern_at + 1, long.clone());

    let r = h.say(SAM, "/start").await;
    assert!(
        all_text(&r).contains("immediate danger"),
        "{}",
        all_text(&r)
    );
    let mut last = r;
    let (mut pressed, mut typed) = (0, 0);
    let mut record = None;
    for answer in &answers {
        let button = keyboard(&last).and_then(|(message, data)| {
            let choices: Vec<&String> = data.iter().filter(|d| d.starts_with("c:")).collect();
            let wanted = if answer == "don't know" {
                data.iter().find(|d| *d == "dk").cloned()
            } else if let Ok(n) = answer.parse::<usize>() {
                n.checked_sub(1)
                    .and_then(|i| choices.get(i))
                    .map(|d| d.to_string())
            } else {
                choices
                    .iter()
                    .find(|d| d[2..] == *answer.as_str())
                    .map(|d| d.to_string())
            };
            wanted.map(|d| (message, d))
        });
        last = match button {
            Some((message, data)) => {
                pressed += 1;
                let r = h.press(SAM, &message, &data).await;
                assert_eq!(
                    r.answered_callback_queries.len(),
                    1,
                    "every press is answered"
                );
                r
            }
            None => {
                typed += 1;
                h.say(SAM, answer).await
            }
        };
        assert_fits(&last);
        if !last.sent_messages_document.is_empty() {
            record = Some(last.clone());
        } else {
            // One message per step: the question with any notice folded in.
            assert_eq!(last.sent_messages.len(), 1, "{answer}: {:?}", texts(&last));
        }
    }
    assert!(
        pressed >= 4 && typed >= 10,
        "pressed {pressed}, typed {typed}"
    );
    let r = record.expect("the consultation ended with a record");
    // The outcome in one message, the record as one document.
    assert_eq!(r.sent_messages_text.len(), 1, "{:?}", texts(&r));
    assert_eq!(r.sent_messages_document.len(), 1);
    let text = all_text(&r);
    assert!(text.contains("Outcome for Alex Example"), "{text}");
    // Tuesday 10:00: the Integrated Front Door is open.
    assert!(text.contains("01782 235100"), "{text}");
    assert!(text.contains("/record FD-20261124-0001"), "{text}");
    let docs = documents(&r);
    assert_eq!(docs[0].0, "FD-20261124-0001.md");
    let record_md = &docs[0].1;
    assert!(record_md.contains("FD-20261124-0001"));
    assert!(record_md.contains("Sam Fictional") && record_md.contains("Alex Example"));
    // The long concern is in the record whole, both times.
    assert_eq!(record_md.matches(&long[..]).count(), 2);
    assert!(r.sent_messages_document[0]
        .message
        .caption()
        .is_some_and(|c| c.contains("FD-20261124-0001")));

    // A repeated delivery of the same update is not answered twice.
    let again = h.redeliver().await;
    assert!(again.sent_messages.is_empty(), "{:?}", texts(&again));

    // /record: this chat's record, as the document; other chats cannot read it.
    let r = h.say(SAM, "/record").await;
    assert_eq!(documents(&r).len(), 1);
    assert!(documents(&r)[0].1.contains("Alex Example"));
    let r = h.say(JO, "/record FD-20261124-0001").await;
    assert!(!all_text(&r).contains("Sam Fictional"));
    assert!(r.sent_messages_document.is_empty());
    // /new with nothing in progress starts one; with answers in progress it asks first.
    let r = h.say(SAM, "/new").await;
    assert!(
        all_text(&r).contains("immediate danger"),
        "{}",
        all_text(&r)
    );
    h.say(SAM, "no").await;
    let r = h.say(SAM, "/new").await;
    let (message, data) = keyboard(&r).expect("a confirmation");
    assert_eq!(data, ["n:yes", "n:no"]);
    let r = h.press(SAM, &message, "n:yes").await;
    assert!(all_text(&r).contains("Cancelled"), "{}", all_text(&r));
    // A second tap on the same button does nothing.
    let r = h.press(SAM, &message, "n:yes").await;
    assert!(r.sent_messages_text.is_empty());
    assert_eq!(r.answered_callback_queries.len(), 1);
    // /delete: only this chat's records.
    let r = h.say(JO, "/delete FD-20261124-0001").await;
    assert!(!all_text(&r).contains("Deleted"));
    let r = h.say(SAM, "/delete FD-20261124-0001").await;
    assert!(all_text(&r).contains("Deleted FD-20261124-0001"));
    assert!(h
        .app()
        .store()
        .record("FD-20261124-0001")
        .expect("store")
        .is_none());
}

/// After `/delete`, nothing says the deleted consultation is kept.
async fn delete_then_carry_on(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    h.set_time(at(2026, 11, 24, 10));
    h.say(SAM, "/start").await;
    h.say(SAM, "yes").await;
    let r = h.say(SAM, "no").await;
    let text = all_text(&r);
    assert!(text.contains("Reference: FD-20261124-0001"), "{text}");
    let r = h.say(SAM, "/delete FD-20261124-0001").await;
    assert!(all_text(&r).contains("Deleted"));
    let r = h.say(SAM, "hello").await;
    let text = all_text(&r);
    assert!(!text.contains("saved with its record"), "{text}");
    assert!(text.contains("immediate danger"), "{text}");
}

/// Information outside a consultation comes without a consultation question; inside one, the
/// question comes back in the same message. A first message is not taken as an answer.
async fn commands_outside_and_inside(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    h.set_time(at(2026, 11, 24, 3));
    for command in [
        "/urgent",
        "/contacts",
        "/why",
        "/ask 14 year old missing from home",
    ] {
        let r = h.say(SAM, command).await;
        let text = all_text(&r);
        assert!(
            keyboard(&r).is_none() || command.starts_with("/ask"),
            "{command}: {text}"
        );
        assert!(
            !text.contains("Is any child in immediate danger"),
            "{command}: {text}"
        );
    }
    // /ask without an area asks for one (its own question), and nothing else.
    let r = h.say(SAM, "/ask 14 year old missing from home").await;
    let (_, data) = keyboard(&r).expect("the area");
    assert!(data.iter().all(|d| d.starts_with("c:")));
    assert!(!all_text(&r).contains("Is any child in immediate danger"));

    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    // Typed before any question: the welcome and the first question; nothing is answered.
    let r = h.say(SAM, "yes").await;
    let text = all_text(&r);
    assert!(text.contains("Front door consultation"), "{text}");
    assert!(text.contains("Is any child in immediate danger"), "{text}");
    assert!(!text.contains("When the child is safe"), "{text}");
    h.say(SAM, "no").await;
    let r = h.say(SAM, "/urgent").await;
    // One message: the numbers, then the question again with its buttons.
    assert_eq!(r.sent_messages.len(), 1, "{:?}", texts(&r));
    assert!(all_text(&r).contains("999"));
    assert!(all_text(&r).contains("Which area does the child live in?"));
    assert!(keyboard(&r).is_some());
}
/// `/ask`: the area asked with buttons, then the indicators, the level and the number.
async fn quick_advice(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    h.set_time(at(2026, 11, 24, 3));
    let r = h
        .say(
            SAM,
            "/ask 14 year old keeps going missing from home and is seen with older men",
        )
        .await;
    let (message, data) = keyboard(&r).expect("the area, as buttons");
    assert!(data.iter().any(|d| d == "c:stoke-on-trent"), "{data:?}");
    let r = h.press(SAM, &message, "c:stoke-on-trent").await;
    // The pressed keyboard is replaced by the choice, so the chat shows what was answered.
    assert!(r
        .edited_messages_text
        .iter()
        .any(|e| e.message.text().is_some_and(|t| t.contains("✓"))));
    let text = all_text(&r);
    assert!(text.contains("Quick advice for Stoke-on-Trent"), "{text}");
    assert!(
        text.contains("Emergency Duty Team on 01782 234234"),
        "{text}"
    );
    // It then offers the full consultation: the first question.
    assert!(text.contains("immediate danger"), "{text}");
}

/// `/urgent` answers anyone, at the right number for the moment.
async fn urgent_at_night_and_on_bank_holidays(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    for (time, number, closed) in [
        (at(2026, 11, 24, 3), "01782 234234", true),
        (at(2026, 11, 24, 10), "01782 235100", false),
        (at(2026, 12, 25, 10), "01782 234234", true),
    ] {
        h.set_time(time);
        let r = h.say(JO, "/urgent").await;
        let line = stoke_line(&r);
        assert!(all_text(&r).contains("999"));
        assert!(line.contains(&format!("on {number}")), "{time}: {line}");
        if closed {
            assert!(!line.contains("call Integrated Front Door on"), "{line}");
        }
        // Naming the area gives only that area.
        let r = h.say(JO, "/urgent stoke").await;
        let text = all_text(&r);
        assert!(text.contains(number) && !text.contains("Medway"), "{text}");
    }
    h.set_time(at(2026, 12, 25, 10));
    let text = all_text(&h.say(JO, "/urgent").await);
    assert!(text.contains("bank holiday"), "{text}");
    // /contacts and /help answer anyone too; nothing was stored for them.
    let r = h.say(JO, "/contacts stoke-on-trent").await;
    assert!(all_text(&r).contains("01782 234234") && all_text(&r).contains("01782 235100"));
    assert_eq!(h.app().store().counts(), (0, 0));
}

/// Without access: told how to get it and who to call; an invite code registers.
async fn access_and_invite_codes(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    for attempt in [
        "/start",
        "/new",
        "/ask baby with a bruise",
        "Alex Example told me something worrying at school today",
    ] {
        let text = all_text(&h.say(JO, attempt).await);
        assert!(
            text.contains("invite code") && text.contains("999") && text.contains("/urgent"),
            "{text}"
        );
        assert!(!text.contains("Quick advice"));
    }
    assert_eq!(
        h.app().store().counts(),
        (0, 0),
        "nothing is kept from a stranger"
    );
    // Ordinary words are not wrong codes: many of them do not lock anyone out.
    for word in [
        "safeguarding",
        "neglected",
        "Wednesday",
        "hello",
        "worried",
        "bruising",
    ] {
        let text = all_text(&h.say(JO, word).await);
        assert!(!text.contains("not a valid invite code"), "{word}: {text}");
        assert!(text.contains("invite code"), "{text}");
    }
    let text = all_text(&h.say(JO, "not-the-code").await);
    assert!(text.contains("not a valid invite code"), "{text}");
    // Five wrong codes lock a user out, and a restart does not lift it.
    for _ in 0..5 {
        h.say(KIM, "guess-2026-code").await;
    }
    h.open(dir.path());
    let text = all_text(&h.say(KIM, &format!("/start {CODE}")).await);
    assert!(text.contains("Too many wrong codes"), "{text}");
    let r = h.say(JO, &format!("/start {CODE}")).await;
    let text = all_text(&r);
    assert!(text.contains("you are registered"), "{text}");
    assert!(text.contains("immediate danger"), "{text}");
    let reg = h
        .app()
        .store()
        .registration(&format!("telegram:{JO}"))
        .expect("store");
    assert!(
        reg.is_some_and(|r| !r.code.contains(CODE)),
        "a fingerprint, not the code"
    );
    let text = all_text(&h.say(JO, "/ask baby with a bruise").await);
    assert!(text.contains("Which area"), "{text}");
    let text = all_text(&h.say(JO, CODE).await);
    assert!(text.contains("already registered"), "{text}");
}

/// In a group: only /urgent and /help, with why.
async fn group_chats(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    h.set_time(at(2026, 11, 24, 3));
    let r = h.say_in_group(SAM, "/urgent").await;
    assert!(stoke_line(&r).contains("01782 234234"));
    assert!(all_text(&r).contains("message me privately"));
    let r = h.say_in_group(SAM, "/help").await;
    assert!(all_text(&r).contains("does not belong in a group"));
    // Consultation commands get why not (nothing stored); other talk is ignored.
    for command in ["/start", "/new", "/ask baby with a bruise"] {
        let r = h.say_in_group(SAM, command).await;
        let text = all_text(&r);
        assert!(text.contains("message me privately"), "{command}: {text}");
        assert!(!text.contains("Quick advice"), "{command}: {text}");
    }
    for ignored in ["Alex Example is at risk", "/help@OtherBot"] {
        let r = h.say_in_group(SAM, ignored).await;
        assert!(r.sent_messages.is_empty(), "{ignored}: {:?}", texts(&r));
    }
    assert_eq!(h.app().store().counts(), (0, 0));
}

/// A restart mid-consultation: a new app on the same data resumes where the caller was.
async fn restart_mid_consultation(h: &mut Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    h.open(dir.path());
    h.set_time(at(2026, 11, 24, 10));
    let rules = frontdoor::rules::load_embedded().expect("rules");
    let answers = sample::answers(rules.area("stoke-on-trent").expect("stoke-on-trent"));
    h.say(SAM, "/start").await;
    // Up to the caller's name (the concern, confirmed, and the child come first).
    let name_at = answers
        .iter()
        .position(|a| a == "Sam Fictional")
        .expect("the caller's name");
    let mut r = h.say(SAM, &answers[0]).await;
    for a in &answers[1..=name_at] {
        r = h.say(SAM, a).await;
    }
    assert!(all_text(&r).contains("role"), "{}", all_text(&r));
    let r = h.say(SAM, "Class teacher at Example Primary School").await;
    assert!(
        all_text(&r).contains("phone number or email"),
        "{}",
        all_text(&r)
    );

    h.open(dir.path());
    let r = h.say(SAM, "/start").await;
    let text = all_text(&r);
    assert!(text.contains("Welcome back"), "{text}");
    assert!(text.contains("phone number or email"), "{text}");
    let r = h.say(SAM, "01632 960123").await;
    assert!(all_text(&r).contains("Do the parents"), "{}", all_text(&r));
    let r = h.say(SAM, "/summary").await;
    let text = all_text(&r);
    assert!(
        text.contains("Sam Fictional") && text.contains("Example Primary School"),
        "{text}"
    );
    // The buttons on screen still work after a restart.
    let r = h.say(SAM, "/start").await;
    let (message, _) = keyboard(&r).expect("the consent question has buttons");
    h.open(dir.path());
    let r = h.press(SAM, &message, "c:agreed").await;
    let text = all_text(&r);
    assert!(text.contains("Who lives with the child"), "{text}");
    assert!(
        !text.contains("Welcome back") && !text.contains("expired"),
        "{text}"
    );
    // A second tap, or any older button, only gets a short notice: no message, nothing answered.
    let r = h.press(SAM, &message, "c:refused").await;
    assert!(r.sent_messages.is_empty(), "{:?}", texts(&r));
    assert_eq!(r.answered_callback_queries.len(), 1);
    let r = h.say(SAM, "/summary").await;
    assert!(all_text(&r).contains("Do the parents or carers know"));
    assert!(
        all_text(&r).contains("they know and agree"),
        "{}",
        all_text(&r)
    );
}
