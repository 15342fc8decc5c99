//! sled access: opening (with the repairs of [`super::recovery`]), frames in and out, and atomic,
//! flushed writes across trees.

use std::path::{Path, PathBuf};

use super::frame::{self, Header, HEADER_LEN};
use super::recovery;
use super::StoreError;

/// A raw key and value.
pub type RawEntry = (Vec<u8>, Vec<u8>);

/// An entry as listed: its key, its first frame's header (`None` for a value not in frames)
/// and, for such a value, its bytes.
pub type Listed = (String, Option<Header>, Vec<u8>);

/// One change to apply in a write.
#[derive(Debug, Clone)]
pub enum Op {
    /// Set `key` in `tree` to `value`.
    Put {
        /// The tree.
        tree: String,
        /// The sled key.
        key: Vec<u8>,
        /// The bytes.
        value: Vec<u8>,
    },
    /// Remove `key` from `tree`.
    Remove {
        /// The tree.
        tree: String,
        /// The sled key.
        key: Vec<u8>,
    },
}

/// The sled database.
#[derive(Clone)]
pub struct Db {
    sled: sled::Db,
    dir: PathBuf,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.dir.display())
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Database(e)
    }
}

/// Whether a sled error says another process holds the database.
fn is_locked(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Whether a sled error says the files are damaged (rather than, say, a permission problem).
fn is_damage(e: &sled::Error) -> bool {
    match e {
        sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => true,
        sled::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

impl Db {
    /// Opens the database in `dir`, repairing what a kill or a full disk can leave: a partial
    /// snapshot is removed before opening, and if sled still reports damage, its snapshots
    /// (a cache of the log, rebuilt from it) and then its settings file are set aside in turn.
    pub fn open(dir: &Path) -> Result<Db, StoreError> {
        recovery::prepare(dir)?;
        let attempt = || {
            sled::Config::new()
                .path(dir)
                .mode(sled::Mode::LowSpace)
                .open()
        };
        let mut first_problem = None;
        for repair in [
            None,
            Some(recovery::Repair::Snapshots),
            Some(recovery::Repair::Settings),
        ] {
            if let Some(r) = repair {
                if !recovery::apply(dir, r)? {
                    continue;
                }
            }
            match attempt() {
                Ok(sled) => {
                    if let Some(r) = repair {
                        tracing::warn!(
                            repair = r.describe(),
                            "the data directory was repaired on opening"
                        );
                    }
                    recovery::restrict_permissions(dir);
                    return Ok(Db {
                        sled,
                        dir: dir.to_path_buf(),
                    });
                }
                Err(e) if is_locked(&e) => {
                    return Err(StoreError::Locked {
                        dir: dir.to_path_buf(),
                    })
                }
                Err(e) if is_damage(&e) => {
                    first_problem.get_or_insert_with(|| e.to_string());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Damaged {
            dir: dir.to_path_buf(),
            problem: first_problem.unwrap_or_else(|| "unreadable".into()),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.sled.open_tree(name)?)
    }

    /// The raw value of `key` in `tree`.
    pub fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree)?.get(key)?.map(|v| v.to_vec()))
    }

    /// The header of the first frame of `key`, if it is stored in frames.
    pub fn header(&self, tree: &str, key: &str) -> Result<Option<Header>, StoreError> {
        Ok(self
            .tree(tree)?
            .get(frame::frame_key(key, 0))?
            .and_then(|v| Header::read(&v)))
    }

    /// The frames of `key` joined: its header and body. `Ok(None)` when there is no such entry
    /// or it is not stored in frames; an error when frames are missing or mixed.
    pub fn read_frames(
        &self,
        tree: &str,
        key: &str,
    ) -> Result<Option<(Header, Vec<u8>)>, StoreError> {
        let t = self.tree(tree)?;
        let Some(first) = t.get(frame::frame_key(key, 0))? else {
            return Ok(None);
        };
        let Some(h) = Header::read(&first) else {
            return Ok(None);
        };
        let mut body = first[HEADER_LEN..].to_vec();
        for i in 1..h.count {
            let part = t.get(frame::frame_key(key, i))?;
            match part
                .as_deref()
                .and_then(|p| Header::read(p).map(|ph| (ph, p)))
            {
                Some((ph, p)) if ph.write == h.write && ph.kid == h.kid && ph.index == i => {
                    body.extend_from_slice(&p[HEADER_LEN..]);
                }
                _ => {
                    return Err(StoreError::Unreadable {
                        what: "entry",
                        key: key.to_string(),
                        why: "some of its parts are missing",
                    })
                }
            }
        }
        Ok(Some((h, body)))
    }

    /// Every key in `tree` with its first frame's header (or `None` for a value not in frames),
    /// skipping the keys of later frames.
    pub fn list(&self, tree: &str) -> Result<Vec<Listed>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree(tree)?.iter() {
            let (k, v) = item?;
            if frame::is_continuation(&k) {
                continue;
            }
            let key = String::from_utf8_lossy(&k).into_owned();
            let header = Header::read(&v);
            let raw = if header.is_some() {
                Vec::new()
            } else {
                v.to_vec()
            };
            out.push((key, header, raw));
        }
        Ok(out)
    }

    /// Every raw key and value of `tree`.
    pub fn raw(&self, tree: &str) -> Result<Vec<RawEntry>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree(tree)?.iter() {
            let (k, v) = item?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// The names of the trees that hold data.
    pub fn tree_names(&self) -> Vec<String> {
        self.sled
            .tree_names()
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .filter(|n| !n.starts_with("__sled"))
            .collect()
    }

    /// Applies every change atomically (one sled transaction across the trees), flushed when
    /// `flush` is set.
    pub fn commit(&self, ops: &[Op], flush: bool) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut names: Vec<&str> = Vec::new();
        for op in ops {
            let name = match op {
                Op::Put { tree, .. } | Op::Remove { tree, .. } => tree.as_str(),
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let trees = names
            .iter()
            .map(|n| self.tree(n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut batches: Vec<sled::Batch> = names.iter().map(|_| sled::Batch::default()).collect();
        for op in ops {
            match op {
                Op::Put { tree, key, value } => {
                    if let Some(i) = names.iter().position(|n| *n == tree) {
                        batches[i].insert(key.as_slice(), value.as_slice());
                    }
                }
                Op::Remove { tree, key } => {
                    if let Some(i) = names.iter().position(|n| *n == tree) {
                        batches[i].remove(key.as_slice());
                    }
                }
            }
        }
        use sled::Transactional;
        trees
            .as_slice()
            .transaction(|txs| {
                for (tx, batch) in txs.iter().zip(&batches) {
                    tx.apply_batch(batch)?;
                }
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::from(e),
                sled::transaction::TransactionError::Abort(()) => {
                    StoreError::Database(sled::Error::Unsupported("aborted".into()))
                }
            })?;
        if flush {
            self.flush()?;
        }
        Ok(())
    }

    /// Adds one to the big-endian counter at `key` and returns the new value. Flushed.
    pub fn increment(&self, tree: &str, key: &[u8]) -> Result<u64, StoreError> {
        let value = self.tree(tree)?.update_and_fetch(key, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        self.flush()?;
        Ok(value
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(1))
    }

    /// How many entries `tree` holds (first frames only).
    pub fn count(&self, tree: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for k in self.tree(tree)?.iter().keys() {
            if !frame::is_continuation(&k?) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Flushes everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.sled.flush()?;
        Ok(())
    }

    /// The database's size on disk, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.sled.size_on_disk()?)
    }

    /// The bytes of every key and value: what a compacted copy would hold.
    pub fn live_bytes(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for name in self.tree_names() {
            for item in self.tree(&name)?.iter() {
                let (k, v) = item?;
                total += (k.len() + v.len()) as u64;
            }
        }
        Ok(total)
    }

    /// Copies every tree into a new database in `dir` (which must not hold one), flushed.
    pub fn copy_into(&self, dir: &Path) -> Result<Db, StoreError> {
        let new = Db::open(dir)?;
        for name in self.tree_names() {
            let to = new.tree(&name)?;
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in self.tree(&name)?.iter() {
                let (k, v) = item?;
                batch.insert(k, v);
                n += 1;
                if n % 1000 == 0 {
                    to.apply_batch(std::mem::take(&mut batch))?;
                }
            }
            to.apply_batch(batch)?;
        }
        new.flush()?;
        Ok(new)
    }

    /// Raw access for tests in this module tree.
    #[cfg(test)]
    pub fn insert_raw(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.tree(tree)?.insert(key, value)?;
        Ok(())
    }
}
