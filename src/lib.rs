//! frontdoor: a children's-services Front Door consultation as a chat bot.
//!
//! The crate is a pure core with thin adapters around it:
//!
//! - [`rules`]: the threshold documents as validated data (load, validate, trace to source).
//! - [`contacts`]: who to call at a given UK local time (hours, weekends, bank holidays).
//!
//! Invariants:
//! - the core modules do no I/O and take `now` as a parameter;
//! - every shipped data file is loaded by a test;
//! - every phone number shown to a user comes from `rules/`.

pub mod rules;
pub mod contacts;
pub mod triage;
pub mod matcher;
pub mod assess;
pub mod eval;
