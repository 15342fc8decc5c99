//! The Telegram bot: the consultation, quick advice and who to call, in a Telegram chat.
//!
//! The only module that names teloxide. It is a thin adapter around [`App::handle`]: a message
//! or a button press becomes an [`Input`], the engine's [`Reply`]s become messages with inline
//! keyboards ([`render`]), long texts are split below Telegram's limit ([`split`]) and a record
//! is sent as text and as a Markdown file. Sessions live in the sled store under
//! `telegram:<chat id>`, so a restart resumes every consultation; teloxide's dialogue storage is
//! not used.
//!
//! Safety rules enforced here:
//! - `/urgent`, `/contacts` and `/help` answer anyone, and nothing about them is stored;
//! - consultations and `/ask` only for allow-listed users or users registered with an invite
//!   code ([`access`]); others are told how to get access and who to call meanwhile;
//! - private chats only for personal data: in a group only `/urgent` and `/help` are answered;
//! - an update delivered twice is handled once (its id is marked in the store first), and only
//!   the buttons of the latest question work, so a double tap never answers two questions;
//! - logs carry no message text and no Telegram ids, only keyed hashes of them.
//!
//! The handler tree ([`schema`]) is generic over the bot, so that the binary wraps the bot in
//! teloxide's throttling adaptor while the tests drive the plain bot through teloxide_tests.

pub mod access;
pub mod render;
pub mod split;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use teloxide::adaptors::throttle::{Limits, Throttle};
use teloxide::dispatching::UpdateHandler;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, InlineKeyboardButton, InlineKeyboardButtonKind, InlineKeyboardMarkup, InputFile,
    MaybeInaccessibleMessage, Me, MessageId,
};
use teloxide::update_listeners::{polling_default, webhooks};
use teloxide::RequestError;

use crate::app::{uk_local, App, AppError};
use crate::config::TelegramConfig;
use crate::dialogue::{Command, Input, Reply};
use crate::rules::Area;
use crate::store::StoreError;

use access::{Access, Registered};
use render::{Action, Outgoing};
use split::{split, MAX_MESSAGE};

/// The current time, passed in so that tests can fix it (night, bank holidays).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Chats whose latest keyboard is remembered at most.
const MAX_KEYBOARDS: usize = 10_000;

