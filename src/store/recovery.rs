//! Recovery: what a kill or a full disk can leave, repaired before and while opening; the
//! permissions of the data directory; and salvage, a raw scan of the files for whatever
//! entries can still be read when the database will not open.
//!
//! sled writes a snapshot of its page table at every open (`snap.<lsn>.generating`, then a
//! rename to `snap.<lsn>`). A partial `.generating` file left by a full disk or a kill sorts
//! after the good snapshot, so sled picks it, finds its checksum wrong and refuses to open
//! (sled issues #1527 and #1533). The snapshot is only a cache: sled rebuilds it from the log
//! when there is none. So a `.generating` file is always removed before opening, and if sled
//! still reports damage, the snapshots and then the settings file (`conf`, rewritten by sled
//! with the same settings) are set aside and opening is tried again.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::frame::{self, Header, HEADER_LEN, MAGIC};
use super::keys::{self, KeyRing};
use super::StoreError;

/// A repair tried when sled reports damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Set aside every snapshot: sled rebuilds its page table from the log.
    Snapshots,
    /// Set aside the settings file: sled writes it again.
    Settings,
}

impl Repair {
    /// What was done, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Repair::Snapshots => "damaged snapshots set aside; rebuilt from the log",
            Repair::Settings => "damaged settings file set aside; written again",
        }
    }
}

/// The folder in the data directory where damaged files are moved.
pub const SET_ASIDE: &str = "set-aside";

/// Creates the data directory (mode 0700) and removes what is never needed on opening: partial
/// snapshots and a key file's temporary copy.
pub fn prepare(dir: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    set_mode(dir, 0o700);
    let entries = fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let partial_snapshot = name.starts_with("snap.") && name.ends_with(".generating");
        let partial_keys = name == format!("{}.tmp", keys::KEYS_FILE);
        if partial_snapshot || partial_keys {
            let path = entry.path();
            tracing::warn!(file = %name, "removing a partial file left by an interrupted write");
            fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
        }
    }
    Ok(())
}

/// Applies a repair; false when there was nothing to set aside.
pub fn apply(dir: &Path, repair: Repair) -> Result<bool, StoreError> {
    let wanted = |name: &str| match repair {
        Repair::Snapshots => name.starts_with("snap."),
        Repair::Settings => name == "conf",
    };
    let mut moved = false;
    let aside = dir.join(SET_ASIDE);
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let entries = fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !wanted(&name) {
            continue;
        }
        fs::create_dir_all(&aside).map_err(|e| StoreError::io(&aside, e))?;
        let to = aside.join(format!("{name}.{stamp}"));
        fs::rename(entry.path(), &to).map_err(|e| StoreError::io(&to, e))?;
        moved = true;
    }
    Ok(moved)
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Makes the data directory (and its folders) 0700 and every file in it 0600, whatever the
/// umask was when sled created them.
pub fn restrict_permissions(dir: &Path) {
    set_mode(dir, 0o700);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => restrict_permissions(&path),
            Ok(t) if t.is_file() => set_mode(&path, 0o600),
            _ => {}
        }
    }
}

/// The file in the data directory naming the folder that holds sled's files, once the store
/// has been compacted (before that, sled's files are in the data directory itself).
pub const POINTER: &str = "store";

/// The folder holding sled's files: the one [`POINTER`] names, or the data directory itself.
pub fn sled_dir(dir: &Path) -> PathBuf {
    match fs::read_to_string(dir.join(POINTER)) {
        Ok(name) => {
            let name = name.trim();
            let valid = name
                .strip_prefix("store-")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if valid && dir.join(name).is_dir() {
                dir.join(name)
            } else {
                dir.to_path_buf()
            }
        }
        Err(_) => dir.to_path_buf(),
    }
}

