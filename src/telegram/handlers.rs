//! What the bot does with each update: a message, an edited message or a button press.
//!
//! [`handle`] takes one update and returns whether it may be confirmed to Telegram. The rules
//! that keep a consultation right:
//! - an update delivered again is answered once: its answer is saved with a delivery mark in
//!   the same write ([`crate::app::App::handle_delivered`]); a redelivery of an update whose
//!   answer is saved but whose reply may not have gone out shows the question again with
//!   "your last answer is saved", and one fully answered is ignored;
//! - a typed answer is only taken for the question the user last saw ([`ChatState::shown`]),
//!   and a button only on the message whose buttons are live ([`ChatState::keyboard`]); anything
//!   else gets the current question shown, never an answer to a question not on screen;
//! - when a reply cannot be delivered after its answer was saved, the chat remembers it, and
//!   the next message or `/start` shows the question again rather than being taken as an answer;
//! - the logs carry kinds and keyed hashes of ids, never text.

use chrono::{DateTime, Utc};
use teloxide::types::{
    CallbackQuery, ChatId, InlineKeyboardButtonKind, MaybeInaccessibleMessage, Message, MessageId,
    Update, UpdateKind,
};

use super::access::{self, Registered};
use super::api::Identity;
use super::chat::{ChatState, Current};
use super::render::{self, Action, Button, Outgoing, NEW_CONSULTATION};
use super::send::{Sender, Undelivered};
use super::split::{units, MAX_MESSAGE};
use super::texts::{self, Said};
use super::Context;
use crate::dialogue::{Command, Input, Reply};
use crate::store::Delivery;

/// Whether an update may be confirmed to Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Done with (answered, or nothing more can be done): confirm it.
    Done,
    /// Not finished because the bot is stopping: leave it for Telegram to deliver again.
    Again,
}

/// The store key of a delivered update.
fn delivery_key(me: &Identity, update: &Update) -> String {
    format!("telegram:{}:update:{}", me.id, update.id.0)
}

/// The conversation key of a chat.
pub fn chat_key(chat: ChatId) -> String {
    format!("telegram:{}", chat.0)
}

/// The chat an update belongs to, if any.
pub fn chat_of(update: &Update) -> Option<ChatId> {
    match &update.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => Some(m.chat.id),
        UpdateKind::CallbackQuery(q) => Some(
            q.message
                .as_ref()
                .map_or(ChatId(q.from.id.0 as i64), |m| m.chat().id),
        ),
        _ => None,
    }
}

/// Why a turn could not be completed.
#[derive(Debug)]
enum Failure {
    /// The store failed (the kind of failure only).
    Store(&'static str),
    /// A reply could not be delivered.
    Send(Undelivered),
}

/// One update being handled: what has been saved and what the chat looks like.
struct Turn<'a> {
    ctx: &'a Context,
    out: &'a Sender,
    chat: ChatId,
    mark: String,
    now: DateTime<Utc>,
    /// The update's answer is saved (with its delivery mark).
    saved: bool,
    state: ChatState,
    /// A pressed keyboard already replaced by the choice made.
    pressed: Option<MessageId>,
}

/// Handles one update; returns whether it may be confirmed.
pub async fn handle(ctx: &Context, out: &Sender, me: &Identity, update: &Update) -> Handled {
    let Some(chat) = chat_of(update) else {
        // Kinds the bot did not ask for, or cannot place: ignored without logging (they may
        // hold personal data).
        return Handled::Done;
    };
    let mark = delivery_key(me, update);
    let seen = {
        let mark = mark.clone();
        ctx.blocking(move |app| app.store().delivery(&mark)).await
    };
    let mut turn = Turn {
        ctx,
        out,
        chat,
        mark,
        now: ctx.now(),
        saved: false,
        state: ChatState::default(),
        pressed: None,
    };
    let result = match seen {
        Ok(Some(Delivery::Replied)) => {
            tracing::info!(chat = %ctx.tag(chat.0), update = update.id.0, "repeated delivery ignored");
            return Handled::Done;
        }
        Ok(Some(Delivery::Saved)) => {
            turn.saved = true;
            tracing::info!(chat = %ctx.tag(chat.0), update = update.id.0, "delivered again after its answer was saved");
            if let UpdateKind::CallbackQuery(q) = &update.kind {
                out.once(out.api().answer_callback_query(&q.id.0, None))
                    .await;
            }
            turn.load_state().await;
            resend(&mut turn).await
        }
        Ok(None) => match &update.kind {
            UpdateKind::Message(m) => on_message(&mut turn, me, m).await,
            UpdateKind::EditedMessage(m) if m.chat.is_private() => {
                turn.reply(vec![Outgoing::text(texts::EDITED)], false).await
            }
            UpdateKind::CallbackQuery(q) => on_press(&mut turn, q).await,
            _ => Ok(()),
        },
        Err(e) => Err(Failure::Store(store_kind(&e))),
    };
    turn.finish(update, result).await
}

