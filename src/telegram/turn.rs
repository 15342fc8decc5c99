//! One update being handled ([`Turn`]): its step of the consultation, saved with the update's
//! delivery mark; its reply, which keeps the chat's state ([`ChatState`]) in line with what the
//! user actually received; and how it ends ([`Turn::finish`]): what is logged, what the user is
//! told when something failed, and whether the update may be confirmed to Telegram.

use chrono::{DateTime, Utc};
use teloxide::types::{ChatId, MessageId, Update};

use super::chat::{ChatState, Current};
use super::render::Outgoing;
use super::send::{Sender, Undelivered};
use super::texts;
use super::{Context, TelegramError};
use crate::dialogue::{Input, Reply};

/// Whether an update may be confirmed to Telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Done with (answered, or nothing more can be done): confirm it.
    Done,
    /// Not finished because the bot is stopping: leave it for Telegram to deliver again.
    Again,
}

/// The conversation key of a chat.
pub fn chat_key(chat: ChatId) -> String {
    format!("telegram:{}", chat.0)
}

/// Why a turn could not be completed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The store failed (the kind of failure only).
    Store(&'static str),
    /// A reply could not be delivered.
    Send(Undelivered),
}

/// One update being handled: what has been saved and what the chat looks like.
pub(super) struct Turn<'a> {
    pub(super) ctx: &'a Context,
    pub(super) out: &'a Sender,
    pub(super) chat: ChatId,
    pub(super) mark: String,
    pub(super) now: DateTime<Utc>,
    /// The update's answer is saved (with its delivery mark).
    pub(super) saved: bool,
    pub(super) state: ChatState,
    /// A pressed keyboard already replaced by the choice made.
    pub(super) pressed: Option<MessageId>,
}

pub(super) fn store_kind(e: &TelegramError) -> &'static str {
    use TelegramError as E;
    match e {
        E::Store(_) | E::App(_) => "storage failed",
        E::Task(_) => "a storage task failed",
        _ => "failed",
    }
}

impl Turn<'_> {
    pub(super) fn key(&self) -> String {
        chat_key(self.chat)
    }

    pub(super) async fn load_state(&mut self) {
        let key = self.key();
        self.state = self
            .ctx
            .blocking(move |app| app.store().chat_state::<ChatState>(&key))
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
    }

    pub(super) async fn save_state(&self) -> Result<(), Failure> {
        let key = self.key();
        let state = self.state.clone();
        let now = self.now;
        self.ctx
            .blocking(move |app| app.store().save_chat_state(&key, Some(&state), now))
            .await
            .map_err(|e| Failure::Store(store_kind(&e)))
    }

    /// One step of the consultation, saved with this update's delivery mark.
    pub(super) async fn step(&mut self, input: Input) -> Result<Vec<Reply>, Failure> {
        let replies = self
            .ctx
            .step(&self.key(), input, self.now, Some(self.mark.clone()))
            .await
            .map_err(|e| Failure::Store(store_kind(&e)))?;
        self.saved = true;
        Ok(replies)
    }

    /// Where the conversation stands, without changing it.
    pub(super) async fn current(&self) -> Result<Current, Failure> {
        self.ctx
            .current(&self.key(), self.now)
            .await
            .map_err(|e| Failure::Store(store_kind(&e)))
    }

    /// Sends `messages`. When they move the conversation on (`moves`) or ask a question, the old
    /// keyboard is retired and the chat's state follows what was delivered.
    pub(super) async fn reply(
        &mut self,
        messages: Vec<Outgoing>,
        moves: bool,
    ) -> Result<(), Failure> {
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
    pub(super) async fn finish(self, update: &Update, result: Result<(), Failure>) -> Handled {
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
