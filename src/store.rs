//! Durable storage: sessions, records and the reference counter. The only file that names sled.
//!
//! Every value is stored in a versioned envelope (`{"v": 1, "saved": ..., "data": ...}`) so that a
//! later change of the session or record type migrates old values instead of breaking live
//! consultations. Every write is flushed to disk before it returns, so an answer acknowledged to
//! the caller survives the process being killed. Retention: idle sessions expire (24 hours by
//! default) and records are purged after the retention period (30 days by default); the product
//! is not the system of record.
//!
//! Besides consultations it keeps what a chat front end needs to be safe: which conversation
//! owns which record (so one caller can never read another's), who registered with an invite
//! code, and which incoming messages were already handled (so a message delivered twice is
//! answered once).

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::Transactional;

use crate::dialogue::Session;
use crate::record::Record;

/// The version of the stored session shape.
pub const SESSION_VERSION: u32 = 1;
/// The version of the stored record shape.
pub const RECORD_VERSION: u32 = crate::record::RECORD_VERSION;

const COUNTER_KEY: &[u8] = b"reference_counter";
const LAST_PURGE_KEY: &[u8] = b"last_purge";

/// The version of the stored registration shape.
pub const REGISTRATION_VERSION: u32 = 1;

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

/// How long a delivery mark is kept: Telegram keeps an undelivered update for 24 hours, so a
/// redelivery can arrive at most that late.
pub const DELIVERY_KEPT: Duration = Duration::hours(48);

/// Storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("storage: {0}")]
    Database(#[from] sled::Error),
    /// A stored value could not be encoded or decoded.
    #[error("stored {what} {key:?} is unreadable: {source}")]
    Decode {
        /// "session" or "record".
        what: &'static str,
        /// Its key.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
    /// A value was written by a newer version of the program.
    #[error("stored {what} {key:?} has version {found}; this build reads up to {supported}")]
    NewerVersion {
        /// "session" or "record".
        what: &'static str,
        /// Its key.
        key: String,
        /// The version found.
        found: u32,
        /// The newest this build reads.
        supported: u32,
    },
    /// A value could not be encoded.
    #[error("cannot encode a value: {0}")]
    Encode(serde_json::Error),
}

/// A stored value with its version and when it was saved.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope<T> {
    v: u32,
    saved: DateTime<Utc>,
    data: T,
}

/// The envelope without its data, to read the date cheaply.
#[derive(Debug, Deserialize)]
struct Header {
    saved: DateTime<Utc>,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Idle sessions removed.
    pub sessions: usize,
    /// Records removed.
    pub records: usize,
}

/// A record as stored, with when it was saved.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// When it was saved.
    pub saved: DateTime<Utc>,
    /// The record.
    pub record: Record,
}

/// A user who registered with an invite code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// A fingerprint of the invite code used (never the code itself), so that withdrawing a
    /// code withdraws the access it gave.
    pub code: String,
    /// When the user registered.
    pub registered: DateTime<Utc>,
}