/// The generation number of a sled folder (`store-N`), 0 for the data directory itself.
pub fn generation(dir: &Path, sled: &Path) -> u64 {
    if sled == dir {
        return 0;
    }
    sled.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("store-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Removes what a compaction left behind: folders of other generations, and sled's files in
/// the data directory itself once a generation folder is current.
pub fn remove_stale_generations(dir: &Path, current: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let old_generation = name.starts_with("store-") && path != current;
        let old_top_level = current != dir
            && (name == "db" || name == "conf" || name == "blobs" || name.starts_with("snap."));
        if old_generation || old_top_level {
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

/// An entry found by a raw scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvaged {
    /// Its tree.
    pub tree: String,
    /// Its key.
    pub key: String,
    /// When it was saved (Unix seconds).
    pub saved: i64,
    /// Its value (the versioned JSON envelope).
    pub value: Vec<u8>,
}

/// What a salvage found.
#[derive(Debug, Default)]
pub struct SalvageReport {
    /// The newest readable copy of each entry.
    pub entries: Vec<Salvaged>,
    /// Entries whose newest copy could not be read (damaged bytes, or parts missing).
    pub unreadable: usize,
}

/// A write's header and its frames' bodies, by index, as they are found.
type Parts = (Header, Vec<Option<Vec<u8>>>);

/// The newest complete copy of every sealed entry in the raw files, by key id, still encrypted.
#[derive(Debug, Default)]
pub struct RawScan {
    newest: HashMap<[u8; 16], (Header, Vec<u8>)>,
    /// Older complete copies, when asked for ([`scan_every_copy`]).
    older: Vec<([u8; 16], Header, Vec<u8>)>,
    incomplete: HashSet<[u8; 16]>,
}

/// Reads the raw files of the data directory (sled's log and any blob files) and keeps, for
/// each key id in the ring, the newest write whose frames are all there. Works whatever state sled is in:
/// it reads bytes, not sled's structures. Run before sled opens, because sled overwrites the
/// end of its log after damaged bytes when it opens.
pub fn scan(dir: &Path, ring: &KeyRing) -> RawScan {
    scan_files(dir, ring, false)
}

/// Like [`scan`], keeping every complete copy, not only the newest: to check that nothing
/// deleted can be read from any copy sled left in its files.
pub fn scan_every_copy(dir: &Path, ring: &KeyRing) -> RawScan {
    scan_files(dir, ring, true)
}

/// Calls `f` with every frame (header and body) in the file at `path`, reading it in blocks.
fn for_each_frame(path: &Path, mut f: impl FnMut(Header, &[u8])) {
    use std::io::Read;
    const BLOCK: usize = 1 << 20;
    let Ok(mut file) = fs::File::open(path) else {
        return;
    };
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + HEADER_LEN + frame::CHUNK);
    let mut eof = false;
    loop {
        if !eof {
            let had = buf.len();
            buf.resize(had + BLOCK, 0);
            let n = file.read(&mut buf[had..]).unwrap_or(0);
            buf.truncate(had + n);
            eof = n == 0;
        }
        // Frames that start here and end in the buffer are handled; the tail that could hold
        // the start of a frame is kept for the next block.
        let keep_from = if eof {
            buf.len()
        } else {
            buf.len().saturating_sub(HEADER_LEN + frame::CHUNK)
        };
        let mut at = 0;
        while let Some(pos) = find(&buf[at..keep_from.max(at)], MAGIC) {
            let start = at + pos;
            at = start + 1;
            if let Some(h) = Header::read(&buf[start..]) {
                let body_at = start + HEADER_LEN;
                if let Some(body) = buf.get(body_at..body_at + h.len as usize) {
                    f(h, body);
                }
            }
        }
        if eof {
            return;
        }
        buf.drain(..keep_from);
    }
}

/// Only entries whose keys are in `ring` are kept: the others can never be opened. Two passes:
/// the headers say which writes are complete and newest, then only their bodies are kept.
fn scan_files(dir: &Path, ring: &KeyRing, every: bool) -> RawScan {
    let files = raw_files(dir);
    // (kid, write) -> (header, which frames were seen)
    let mut seen: HashMap<([u8; 16], u64), (Header, Vec<bool>)> = HashMap::new();
    for path in &files {
        for_each_frame(path, |h, _| {
            if !ring.contains(&h.kid) {
                return;
            }
            let slot = seen
                .entry((h.kid, h.write))
                .or_insert_with(|| (h, vec![false; h.count as usize]));
            if slot.0.count == h.count && slot.0.saved == h.saved {
                if let Some(s) = slot.1.get_mut(h.index as usize) {
                    *s = true;
                }
            }
        });
    }
    let mut out = RawScan::default();
    let mut newest: HashMap<[u8; 16], u64> = HashMap::new();
    for ((kid, write), (_, parts)) in &seen {
        if parts.iter().all(|p| *p) {
            let w = newest.entry(*kid).or_insert(*write);
            *w = (*w).max(*write);
        }
    }
    for (kid, _) in seen.keys() {
        if !newest.contains_key(kid) {
            out.incomplete.insert(*kid);
        }
    }
    let wanted = |kid: &[u8; 16], write: u64| {
        newest.get(kid).is_some_and(|w| {
            *w == write
                || (every
                    && seen
                        .get(&(*kid, write))
                        .is_some_and(|(_, p)| p.iter().all(|x| *x)))
        })
    };
    let mut writes: HashMap<([u8; 16], u64), Parts> = HashMap::new();
    for path in &files {
        for_each_frame(path, |h, body| {
            if !ring.contains(&h.kid) || !wanted(&h.kid, h.write) {
                return;
            }
            let slot = writes
                .entry((h.kid, h.write))
                .or_insert_with(|| (h, vec![None; h.count as usize]));
            if slot.0.count == h.count && slot.0.saved == h.saved {
                if let Some(part) = slot.1.get_mut(h.index as usize) {
                    part.get_or_insert_with(|| body.to_vec());
                }
            }
        });
    }
    for ((kid, write), (h, parts)) in writes {
        if parts.iter().any(Option::is_none) {
            continue;
        }
        let body: Vec<u8> = parts.into_iter().flatten().flatten().collect();
        if newest.get(&kid) == Some(&write) {
            out.newest.insert(kid, (h, body));
        } else {
            out.older.push((kid, h, body));
        }
    }
    out
}

impl RawScan {
    /// The key ids found.
    pub fn kids(&self) -> HashSet<[u8; 16]> {
        self.newest
            .keys()
            .chain(&self.incomplete)
            .copied()
            .collect()
    }

    /// Opens every entry whose key is in the ring (entries whose keys were destroyed stay
    /// unreadable: deleted is deleted); with [`scan_every_copy`], every copy of each.
    pub fn open(&self, ring: &KeyRing) -> SalvageReport {
        let mut report = SalvageReport::default();
        let copies = self
            .newest
            .iter()
            .map(|(kid, (h, body))| (kid, h, body))
            .chain(self.older.iter().map(|(kid, h, body)| (kid, h, body)));
        for (kid, h, body) in copies {
            if !ring.contains(kid) {
                continue;
            }
            let parsed = ring.open_sealed(kid, &h.aad(), body).and_then(|p| {
                frame::parse_plaintext(&p).map(|(tree, key, value)| Salvaged {
                    tree,
                    key,
                    saved: h.saved,
                    value: value.to_vec(),
                })
            });
            match parsed {
                Some(e) => report.entries.push(e),
                None => report.unreadable += 1,
            }
        }
        report.unreadable += self
            .incomplete
            .iter()
            .filter(|k| ring.contains(k) && !self.newest.contains_key(*k))
            .count();
        report
            .entries
            .sort_by(|a, b| (&a.tree, &a.key).cmp(&(&b.tree, &b.key)));
        report
    }
}

fn raw_files(dir: &Path) -> Vec<PathBuf> {
    let dir = sled_dir(dir);
    let mut files = vec![dir.join("db")];
    if let Ok(blobs) = fs::read_dir(dir.join("blobs")) {
        files.extend(blobs.flatten().map(|e| e.path()));
    }
    files
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_found_across_block_boundaries() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::io(Path::new("tmp"), e))?;
        let path = dir.path().join("db");
        let mut bytes = Vec::new();
        let mut expected = 0;
        // Frames of varied lengths at varied offsets, past several 1 MiB blocks.
        let mut n = 0u64;
        while bytes.len() < 3 * (1 << 20) + 5000 {
            bytes.extend(std::iter::repeat_n(0xAB, (n as usize * 37) % 300));
            let body = vec![n as u8; (n as usize * 131) % frame::CHUNK + 1];
            for f in frame::split([1; 16], n, 0, &body) {
                bytes.extend_from_slice(&f);
                expected += 1;
            }
            n += 1;
        }
        std::fs::write(&path, &bytes).map_err(|e| StoreError::io(&path, e))?;
        let mut found = 0;
        let mut writes = HashSet::new();
        for_each_frame(&path, |h, body| {
            assert_eq!(body.len(), h.len as usize);
            assert!(body.iter().all(|b| *b == h.write as u8));
            found += 1;
            writes.insert(h.write);
        });
        assert_eq!(found, expected);
        assert_eq!(writes.len() as u64, n);
        Ok(())
    }
}