fn store_kind(e: &super::TelegramError) -> &'static str {
    use super::TelegramError as E;
    match e {
        E::Store(_) | E::App(_) => "storage failed",
        E::Task(_) => "a storage task failed",
        _ => "failed",
    }
}

impl Turn<'_> {
    fn key(&self) -> String {
        chat_key(self.chat)
    }

    async fn load_state(&mut self) {
        let key = self.key();
        self.state = self
            .ctx
            .blocking(move |app| app.store().chat_state::<ChatState>(&key))
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
    }

    async fn save_state(&self) -> Result<(), Failure> {
        let key = self.key();
        let state = self.state.clone();
        let now = self.now;
        self.ctx
            .blocking(move |app| app.store().save_chat_state(&key, Some(&state), now))
            .await
            .map_err(|e| Failure::Store(store_kind(&e)))
    }

    /// One step of the consultation, saved with this update's delivery mark.
    async fn step(&mut self, input: Input) -> Result<Vec<Reply>, Failure> {
        let replies = self
            .ctx
            .step(&self.key(), input, self.now, Some(self.mark.clone()))
            .await
            .map_err(|e| Failure::Store(store_kind(&e)))?;
        self.saved = true;
        Ok(replies)
    }

    /// Where the conversation stands, without changing it.
    async fn current(&self) -> Result<Current, Failure> {
        self.ctx
            .current(&self.key(), self.now)
            .await
            .map_err(|e| Failure::Store(store_kind(&e)))
    }

    /// Sends `messages`. When they move the conversation on (`moves`) or ask a question, the old
    /// keyboard is retired and the chat's state follows what was delivered.
    async fn reply(&mut self, messages: Vec<Outgoing>, moves: bool) -> Result<(), Failure> {
        let asks = messages.iter().any(|m| m.question.is_some());
        if !(moves || asks) {
            return self
                .out
                .deliver(self.chat, &messages)
                .await
                .map(|_| ())
                .map_err(Failure::Send);
        }
        if let Some(old) = self.state.keyboard.take().map(MessageId) {
            if self.pressed != Some(old) {
                self.out
                    .once(self.out.api().remove_keyboard(self.chat, old))
                    .await;
            }
        }
        let result = self.out.deliver(self.chat, &messages).await;
        let (delivered, keyboard) = match &result {
            Ok(d) => (messages.len(), d.keyboard),
            Err(u) => (u.delivered, u.sent.keyboard),
        };
        self.state.keyboard = keyboard.map(|m| m.0);
        self.state.shown = messages[..delivered]
            .iter()
            .rev()
            .find_map(|m| m.question.clone());
        self.state.unsent = self.saved && delivered < messages.len();
        let saved = self.save_state().await;
        result.map_err(Failure::Send)?;
        saved
    }

    /// Logs how the turn ended, tells the user what they need to know, and says whether the
    /// update may be confirmed.
    async fn finish(self, update: &Update, result: Result<(), Failure>) -> Handled {
        let tag = self.ctx.tag(self.chat.0);
        match result {
            Ok(()) => {}
            Err(Failure::Send(u)) if u.stopping => {
                tracing::warn!(chat = %tag, update = update.id.0, error = %u.error, "stopping before the reply was sent; Telegram will deliver the update again");
                return Handled::Again;
            }
            Err(Failure::Send(u)) => {
                tracing::error!(chat = %tag, update = update.id.0, error = %u.error, delivered = u.delivered, "a reply could not be delivered");
                if self.saved && self.chat.is_user() {
                    self.out
                        .once(
                            self.out
                                .api()
                                .send_message(self.chat, texts::REPLY_LOST, None),
                        )
                        .await;
                }
            }
            Err(Failure::Store(kind)) => {
                tracing::error!(chat = %tag, update = update.id.0, error = kind, "an update could not be handled");
                if !self.saved && self.chat.is_user() {
                    self.out
                        .once(
                            self.out
                                .api()
                                .send_message(self.chat, texts::NOT_SAVED, None),
                        )
                        .await;
                    return Handled::Done;
                }
            }
        }
        let mark = self.mark.clone();
        let now = self.now;
        if let Err(e) = self
            .ctx
            .blocking(move |app| app.store().mark_replied(&mark, now))
            .await
        {
            tracing::warn!(chat = %tag, error = store_kind(&e), "could not mark an update as answered");
        }
        Handled::Done
    }
}