/// Sending a message failed, or the application did.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// A Telegram request failed.
    #[error("telegram: {0}")]
    Request(#[from] RequestError),
    /// The application failed (storage).
    #[error(transparent)]
    App(#[from] AppError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A step of the application could not be run.
    #[error("a blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Telegram could not be reached with the token.
    #[error("cannot connect to Telegram (check TELOXIDE_TOKEN and the network): {0}")]
    Connect(RequestError),
    /// The webhook's address cannot be listened on.
    #[error("FRONTDOOR_WEBHOOK_BIND={0}: cannot listen there: {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// What the handlers share: the application, the access rules, the clock and the latest
/// keyboard of each chat. Put in the dispatcher's dependencies as `Arc<Context>`.
pub struct Context {
    app: Arc<App>,
    access: Access,
    clock: Clock,
    /// Chat id -> the message carrying that chat's live keyboard.
    keyboards: Mutex<HashMap<i64, i32>>,
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

/// Whether a pressed button belongs to the latest question of its chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Live {
    /// The latest: its answer is taken (and the keyboard retired).
    Current,
    /// An older question's button, e.g. a second tap: ignored.
    Stale,
    /// No keyboard known for the chat (e.g. after a restart): the current question is shown again.
    Unknown,
}

impl Context {
    /// The shared state for the handlers.
    pub fn new(app: Arc<App>, settings: &TelegramConfig, clock: Clock) -> Arc<Context> {
        let log_key = Sha256::digest(format!("frontdoor-log:{}", settings.token.expose()));
        Arc::new(Context {
            app,
            access: Access::new(settings),
            clock,
            keyboards: Mutex::new(HashMap::new()),
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

    /// An error's text with the chat's id replaced by its hash.
    fn redact(&self, error: &TelegramError, chat: ChatId) -> String {
        error
            .to_string()
            .replace(&chat.0.to_string(), &self.tag(chat.0))
    }

    fn keyboards(&self) -> std::sync::MutexGuard<'_, HashMap<i64, i32>> {
        // A poisoned lock only means a handler panicked; the map is still usable.
        self.keyboards.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks a pressed button against the chat's live keyboard, retiring it when current.
    fn press(&self, chat: ChatId, message: MessageId) -> Live {
        let mut map = self.keyboards();
        match map.get(&chat.0).copied() {
            Some(id) if id == message.0 => {
                map.remove(&chat.0);
                Live::Current
            }
            Some(_) => Live::Stale,
            None => Live::Unknown,
        }
    }

    /// Forgets the chat's live keyboard, returning its message.
    fn retire(&self, chat: ChatId) -> Option<MessageId> {
        self.keyboards().remove(&chat.0).map(MessageId)
    }

    fn set_live(&self, chat: ChatId, message: MessageId) {
        let mut map = self.keyboards();
        if map.len() >= MAX_KEYBOARDS && !map.contains_key(&chat.0) {
            // Forgetting a keyboard only means its next press shows the question again.
            map.clear();
        }
        map.insert(chat.0, message.0);
    }

    /// One step of the consultation in the conversation `key`, off the async threads (it
    /// writes to disk).
    async fn step(
        &self,
        key: &str,
        input: Input,
        now: DateTime<Utc>,
    ) -> Result<Vec<Reply>, TelegramError> {
        let app = self.app.clone();
        let key = key.to_string();
        Ok(tokio::task::spawn_blocking(move || app.handle(&key, input, now)).await??)
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

/// The commands shown in Telegram's command menu.
pub fn commands() -> Vec<BotCommand> {
    [
        ("start", "Begin, or carry on where you left off"),
        ("new", "Start a new consultation"),
        ("ask", "Quick advice: /ask and your concern in a sentence"),
        ("urgent", "Who to call right now (any area: /urgent stoke)"),
        ("contacts", "Every number for an area"),
        ("area", "Change the child's area"),
        ("back", "Change your last answer"),
        ("why", "Why I ask the current question"),
        ("summary", "Your answers so far"),
        ("cancel", "Delete this consultation and start again"),
        (
            "record",
            "Your consultation record (/record REF for an older one)",
        ),
        ("delete", "Delete one of your records: /delete REF"),
        ("help", "How this bot works"),
    ]
    .into_iter()
    .map(|(c, d)| BotCommand::new(c, d))
    .collect()
}

/// How to use the bot, in a private chat.
pub const HELP: &str = "Front door consultation for professionals who work with children: I ask what a children's services front-door worker asks on the phone, and end with the level of need, what to do, the number to call and a record for your agency's system.

If a child is in immediate danger, call 999 now.

Answer with the buttons or by typing. Commands:
/start begin, or carry on where you left off
/new start a new consultation
/ask <concern> quick advice: the matching indicators, the level and who to call
/urgent [area] who to call right now
/contacts [area] every number for an area
/area change the child's area
/back change your last answer
/why why I ask the current question
/summary your answers so far
/cancel delete this consultation and start again
/record [REF] your consultation record, as text and as a Markdown file
/delete REF delete one of your records
/help this message

This supports your professional judgement and your agency's safeguarding procedures; it does not replace them. Records are kept here only for a short time: copy yours into your agency's system.";

/// How to get access, for someone who has none.
pub const NO_ACCESS: &str = "Consultations here take personal information about children, so they are only for professionals who have been given access.

To get access, ask whoever runs this service in your organisation: they can give you an invite code to send to me here (or /start followed by the code), or add your Telegram user id. I have not kept anything you wrote.

Meanwhile: if a child is in immediate danger, call 999. /urgent gives the children's services number to call right now, for every area; /contacts lists every number.";

/// What the bot says in a group.
pub const GROUP_HELP: &str = "In a group I only answer /urgent (who to call right now) and /help. A consultation is about a child and takes personal information, which does not belong in a group chat: message me privately instead.

If a child is in immediate danger, call 999 now.";

const GROUP_NOTE: &str = "(In a group I only answer /urgent and /help. For a consultation, message me privately: details about a child do not belong in a group chat.)";

const NOT_TEXT: &str = "I can only read text messages: please type your answer. (Photos, voice notes and files are not read or kept.)";

const EDITED: &str = "I do not read edited messages. To change your last answer, send /back; /summary shows every answer.";

const SORRY: &str = "Sorry: something went wrong on my side, so your last message may not have been taken. If a child is in immediate danger, call 999. /urgent gives the number to call now; /summary shows what I have.";

/// A message's text, read as a command (addressed to this bot) or as an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    /// `/word arg`, with the word lower-cased.
    Command(String, String),
    /// A command for another bot in a group (`/help@OtherBot`).
    OtherBot,
    /// Anything else.
    Text(String),
}

fn read(text: &str, me: Option<&str>) -> Said {
    let t = text.trim();
    let Some(rest) = t.strip_prefix('/') else {
        return Said::Text(t.to_string());
    };
    let (word, arg) = match rest.split_once(char::is_whitespace) {
        Some((w, a)) => (w, a.trim()),
        None => (rest, ""),
    };
    let (word, to) = match word.split_once('@') {
        Some((w, to)) => (w, Some(to)),
        None => (word, None),
    };
    if let (Some(to), Some(me)) = (to, me) {
        if !to.eq_ignore_ascii_case(me) {
            return Said::OtherBot;
        }
    }
    Said::Command(word.to_lowercase(), arg.to_string())
}

/// The handler tree: messages, edited messages and button presses. Generic over the bot so
/// that the binary can throttle it.
pub fn schema<R>() -> UpdateHandler<TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message::<R>))
        .branch(Update::filter_edited_message().endpoint(on_edited::<R>))
        .branch(Update::filter_callback_query().endpoint(on_callback::<R>))
}

async fn on_message<R>(
    bot: R,
    update: Update,
    msg: Message,
    me: Me,
    ctx: Arc<Context>,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let chat = msg.chat.id;
    if let Err(e) = message(&bot, &update, &msg, &me, &ctx).await {
        tracing::error!(chat = %ctx.tag(chat.0), update = update.id.0, error = %ctx.redact(&e, chat), "a message could not be handled");
        if msg.chat.is_private() {
            let _ = send(&bot, &ctx, chat, vec![Outgoing::text(SORRY)]).await;
        }
    }
    Ok(())
}

async fn on_edited<R>(
    bot: R,
    update: Update,
    msg: Message,
    me: Me,
    ctx: Arc<Context>,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let now = ctx.now();
    let first = ctx
        .app
        .store()
        .first_delivery(&delivery_key(&me, &update), now);
    if msg.chat.is_private() && matches!(first, Ok(true)) {
        if let Err(e) = send(&bot, &ctx, msg.chat.id, vec![Outgoing::text(EDITED)]).await {
            tracing::warn!(chat = %ctx.tag(msg.chat.id.0), error = %ctx.redact(&e, msg.chat.id), "could not answer an edit");
        }
    }
    Ok(())
}

async fn on_callback<R>(
    bot: R,
    update: Update,
    query: CallbackQuery,
    me: Me,
    ctx: Arc<Context>,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let chat = query.message.as_ref().map(|m| m.chat().id);
    if let Err(e) = callback(&bot, &update, &query, &me, &ctx).await {
        let chat = chat.unwrap_or(ChatId(0));
        tracing::error!(chat = %ctx.tag(chat.0), update = update.id.0, error = %ctx.redact(&e, chat), "a button press could not be handled");
        if chat.is_user() {
            let _ = send(&bot, &ctx, chat, vec![Outgoing::text(SORRY)]).await;
        }
    }
    Ok(())
}

fn delivery_key(me: &Me, update: &Update) -> String {
    format!("telegram:{}:update:{}", me.id.0, update.id.0)
}

fn chat_key(chat: ChatId) -> String {
    format!("telegram:{}", chat.0)
}

async fn message<R>(
    bot: &R,
    update: &Update,
    msg: &Message,
    me: &Me,
    ctx: &Context,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let now = ctx.now();
    let chat = msg.chat.id;
    if !ctx
        .app
        .store()
        .first_delivery(&delivery_key(me, update), now)?
    {
        tracing::info!(chat = %ctx.tag(chat.0), update = update.id.0, "repeated delivery ignored");
        return Ok(());
    }
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    let private = msg.chat.is_private();
    let Some(text) = msg.text() else {
        if private {
            send(bot, ctx, chat, vec![Outgoing::text(NOT_TEXT)]).await?;
        }
        return Ok(());
    };
    let said = read(text, me.user.username.as_deref());
    let what = match &said {
        Said::Command(w, _) if commands().iter().any(|c| c.command == *w) => w.as_str(),
        Said::Command(..) => "unknown command",
        Said::OtherBot => "other bot",
        Said::Text(_) => "text",
    };
    tracing::info!(user = %ctx.tag(user.id.0 as i64), chat = %ctx.tag(chat.0), private, what, "message");
    if !private {
        return group(bot, ctx, chat, said, now).await;
    }
    if said == Said::OtherBot {
        return Ok(());
    }
    let store = ctx.app.store();
    let allowed = ctx.access.is_allowed(store, user.id.0)?;
    if !allowed {
        return stranger(bot, ctx, chat, user.id.0, said, now).await;
    }
    if let Said::Text(t) = &said {
        if ctx.access.is_code(t) {
            let text = "You are already registered: there is no need to send the code again.";
            return send(bot, ctx, chat, vec![Outgoing::text(text)]).await;
        }
    }
    // Whatever reaches the consultation answers or moves past the latest question, so older
    // buttons stop working (a typed answer followed by a question without buttons would
    // otherwise leave the old ones live).
    let steps = match &said {
        Said::Text(_) => true,
        Said::Command(w, arg) => match w.as_str() {
            "urgent" | "contacts" => arg.is_empty(),
            "help" | "record" | "delete" => false,
            w => commands().iter().any(|c| c.command == w),
        },
        Said::OtherBot => false,
    };
    if steps {
        if let Some(old) = ctx.retire(chat) {
            let _ = bot.edit_message_reply_markup(chat, old).await;
        }
    }
    let key = chat_key(chat);
    let replies = match said {
        Said::Text(t) => ctx.step(&key, Input::Text(t), now).await?,
        Said::Command(word, arg) => match word.as_str() {
            "start" => ctx.step(&key, Input::Start, now).await?,
            "new" => {
                let app = ctx.app.clone();
                let k = key.clone();
                let busy = tokio::task::spawn_blocking(move || app.in_progress(&k, now)).await??;
                if busy {
                    let ask = Outgoing {
                        text: "You have a consultation in progress. Start a new one? That deletes the answers so far (records already made are kept).".into(),
                        buttons: vec![vec![
                            render::Button {
                                label: "Start a new one".into(),
                                action: Action::NewConfirm,
                            },
                            render::Button {
                                label: "Carry on".into(),
                                action: Action::NewKeep,
                            },
                        ]],
                        document: None,
                    };
                    return send(bot, ctx, chat, vec![ask]).await;
                }
                ctx.step(&key, Input::Start, now).await?
            }
            "ask" => {
                ctx.step(&key, Input::Command(Command::Ask(arg)), now)
                    .await?
            }
            "urgent" | "contacts" if !arg.is_empty() => {
                return public(bot, ctx, chat, &word, &arg, now).await;
            }
            "urgent" => ctx.step(&key, Input::Command(Command::Urgent), now).await?,
            "contacts" => {
                ctx.step(&key, Input::Command(Command::Contacts), now)
                    .await?
            }
            "area" => ctx.step(&key, Input::Command(Command::Area), now).await?,
            "back" => ctx.step(&key, Input::Command(Command::Back), now).await?,
            "why" => ctx.step(&key, Input::Command(Command::Why), now).await?,
            "summary" => {
                ctx.step(&key, Input::Command(Command::Summary), now)
                    .await?
            }
            "cancel" => ctx.step(&key, Input::Command(Command::Cancel), now).await?,
            "record" => return record(bot, ctx, chat, &arg).await,
            "delete" => return delete(bot, ctx, chat, &arg).await,
            "help" => return send(bot, ctx, chat, vec![Outgoing::text(HELP)]).await,
            other => {
                return send(
                    bot,
                    ctx,
                    chat,
                    vec![Outgoing::text(format!(
                        "I do not know the command /{other}. /help lists what I can do."
                    ))],
                )
                .await
            }
        },
        Said::OtherBot => return Ok(()),
    };
    send(
        bot,
        ctx,
        chat,
        replies.iter().flat_map(render::render).collect(),
    )
    .await
}

/// A group chat: only `/urgent` and `/help`, nothing stored.
async fn group<R>(
    bot: &R,
    ctx: &Context,
    chat: ChatId,
    said: Said,
    now: DateTime<Utc>,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    match said {
        Said::Command(word, arg) if word == "urgent" => {
            let area = ctx.area(&arg);
            let mut out: Vec<Outgoing> = ctx
                .public(Command::Urgent, area, now)
                .iter()
                .flat_map(render::render)
                .collect();
            out.push(Outgoing::text(GROUP_NOTE));
            send(bot, ctx, chat, out).await
        }
        Said::Command(word, _) if word == "help" => {
            send(bot, ctx, chat, vec![Outgoing::text(GROUP_HELP)]).await
        }
        _ => Ok(()),
    }
}

/// `/urgent AREA` or `/contacts AREA`: nothing stored.
async fn public<R>(
    bot: &R,
    ctx: &Context,
    chat: ChatId,
    word: &str,
    arg: &str,
    now: DateTime<Utc>,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let command = if word == "contacts" {
        Command::Contacts
    } else {
        Command::Urgent
    };
    let area = ctx.area(arg);
    let mut out = Vec::new();
    if area.is_none() && !arg.trim().is_empty() {
        let names: Vec<&str> = ctx.app.engine().rules().areas().map(|a| a.id()).collect();
        out.push(Outgoing::text(format!(
            "I do not know that area (I know: {}). Here is every area:",
            names.join(", ")
        )));
    }
    out.extend(
        ctx.public(command, area, now)
            .iter()
            .flat_map(render::render),
    );
    send(bot, ctx, chat, out).await
}

/// Someone without access, in a private chat.
async fn stranger<R>(
    bot: &R,
    ctx: &Context,
    chat: ChatId,
    user: u64,
    said: Said,
    now: DateTime<Utc>,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let code = match said {
        Said::Command(word, arg) => match word.as_str() {
            "urgent" | "contacts" => return public(bot, ctx, chat, &word, &arg, now).await,
            "help" => {
                let text = format!("{HELP}\n\n{NO_ACCESS}");
                return send(bot, ctx, chat, vec![Outgoing::text(text)]).await;
            }
            "start" if !arg.is_empty() => Some(arg),
            _ => None,
        },
        // A single word of a plausible length may be an invite code.
        Said::Text(t)
            if ctx.access.has_codes()
                && !t.contains(char::is_whitespace)
                && (crate::config::MIN_INVITE_CODE..=100).contains(&t.chars().count()) =>
        {
            Some(t)
        }
        _ => None,
    };
    let Some(code) = code.filter(|_| ctx.access.has_codes()) else {
        return send(bot, ctx, chat, vec![no_access(user)]).await;
    };
    let app = ctx.app.clone();
    let access_result = {
        let store = app.store();
        ctx.access.try_register(store, user, &code, now)?
    };
    match access_result {
        Registered::Yes => {
            tracing::info!(user = %ctx.tag(user as i64), "registered with an invite code");
            let mut out = vec![Outgoing::text(
                "Thank you: you are registered, and can now use every command here.",
            )];
            let replies = ctx.step(&chat_key(chat), Input::Start, now).await?;
            out.extend(replies.iter().flat_map(render::render));
            send(bot, ctx, chat, out).await
        }
        Registered::WrongCode => {
            tracing::info!(user = %ctx.tag(user as i64), "a wrong invite code");
            let text = format!(
                "That is not a valid invite code.\n\n{}",
                no_access(user).text
            );
            send(bot, ctx, chat, vec![Outgoing::text(text)]).await
        }
        Registered::TooManyAttempts => {
            let text = "Too many wrong codes: please wait an hour and try again. If a child is in immediate danger, call 999; /urgent gives the number to call now.";
            send(bot, ctx, chat, vec![Outgoing::text(text)]).await
        }
    }
}

fn no_access(user: u64) -> Outgoing {
    Outgoing::text(format!("{NO_ACCESS}\n\n(Your Telegram user id is {user}.)"))
}

/// `/record [REF]`: one of this chat's records, as text and as a Markdown file.
async fn record<R>(bot: &R, ctx: &Context, chat: ChatId, arg: &str) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let store = ctx.app.store();
    let mine = store.records_owned_by(&chat_key(chat))?;
    let wanted = arg.trim().to_uppercase();
    let reference = if wanted.is_empty() {
        mine.last().cloned()
    } else {
        mine.iter().find(|r| **r == wanted).cloned()
    };
    let found = match &reference {
        Some(r) => store.record(r)?,
        None => None,
    };
    let out = match found {
        Some(stored) => render::record_messages(&stored.record),
        None if wanted.is_empty() => vec![Outgoing::text(
            "There is no record from this chat yet: a record is made when a consultation ends.",
        )],
        None => vec![Outgoing::text(format!(
            "There is no record {wanted} from this chat (records are kept for {} days).",
            ctx.app.config().retention_days
        ))],
    };
    send(bot, ctx, chat, out).await
}

/// `/delete REF`: deletes one of this chat's records.
async fn delete<R>(bot: &R, ctx: &Context, chat: ChatId, arg: &str) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let wanted = arg.trim().to_uppercase();
    let text = if wanted.is_empty() {
        "Send /delete and the record's reference, e.g. /delete FD-20261124-0001.".to_string()
    } else {
        let store = ctx.app.store();
        let owner = store.record_owner(&wanted)?;
        if owner.as_deref() == Some(chat_key(chat).as_str()) && store.delete_record(&wanted)? {
            format!("Deleted {wanted}. (Copies you saved elsewhere are not affected.)")
        } else {
            format!("There is no record {wanted} from this chat.")
        }
    };
    send(bot, ctx, chat, vec![Outgoing::text(text)]).await
}

async fn callback<R>(
    bot: &R,
    update: &Update,
    query: &CallbackQuery,
    me: &Me,
    ctx: &Context,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let now = ctx.now();
    if !ctx
        .app
        .store()
        .first_delivery(&delivery_key(me, update), now)?
    {
        return Ok(());
    }
    let Some(message) = query.message.as_ref() else {
        answer(bot, query, None).await;
        return Ok(());
    };
    let chat = message.chat().id;
    let user = query.from.id.0;
    tracing::info!(user = %ctx.tag(user as i64), chat = %ctx.tag(chat.0), what = "button", "message");
    let action = query.data.as_deref().and_then(Action::decode);
    if !message.chat().is_private() || action.is_none() {
        answer(bot, query, None).await;
        return Ok(());
    }
    if !ctx.access.is_allowed(ctx.app.store(), user)? {
        answer(bot, query, None).await;
        return send(bot, ctx, chat, vec![no_access(user)]).await;
    }
    let key = chat_key(chat);
    match ctx.press(chat, message.id()) {
        Live::Stale => {
            answer(bot, query, Some("That question has already been answered.")).await;
            let _ = bot.edit_message_reply_markup(chat, message.id()).await;
            return Ok(());
        }
        Live::Unknown => {
            answer(
                bot,
                query,
                Some("That button has expired: here is where you are."),
            )
            .await;
            let _ = bot.edit_message_reply_markup(chat, message.id()).await;
            let replies = ctx.step(&key, Input::Start, now).await?;
            return send(
                bot,
                ctx,
                chat,
                replies.iter().flat_map(render::render).collect(),
            )
            .await;
        }
        Live::Current => {}
    }
    answer(bot, query, None).await;
    if let MaybeInaccessibleMessage::Regular(m) = message {
        show_pressed(bot, chat, m, query.data.as_deref().unwrap_or("")).await;
    }
    let input = match action {
        Some(Action::Choice(k)) => Input::Choice(k),
        Some(Action::Number(n)) => Input::Text(n.to_string()),
        Some(Action::DontKnow) => Input::Text("don't know".into()),
        Some(Action::Drop(n)) => Input::Text(format!("drop {n}")),
        Some(Action::NewConfirm) => Input::Command(Command::Cancel),
        Some(Action::NewKeep) | None => Input::Start,
    };
    let replies = ctx.step(&key, input, now).await?;
    send(
        bot,
        ctx,
        chat,
        replies.iter().flat_map(render::render).collect(),
    )
    .await
}

/// Acknowledges a button press (so the client stops its spinner), with an optional notice.
/// Best effort: Telegram refuses to acknowledge old presses (e.g. after a restart), and that
/// must not stop the press being handled.
async fn answer<R>(bot: &R, query: &CallbackQuery, notice: Option<&str>)
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let sent = match notice {
        Some(text) => bot.answer_callback_query(query.id.clone()).text(text).await,
        None => bot.answer_callback_query(query.id.clone()).await,
    };
    if let Err(e) = sent {
        tracing::debug!(error = %e, "could not acknowledge a button press");
    }
}

