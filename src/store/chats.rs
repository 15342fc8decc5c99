//! What a chat front end keeps beside the consultations: a step saved together with the mark of
//! the message it answers ([`Step`]), whether a message was handled ([`Delivery`]), and small
//! per-chat state (a chat's live keyboard, the question last shown, invite attempts).
//!
//! Chat states are sealed with a key of their own like sessions: the question last shown is a
//! fingerprint of what the caller described. A chat's state lives under its conversation key, so
//! deleting the session (a record deleted, `/cancel`, expiry, a purge) removes it too and
//! destroys its key.

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{
    decode, encode, Batch, EnvelopeHeader, Store, StoreError, CHATS, DELIVERED, OWNERS, RECORDS,
    RECORD_VERSION, SESSIONS,
};
use crate::dialogue::Session;
use crate::record::Record;

/// The version of the stored per-chat state shape (see [`Store::save_chat_state`]).
pub const CHAT_STATE_VERSION: u32 = 1;

/// What is known of an incoming message (a delivery key) already handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Its answer is saved; the reply may not have reached the caller.
    Saved,
    /// It was answered.
    Replied,
}

/// One step of a consultation, as [`Store::save_step`] writes it.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// The conversation key.
    pub key: &'a str,
    /// The session after the step.
    pub session: &'a Session,
    /// The record the step finished the consultation with, if it did.
    pub record: Option<&'a Record>,
    /// The step started a new consultation in the conversation (after `/cancel`, or after the
    /// last one finished): the old session and the chat's state are deleted (their keys
    /// destroyed) and the new session gets a new key.
    pub new_consultation: bool,
    /// The delivery key of the message the step answers (e.g. a Telegram update), marked as
    /// handled in the same write.
    pub delivered: Option<&'a str>,
}

/// Where the "replied" mark of a delivery key is kept (beside it, so purging treats both alike).
fn replied_key(key: &str) -> String {
    format!("{key}#replied")
}

fn stamp(now: DateTime<Utc>) -> Vec<u8> {
    now.timestamp().to_be_bytes().to_vec()
}

impl Store {
    /// Saves one step: the session (and the record it finished with, if any) and the delivery
    /// mark, in one atomic write, flushed once. A crash leaves either all or none of it, so a
    /// message delivered again after a crash is either answered afresh or known to be answered.
    pub fn save_step(&self, step: &Step<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        if step.new_consultation {
            batch.remove(SESSIONS, step.key).remove(CHATS, step.key);
        }
        if let Some(record) = step.record {
            batch
                .put_sealed(
                    RECORDS,
                    &record.reference,
                    now,
                    encode(RECORD_VERSION, now, record)?,
                )
                .put(
                    OWNERS,
                    record.reference.as_bytes(),
                    step.key.as_bytes().to_vec(),
                );
        }
        if let Some(mark) = step.delivered {
            batch.put(DELIVERED, mark.as_bytes(), stamp(now));
        }
        self.save_session_with(step.key, step.session, now, batch)
    }

    /// Whether the delivery `key` was handled: its answer saved, or its reply sent too.
    pub fn delivery(&self, key: &str) -> Result<Option<Delivery>, StoreError> {
        if self.get(DELIVERED, replied_key(key).as_bytes())?.is_some() {
            return Ok(Some(Delivery::Replied));
        }
        Ok(self
            .get(DELIVERED, key.as_bytes())?
            .is_some()
            .then_some(Delivery::Saved))
    }

    /// Marks the delivery `key` as answered (its reply sent). Not flushed on its own (sled
    /// writes it within half a second, or with the next flushed write): losing it in a crash
    /// only means a redelivery shows the question once more.
    pub fn mark_replied(&self, key: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.put(DELIVERED, key.as_bytes(), stamp(now)).put(
            DELIVERED,
            replied_key(key).as_bytes(),
            stamp(now),
        );
        self.apply_unflushed(batch)
    }

    /// The state a chat front end keeps under `key` (e.g. a chat's live keyboard), if any.
    pub fn chat_state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let Some(stored) = self.get_sealed(CHATS, key)? else {
            return Ok(None);
        };
        let (_, state) = decode::<T>(
            "chat state",
            key,
            &stored.value,
            CHAT_STATE_VERSION,
            |_, d| d,
        )?;
        Ok(Some(state))
    }

    /// Saves (sealed with its own key) or, with `None`, deletes the state kept under `key`.
    /// Not flushed on its own: sled writes it within half a second, or with the next flushed
    /// write; call [`Store::flush`] where losing it in a crash would matter. (Destroying a key
    /// is always flushed, so a removal is never left half done.)
    pub fn save_chat_state<T: Serialize>(
        &self,
        key: &str,
        state: Option<&T>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        match state {
            Some(state) => {
                batch.put_sealed(CHATS, key, now, encode(CHAT_STATE_VERSION, now, state)?)
            }
            None => batch.remove(CHATS, key),
        };
        self.apply_unflushed(batch)
    }

    /// Deletes chat states not saved for longer than `idle` (their keys destroyed); returns
    /// how many.
    pub fn purge_chat_states(
        &self,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<usize, StoreError> {
        let mut batch = Batch::new();
        let mut removed = 0;
        for (key, header, raw) in self.db().list(CHATS)? {
            let saved = match header {
                Some(h) => Some(h.saved_at()),
                None => serde_json::from_slice::<EnvelopeHeader>(&raw)
                    .ok()
                    .map(|h| h.saved),
            };
            // A state whose date cannot be read only ever re-asks a question: it goes.
            if saved.is_none_or(|t| now - t > idle) {
                batch.remove(CHATS, &key);
                removed += 1;
            }
        }
        self.apply(batch)?;
        Ok(removed)
    }
}
