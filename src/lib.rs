//! frontdoor: a children's-services Front Door consultation as a chat bot.
//!
//! The crate is a pure core with thin adapters around it:
//!
//! - [`rules`]: the threshold documents as validated data (load, validate, trace to source).
//! - [`contacts`]: who to call at a given UK local time (hours, weekends, bank holidays).
//! - [`matcher`]: the retired phrase matcher, kept only for `train --compare`.
//! - [`understanding`]: free text to a tier, immediacy and needs (a learned model under a safety
//!   policy, with a red-flag floor), shown in an area's own words.
//! - [`triage`]: confirmed indicators to a level, tier and action by the area's decision rule.
//! - [`advice`]: consent guidance and next steps that fit the level and what was described (pure).
//! - [`assess`]: understanding, triage and contacts for one message (`assess`, `eval`, `/ask`,
//!   the consultation).
//! - [`eval`]: accuracy, under-triage and immediate recall figures on labelled cases.
//! - [`dialogue`]: the consultation script as data and the pure engine that runs it.
//! - [`record`]: the consultation feedback record, rendered as Markdown, text and JSON (pure).
//! - [`config`]: the one configuration, read from the environment once; secrets hidden in Debug.
//! - [`store`]: durable, encrypted sled storage of sessions, records and references (the only
//!   module naming sled): a key per consultation, recovery, backups.
//! - [`logs`]: the one log set-up, so that no level prints stored values.
//! - [`app`]: load session, step the engine, save (flushed), reply: the entry point of every front end.
//! - [`terminal`]: the terminal chat over any reader and writer.
//! - [`line_editor`]: the terminal's keyboard with line editing and in-memory history (the only
//!   module naming rustyline).
//! - [`telegram`]: the Telegram bot (handler tree, keyboards, access control), over the same app.
//!
//! Invariants:
//! - the core modules do no I/O and take `now` as a parameter;
//! - every shipped data file is loaded by a test;
//! - every phone number shown to a user comes from `rules/`;
//! - nothing outside `store/` names a sled type;
//! - nothing outside `telegram/` names a teloxide type;
//! - a user's unclear input is a reply (a re-ask), never an `Err`.

pub mod advice;
pub mod app;
pub mod assess;
pub mod config;
pub mod contacts;
pub mod dialogue;
pub mod eval;
pub mod line_editor;
pub mod logs;
pub mod matcher;
pub mod record;
pub mod rules;
pub mod store;
pub mod telegram;
pub mod terminal;
pub mod triage;
pub mod understanding;