/// Replaces a pressed keyboard by the chosen label, so the chat shows what was answered.
async fn show_pressed<R>(bot: &R, chat: ChatId, message: &Message, data: &str)
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    let label = message.reply_markup().and_then(|k| {
        k.inline_keyboard
            .iter()
            .flatten()
            .find_map(|b| match &b.kind {
                InlineKeyboardButtonKind::CallbackData(d) if d == data => Some(b.text.clone()),
                _ => None,
            })
    });
    let text = message.text().unwrap_or_default();
    match label {
        Some(label) if !text.is_empty() => {
            let edited = format!("{text}\n\n✓ {label}");
            if split::units(&edited) <= MAX_MESSAGE {
                let _ = bot.edit_message_text(chat, message.id, edited).await;
                return;
            }
            let _ = bot.edit_message_reply_markup(chat, message.id).await;
        }
        _ => {
            let _ = bot.edit_message_reply_markup(chat, message.id).await;
        }
    }
}

/// How many times a message is sent again after a network error.
const RETRIES: u32 = 3;

/// Runs a request, retrying network errors and Telegram's "retry after" a few times.
async fn retry<T, F, Fut>(mut request: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RequestError>>,
{
    let mut attempt = 0;
    loop {
        match request().await {
            Err(RequestError::Network(_) | RequestError::Io(_)) if attempt < RETRIES => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(500 << attempt)).await;
            }
            Err(RequestError::RetryAfter(after)) if attempt < RETRIES => {
                attempt += 1;
                tokio::time::sleep(after.duration()).await;
            }
            other => return other,
        }
    }
}

