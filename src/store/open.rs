//! Opening the store: repairs, the key ring checked against the database, values from before
//! encryption sealed, and compaction (a smaller copy of the database once sled's files have
//! grown well past what is live).

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use chrono::Utc;

use super::db::{Db, Op};
use super::frame::{self, Header};
use super::keys::{self, KeyRing, Kid, MasterKey};
use super::{backup, recovery, Batch, EnvelopeHeader, Inner, Store, StoreError, StoreOptions};
use super::{CHATS, RECORDS, SESSIONS};

/// The trees whose values are personal and therefore sealed.
const SEALED_TREES: [&str; 3] = [SESSIONS, RECORDS, CHATS];

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
            self.db().commit(&unfinished, true)?;
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
