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
//!
//! A turn's bookkeeping is in [`super::turn`]; commands in [`super::commands`].

use teloxide::types::{
    CallbackQuery, ChatId, InlineKeyboardButtonKind, MaybeInaccessibleMessage, Message, Update,
    UpdateKind,
};

use super::api::Identity;
use super::chat::{ChatState, Current};
use super::commands::{command, group, no_access, stranger};
use super::render::{self, Action, Outgoing, NEW_CONSULTATION};
use super::send::Sender;
use super::split::{units, MAX_MESSAGE};
use super::texts::{self, Said};
use super::turn::{store_kind, Failure, Turn};
use super::Context;
use crate::dialogue::{Command, Input};
use crate::store::Delivery;

pub use super::turn::{chat_key, Handled};

/// The store key of a delivered update.
fn delivery_key(me: &Identity, update: &Update) -> String {
    format!("telegram:{}:update:{}", me.id, update.id.0)
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
pub(super) async fn finished_again(
    turn: &Turn<'_>,
    reference: &str,
) -> Result<Vec<Outgoing>, Failure> {
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
        Action::NewConfirm => Input::Command(Command::Restart),
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
