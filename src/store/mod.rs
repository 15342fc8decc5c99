//! Durable storage: sessions, records and the reference counter. The only module that names sled.
//!
//! Layout by responsibility:
//! - [`db`]: sled access: opening, frames in and out, atomic flushed writes across trees;
//! - [`frame`]: how an entry is split into frames small enough that sled never writes blob files;
//! - [`keys`]: the master key, the key ring (a key per sealed entry, outside sled) and the AEAD;
//! - [`recovery`]: repairs on opening, file permissions, salvage from raw files;
//! - [`backup`]: encrypted, versioned backups and restoring them into an empty directory.
//!
//! Every personal value (a session, a record, and whatever a front end stores through
//! [`Batch::put_sealed`]) is sealed with its own key. Removing the entry destroys the key, so the
//! old copies sled keeps in its log become unreadable: that is what deleting a record, purging,
//! `/cancel` and session expiry do. Deleting a record deletes the session that made it too.
//!
//! Inside the seal, every value is a versioned envelope (`{"v": 1, "saved": ..., "data": ...}`)
//! so that a later change of the session or record type migrates old values instead of breaking
//! live consultations. Every write is flushed to disk before it returns, so an answer
//! acknowledged to the caller survives the process being killed. Retention: idle sessions expire
//! (24 hours by default) and records are purged after the retention period (30 days by default).
//!
//! Besides consultations it keeps what a chat front end needs to be safe: which conversation
//! owns which record (so one caller can never read another's), who registered with an invite
//! code, and which incoming messages were already handled (so a message delivered twice is
//! answered once).

pub mod backup;
mod db;
pub mod frame;
pub mod keys;
pub mod recovery;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::dialogue::Session;
use crate::record::Record;

use db::{Db, Op};
pub use db::{Listed, RawEntry};
use frame::Header;
use keys::{KeyRing, Kid, MasterKey};

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

/// One change in a [`Batch`].
#[derive(Debug, Clone)]
enum Item {
    Sealed {
        tree: String,
        key: String,
        saved: DateTime<Utc>,
        value: Vec<u8>,
    },
    Plain {
        tree: String,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Remove {
        tree: String,
        key: String,
    },
}

/// Changes written together: in one atomic write, flushed once. Removing an entry destroys its
/// key; putting an entry after removing it in the same batch gives it a new key.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    items: Vec<Item>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Stores personal `value` under `key` in `tree`, sealed with the entry's own key.
    pub fn put_sealed(
        &mut self,
        tree: &str,
        key: &str,
        saved: DateTime<Utc>,
        value: Vec<u8>,
    ) -> &mut Batch {
        self.items.push(Item::Sealed {
            tree: tree.into(),
            key: key.into(),
            saved,
            value,
        });
        self
    }

    /// Stores `value` as it is (for what is not personal: counters, marks, message ids).
    pub fn put(&mut self, tree: &str, key: &[u8], value: Vec<u8>) -> &mut Batch {
        self.items.push(Item::Plain {
            tree: tree.into(),
            key: key.to_vec(),
            value,
        });
        self
    }

    /// Removes the entry `key` of `tree` (sealed or not), destroying its key.
    pub fn remove(&mut self, tree: &str, key: &str) -> &mut Batch {
        self.items.push(Item::Remove {
            tree: tree.into(),
            key: key.into(),
        });
        self
    }

    /// Whether the batch holds no change.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// An entry's key with its value, or why it cannot be read.
pub type ScannedEntry = (String, Result<Sealed, StoreError>);

/// A value read back with [`Store::get_sealed`].
#[derive(Debug, Clone)]
pub struct Sealed {
    /// When it was saved.
    pub saved: DateTime<Utc>,
    /// The bytes.
    pub value: Vec<u8>,
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

/// The trees whose values are personal and therefore sealed.
const SEALED_TREES: [&str; 2] = [SESSIONS, RECORDS];

impl Store {
    /// Opens (or creates) the store in `dir`, with the master key file in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, &StoreOptions::default())
    }

