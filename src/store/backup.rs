//! Backups: an encrypted, versioned export of the whole store (`frontdoor backup FILE`), and
//! restoring one into an empty data directory (`frontdoor restore FILE`); salvage writes the
//! same format from whatever a raw scan of damaged files can read.
//!
//! A backup file is `FDBACKUP`, a format version (4 bytes), then the contents sealed with the
//! master key (XChaCha20-Poly1305). Restoring needs the same master key: `FRONTDOOR_DATA_KEY`,
//! or `master.key` copied into the new data directory first. Each entry is sealed again with a
//! new key of its own as it is restored.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::frame::{self, Header};
use super::keys::{self, KeyRing, MasterKey};
use super::recovery;
use super::{Batch, Store, StoreError, StoreOptions, COUNTER_KEY, META, RECORDS};

const MAGIC: &[u8; 8] = b"FDBACKUP";
/// The version of the backup format this build writes (and the newest it reads).
pub const BACKUP_VERSION: u32 = 1;

/// One entry in a backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    tree: String,
    /// The key, as hex (keys of plain trees need not be text).
    key: String,
    /// Sealed again on restoring.
    sealed: bool,
    /// When it was saved (sealed entries).
    saved: Option<DateTime<Utc>>,
    /// The value, as hex.
    value: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Contents {
    version: u32,
    created: DateTime<Utc>,
    entries: Vec<Entry>,
}

/// What a backup, restore or salvage handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Sealed (personal) entries: sessions, records and the like.
    pub sealed: usize,
    /// Other entries: counters, owners, registrations, marks.
    pub plain: usize,
    /// Entries that could not be read (a salvage's destroyed or damaged copies; a backup's
    /// unreadable values).
    pub unreadable: usize,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

fn aad(version: u32) -> Vec<u8> {
    let mut a = MAGIC.to_vec();
    a.extend_from_slice(&version.to_be_bytes());
    a
}