/// A redelivered update whose answer is saved: the user sees where they are, once.
async fn resend(turn: &mut Turn<'_>) -> Result<(), Failure> {
    if !turn.chat.is_user() {
        return Ok(());
    }
    let messages = match turn.current().await? {
        Current::Finished(reference) => finished_again(turn, &reference).await?,
        Current::Asking { question, .. } => {
            render::with_notice(texts::ALREADY_SAVED, render::messages(&question))
        }
        Current::AskArea => vec![Outgoing::text(format!(
            "{} Send /start to see where you are.",
            texts::ALREADY_SAVED
        ))],
    };
    turn.reply(messages, true).await
}

/// The end of a consultation shown again: its record, as a document.
async fn finished_again(turn: &Turn<'_>, reference: &str) -> Result<Vec<Outgoing>, Failure> {
    let r = reference.to_string();
    let record = turn
        .ctx
        .blocking(move |app| app.store().record(&r))
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))?;
    Ok(match record {
        Some(stored) => vec![
            Outgoing::text(format!(
                "Your consultation is finished and saved: its record {reference} is below. Send /record {reference} to see it again; send anything to start a new consultation."
            )),
            render::document(&stored.record),
        ],
        None => vec![Outgoing::text(
            "Your consultation is finished. Send anything to start a new consultation.",
        )],
    })
}

async fn on_message(turn: &mut Turn<'_>, me: &Identity, msg: &Message) -> Result<(), Failure> {
    let ctx = turn.ctx;
    let Some(user) = msg.from.as_ref() else {
        return Ok(());
    };
    let private = msg.chat.is_private();
    let Some(text) = msg.text() else {
        if private {
            return turn
                .reply(vec![Outgoing::text(texts::NOT_TEXT)], false)
                .await;
        }
        return Ok(());
    };
    let said = texts::read(text, me.username.as_deref());
    tracing::info!(user = %ctx.tag(user.id.0 as i64), chat = %ctx.tag(turn.chat.0), private, what = texts::kind(&said), "message");
    if !private {
        return group(turn, said).await;
    }
    if said == Said::OtherBot {
        return Ok(());
    }
    let uid = user.id.0;
    let allowed = ctx
        .access
        .is_allowed(ctx.app.store(), uid)
        .map_err(|_| Failure::Store("storage failed"))?;
    if !allowed {
        return stranger(turn, uid, said).await;
    }
    turn.load_state().await;
    match said {
        Said::Text(t) => answer(turn, t).await,
        Said::Command(word, arg) => command(turn, &word, arg).await,
        Said::OtherBot => Ok(()),
    }
}

/// A typed answer: taken only for the question on screen.
async fn answer(turn: &mut Turn<'_>, text: String) -> Result<(), Failure> {
    if turn.ctx.access.is_code(&text) {
        let note = "You are already registered: there is no need to send the code again.";
        return turn.reply(vec![Outgoing::text(note)], false).await;
    }
    let current = turn.current().await?;
    if current.is_shown(turn.state.shown.as_deref()) {
        let replies = turn.step(Input::Text(text)).await?;
        return turn.reply(render::messages(&replies), true).await;
    }
    match current {
        Current::Finished(reference) if turn.state.unsent => {
            let messages = finished_again(turn, &reference).await?;
            turn.reply(messages, true).await
        }
        // The engine starts a new consultation on any message after the last one ended.
        Current::Finished(_) => {
            let replies = turn.step(Input::Text(text)).await?;
            turn.reply(render::messages(&replies), true).await
        }
        // Nothing to lose: the welcome and the first question, rather than taking the text as
        // the answer to a question not yet asked.
        Current::Asking { started: false, .. } => {
            let replies = turn.step(Input::Start).await?;
            turn.reply(render::messages(&replies), true).await
        }
        Current::Asking { question, .. } => {
            let notice = if turn.state.unsent {
                texts::NOT_TAKEN_UNSENT
            } else {
                texts::NOT_TAKEN
            };
            let messages = render::with_notice(notice, render::messages(&question));
            turn.reply(messages, true).await
        }
        // `/ask` waits for an area: the engine reads the text as one.
        Current::AskArea => {
            let replies = turn.step(Input::Text(text)).await?;
            turn.reply(render::messages(&replies), true).await
        }
    }
}

