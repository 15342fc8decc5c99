//! Writing and reading entries: [`Batch`], applied atomically and flushed once, with a key of
//! its own for every sealed entry (created before, destroyed with it); reading them back.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::frame::{self, Header};
use super::keys::{KeyRing, Kid};
use super::{EnvelopeHeader, Op, RawEntry, Store, StoreError};

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

impl Store {
    fn next_write(&self) -> u64 {
        let now = u64::try_from(Utc::now().timestamp_micros()).unwrap_or_default();
        let prev = self.inner.writes.fetch_max(now, Ordering::SeqCst).max(now);
        self.inner.writes.fetch_add(1, Ordering::SeqCst).max(prev) + 1
    }

    /// Applies a batch: every change in one atomic write, flushed; then the keys of removed
    /// entries are destroyed.
    pub fn apply(&self, batch: Batch) -> Result<(), StoreError> {
        self.apply_with(batch, true)
    }

    /// Applies a batch in one atomic write without waiting for it to reach the disk (sled
    /// writes it within half a second, or with the next flushed write): for what losing in a
    /// crash costs nothing but a repeated question. Destroying a key is still flushed, so a
    /// removal is never left half done.
    pub fn apply_unflushed(&self, batch: Batch) -> Result<(), StoreError> {
        self.apply_with(batch, false)
    }

    fn apply_with(&self, batch: Batch, flush: bool) -> Result<(), StoreError> {
        let mut guard = self.ring();
        let result = self.apply_locked(batch, guard.as_mut(), flush);
        if result.is_err() {
            if let Some(r) = guard.as_mut() {
                r.forget_reserved();
            }
        }
        result
    }

    fn apply_locked(
        &self,
        batch: Batch,
        mut ring: Option<&mut KeyRing>,
        flush: bool,
    ) -> Result<(), StoreError> {
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
        let destroys = !destroy.is_empty();
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
        db.commit(&ops, flush || destroys)
    }

    /// The sealed entry `key` of `tree`.
    pub fn get_sealed(&self, tree: &str, key: &str) -> Result<Option<Sealed>, StoreError> {
        let guard = self.ring();
        self.get_sealed_locked(tree, key, guard.as_ref())
    }

    pub(super) fn get_sealed_locked(
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
}
