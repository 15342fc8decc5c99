//! Keys: the master key, the key ring (one key per sealed entry) in its own file, and the AEAD.
//!
//! Every personal value in the store is sealed with its own random key (XChaCha20-Poly1305).
//! The keys live outside sled, in `keys` beside the database, sealed with the master key. A new
//! key is appended to the file (and synced) before anything it seals is written; destroying keys
//! rewrites the file without them (write a temporary file, sync, rename, sync the directory), so
//! once a deletion returns, the copies sled keeps in its log can no longer be decrypted.
//!
//! The master key comes from `FRONTDOOR_DATA_KEY` (64 hex digits) or, by default, from
//! `master.key` in the data directory, created with mode 0600 on first use.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use super::StoreError;

/// A key id: which key in the ring seals an entry.
pub type Kid = [u8; 16];

/// The length of every key.
pub const KEY_LEN: usize = 32;
/// The length of a nonce (XChaCha20).
pub const NONCE_LEN: usize = 24;
/// The file name of the key ring, in the data directory.
pub const KEYS_FILE: &str = "keys";
/// The file name of the master key, in the data directory, when `FRONTDOOR_DATA_KEY` is not set.
pub const MASTER_KEY_FILE: &str = "master.key";

const KEYS_MAGIC: &[u8; 8] = b"FDKEYS01";
const KEYS_AAD: &[u8] = b"frontdoor key file v1";
const PAIR_LEN: usize = 16 + KEY_LEN;
const TOMBSTONES: &[u8; 8] = b"TOMBSTON";

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// The key that seals the key ring and backups.
#[derive(Clone)]
pub struct MasterKey(Key);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([hidden])")
    }
}

impl MasterKey {
    /// A master key from 64 hexadecimal digits (as `FRONTDOOR_DATA_KEY` gives it).
    pub fn from_hex(text: &str) -> Option<MasterKey> {
        let t = text.trim();
        if t.len() != KEY_LEN * 2 || !t.is_ascii() {
            return None;
        }
        let mut key = [0u8; KEY_LEN];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&t[i * 2..i * 2 + 2], 16).ok()?;
        }
        Some(MasterKey(key.into()))
    }

    /// A new random master key.
    pub fn generate() -> MasterKey {
        MasterKey(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The key as 64 hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The master key file in `dir`, created (mode 0600) with a new key if there is none.
    pub fn load_or_create(dir: &Path) -> Result<MasterKey, StoreError> {
        let path = dir.join(MASTER_KEY_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => MasterKey::from_hex(&text).ok_or_else(|| StoreError::Keys {
                path: path.clone(),
                why: "is not a master key (64 hexadecimal digits)".into(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate();
                write_new_private(&path, format!("{}\n", key.to_hex()).as_bytes())
                    .map_err(|e| StoreError::io(&path, e))?;
                Ok(key)
            }
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// Seals `plain` with this key: nonce, then ciphertext with its tag.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        seal(&self.0, aad, plain)
    }

    /// Opens what [`MasterKey::seal`] sealed; `None` if it was not sealed with this key or was altered.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        open(&self.0, aad, sealed)
    }
}

fn seal(key: &Key, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
    let cipher = XChaCha20Poly1305::new(key);
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ct = cipher
        .encrypt(&nonce, Payload { msg: plain, aad })
        .map_err(|_| StoreError::Crypto)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open(key: &Key, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key)
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
}

/// Writes a new file with mode 0600 and syncs it and its directory.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = private_options().create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    sync_dir(path)
}

/// Options that create files readable and writable by their owner only.
pub fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Syncs the directory holding `path`, so that a rename or creation in it is durable.
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// Replaces `path` atomically with `bytes`: a temporary file, synced, renamed over it, and the
/// directory synced.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    {
        let mut f = private_options().create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(path)
}

/// The keys of the sealed entries, kept in the `keys` file.
pub struct KeyRing {
    path: PathBuf,
    master: MasterKey,
    keys: HashMap<Kid, Key>,
    /// Whether the file exists (a store without one has never sealed anything).
    file_exists: bool,
    /// The file's bytes end in a torn append that the next rewrite drops.
    torn: bool,
    /// Keys created in memory and not yet in the file.
    pending: Vec<Kid>,
    /// The keys destroyed by the last rewrite: their entries are removed from sled right after,
    /// and on opening if a crash came in between.
    tombstones: Vec<Kid>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyRing({} keys, {})",
            self.keys.len(),
            self.path.display()
        )
    }
}

