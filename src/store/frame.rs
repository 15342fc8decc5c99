//! How a sealed entry is laid out in sled: frames of at most [`CHUNK`] bytes.
//!
//! sled writes a page larger than a quarter of its 512 KiB segment (about 128 KiB) to a blob
//! file of its own, and does not delete the old blob files when the page changes again; a leaf
//! page holds up to about twenty values. So no value handed to sled is larger than [`CHUNK`]
//! plus a small header: a long consultation is split into frames, and no page ever reaches the
//! blob threshold.
//!
//! Every frame starts with a header that can be read without any key:
//!
//! | bytes | field |
//! |---|---|
//! | 8  | magic `FDSEAL02` |
//! | 16 | key id (zero when the entry is not encrypted) |
//! | 8  | write id: increases with every write, so the newest copy can be told apart |
//! | 8  | when it was saved (Unix seconds), read by purging |
//! | 2  | this frame's index; 2: how many frames |
//! | 4  | the length of this frame's body |
//!
//! The bodies joined are the nonce and ciphertext (or the plain bytes when encryption is off).
//! The plaintext names its tree and key, so an entry found by a raw scan of the files
//! ([`super::recovery`]) knows where it belongs, and a value copied to another key fails to open.

use chrono::{DateTime, Utc};

use super::keys::Kid;

/// The magic bytes that start every frame.
pub const MAGIC: &[u8; 8] = b"FDSEAL02";
/// The length of a frame's header.
pub const HEADER_LEN: usize = 8 + 16 + 8 + 8 + 2 + 2 + 4;
/// The most body bytes in one frame.
pub const CHUNK: usize = 4096;
/// The key id of an entry stored without encryption.
pub const PLAIN: Kid = [0; 16];
/// The byte that separates a key from a frame number in the keys of frames after the first.
/// Keys are UTF-8 text, which never contains it.
pub const FRAME_SEP: u8 = 0xFF;

/// A frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Which key seals the entry.
    pub kid: Kid,
    /// The write this frame belongs to.
    pub write: u64,
    /// When the entry was saved (Unix seconds).
    pub saved: i64,
    /// This frame's index.
    pub index: u16,
    /// How many frames the entry has.
    pub count: u16,
    /// The body's length.
    pub len: u32,
}

impl Header {
    /// Reads a header from the start of `bytes`.
    pub fn read(bytes: &[u8]) -> Option<Header> {
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return None;
        }
        let mut kid = [0u8; 16];
        kid.copy_from_slice(&bytes[8..24]);
        let u64_at = |at: usize| {
            <[u8; 8]>::try_from(&bytes[at..at + 8])
                .ok()
                .map(u64::from_be_bytes)
        };
        let u16_at = |at: usize| {
            <[u8; 2]>::try_from(&bytes[at..at + 2])
                .ok()
                .map(u16::from_be_bytes)
        };
        let h = Header {
            kid,
            write: u64_at(24)?,
            saved: u64_at(32)? as i64,
            index: u16_at(40)?,
            count: u16_at(42)?,
            len: <[u8; 4]>::try_from(&bytes[44..48])
                .ok()
                .map(u32::from_be_bytes)?,
        };
        (h.count > 0 && h.index < h.count && h.len as usize <= CHUNK).then_some(h)
    }

    /// When the entry was saved.
    pub fn saved_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.saved, 0).unwrap_or_default()
    }

    /// Whether the entry is encrypted.
    pub fn sealed(&self) -> bool {
        self.kid != PLAIN
    }

    /// The associated data the AEAD binds to: everything in the header that is the same for
    /// every frame of one write.
    pub fn aad(&self) -> Vec<u8> {
        let mut a = MAGIC.to_vec();
        a.extend_from_slice(&self.kid);
        a.extend_from_slice(&self.write.to_be_bytes());
        a.extend_from_slice(&self.saved.to_be_bytes());
        a.extend_from_slice(&self.count.to_be_bytes());
        a
    }
}

