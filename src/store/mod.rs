//! Durable storage: sessions, records and the reference counter. The only module that names sled.
//!
//! Layout by responsibility:
//! - this file: the [`Store`] handle, its errors, the shapes it returns, the versioned envelope;
//! - `consultations`: what the front ends keep (sessions, records, owners, references,
//!   registrations) and retention;
//! - `chats`: what a chat front end keeps besides: a step saved with the mark of the message it
//!   answers ([`Step`]), delivery marks ([`Delivery`]) and sealed per-chat state;
//! - `batch`: [`Batch`], written atomically and flushed once, a key per sealed entry;
//! - `open`: opening, the key ring checked against the database, compaction;
//! - `db`: sled access: opening, frames in and out, atomic flushed writes across trees;
//! - [`frame`]: how an entry is split into frames small enough that sled never writes blob files;
//! - [`keys`]: the master key, the key ring (a key per sealed entry, outside sled) and the AEAD;
//! - [`recovery`]: repairs on opening, file permissions, salvage from raw files;
//! - [`backup`]: encrypted, versioned backups and restoring them into an empty directory.
//!
//! Every personal value (a session, a record, a chat's state, and whatever a front end stores
//! through [`Batch::put_sealed`]) is sealed with its own key. Removing the entry destroys the key, so the
//! old copies sled keeps in its log become unreadable: that is what deleting a record, purging,
//! `/cancel` and session expiry do. Deleting a record deletes the session that made it too, and
//! deleting a session deletes the chat state kept under the same conversation key.
//!
//! Inside the seal, every value is a versioned envelope (`{"v": 1, "saved": ..., "data": ...}`)
//! so that a later change of the session or record type migrates old values instead of breaking
//! live consultations. Every write of a consultation is flushed to disk before it returns, so an
//! answer acknowledged to the caller survives the process being killed (only a chat's state and
//! a "replied" mark are left to sled's next flush: losing one re-shows a question). Retention: idle sessions expire
//! (24 hours by default) and records are purged after the retention period (30 days by default).
//!
//! Besides consultations it keeps what a chat front end needs to be safe: which conversation
//! owns which record (so one caller can never read another's), who registered with an invite
//! code, and which incoming messages were already handled (so a message delivered twice is
//! answered once).

pub mod backup;
mod batch;
mod chats;
mod consultations;
mod db;
pub mod frame;
pub mod keys;
mod open;
pub mod recovery;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::record::Record;

pub use batch::{Batch, ScannedEntry, Sealed};
pub use chats::{Delivery, Step, CHAT_STATE_VERSION};
use db::{Db, Op};
pub use db::{Listed, RawEntry};
use keys::{KeyRing, MasterKey};

/// The version of the stored session shape.
pub const SESSION_VERSION: u32 = 1;
/// The version of the stored record shape.
pub const RECORD_VERSION: u32 = crate::record::RECORD_VERSION;

/// The tree of sessions, by conversation key.
pub const SESSIONS: &str = "sessions";
/// The tree of records, by reference.
pub const RECORDS: &str = "records";
/// Counters and dates.
pub const META: &str = "meta";
/// Record reference -> the conversation key that made it.
pub const OWNERS: &str = "owners";
/// User key -> registration.
pub const USERS: &str = "users";
/// Delivery key -> when it was first seen.
pub const DELIVERED: &str = "delivered";
/// Conversation key (or another front-end key) -> small state a chat front end keeps (sealed).
pub const CHATS: &str = "chats";

const COUNTER_KEY: &[u8] = b"reference_counter";
const LAST_PURGE_KEY: &[u8] = b"last_purge";

/// The version of the stored registration shape.
pub const REGISTRATION_VERSION: u32 = 1;

/// How long a delivery mark is kept: Telegram keeps an undelivered update for 24 hours, so a
/// redelivery can arrive at most that late.
pub const DELIVERY_KEPT: Duration = Duration::hours(48);

/// Storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("storage: {0}")]
    Database(sled::Error),
    /// Another process holds the data directory.
    #[error("the data in {} is in use by another frontdoor process (the bot or a chat)", dir.display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
    },
    /// The database will not open even after the repairs tried.
    #[error("the data in {} is damaged ({problem}); restore the last backup into an empty directory with `frontdoor restore FILE`, or rescue what can be read with `frontdoor salvage FILE` first", dir.display())]
    Damaged {
        /// The data directory.
        dir: PathBuf,
        /// What sled reported.
        problem: String,
    },
    /// A file could not be read or written.
    #[error("{}: {why}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
    /// The key file or the master key is unusable.
    #[error("{}: {why}", path.display())]
    Keys {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Encryption failed (not expected: a missing key or a library failure).
    #[error("could not encrypt a value")]
    Crypto,
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
    /// A stored value cannot be opened: its key is gone or its bytes were altered.
    #[error("stored {what} {key:?} is unreadable: {why}")]
    Unreadable {
        /// "session", "record" or "entry".
        what: &'static str,
        /// Its key.
        key: String,
        /// Why.
        why: &'static str,
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
    /// A value is larger than the store takes.
    #[error("a value of {0} bytes is larger than the store takes")]
    TooLarge(usize),
}

impl StoreError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            why: e.to_string(),
        }
    }

    /// Whether this is a stored value that cannot be read (rather than a storage failure).
    pub fn is_unreadable_value(&self) -> bool {
        matches!(
            self,
            StoreError::Decode { .. }
                | StoreError::NewerVersion { .. }
                | StoreError::Unreadable { .. }
        )
    }
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
struct EnvelopeHeader {
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

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The master key (from `FRONTDOOR_DATA_KEY`); `None`: `master.key` in the data directory,
    /// created on first use.
    pub master: Option<MasterKey>,
    /// Seal personal values. Off only to measure what encryption costs (`frontdoor bench`).
    pub encrypt: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            master: None,
            encrypt: true,
        }
    }
}

struct Inner {
    /// The data directory.
    dir: PathBuf,
    /// The sled database; replaced by a compacted copy now and then.
    db: RwLock<Db>,
    /// `None` when encryption is off.
    ring: Mutex<Option<KeyRing>>,
    writes: AtomicU64,
    /// Problems found on opening that did not stop it.
    problems: Mutex<Vec<String>>,
}

/// The data directory: sessions by key, records by reference, counters.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.inner.dir.display())
    }
}

impl Store {
    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    fn db(&self) -> RwLockReadGuard<'_, Db> {
        // A poisoned lock only means a reader panicked; the handle is still good.
        self.inner.db.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Problems found on opening that did not stop it, one plain line each (with what to do).
    /// The store does not log them: each front end shows them once (`records_cli::report_problems`).
    pub fn problems(&self) -> Vec<String> {
        self.inner
            .problems
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// Whether values are sealed.
    pub fn encrypted(&self) -> bool {
        self.ring().is_some()
    }

    fn ring(&self) -> MutexGuard<'_, Option<KeyRing>> {
        // A poisoned lock only means a write panicked; the ring itself is consistent.
        self.inner.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many keys the key ring holds.
    pub fn key_count(&self) -> usize {
        self.ring().as_ref().map_or(0, KeyRing::len)
    }

    /// The database's size on disk in bytes, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db().size_on_disk()
    }

    /// Flushes everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db().flush()
    }
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
mod tests;