/// A command of an allowed user in a private chat.
async fn command(turn: &mut Turn<'_>, word: &str, arg: String) -> Result<(), Failure> {
    let engine_command = match word {
        "start" => None,
        "new" => {
            if in_progress(turn).await? {
                return turn.reply(vec![new_confirmation()], true).await;
            }
            None
        }
        "urgent" | "contacts" if !arg.is_empty() => {
            return public(turn, word, &arg).await;
        }
        "urgent" => Some(Command::Urgent),
        "contacts" => Some(Command::Contacts),
        "why" => Some(Command::Why),
        "ask" => Some(Command::Ask(arg)),
        "area" => Some(Command::Area),
        "back" => Some(Command::Back),
        "summary" => Some(Command::Summary),
        "cancel" => Some(Command::Cancel),
        "record" => return record(turn, &arg).await,
        "delete" => return delete(turn, &arg).await,
        "help" => return turn.reply(vec![Outgoing::text(texts::HELP)], false).await,
        other => {
            let text = format!("I do not know the command /{other}. /help lists what I can do.");
            return turn.reply(vec![Outgoing::text(text)], false).await;
        }
    };
    let Some(c) = engine_command else {
        let replies = turn.step(Input::Start).await?;
        return turn.reply(render::messages(&replies), true).await;
    };
    // Information asked outside a consultation comes without a consultation question.
    let outside = matches!(
        c,
        Command::Urgent | Command::Contacts | Command::Why | Command::Ask(_)
    ) && !in_progress(turn).await?;
    let asking = matches!(c, Command::Ask(_));
    let replies = turn.step(Input::Command(c)).await?;
    if !outside {
        return turn.reply(render::messages(&replies), true).await;
    }
    let kept: Vec<Reply> = replies
        .into_iter()
        .filter(|r| match r {
            Reply::Ask(q) => q.step == render::ASK_AREA,
            Reply::ConfirmMatches(_) => false,
            Reply::Say(_) | Reply::Finished(_) => true,
        })
        .collect();
    let mut messages = render::messages(&kept);
    if asking && !messages.iter().any(|m| m.question.is_some()) {
        messages.push(Outgoing::text(texts::START_HINT));
    }
    turn.reply(messages, false).await
}

async fn in_progress(turn: &Turn<'_>) -> Result<bool, Failure> {
    let key = turn.key();
    let now = turn.now;
    turn.ctx
        .blocking(move |app| app.in_progress(&key, now))
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))
}

fn new_confirmation() -> Outgoing {
    Outgoing {
        text: "You have a consultation in progress. Start a new one? That deletes the answers so far (records already made are kept).".into(),
        buttons: vec![vec![
            Button {
                label: "Start a new one".into(),
                action: Action::NewConfirm,
            },
            Button {
                label: "Carry on".into(),
                action: Action::NewKeep,
            },
        ]],
        document: None,
        question: Some(NEW_CONSULTATION.into()),
    }
}