/// Sends messages in order: long texts split, buttons on the last part, files as documents.
async fn send<R>(
    bot: &R,
    ctx: &Context,
    chat: ChatId,
    messages: Vec<Outgoing>,
) -> Result<(), TelegramError>
where
    R: Requester<Err = RequestError> + Clone + Send + Sync + 'static,
{
    for m in messages {
        if let Some(doc) = &m.document {
            let caption = m.text.clone();
            retry(|| {
                bot.send_document(
                    chat,
                    InputFile::memory(doc.content.clone().into_bytes()).file_name(doc.name.clone()),
                )
                .caption(caption.clone())
                .send()
            })
            .await?;
            continue;
        }
        let keyboard = m.has_buttons().then(|| keyboard(&m));
        let mut parts = split(&m.text, MAX_MESSAGE);
        if parts.is_empty() && keyboard.is_some() {
            parts.push("Choose:".into());
        }
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.into_iter().enumerate() {
            match (&keyboard, i == last) {
                (Some(k), true) => {
                    if let Some(old) = ctx.retire(chat) {
                        let _ = bot.edit_message_reply_markup(chat, old).await;
                    }
                    let sent = retry(|| {
                        bot.send_message(chat, part.clone())
                            .reply_markup(k.clone())
                            .send()
                    })
                    .await?;
                    ctx.set_live(chat, sent.id);
                }
                _ => {
                    retry(|| bot.send_message(chat, part.clone()).send()).await?;
                }
            }
        }
    }
    Ok(())
}