    /// Opens (or creates) the store in `dir`: repairs what an interrupted write left, reads the
    /// key ring, seals values written by an older version in plain text, and destroys keys
    /// that seal nothing (left by a crash between writing a key and the value).
    pub fn open_with(dir: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        recovery::prepare(dir)?;
        let ring = if options.encrypt {
            let master = match &options.master {
                Some(m) => m.clone(),
                None => master_key(dir)?,
            };
            Some(KeyRing::open(dir, master)?)
        } else {
            None
        };
        // Read before sled opens: sled overwrites the end of its log after damaged bytes.
        let scan = ring
            .as_ref()
            .filter(|r| !r.is_empty())
            .map(|r| recovery::scan(dir, r));
        let sled_dir = recovery::sled_dir(dir);
        recovery::remove_stale_generations(dir, &sled_dir);
        let db = Db::open(&sled_dir)?;
        let store = Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                db: RwLock::new(db),
                ring: Mutex::new(ring),
                writes: AtomicU64::new(
                    u64::try_from(Utc::now().timestamp_micros()).unwrap_or_default(),
                ),
                problems: Mutex::new(Vec::new()),
            }),
        };
        store.seal_legacy_values()?;
        store.destroy_orphan_keys(scan)?;
        store.compact_if_worthwhile()?;
        recovery::restrict_permissions(dir);
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    fn db(&self) -> RwLockReadGuard<'_, Db> {
        // A poisoned lock only means a reader panicked; the handle is still good.
        self.inner.db.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Rewrites the database into a new folder holding only the live entries, when sled's
    /// files have grown to more than twice what is live (plus 8 MiB): sled reuses the space
    /// of old copies but never gives it back, so without this the directory would never shrink
    /// after a purge. Returns whether it compacted.
    pub fn compact_if_worthwhile(&self) -> Result<bool, StoreError> {
        let (size, live) = {
            let db = self.db();
            (db.size_on_disk()?, db.live_bytes()?)
        };
        if size <= 2 * live + 8 * 1024 * 1024 {
            return Ok(false);
        }
        self.compact()?;
        Ok(true)
    }

    /// Rewrites the database into a new folder with only the live entries, switches to it
    /// (one atomic replacement of the `store` pointer file) and removes the old files.
    pub fn compact(&self) -> Result<(), StoreError> {
        // Writes wait (the ring lock), then readers (the write lock).
        let _writes = self.ring();
        let mut db = self.inner.db.write().unwrap_or_else(|p| p.into_inner());
        let dir = self.dir().to_path_buf();
        let old_dir = db.dir().to_path_buf();
        let next = format!("store-{}", recovery::generation(&dir, &old_dir) + 1);
        let new_dir = dir.join(&next);
        if new_dir.exists() {
            std::fs::remove_dir_all(&new_dir).map_err(|e| StoreError::io(&new_dir, e))?;
        }
        let new = db.copy_into(&new_dir)?;
        let pointer = dir.join(recovery::POINTER);
        keys::replace_file(&pointer, format!("{next}\n").as_bytes())
            .map_err(|e| StoreError::io(&pointer, e))?;
        // Dropping the old handle closes it; its files go.
        *db = new;
        recovery::remove_stale_generations(&dir, &new_dir);
        recovery::restrict_permissions(&dir);
        tracing::info!("the database was compacted");
        Ok(())
    }

    /// Problems found on opening that did not stop it, one plain line each (with what to do).
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

    fn next_write(&self) -> u64 {
        let now = u64::try_from(Utc::now().timestamp_micros()).unwrap_or_default();
        let prev = self.inner.writes.fetch_max(now, Ordering::SeqCst).max(now);
        self.inner.writes.fetch_add(1, Ordering::SeqCst).max(prev) + 1
    }

    /// Applies a batch: every change in one atomic write, flushed; then the keys of removed
    /// entries are destroyed.
    pub fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        let mut guard = self.ring();
        let result = self.apply_locked(batch, guard.as_mut());
        if result.is_err() {
            if let Some(r) = guard.as_mut() {
                r.forget_reserved();
            }
        }
        result
    }

    fn apply_locked(&self, batch: Batch, mut ring: Option<&mut KeyRing>) -> Result<(), StoreError> {
        let db = self.db();
        let db = &*db;
        let mut ops = Vec::new();
        let mut destroy: Vec<Kid> = Vec::new();
        // What the batch has already done to an entry: (kid, frames), or None once removed.
        let mut state: HashMap<(String, String), Option<(Kid, u16)>> = HashMap::new();
        let current = |tree: &str,
                       key: &str,
                       state: &HashMap<(String, String), Option<(Kid, u16)>>|
         -> Result<Option<(Kid, u16)>, StoreError> {
            match state.get(&(tree.to_string(), key.to_string())) {
                Some(s) => Ok(*s),
                None => Ok(db.header(tree, key)?.map(|h| (h.kid, h.count))),
            }
        };
        for item in batch.items {
            match item {
                Item::Plain { tree, key, value } => ops.push(Op::Put { tree, key, value }),
                Item::Remove { tree, key } => {
                    match current(&tree, &key, &state)? {
                        Some((kid, count)) => {
                            for i in 0..count {
                                ops.push(Op::Remove {
                                    tree: tree.clone(),
                                    key: frame::frame_key(&key, i),
                                });
                            }
                            if kid != frame::PLAIN {
                                destroy.push(kid);
                            }
                        }
                        None => ops.push(Op::Remove {
                            tree: tree.clone(),
                            key: key.as_bytes().to_vec(),
                        }),
                    }
                    state.insert((tree, key), None);
                }
                Item::Sealed {
                    tree,
                    key,
                    saved,
                    value,
                } => {
                    let before = current(&tree, &key, &state)?;
                    let kid = match ring.as_deref_mut() {
                        None => frame::PLAIN,
                        Some(r) => match before {
                            Some((kid, _)) if kid != frame::PLAIN && r.contains(&kid) => kid,
                            _ => r.reserve(),
                        },
                    };
                    if let Some((old, _)) = before {
                        if old != kid && old != frame::PLAIN {
                            destroy.push(old);
                        }
                    }
                    let write = self.next_write();
                    let saved_s = saved.timestamp();
                    let plain = frame::plaintext(&tree, &key, &value);
                    let body = match ring.as_deref() {
                        None => plain,
                        Some(r) => {
                            let count = frame::count_for(plain.len() + 40) as u16;
                            let h = Header {
                                kid,
                                write,
                                saved: saved_s,
                                index: 0,
                                count,
                                len: 0,
                            };
                            let sealed = r.seal(&kid, &h.aad(), &plain)?;
                            debug_assert_eq!(frame::count_for(sealed.len()) as u16, count);
                            sealed
                        }
                    };
                    if frame::count_for(body.len()) > frame::MAX_FRAMES {
                        return Err(StoreError::TooLarge(body.len()));
                    }
                    let frames = frame::split(kid, write, saved_s, &body);
                    let new_count = frames.len() as u16;
                    for (i, f) in frames.into_iter().enumerate() {
                        ops.push(Op::Put {
                            tree: tree.clone(),
                            key: frame::frame_key(&key, i as u16),
                            value: f,
                        });
                    }
                    if let Some((_, old_count)) = before {
                        for i in new_count..old_count {
                            ops.push(Op::Remove {
                                tree: tree.clone(),
                                key: frame::frame_key(&key, i),
                            });
                        }
                    }
                    state.insert((tree, key), Some((kid, new_count)));
                }
            }
        }
        if let Some(r) = ring {
            // New keys are durable before anything they seal is written; old keys are destroyed
            // before their entries are removed, so a crash in between leaves nothing readable
            // (the key file's tombstones finish the removal on the next opening).
            if let Err(e) = r.persist() {
                r.forget_reserved();
                return Err(e);
            }
            // A key reused later in the same batch is not destroyed.
            let live: HashSet<Kid> = state.values().flatten().map(|(k, _)| *k).collect();
            destroy.retain(|k| !live.contains(k));
            r.destroy(&destroy)?;
            tracing::trace!(keys_destroyed = destroy.len(), keys = r.len(), "key file");
        }
        tracing::trace!(changes = ops.len(), "write");
        db.commit(&ops)
    }

    /// The sealed entry `key` of `tree`.
    pub fn get_sealed(&self, tree: &str, key: &str) -> Result<Option<Sealed>, StoreError> {
        let guard = self.ring();
        self.get_sealed_locked(tree, key, guard.as_ref())
    }

    fn get_sealed_locked(
        &self,
        tree: &str,
        key: &str,
        ring: Option<&KeyRing>,
    ) -> Result<Option<Sealed>, StoreError> {
        let Some((h, body)) = self.db().read_frames(tree, key)? else {
            // A value from before sealing (read as it is until it is sealed on opening).
            return Ok(self.db().get(tree, key.as_bytes())?.map(|v| Sealed {
                saved: serde_json::from_slice::<EnvelopeHeader>(&v)
                    .map(|h| h.saved)
                    .unwrap_or_default(),
                value: v,
            }));
        };
        let unreadable = |why| StoreError::Unreadable {
            what: "entry",
            key: key.to_string(),
            why,
        };
        let plain = if h.sealed() {
            let Some(r) = ring else {
                return Err(unreadable("it is encrypted and encryption is off"));
            };
            if !r.contains(&h.kid) {
                return Err(unreadable("its key is not in the key file"));
            }
            r.open_sealed(&h.kid, &h.aad(), &body)
                .ok_or_else(|| unreadable("its bytes were altered"))?
        } else {
            body
        };
        match frame::parse_plaintext(&plain) {
            Some((t, k, v)) if t == tree && k == key => Ok(Some(Sealed {
                saved: h.saved_at(),
                value: v.to_vec(),
            })),
            _ => Err(unreadable("it belongs elsewhere")),
        }
    }

    /// Every entry of `tree` by key: its value, or why it cannot be read.
    pub fn scan_sealed(&self, tree: &str) -> Result<Vec<ScannedEntry>, StoreError> {
        let guard = self.ring();
        let mut out = Vec::new();
        for (key, _, _) in self.db().list(tree)? {
            let v = self
                .get_sealed_locked(tree, &key, guard.as_ref())
                .and_then(|v| {
                    v.ok_or_else(|| StoreError::Unreadable {
                        what: "entry",
                        key: key.clone(),
                        why: "it vanished while being read",
                    })
                });
            out.push((key, v));
        }
        Ok(out)
    }

    /// The plain value of `key` in `tree`.
    pub fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db().get(tree, key)
    }

    /// Every plain key and value of `tree`.
    pub fn scan(&self, tree: &str) -> Result<Vec<RawEntry>, StoreError> {
        self.db().raw(tree)
    }

    /// Seals values written in plain text by an earlier version (before encryption).
    fn seal_legacy_values(&self) -> Result<(), StoreError> {
        if !self.encrypted() {
            return Ok(());
        }
        let mut batch = Batch::new();
        for tree in SEALED_TREES {
            for (key, header, raw) in self.db().list(tree)? {
                if header.is_some() {
                    continue;
                }
                let saved = serde_json::from_slice::<EnvelopeHeader>(&raw)
                    .map(|h| h.saved)
                    .unwrap_or_else(|_| Utc::now());
                batch.put_sealed(tree, &key, saved, raw);
            }
        }
        if !batch.is_empty() {
            tracing::info!("sealing values stored in plain text by an earlier version");
            self.apply(batch)?;
        }
        Ok(())
    }

    /// Checks the key ring against the database on opening: finishes removals a crash
    /// interrupted (entries whose keys are tombstones), destroys keys that seal nothing, and
    /// refuses to go on when sealed values exist and the key file does not. Keys of entries
    /// that are in the files but no longer in the database (sled drops the end of its log at
    /// damaged bytes) are kept, and the damage is reported by [`Store::problems`].
    fn destroy_orphan_keys(&self, scan: Option<recovery::RawScan>) -> Result<(), StoreError> {
        let mut guard = self.ring();
        let Some(ring) = guard.as_mut() else {
            return Ok(());
        };
        let tombstones: HashSet<Kid> = ring.tombstones().iter().copied().collect();
        let mut used = HashSet::new();
        let mut unfinished = Vec::new();
        for tree in self.db().tree_names() {
            for (key, header, _) in self.db().list(&tree)? {
                if let Some(h) = header.filter(Header::sealed) {
                    if tombstones.contains(&h.kid) {
                        for i in 0..h.count {
                            unfinished.push(Op::Remove {
                                tree: tree.clone(),
                                key: frame::frame_key(&key, i),
                            });
                        }
                    } else {
                        used.insert(h.kid);
                    }
                }
            }
        }
        if !unfinished.is_empty() {
            tracing::warn!("finishing deletions interrupted by a crash");
            self.db().commit(&unfinished)?;
        }
        if !used.is_empty() && !ring.file_exists() {
            return Err(StoreError::Keys {
                path: self.dir().join(keys::KEYS_FILE),
                why: "is missing, so the stored consultations cannot be read; put back the key file from your backup of the data directory (and its master key)".into(),
            });
        }
        let orphans: HashSet<Kid> = ring
            .kids()
            .into_iter()
            .filter(|k| !used.contains(k))
            .collect();
        if !orphans.is_empty() {
            // Keys written just before a crash seal nothing in the files; keys whose entries
            // are still in the files but not in the database mean the database lost them.
            let in_files = scan
                .as_ref()
                .map(recovery::RawScan::kids)
                .unwrap_or_default();
            let lost: Vec<Kid> = orphans.intersection(&in_files).copied().collect();
            let unused: Vec<Kid> = orphans.difference(&in_files).copied().collect();
            ring.destroy(&unused)?;
            if let (false, Some(scan)) = (lost.is_empty(), scan) {
                let aside = self.dir().join(recovery::SET_ASIDE);
                std::fs::create_dir_all(&aside).map_err(|e| StoreError::io(&aside, e))?;
                let file = aside.join(format!(
                    "rescued-{}.fdbackup",
                    Utc::now().format("%Y%m%dT%H%M%S")
                ));
                let saved = backup::write_salvage(&file, ring.master(), scan.open(ring))?;
                let line = format!(
                    "the database in {dir} is damaged and lost {lost} entries; {saved} entries that could still be read are saved in {file}: stop frontdoor, move {dir} aside, copy its master.key into an empty {dir}, and run `frontdoor restore {file}`",
                    dir = self.dir().display(),
                    lost = lost.len(),
                    saved = saved.sealed,
                    file = file.display(),
                );
                tracing::error!("{line}");
                self.inner
                    .problems
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(line);
            }
        }
        let missing = used.iter().filter(|k| !ring.contains(k)).count();
        if missing > 0 {
            tracing::warn!(
                missing,
                "some stored values have no key in the key file and cannot be read"
            );
        }
        Ok(())
    }

    /// The session stored under `key`, unless there is none or it has been idle longer than
    /// `idle` (then it is deleted: removed and its key destroyed).
    pub fn load_session(
        &self,
        key: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<Session>, StoreError> {
        let Some(stored) = self
            .get_sealed(SESSIONS, key)
            .map_err(|e| what(e, "session"))?
        else {
            return Ok(None);
        };
        if now - stored.saved > idle {
            self.delete_session(key)?;
            return Ok(None);
        }
        let (_, session) = decode::<Session>(
            "session",
            key,
            &stored.value,
            SESSION_VERSION,
            migrate_session,
        )?;
        Ok(Some(session))
    }

    /// Saves a session and flushes it to disk.
    pub fn save_session(
        &self,
        key: &str,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.save_session_with(key, session, now, Batch::new())
    }

    /// Saves a session together with other changes (e.g. marking the message it answers as
    /// handled), in one atomic write, flushed once.
    pub fn save_session_with(
        &self,
        key: &str,
        session: &Session,
        now: DateTime<Utc>,
        mut batch: Batch,
    ) -> Result<(), StoreError> {
        batch.put_sealed(SESSIONS, key, now, encode(SESSION_VERSION, now, session)?);
        self.apply(batch)
    }

    /// Starts a new consultation under `key`: the old session is deleted (its key destroyed,
    /// so none of its answers can be read again) and the new one saved with a new key.
    pub fn replace_session(
        &self,
        key: &str,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.remove(SESSIONS, key);
        self.save_session_with(key, session, now, batch)
    }

    /// Deletes a session: removed and its key destroyed.
    pub fn delete_session(&self, key: &str) -> Result<bool, StoreError> {
        let existed = self.db().header(SESSIONS, key)?.is_some()
            || self.db().get(SESSIONS, key.as_bytes())?.is_some();
        let mut batch = Batch::new();
        batch.remove(SESSIONS, key);
        self.apply(batch)?;
        Ok(existed)
    }

    /// The next reference, `FD-YYYYMMDD-NNNN`: the date given and a counter that never goes back.
    pub fn next_reference(&self, date: NaiveDate) -> Result<String, StoreError> {
        let n = self.db().increment(META, COUNTER_KEY)?;
        Ok(format!("FD-{}-{n:04}", date.format("%Y%m%d")))
    }

    /// Saves a record under its reference and flushes it to disk.
    pub fn save_record(&self, record: &Record, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch.put_sealed(
            RECORDS,
            &record.reference,
            now,
            encode(RECORD_VERSION, now, record)?,
        );
        self.apply(batch)
    }

    /// Saves a record and the session that produced it together, flushed once.
    pub fn save_record_and_session(
        &self,
        record: &Record,
        key: &str,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut batch = Batch::new();
        batch
            .put_sealed(
                RECORDS,
                &record.reference,
                now,
                encode(RECORD_VERSION, now, record)?,
            )
            .put(OWNERS, record.reference.as_bytes(), key.as_bytes().to_vec());
        self.save_session_with(key, session, now, batch)
    }

    /// The conversation key that made the record `reference`, if it is known.
    pub fn record_owner(&self, reference: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db()
            .get(OWNERS, reference.trim().as_bytes())?
            .map(|k| String::from_utf8_lossy(&k).into_owned()))
    }

    /// The references of the records made in the conversation `owner`, oldest first.
    pub fn records_owned_by(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .db()
            .raw(OWNERS)?
            .into_iter()
            .filter(|(_, k)| k.as_slice() == owner.as_bytes())
            .map(|(r, _)| String::from_utf8_lossy(&r).into_owned())
            .collect())
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
        let mut batch = Batch::new();
        batch.put(
            USERS,
            key.as_bytes(),
            encode(REGISTRATION_VERSION, now, &registration)?,
        );
        self.apply(batch)
    }

    /// The registration of the user `key`, if they registered.
    pub fn registration(&self, key: &str) -> Result<Option<Registration>, StoreError> {
        let Some(bytes) = self.db().get(USERS, key.as_bytes())? else {
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
        self.db().insert_if_absent(
            DELIVERED,
            key.as_bytes(),
            now.timestamp().to_be_bytes().to_vec(),
        )
    }

    /// The record with this reference.
    pub fn record(&self, reference: &str) -> Result<Option<StoredRecord>, StoreError> {
        let reference = reference.trim();
        let Some(stored) = self
            .get_sealed(RECORDS, reference)
            .map_err(|e| what(e, "record"))?
        else {
            return Ok(None);
        };
        let (saved, record) = decode::<Record>(
            "record",
            reference,
            &stored.value,
            RECORD_VERSION,
            migrate_record,
        )?;
        Ok(Some(StoredRecord { saved, record }))
    }

    /// Every record, ordered by reference. Unreadable ones are returned as errors in place.
    pub fn records(&self) -> Result<Vec<Result<StoredRecord, StoreError>>, StoreError> {
        Ok(self
            .scan_sealed(RECORDS)?
            .into_iter()
            .map(|(key, v)| {
                v.map_err(|e| what(e, "record")).and_then(|s| {
                    decode::<Record>("record", &key, &s.value, RECORD_VERSION, migrate_record)
                        .map(|(saved, record)| StoredRecord { saved, record })
                })
            })
            .collect())
    }

    /// Deletes a record, and the session that made it when that session has not moved on to
    /// another consultation: both removed, their keys destroyed. Returns whether it existed.
    pub fn delete_record(&self, reference: &str) -> Result<bool, StoreError> {
        let reference = reference.trim();
        let existed = self.db().header(RECORDS, reference)?.is_some()
            || self.db().get(RECORDS, reference.as_bytes())?.is_some();
        let mut batch = Batch::new();
        batch.remove(RECORDS, reference);
        if let Some(owner) = self.record_owner(reference)? {
            // The session is deleted if it is the finished consultation of this record, or
            // unreadable (so it cannot be told apart).
            let made_it = match self.get_sealed(SESSIONS, &owner) {
                Ok(Some(s)) => decode::<Session>(
                    "session",
                    &owner,
                    &s.value,
                    SESSION_VERSION,
                    migrate_session,
                )
                .map(|(_, s)| s.finished.as_deref() == Some(reference))
                .unwrap_or(true),
                Ok(None) => false,
                Err(e) if e.is_unreadable_value() => true,
                Err(e) => return Err(e),
            };
            if made_it {
                batch.remove(SESSIONS, &owner);
            }
        }
        batch.remove(OWNERS, reference);
        self.apply(batch)?;
        Ok(existed)
    }

    /// Removes sessions idle longer than `idle` and records older than `retention`, destroying
    /// their keys (in one rewrite of the key file).
    pub fn purge(
        &self,
        now: DateTime<Utc>,
        idle: Duration,
        retention: Duration,
    ) -> Result<Purged, StoreError> {
        let mut purged = Purged::default();
        let mut batch = Batch::new();
        let mut gone_records = HashSet::new();
        for (tree, limit, count) in [
            (SESSIONS, idle, &mut purged.sessions),
            (RECORDS, retention, &mut purged.records),
        ] {
            for (key, header, raw) in self.db().list(tree)? {
                let saved = match header {
                    Some(h) => h.saved_at(),
                    // A value whose date cannot be read is kept: purging must never destroy
                    // what it does not understand; `records delete` removes it explicitly.
                    None => match serde_json::from_slice::<EnvelopeHeader>(&raw) {
                        Ok(h) => h.saved,
                        Err(_) => continue,
                    },
                };
                if now - saved > limit {
                    batch.remove(tree, &key);
                    *count += 1;
                    if tree == RECORDS {
                        gone_records.insert(key);
                    }
                }
            }
        }
        // Owners of records that are gone, and delivery marks too old to matter.
        for (reference, _) in self.db().raw(OWNERS)? {
            let r = String::from_utf8_lossy(&reference).into_owned();
            if gone_records.contains(&r)
                || (self.db().header(RECORDS, &r)?.is_none()
                    && self.db().get(RECORDS, &reference)?.is_none())
            {
                batch.remove(OWNERS, &r);
            }
        }
        for (k, v) in self.db().raw(DELIVERED)? {
            let seen = <[u8; 8]>::try_from(v.as_slice())
                .ok()
                .and_then(|b| DateTime::from_timestamp(i64::from_be_bytes(b), 0));
            if seen.is_none_or(|t| now - t > DELIVERY_KEPT) {
                batch.remove(DELIVERED, &String::from_utf8_lossy(&k));
            }
        }
        batch.put(META, LAST_PURGE_KEY, now.timestamp().to_be_bytes().to_vec());
        self.apply(batch)?;
        if purged.records + purged.sessions > 0 {
            self.compact_if_worthwhile()?;
        }
        Ok(purged)
    }

    /// When the last purge ran, if ever.
    pub fn last_purge(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .db()
            .get(META, LAST_PURGE_KEY)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .and_then(|b| DateTime::from_timestamp(i64::from_be_bytes(b), 0)))
    }

    /// How many sessions and records are stored.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.db().count(SESSIONS).unwrap_or_default(),
            self.db().count(RECORDS).unwrap_or_default(),
        )
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

/// The master key file in `dir`. An empty or partial one left by a kill while it was first
/// written is replaced, but only while nothing has been sealed (there is no key file yet).
fn master_key(dir: &Path) -> Result<MasterKey, StoreError> {
    match MasterKey::load_or_create(dir) {
        Err(StoreError::Keys { .. }) if !dir.join(keys::KEYS_FILE).exists() => {
            let path = dir.join(keys::MASTER_KEY_FILE);
            std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            MasterKey::load_or_create(dir)
        }
        other => other,
    }
}

/// Names what could not be read in an [`StoreError::Unreadable`].
fn what(e: StoreError, name: &'static str) -> StoreError {
    match e {
        StoreError::Unreadable { key, why, .. } => StoreError::Unreadable {
            what: name,
            key,
            why,
        },
        other => other,
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