/// A button press.
async fn on_press(turn: &mut Turn<'_>, query: &CallbackQuery) -> Result<(), Failure> {
    let ctx = turn.ctx;
    let out = turn.out;
    let ack = |notice: Option<&'static str>| {
        let id = query.id.0.clone();
        async move {
            out.once(out.api().answer_callback_query(&id, notice)).await;
        }
    };
    let Some(message) = query.message.as_ref() else {
        ack(None).await;
        return Ok(());
    };
    let user = query.from.id.0;
    tracing::info!(user = %ctx.tag(user as i64), chat = %ctx.tag(turn.chat.0), what = "button", "message");
    let action = query.data.as_deref().and_then(Action::decode);
    let Some(action) = action.filter(|_| message.chat().is_private()) else {
        ack(None).await;
        return Ok(());
    };
    let allowed = ctx
        .access
        .is_allowed(ctx.app.store(), user)
        .map_err(|_| Failure::Store("storage failed"))?;
    if !allowed {
        ack(None).await;
        return turn.reply(vec![no_access(user)], false).await;
    }
    turn.load_state().await;
    let pressed = message.id();
    if turn.state.keyboard != Some(pressed.0) {
        // A second tap, or a question answered since: nothing else happens.
        ack(Some(texts::ANSWERED)).await;
        out.once(out.api().remove_keyboard(turn.chat, pressed))
            .await;
        return Ok(());
    }
    let input = match action {
        Action::NewConfirm => Input::Command(Command::Cancel),
        Action::NewKeep => Input::Start,
        Action::Choice(k) => Input::Choice(k),
        Action::Number(n) => Input::Text(n.to_string()),
        Action::DontKnow => Input::Text("don't know".into()),
        Action::Drop(n) => Input::Text(format!("drop {n}")),
    };
    let confirmation = turn.state.shown.as_deref() == Some(NEW_CONSULTATION);
    if !confirmation {
        let current = turn.current().await?;
        if !current.is_shown(turn.state.shown.as_deref()) {
            ack(Some(texts::MOVED_ON)).await;
            let messages = match current {
                Current::Asking { question, .. } => render::messages(&question),
                Current::Finished(reference) => finished_again(turn, &reference).await?,
                Current::AskArea => vec![Outgoing::text("Send /start to see where you are.")],
            };
            return turn.reply(messages, true).await;
        }
    }
    ack(None).await;
    if let MaybeInaccessibleMessage::Regular(m) = message {
        show_pressed(out, turn.chat, m, query.data.as_deref().unwrap_or("")).await;
        turn.pressed = Some(pressed);
    }
    let replies = turn.step(input).await?;
    turn.reply(render::messages(&replies), true).await
}

/// Replaces a pressed keyboard by the chosen label, so the chat shows what was answered.
async fn show_pressed(out: &Sender, chat: ChatId, message: &Message, data: &str) {
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
    if let Some(label) = label.filter(|_| !text.is_empty()) {
        let edited = format!("{text}\n\n✓ {label}");
        if units(&edited) <= MAX_MESSAGE
            && out
                .once(out.api().edit_message_text(chat, message.id, &edited))
                .await
                .is_some()
        {
            return;
        }
    }
    out.once(out.api().remove_keyboard(chat, message.id)).await;
}

/// A group chat: only `/urgent` and `/help`; other commands get why not; nothing stored.
async fn group(turn: &mut Turn<'_>, said: Said) -> Result<(), Failure> {
    match said {
        Said::Command(word, arg) if word == "urgent" => {
            let area = turn.ctx.area(&arg);
            let mut replies = turn.ctx.public(Command::Urgent, area, turn.now);
            replies.push(Reply::Say(texts::GROUP_NOTE.into()));
            turn.reply(render::messages(&replies), false).await
        }
        Said::Command(word, _) if texts::is_command(&word) => {
            turn.reply(vec![Outgoing::text(texts::GROUP_HELP)], false)
                .await
        }
        _ => Ok(()),
    }
}

/// `/urgent AREA` or `/contacts AREA`: nothing stored.
async fn public(turn: &mut Turn<'_>, word: &str, arg: &str) -> Result<(), Failure> {
    let ctx = turn.ctx;
    let command = if word == "contacts" {
        Command::Contacts
    } else {
        Command::Urgent
    };
    let area = ctx.area(arg);
    let mut replies = Vec::new();
    if area.is_none() && !arg.trim().is_empty() {
        let names: Vec<&str> = ctx.app.engine().rules().areas().map(|a| a.id()).collect();
        replies.push(Reply::Say(format!(
            "I do not know that area (I know: {}). Here is every area:",
            names.join(", ")
        )));
    }
    replies.extend(ctx.public(command, area, turn.now));
    turn.reply(render::messages(&replies), false).await
}