impl KeyRing {
    /// Reads the key file in `dir` (none yet is an empty ring).
    pub fn open(dir: &Path, master: MasterKey) -> Result<KeyRing, StoreError> {
        let path = dir.join(KEYS_FILE);
        let mut ring = KeyRing {
            path: path.clone(),
            master,
            keys: HashMap::new(),
            file_exists: false,
            torn: false,
            pending: Vec::new(),
            tombstones: Vec::new(),
        };
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes)
                    .map_err(|e| StoreError::io(&path, e))?;
                ring.file_exists = true;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ring),
            Err(e) => return Err(StoreError::io(&path, e)),
        }
        if bytes.len() < KEYS_MAGIC.len() || &bytes[..KEYS_MAGIC.len()] != KEYS_MAGIC {
            return Err(StoreError::Keys {
                path,
                why: "is not a frontdoor key file".into(),
            });
        }
        let mut at = KEYS_MAGIC.len();
        let mut first = true;
        while at < bytes.len() {
            let Some(len) = bytes
                .get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(|b| u32::from_be_bytes(b) as usize)
            else {
                ring.torn = true;
                break;
            };
            let Some(record) = bytes.get(at + 4..at + 4 + len) else {
                // An append cut short by a crash: the entry it would have keyed was never written.
                ring.torn = true;
                break;
            };
            at += 4 + len;
            match ring.master.open(KEYS_AAD, record) {
                Some(plain)
                    if plain.starts_with(TOMBSTONES) && (plain.len() - 8) % 16 == 0 =>
                {
                    for kid in plain[8..].chunks_exact(16) {
                        let mut k = [0u8; 16];
                        k.copy_from_slice(kid);
                        ring.tombstones.push(k);
                    }
                }
                Some(pairs) => {
                    for pair in pairs.chunks_exact(PAIR_LEN) {
                        let mut kid = [0u8; 16];
                        kid.copy_from_slice(&pair[..16]);
                        ring.keys.insert(kid, *Key::from_slice(&pair[16..]));
                    }
                }
                None if first => {
                    return Err(StoreError::Keys {
                        path,
                        why: "cannot be opened with this master key (is FRONTDOOR_DATA_KEY, or master.key, the one this data was created with?)".into(),
                    })
                }
                None => {
                    tracing::warn!(
                        "a damaged entry in the key file was skipped; what it keyed is unreadable"
                    );
                }
            }
            first = false;
        }
        Ok(ring)
    }

    /// Whether the key file exists.
    pub fn file_exists(&self) -> bool {
        self.file_exists
    }

    /// How many keys the ring holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the ring holds `kid`.
    pub fn contains(&self, kid: &Kid) -> bool {
        self.keys.contains_key(kid)
    }

    /// The keys destroyed by the last rewrite of the file.
    pub fn tombstones(&self) -> &[Kid] {
        &self.tombstones
    }

    /// Every key id.
    pub fn kids(&self) -> Vec<Kid> {
        self.keys.keys().copied().collect()
    }

    /// Creates a key, durably, and returns its id.
    pub fn create(&mut self) -> Result<Kid, StoreError> {
        let kid = self.reserve();
        self.persist()?;
        Ok(kid)
    }

    /// Creates a key in memory only; [`KeyRing::persist`] must follow before anything sealed
    /// with it is written (so many keys cost one append).
    pub fn reserve(&mut self) -> Kid {
        let kid: Kid = random();
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        self.keys.insert(kid, key);
        self.pending.push(kid);
        kid
    }

    /// Forgets the keys reserved since the last [`KeyRing::persist`] (their write failed).
    pub fn forget_reserved(&mut self) {
        for kid in std::mem::take(&mut self.pending) {
            self.keys.remove(&kid);
        }
    }

    /// Appends the reserved keys to the key file and syncs it.
    pub fn persist(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.torn {
            // Drop the torn tail first, so the append lands after whole records.
            self.rewrite()?;
            self.pending.clear();
            return Ok(());
        }
        let mut pair = Vec::with_capacity(PAIR_LEN * self.pending.len());
        for kid in &self.pending {
            if let Some(key) = self.keys.get(kid) {
                pair.extend_from_slice(kid);
                pair.extend_from_slice(key);
            }
        }
        let record = self.master.seal(KEYS_AAD, &pair)?;
        if !self.file_exists {
            let mut bytes = KEYS_MAGIC.to_vec();
            push_record(&mut bytes, &record);
            replace_file(&self.path, &bytes).map_err(|e| StoreError::io(&self.path, e))?;
            self.file_exists = true;
        } else {
            let mut bytes = Vec::with_capacity(record.len() + 4);
            push_record(&mut bytes, &record);
            let mut f = OpenOptions::new()
                .append(true)
                .open(&self.path)
                .map_err(|e| StoreError::io(&self.path, e))?;
            f.write_all(&bytes)
                .and_then(|_| f.sync_data())
                .map_err(|e| StoreError::io(&self.path, e))?;
        }
        self.pending.clear();
        Ok(())
    }

    /// Destroys these keys: the file is replaced by one without them before this returns.
    pub fn destroy(&mut self, kids: &[Kid]) -> Result<usize, StoreError> {
        let mut gone = 0;
        self.tombstones.clear();
        for kid in kids {
            if self.keys.remove(kid).is_some() {
                gone += 1;
                self.tombstones.push(*kid);
            }
        }
        if gone > 0 {
            self.rewrite()?;
            self.pending.clear();
        }
        Ok(gone)
    }

    fn rewrite(&mut self) -> Result<(), StoreError> {
        let mut pairs = Vec::with_capacity(self.keys.len() * PAIR_LEN);
        for (kid, key) in &self.keys {
            pairs.extend_from_slice(kid);
            pairs.extend_from_slice(key);
        }
        let record = self.master.seal(KEYS_AAD, &pairs)?;
        let mut bytes = KEYS_MAGIC.to_vec();
        push_record(&mut bytes, &record);
        if !self.tombstones.is_empty() {
            let mut t = TOMBSTONES.to_vec();
            for kid in &self.tombstones {
                t.extend_from_slice(kid);
            }
            push_record(&mut bytes, &self.master.seal(KEYS_AAD, &t)?);
        }
        replace_file(&self.path, &bytes).map_err(|e| StoreError::io(&self.path, e))?;
        self.file_exists = true;
        self.torn = false;
        Ok(())
    }

    /// Seals `plain` with the key `kid`.
    pub fn seal(&self, kid: &Kid, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        let key = self.keys.get(kid).ok_or(StoreError::Crypto)?;
        seal(key, aad, plain)
    }

    /// Opens what was sealed with `kid`; `None` when the key is gone or the bytes were altered.
    pub fn open_sealed(&self, kid: &Kid, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        open(self.keys.get(kid)?, aad, sealed)
    }

    /// The master key.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }
}