/// The frames of one write.
pub fn split(kid: Kid, write: u64, saved: i64, body: &[u8]) -> Vec<Vec<u8>> {
    let parts: Vec<&[u8]> = if body.is_empty() {
        vec![&[][..]]
    } else {
        body.chunks(CHUNK).collect()
    };
    let count = parts.len() as u16;
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let mut f = Vec::with_capacity(HEADER_LEN + part.len());
            f.extend_from_slice(MAGIC);
            f.extend_from_slice(&kid);
            f.extend_from_slice(&write.to_be_bytes());
            f.extend_from_slice(&(saved as u64).to_be_bytes());
            f.extend_from_slice(&(i as u16).to_be_bytes());
            f.extend_from_slice(&count.to_be_bytes());
            f.extend_from_slice(&(part.len() as u32).to_be_bytes());
            f.extend_from_slice(part);
            f
        })
        .collect()
}

/// How many frames a body of `len` bytes needs.
pub fn count_for(len: usize) -> usize {
    len.div_ceil(CHUNK).max(1)
}

/// The most frames an entry may have (what the 16-bit count allows).
pub const MAX_FRAMES: usize = u16::MAX as usize;

/// The sled key of frame `index` of the entry `key`.
pub fn frame_key(key: &str, index: u16) -> Vec<u8> {
    let mut k = key.as_bytes().to_vec();
    if index > 0 {
        k.push(FRAME_SEP);
        k.extend_from_slice(&index.to_be_bytes());
    }
    k
}

/// Whether a sled key is that of a frame after the first (skipped when listing entries).
pub fn is_continuation(key: &[u8]) -> bool {
    key.contains(&FRAME_SEP)
}

/// The plaintext of an entry: its tree, its key, then the value.
pub fn plaintext(tree: &str, key: &str, value: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(3 + tree.len() + key.len() + value.len());
    p.push(tree.len().min(255) as u8);
    p.extend_from_slice(&tree.as_bytes()[..tree.len().min(255)]);
    p.extend_from_slice(&(key.len().min(65_535) as u16).to_be_bytes());
    p.extend_from_slice(&key.as_bytes()[..key.len().min(65_535)]);
    p.extend_from_slice(value);
    p
}

/// Reads what [`plaintext`] wrote: tree, key, value.
pub fn parse_plaintext(p: &[u8]) -> Option<(String, String, &[u8])> {
    let tl = *p.first()? as usize;
    let tree = std::str::from_utf8(p.get(1..1 + tl)?).ok()?;
    let kl_at = 1 + tl;
    let kl = u16::from_be_bytes(<[u8; 2]>::try_from(p.get(kl_at..kl_at + 2)?).ok()?) as usize;
    let key = std::str::from_utf8(p.get(kl_at + 2..kl_at + 2 + kl)?).ok()?;
    Some((tree.to_string(), key.to_string(), p.get(kl_at + 2 + kl..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let frames = split([7; 16], 42, 1_700_000_000, &body);
        assert_eq!(frames.len(), 3);
        assert!(frames.iter().all(|f| f.len() <= HEADER_LEN + CHUNK));
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let h = Header::read(f);
            assert_eq!(
                h.map(|h| (h.index, h.count, h.write)),
                Some((i as u16, 3, 42))
            );
            joined.extend_from_slice(&f[HEADER_LEN..]);
        }
        assert_eq!(joined, body);
        assert_eq!(split(PLAIN, 1, 0, &[]).len(), 1);
        assert_eq!(Header::read(b"{\"v\":1}"), None);
    }

    #[test]
    fn plaintext_names_its_place() {
        let p = plaintext("sessions", "terminal:local", b"{}");
        assert_eq!(
            parse_plaintext(&p),
            Some(("sessions".into(), "terminal:local".into(), &b"{}"[..]))
        );
        assert!(is_continuation(&frame_key("k", 1)) && !is_continuation(&frame_key("k", 0)));
    }
}