/// Someone without access, in a private chat.
async fn stranger(turn: &mut Turn<'_>, user: u64, said: Said) -> Result<(), Failure> {
    let ctx = turn.ctx;
    let code = match said {
        Said::Command(word, arg) => match word.as_str() {
            "urgent" | "contacts" => return public(turn, &word, &arg).await,
            "help" => {
                let text = format!("{}\n\n{}", texts::HELP, texts::NO_ACCESS);
                return turn.reply(vec![Outgoing::text(text)], false).await;
            }
            "start" if !arg.is_empty() => Some(arg),
            _ => None,
        },
        // A single word that is a code, or looks like one, is tried as a code; an ordinary
        // word is not counted as a wrong code.
        Said::Text(t) if ctx.access.is_code(&t) || access::looks_like_code(&t) => Some(t),
        _ => None,
    };
    let Some(code) = code.filter(|_| ctx.access.has_codes()) else {
        return turn.reply(vec![no_access(user)], false).await;
    };
    let now = turn.now;
    let access = ctx.access.clone();
    let registered = ctx
        .blocking(move |app| access.try_register(app.store(), user, &code, now))
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))?;
    match registered {
        Registered::Yes => {
            tracing::info!(user = %ctx.tag(user as i64), "registered with an invite code");
            let mut replies = vec![Reply::Say(
                "Thank you: you are registered, and can now use every command here.".into(),
            )];
            replies.extend(turn.step(Input::Start).await?);
            turn.load_state().await;
            turn.reply(render::messages(&replies), true).await
        }
        Registered::WrongCode => {
            tracing::info!(user = %ctx.tag(user as i64), "a wrong invite code");
            let text = format!(
                "That is not a valid invite code.\n\n{}",
                no_access(user).text
            );
            turn.reply(vec![Outgoing::text(text)], false).await
        }
        Registered::TooManyAttempts => {
            let text = "Too many wrong codes: please wait an hour and try again. If a child is in immediate danger, call 999; /urgent gives the number to call now.";
            turn.reply(vec![Outgoing::text(text)], false).await
        }
    }
}

fn no_access(user: u64) -> Outgoing {
    Outgoing::text(format!(
        "{}\n\n(Your Telegram user id is {user}.)",
        texts::NO_ACCESS
    ))
}

/// `/record [REF]`: one of this chat's records, as a Markdown document.
async fn record(turn: &mut Turn<'_>, arg: &str) -> Result<(), Failure> {
    let key = turn.key();
    let wanted = arg.trim().to_uppercase();
    let w = wanted.clone();
    let found = turn
        .ctx
        .blocking(move |app| {
            let store = app.store();
            let mine = store.records_owned_by(&key)?;
            let reference = if w.is_empty() {
                mine.last().cloned()
            } else {
                mine.iter().find(|r| **r == w).cloned()
            };
            Ok::<_, crate::store::StoreError>(match reference {
                Some(r) => store.record(&r)?,
                None => None,
            })
        })
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))?;
    let retention = turn.ctx.app.config().retention_days;
    let out = match found {
        Some(stored) => vec![render::document(&stored.record)],
        None if wanted.is_empty() => vec![Outgoing::text(
            "There is no record from this chat yet: a record is made when a consultation ends.",
        )],
        None => vec![Outgoing::text(format!(
            "There is no record {wanted} from this chat (records are kept for {retention} days)."
        ))],
    };
    turn.reply(out, false).await
}

/// `/delete REF`: deletes one of this chat's records (and the finished consultation that made
/// it, so that nothing later says it is kept).
async fn delete(turn: &mut Turn<'_>, arg: &str) -> Result<(), Failure> {
    let wanted = arg.trim().to_uppercase();
    if wanted.is_empty() {
        let text = "Send /delete and the record's reference, e.g. /delete FD-20261124-0001.";
        return turn.reply(vec![Outgoing::text(text)], false).await;
    }
    let key = turn.key();
    let now = turn.now;
    let w = wanted.clone();
    let deleted = turn
        .ctx
        .blocking(move |app| {
            let store = app.store();
            if store.record_owner(&w)?.as_deref() != Some(key.as_str()) {
                return Ok::<_, crate::store::StoreError>(false);
            }
            let idle = app.config().session_idle();
            let ended_with_it = match store.load_session(&key, now, idle) {
                Ok(Some(s)) => s.finished.as_deref() == Some(w.as_str()),
                _ => false,
            };
            if ended_with_it {
                store.delete_session(&key)?;
            }
            store.delete_record(&w)
        })
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))?;
    let text = if deleted {
        format!("Deleted {wanted}. (Copies you saved elsewhere are not affected.)")
    } else {
        format!("There is no record {wanted} from this chat.")
    };
    turn.reply(vec![Outgoing::text(text)], false).await
}