fn push_record(out: &mut Vec<u8>, record: &[u8]) {
    out.extend_from_slice(&(record.len() as u32).to_be_bytes());
    out.extend_from_slice(record);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_reopening_and_destroyed_keys_do_not() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::io(Path::new("tmp"), e))?;
        let master = MasterKey::generate();
        let (a, b, sealed) = {
            let mut ring = KeyRing::open(dir.path(), master.clone())?;
            let a = ring.create()?;
            let b = ring.create()?;
            let sealed = ring.seal(&a, b"aad", b"Fictional Name")?;
            (a, b, sealed)
        };
        let mut ring = KeyRing::open(dir.path(), master.clone())?;
        assert_eq!(ring.len(), 2);
        assert_eq!(
            ring.open_sealed(&a, b"aad", &sealed).as_deref(),
            Some(&b"Fictional Name"[..])
        );
        assert_eq!(ring.open_sealed(&a, b"other", &sealed), None);
        ring.destroy(&[a])?;
        let ring = KeyRing::open(dir.path(), master)?;
        assert!(!ring.contains(&a) && ring.contains(&b));
        assert_eq!(ring.open_sealed(&a, b"aad", &sealed), None);
        assert!(matches!(
            KeyRing::open(dir.path(), MasterKey::generate()),
            Err(StoreError::Keys { .. })
        ));
        Ok(())
    }

    #[test]
    fn a_torn_append_is_ignored() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::io(Path::new("tmp"), e))?;
        let master = MasterKey::generate();
        let a = KeyRing::open(dir.path(), master.clone())?.create()?;
        let path = dir.path().join(KEYS_FILE);
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        f.write_all(&[0, 0, 0, 90, 1, 2, 3])
            .map_err(|e| StoreError::io(&path, e))?;
        let mut ring = KeyRing::open(dir.path(), master.clone())?;
        assert!(ring.contains(&a));
        let b = ring.create()?;
        let ring = KeyRing::open(dir.path(), master)?;
        assert!(ring.contains(&a) && ring.contains(&b));
        Ok(())
    }

    #[test]
    fn hex_master_keys() {
        let k = MasterKey::generate();
        assert_eq!(
            MasterKey::from_hex(&k.to_hex()).map(|m| m.to_hex()),
            Some(k.to_hex())
        );
        assert!(MasterKey::from_hex("abc").is_none());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_none());
        assert_eq!(format!("{k:?}"), "MasterKey([hidden])");
    }
}