fn write_file(path: &Path, master: &MasterKey, entries: Vec<Entry>) -> Result<(), StoreError> {
    let contents = Contents {
        version: BACKUP_VERSION,
        created: Utc::now(),
        entries,
    };
    let plain = serde_json::to_vec(&contents).map_err(StoreError::Encode)?;
    let sealed = master.seal(&aad(BACKUP_VERSION), &plain)?;
    let mut bytes = aad(BACKUP_VERSION);
    bytes.extend_from_slice(&sealed);
    let mut f = keys::private_options()
        .create_new(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    f.write_all(&bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| StoreError::io(path, e))
}

impl Store {
    /// Writes every entry to the new file `path` (mode 0600), sealed with the master key.
    pub fn backup(&self, path: &Path) -> Result<Summary, StoreError> {
        let guard = self.ring();
        let Some(ring) = guard.as_ref() else {
            return Err(StoreError::Keys {
                path: path.to_path_buf(),
                why: "a backup needs encryption on".into(),
            });
        };
        let master = ring.master().clone();
        let mut summary = Summary::default();
        let mut entries = Vec::new();
        for tree in self.db().tree_names() {
            for (k, v) in self.db().raw(&tree)? {
                if frame::is_continuation(&k) {
                    continue;
                }
                if Header::read(&v).is_none() {
                    entries.push(Entry {
                        tree: tree.clone(),
                        key: hex(&k),
                        sealed: false,
                        saved: None,
                        value: hex(&v),
                    });
                    summary.plain += 1;
                    continue;
                }
                let key = String::from_utf8_lossy(&k).into_owned();
                match self.get_sealed_locked(&tree, &key, Some(ring)) {
                    Ok(Some(s)) => {
                        entries.push(Entry {
                            tree: tree.clone(),
                            key: hex(&k),
                            sealed: true,
                            saved: Some(s.saved),
                            value: hex(&s.value),
                        });
                        summary.sealed += 1;
                    }
                    Ok(None) => {}
                    Err(e) if e.is_unreadable_value() => summary.unreadable += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        drop(guard);
        write_file(path, &master, entries)?;
        Ok(summary)
    }
}

/// The master key for `dir` as the options give it, or from an existing `master.key`.
fn existing_master(dir: &Path, options: &StoreOptions) -> Result<MasterKey, StoreError> {
    if let Some(m) = &options.master {
        return Ok(m.clone());
    }
    let path = dir.join(keys::MASTER_KEY_FILE);
    if !path.exists() {
        return Err(StoreError::Keys {
            path,
            why: "is needed: copy the master.key of the data directory the backup came from here first (or set FRONTDOOR_DATA_KEY)".into(),
        });
    }
    MasterKey::load_or_create(dir)
}

/// Restores the backup `file` into `dir`, which must be empty (but for `master.key`).
pub fn restore(dir: &Path, file: &Path, options: &StoreOptions) -> Result<Summary, StoreError> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        let other = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n != keys::MASTER_KEY_FILE);
        if let Some(name) = other {
            return Err(StoreError::Io {
                path: dir.to_path_buf(),
                why: format!("is not empty ({name}); restore only into an empty data directory (move this one aside first)"),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let master = existing_master(dir, options)?;
    let bytes = std::fs::read(file).map_err(|e| StoreError::io(file, e))?;
    let not_backup = |why: &str| StoreError::Keys {
        path: file.to_path_buf(),
        why: why.to_string(),
    };
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(not_backup("is not a frontdoor backup"));
    }
    let version = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version > BACKUP_VERSION {
        return Err(not_backup(&format!(
            "is backup format {version}; this build reads up to {BACKUP_VERSION}"
        )));
    }
    let plain = master
        .open(&aad(version), &bytes[12..])
        .ok_or_else(|| not_backup("cannot be opened with this master key, or is damaged"))?;
    let contents: Contents =
        serde_json::from_slice(&plain).map_err(|_| not_backup("is damaged"))?;
    let store = Store::open_with(
        dir,
        &StoreOptions {
            master: Some(master),
            encrypt: true,
        },
    )?;
    let mut summary = Summary::default();
    let mut batch = Batch::new();
    for e in contents.entries {
        let (Some(key), Some(value)) = (unhex(&e.key), unhex(&e.value)) else {
            summary.unreadable += 1;
            continue;
        };
        if e.sealed {
            batch.put_sealed(
                &e.tree,
                &String::from_utf8_lossy(&key),
                e.saved.unwrap_or_else(Utc::now),
                value,
            );
            summary.sealed += 1;
        } else {
            batch.put(&e.tree, &key, value);
            summary.plain += 1;
        }
    }
    store.apply(batch)?;
    store.flush()?;
    Ok(summary)
}

/// Rescues what can be read from the raw files of a damaged data directory into the new backup
/// file `out` (restore it into an empty directory). The key file and master key are needed.
pub fn salvage(dir: &Path, out: &Path, options: &StoreOptions) -> Result<Summary, StoreError> {
    let master = existing_master(dir, options)?;
    let ring = KeyRing::open(dir, master.clone())?;
    write_salvage(out, &master, recovery::scan(dir, &ring).open(&ring))
}

/// Writes what a raw scan could read as a backup file.
pub(crate) fn write_salvage(
    out: &Path,
    master: &MasterKey,
    report: recovery::SalvageReport,
) -> Result<Summary, StoreError> {
    let mut summary = Summary {
        unreadable: report.unreadable,
        ..Summary::default()
    };
    let mut counter = 0u64;
    let mut entries = Vec::new();
    for e in report.entries {
        if e.tree == RECORDS {
            // References end in the counter; a restored store must not give one out again.
            if let Some(n) = e.key.rsplit('-').next().and_then(|n| n.parse::<u64>().ok()) {
                counter = counter.max(n);
            }
        }
        entries.push(Entry {
            tree: e.tree,
            key: hex(e.key.as_bytes()),
            sealed: true,
            saved: DateTime::from_timestamp(e.saved, 0),
            value: hex(&e.value),
        });
        summary.sealed += 1;
    }
    entries.push(Entry {
        tree: META.into(),
        key: hex(COUNTER_KEY),
        sealed: false,
        saved: None,
        value: hex(&counter.to_be_bytes()),
    });
    summary.plain += 1;
    write_file(out, master, entries)?;
    Ok(summary)
}