fn keyboard(m: &Outgoing) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(m.buttons.iter().filter(|row| !row.is_empty()).map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.action.encode()))
            .collect::<Vec<_>>()
    }))
}

/// Runs the bot until SIGINT or SIGTERM: long polling, or a webhook when configured. Every
/// answer is already on disk when it is acknowledged; the store is flushed once more at the end.
pub async fn run(app: Arc<App>, settings: TelegramConfig) -> Result<(), TelegramError> {
    let mut bot = Bot::new(settings.token.expose());
    if let Some(url) = &settings.api_url {
        bot = bot.set_api_url(url.clone());
    }
    let bot = bot.throttle(Limits::default());
    let me = bot.get_me().await.map_err(TelegramError::Connect)?;
    tracing::info!(
        bot = me.user.username.as_deref().unwrap_or(""),
        "connected to Telegram"
    );
    if let Err(e) = bot.set_my_commands(commands()).await {
        tracing::warn!(error = %e, "could not register the command menu");
    }
    let ctx = Context::new(app.clone(), &settings, Arc::new(Utc::now));
    let mut dispatcher = Dispatcher::builder(bot.clone(), schema::<Throttle<Bot>>())
        .dependencies(dptree::deps![ctx])
        // Updates of other kinds are ignored without logging them (they may hold personal data).
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text("a handler failed"))
        .enable_ctrlc_handler()
        .build();
    let shutdown = dispatcher.shutdown_token();
    tokio::spawn(async move {
        terminated().await;
        tracing::info!("SIGTERM: stopping after the updates in hand");
        // The dispatcher may not have started yet; try again shortly.
        for _ in 0..50 {
            if let Ok(done) = shutdown.shutdown() {
                done.await;
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    let purger = app.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let app = purger.clone();
            match tokio::task::spawn_blocking(move || app.purge(Utc::now())).await {
                Ok(Ok(p)) => {
                    tracing::info!(sessions = p.sessions, records = p.records, "purged")
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "purge failed"),
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
        }
    });
    match settings.webhook {
        None => {
            tracing::info!("long polling");
            let listener = polling_default(bot.clone()).await;
            dispatcher
                .try_dispatch_with_listener(
                    listener,
                    LoggingErrorHandler::with_custom_text("polling failed"),
                )
                .await?;
        }
        Some(w) => {
            // teloxide panics in its server task when it cannot bind: check first.
            drop(std::net::TcpListener::bind(w.bind).map_err(|e| TelegramError::Bind(w.bind, e))?);
            tracing::info!(bind = %w.bind, "webhook");
            let listener =
                webhooks::axum(bot.clone(), webhooks::Options::new(w.bind, w.url)).await?;
            dispatcher
                .try_dispatch_with_listener(
                    listener,
                    LoggingErrorHandler::with_custom_text("webhook failed"),
                )
                .await?;
        }
    }
    app.store().flush()?;
    tracing::info!("stopped; every session is saved");
    Ok(())
}

/// Resolves on SIGTERM (never elsewhere than on Unix; SIGINT is teloxide's).
async fn terminated() {
    #[cfg(unix)]
    {
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
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_for_this_bot_only() {
        assert_eq!(
            read("/urgent stoke", Some("FrontDoorBot")),
            Said::Command("urgent".into(), "stoke".into())
        );
        assert_eq!(
            read("/Help@frontdoorbot", Some("FrontDoorBot")),
            Said::Command("help".into(), String::new())
        );
        assert_eq!(read("/help@OtherBot", Some("FrontDoorBot")), Said::OtherBot);
        assert_eq!(read(" yes ", None), Said::Text("yes".into()));
    }

    #[tokio::test]
    async fn retries_what_can_be_retried_only() {
        use std::sync::atomic::{AtomicU32, Ordering};
        use teloxide::types::Seconds;
        use teloxide::ApiError;

        let calls = AtomicU32::new(0);
        let result = retry(|| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(RequestError::RetryAfter(Seconds::from_seconds(0)))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert!(matches!(result, Ok(2)));
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(RequestError::Api(ApiError::BotBlocked)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a refusal is not retried");
    }

    #[test]
    fn the_menu_has_every_command() {
        let names: Vec<String> = commands().into_iter().map(|c| c.command).collect();
        for c in [
            "start", "new", "ask", "urgent", "contacts", "area", "back", "summary", "cancel",
            "record", "delete", "help",
        ] {
            assert!(names.iter().any(|n| n == c), "{c}");
        }
        assert!(commands().iter().all(|c| c.description.len() <= 256));
    }
}