/// The data directory: sessions by key, records by reference, counters.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    sessions: sled::Tree,
    records: sled::Tree,
    meta: sled::Tree,
    /// Record reference -> the conversation key that made it.
    owners: sled::Tree,
    /// User key -> [`Registration`].
    users: sled::Tree,
    /// Delivery key (e.g. a Telegram update id) -> when it was first seen.
    delivered: sled::Tree,
    /// Small state a chat front end keeps per chat (its live keyboard, invite attempts).
    chats: sled::Tree,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::LowSpace)
            .open()?;
        Ok(Store {
            sessions: db.open_tree("sessions")?,
            records: db.open_tree("records")?,
            meta: db.open_tree("meta")?,
            owners: db.open_tree("owners")?,
            users: db.open_tree("users")?,
            delivered: db.open_tree("delivered")?,
            chats: db.open_tree("chats")?,
            db,
        })
    }

    /// The session stored under `key`, unless there is none or it has been idle longer than `idle`.
    pub fn load_session(
        &self,
        key: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<Session>, StoreError> {
        let Some(bytes) = self.sessions.get(key.as_bytes())? else {
            return Ok(None);
        };
        let (saved, session) =
            decode::<Session>("session", key, &bytes, SESSION_VERSION, migrate_session)?;
        if now - saved > idle {
            self.sessions.remove(key.as_bytes())?;
            self.db.flush()?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Saves a session and flushes it to disk.
    pub fn save_session(
        &self,
        key: &str,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let bytes = encode(SESSION_VERSION, now, session)?;
        self.sessions.insert(key.as_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }

    /// Deletes a session.
    pub fn delete_session(&self, key: &str) -> Result<bool, StoreError> {
        let gone = self.sessions.remove(key.as_bytes())?.is_some();
        self.db.flush()?;
        Ok(gone)
    }

    /// The next reference, `FD-YYYYMMDD-NNNN`: the date given and a counter that never goes back.
    pub fn next_reference(&self, date: NaiveDate) -> Result<String, StoreError> {
        let value = self.meta.update_and_fetch(COUNTER_KEY, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        let n = value
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1);
        self.db.flush()?;
        Ok(format!("FD-{}-{n:04}", date.format("%Y%m%d")))
    }

    /// Saves a record under its reference and flushes it to disk.
    pub fn save_record(&self, record: &Record, now: DateTime<Utc>) -> Result<(), StoreError> {
        let bytes = encode(RECORD_VERSION, now, record)?;
        self.records.insert(record.reference.as_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }

    /// Saves a record and the session that produced it together, flushed once.
    pub fn save_record_and_session(
        &self,
        record: &Record,
        key: &str,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let r = encode(RECORD_VERSION, now, record)?;
        let s = encode(SESSION_VERSION, now, session)?;
        self.records.insert(record.reference.as_bytes(), r)?;
        self.owners
            .insert(record.reference.as_bytes(), key.as_bytes())?;
        self.sessions.insert(key.as_bytes(), s)?;
        self.db.flush()?;
        Ok(())
    }

    /// The conversation key that made the record `reference`, if it is known.
    pub fn record_owner(&self, reference: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .owners
            .get(reference.trim().as_bytes())?
            .map(|k| String::from_utf8_lossy(&k).into_owned()))
    }

    /// The references of the records made in the conversation `owner`, oldest first.
    pub fn records_owned_by(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for item in self.owners.iter() {
            let (reference, key) = item?;
            if key.as_ref() == owner.as_bytes() {
                out.push(String::from_utf8_lossy(&reference).into_owned());
            }
        }
        Ok(out)
    }

    /// Registers the user `key` with the invite code whose fingerprint is `code`, flushed.
    pub fn register_user(
        &self,
        key: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let registration = Registration {
            code: code.to_string(),
            registered: now,
        };
        let bytes = encode(REGISTRATION_VERSION, now, &registration)?;
        self.users.insert(key.as_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }

    /// The registration of the user `key`, if they registered.
    pub fn registration(&self, key: &str) -> Result<Option<Registration>, StoreError> {
        let Some(bytes) = self.users.get(key.as_bytes())? else {
            return Ok(None);
        };
        let (_, registration) = decode::<Registration>(
            "registration",
            key,
            &bytes,
            REGISTRATION_VERSION,
            |_, data| data,
        )?;
        Ok(Some(registration))
    }

    /// Marks the delivery `key` (e.g. `telegram:update:42`) as seen: true the first time, false
    /// for a repeat. Not flushed on its own: the answer that follows flushes it together with
    /// the session, so a crash before that leaves both undone and the redelivery is handled.
    pub fn first_delivery(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let stamp = now.timestamp().to_be_bytes().to_vec();
        Ok(self
            .delivered
            .compare_and_swap(key.as_bytes(), None as Option<&[u8]>, Some(stamp))?
            .is_ok())
    }

    /// Saves a session (and the record it finished with, if any) and marks the delivery `key`
    /// as handled, in one flushed write: a crash leaves either both or neither, so a message
    /// delivered again after a crash is either answered afresh or known to be answered.
    pub fn save_step(
        &self,
        key: &str,
        session: &Session,
        record: Option<&Record>,
        delivered: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let s = encode(SESSION_VERSION, now, session)?;
        let r = record
            .map(|r| encode(RECORD_VERSION, now, r).map(|bytes| (r, bytes)))
            .transpose()?;
        let stamp = now.timestamp().to_be_bytes().to_vec();
        (&self.sessions, &self.records, &self.owners, &self.delivered)
            .transaction(|(sessions, records, owners, marks)| {
                if let Some((record, bytes)) = &r {
                    records.insert(record.reference.as_bytes(), bytes.clone())?;
                    owners.insert(record.reference.as_bytes(), key.as_bytes())?;
                }
                sessions.insert(key.as_bytes(), s.clone())?;
                marks.insert(delivered.as_bytes(), stamp.clone())?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::Database(e),
                sled::transaction::TransactionError::Abort(()) => {
                    StoreError::Database(sled::Error::Unsupported("aborted".into()))
                }
            })?;
        self.db.flush()?;
        Ok(())
    }

    /// Whether the delivery `key` was handled: its answer saved, or its reply sent too.
    pub fn delivery(&self, key: &str) -> Result<Option<Delivery>, StoreError> {
        if self.delivered.contains_key(replied_key(key))? {
            return Ok(Some(Delivery::Replied));
        }
        Ok(self
            .delivered
            .contains_key(key.as_bytes())?
            .then_some(Delivery::Saved))
    }

    /// Marks the delivery `key` as answered (its reply sent). Not flushed on its own (sled
    /// writes it within half a second, or with the next flushed write): losing it in a crash
    /// only means a redelivery shows the question once more.
    pub fn mark_replied(&self, key: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let stamp = now.timestamp().to_be_bytes().to_vec();
        self.delivered.insert(key.as_bytes(), stamp.clone())?;
        self.delivered.insert(replied_key(key), stamp)?;
        Ok(())
    }

    /// The state a chat front end keeps under `key` (e.g. a chat's live keyboard), if any.
    pub fn chat_state<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let Some(bytes) = self.chats.get(key.as_bytes())? else {
            return Ok(None);
        };
        let (_, state) = decode::<T>("chat state", key, &bytes, CHAT_STATE_VERSION, |_, d| d)?;
        Ok(Some(state))
    }

    /// Saves (or with `None` removes) the state kept under `key`. Not flushed on its own: sled
    /// writes it within half a second, or with the next flushed write; call [`Store::flush`]
    /// where losing it in a crash would matter.
    pub fn save_chat_state<T: Serialize>(
        &self,
        key: &str,
        state: Option<&T>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match state {
            Some(state) => {
                let bytes = encode(CHAT_STATE_VERSION, now, state)?;
                self.chats.insert(key.as_bytes(), bytes)?;
            }
            None => {
                self.chats.remove(key.as_bytes())?;
            }
        }
        Ok(())
    }

    /// Removes chat states not saved for longer than `idle`; returns how many.
    pub fn purge_chat_states(
        &self,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<usize, StoreError> {
        let mut removed = 0;
        for item in self.chats.iter() {
            let (k, v) = item?;
            let old = serde_json::from_slice::<Header>(&v).map_or(true, |h| now - h.saved > idle);
            if old {
                self.chats.remove(k)?;
                removed += 1;
            }
        }
        self.db.flush()?;
        Ok(removed)
    }

    /// The record with this reference.
    pub fn record(&self, reference: &str) -> Result<Option<StoredRecord>, StoreError> {
        let Some(bytes) = self.records.get(reference.trim().as_bytes())? else {
            return Ok(None);
        };
        let (saved, record) =
            decode::<Record>("record", reference, &bytes, RECORD_VERSION, migrate_record)?;
        Ok(Some(StoredRecord { saved, record }))
    }

    /// Every record, ordered by reference. Unreadable ones are returned as errors in place.
    pub fn records(&self) -> Result<Vec<Result<StoredRecord, StoreError>>, StoreError> {
        let mut out = Vec::new();
        for item in self.records.iter() {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k).into_owned();
            out.push(
                decode::<Record>("record", &key, &v, RECORD_VERSION, migrate_record)
                    .map(|(saved, record)| StoredRecord { saved, record }),
            );
        }
        Ok(out)
    }

    /// Deletes a record. Returns whether it existed.
    pub fn delete_record(&self, reference: &str) -> Result<bool, StoreError> {
        let gone = self.records.remove(reference.trim().as_bytes())?.is_some();
        self.owners.remove(reference.trim().as_bytes())?;
        self.db.flush()?;
        Ok(gone)
    }

    /// Removes sessions idle longer than `idle` and records older than `retention`.
    pub fn purge(
        &self,
        now: DateTime<Utc>,
        idle: Duration,
        retention: Duration,
    ) -> Result<Purged, StoreError> {
        let mut purged = Purged::default();
        for (tree, limit, count) in [
            (&self.sessions, idle, &mut purged.sessions),
            (&self.records, retention, &mut purged.records),
        ] {
            for item in tree.iter() {
                let (k, v) = item?;
                // A value whose header cannot be read is kept: purging must never destroy what
                // it does not understand; `records delete` removes it explicitly.
                let Ok(header) = serde_json::from_slice::<Header>(&v) else {
                    continue;
                };
                if now - header.saved > limit {
                    tree.remove(k)?;
                    *count += 1;
                }
            }
        }
        // Owners of records that are gone, and delivery marks too old to matter.
        for item in self.owners.iter() {
            let (reference, _) = item?;
            if !self.records.contains_key(&reference)? {
                self.owners.remove(reference)?;
            }
        }
        for item in self.delivered.iter() {
            let (k, v) = item?;
            let seen = <[u8; 8]>::try_from(v.as_ref())
                .ok()
                .and_then(|b| DateTime::from_timestamp(i64::from_be_bytes(b), 0));
            if seen.is_none_or(|t| now - t > DELIVERY_KEPT) {
                self.delivered.remove(k)?;
            }
        }
        self.meta
            .insert(LAST_PURGE_KEY, now.timestamp().to_be_bytes().to_vec())?;
        self.db.flush()?;
        Ok(purged)
    }

    /// When the last purge ran, if ever.
    pub fn last_purge(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .meta
            .get(LAST_PURGE_KEY)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .and_then(|b| DateTime::from_timestamp(i64::from_be_bytes(b), 0)))
    }

    /// How many sessions and records are stored.
    pub fn counts(&self) -> (usize, usize) {
        (self.sessions.len(), self.records.len())
    }

    /// The database's size on disk in bytes, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Flushes everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// Where the "replied" mark of a delivery key is kept (beside it, so purging treats both alike).
fn replied_key(key: &str) -> Vec<u8> {
    format!("{key}#replied").into_bytes()
}

fn encode<T: Serialize>(v: u32, saved: DateTime<Utc>, data: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(&Envelope { v, saved, data }).map_err(StoreError::Encode)
}

fn decode<T: DeserializeOwned>(
    what: &'static str,
    key: &str,
    bytes: &[u8],
    current: u32,
    migrate: fn(u32, serde_json::Value) -> serde_json::Value,
) -> Result<(DateTime<Utc>, T), StoreError> {
    let err = |source| StoreError::Decode {
        what,
        key: key.to_string(),
        source,
    };
    let envelope: Envelope<serde_json::Value> = serde_json::from_slice(bytes).map_err(err)?;
    if envelope.v > current {
        return Err(StoreError::NewerVersion {
            what,
            key: key.to_string(),
            found: envelope.v,
            supported: current,
        });
    }
    let data = migrate(envelope.v, envelope.data);
    let value = serde_json::from_value(data).map_err(err)?;
    Ok((envelope.saved, value))
}

/// Brings a stored session of an older version up to [`SESSION_VERSION`]. Version 1 is the first;
/// when the session type changes, add a step here (v1 -> v2, ...) rather than breaking old values.
fn migrate_session(version: u32, data: serde_json::Value) -> serde_json::Value {
    // Nothing to do yet: fields added later carry `#[serde(default)]`, so a version 1 value
    // still reads. A change that needs more adds `if version < 2 { ... }` here.
    let _ = version;
    data
}

/// Brings a stored record of an older version up to [`RECORD_VERSION`].
fn migrate_record(version: u32, data: serde_json::Value) -> serde_json::Value {
    let _ = version;
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn sessions_round_trip_and_expire() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        let store = Store::open(dir.path())?;
        let s = Session {
            area: Some("exampleshire".into()),
            ..Session::default()
        };
        store.save_session("terminal:local", &s, at(1))?;
        assert_eq!(
            store.load_session("terminal:local", at(2), Duration::hours(24))?,
            Some(s.clone())
        );
        assert_eq!(
            store.load_session(
                "terminal:local",
                at(1) + Duration::hours(25),
                Duration::hours(24)
            )?,
            None
        );
        assert_eq!(
            store.load_session("terminal:local", at(2), Duration::hours(24))?,
            None,
            "expired sessions are removed"
        );
        Ok(())
    }

    #[test]
    fn references_are_monotonic_and_survive_reopening() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        {
            let store = Store::open(dir.path())?;
            assert_eq!(store.next_reference(day)?, "FD-20261122-0001");
            assert_eq!(store.next_reference(day)?, "FD-20261122-0002");
        }
        let store = Store::open(dir.path())?;
        assert_eq!(store.next_reference(day)?, "FD-20261122-0003");
        Ok(())
    }

    #[test]
    fn newer_versions_are_refused_not_misread() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        let store = Store::open(dir.path())?;
        store.sessions.insert(
            "k",
            br#"{"v": 99, "saved": "2026-11-22T01:00:00Z", "data": {}}"#.to_vec(),
        )?;
        assert!(matches!(
            store.load_session("k", at(2), Duration::hours(24)),
            Err(StoreError::NewerVersion { found: 99, .. })
        ));
        // An old envelope missing new fields still loads (fields default).
        store.sessions.insert(
            "old",
            br#"{"v": 1, "saved": "2026-11-22T01:00:00Z", "data": {"area": "x"}}"#.to_vec(),
        )?;
        assert_eq!(
            store
                .load_session("old", at(2), Duration::hours(24))?
                .and_then(|s| s.area),
            Some("x".into())
        );
        Ok(())
    }

    #[test]
    fn owners_registrations_and_deliveries() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        let store = Store::open(dir.path())?;
        assert_eq!(store.registration("telegram:7")?, None);
        store.register_user("telegram:7", "abc123", at(1))?;
        assert_eq!(
            store.registration("telegram:7")?.map(|r| r.code),
            Some("abc123".into())
        );
        assert!(store.first_delivery("telegram:update:1", at(1))?);
        assert!(!store.first_delivery("telegram:update:1", at(1))?);
        assert!(store.first_delivery("telegram:update:2", at(1))?);
        store.purge(
            at(1) + Duration::hours(49),
            Duration::hours(24),
            Duration::days(30),
        )?;
        assert!(
            store.first_delivery("telegram:update:1", at(1) + Duration::hours(49))?,
            "old delivery marks are purged"
        );
        assert_eq!(store.records_owned_by("telegram:7")?, Vec::<String>::new());
        assert_eq!(store.record_owner("FD-20261122-0001")?, None);
        Ok(())
    }

    #[test]
    fn a_step_and_its_delivery_mark_are_one_write() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        {
            let store = Store::open(dir.path())?;
            assert_eq!(store.delivery("telegram:1:update:5")?, None);
            let s = Session {
                area: Some("medway".into()),
                ..Session::default()
            };
            store.save_step("telegram:9", &s, None, "telegram:1:update:5", at(1))?;
            assert_eq!(
                store.delivery("telegram:1:update:5")?,
                Some(Delivery::Saved)
            );
        }
        // Reopened (as after a crash): both are there.
        let store = Store::open(dir.path())?;
        assert_eq!(
            store
                .load_session("telegram:9", at(2), Duration::hours(24))?
                .and_then(|s| s.area),
            Some("medway".into())
        );
        assert_eq!(
            store.delivery("telegram:1:update:5")?,
            Some(Delivery::Saved)
        );
        store.mark_replied("telegram:1:update:5", at(1))?;
        store.mark_replied("telegram:1:update:6", at(1))?;
        assert_eq!(
            store.delivery("telegram:1:update:6")?,
            Some(Delivery::Replied)
        );
        store.purge(
            at(1) + Duration::hours(49),
            Duration::hours(24),
            Duration::days(30),
        )?;
        assert_eq!(store.delivery("telegram:1:update:5")?, None);
        Ok(())
    }

    #[test]
    fn chat_states_round_trip_and_expire() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        let store = Store::open(dir.path())?;
        store.save_chat_state("telegram:9", Some(&(41, "q")), at(1))?;
        store.save_chat_state("telegram:8", Some(&(40, "r")), at(5))?;
        assert_eq!(
            store.chat_state::<(i32, String)>("telegram:9")?,
            Some((41, "q".into()))
        );
        assert_eq!(
            store.purge_chat_states(at(1) + Duration::hours(25), Duration::hours(24))?,
            1
        );
        assert_eq!(store.chat_state::<(i32, String)>("telegram:9")?, None);
        store.save_chat_state::<(i32, String)>("telegram:8", None, at(6))?;
        assert_eq!(store.chat_state::<(i32, String)>("telegram:8")?, None);
        Ok(())
    }

    #[test]
    fn purge_removes_only_what_is_old() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Database(e.into()))?;
        let store = Store::open(dir.path())?;
        store.save_session("old", &Session::default(), at(0))?;
        store.save_session("new", &Session::default(), at(0) + Duration::hours(30))?;
        let purged = store.purge(
            at(0) + Duration::hours(31),
            Duration::hours(24),
            Duration::days(30),
        )?;
        assert_eq!(
            purged,
            Purged {
                sessions: 1,
                records: 0
            }
        );
        assert_eq!(store.counts().0, 1);
        assert!(store.last_purge()?.is_some());
        Ok(())
    }
}
