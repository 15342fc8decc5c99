//! What the front ends keep: sessions, records and who made them, references, registrations,
//! and retention (delivery marks and chat states included).

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{
    decode, encode, migrate_record, migrate_session, Batch, EnvelopeHeader, Purged, Registration,
    Store, StoreError, StoredRecord, CHATS, COUNTER_KEY, DELIVERED, DELIVERY_KEPT, LAST_PURGE_KEY,
    META, OWNERS, RECORDS, RECORD_VERSION, REGISTRATION_VERSION, SESSIONS, SESSION_VERSION, USERS,
};
use crate::dialogue::Session;
use crate::record::Record;

impl Store {
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

    /// Deletes a session, and the chat state kept under the same key: removed and their keys
    /// destroyed.
    pub fn delete_session(&self, key: &str) -> Result<bool, StoreError> {
        let existed = self.db().header(SESSIONS, key)?.is_some()
            || self.db().get(SESSIONS, key.as_bytes())?.is_some();
        let mut batch = Batch::new();
        batch.remove(SESSIONS, key).remove(CHATS, key);
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

    /// Deletes a record, and the session that made it (with its chat state) when that session
    /// has not moved on to another consultation: all removed, their keys destroyed. Returns
    /// whether it existed.
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
                batch.remove(SESSIONS, &owner).remove(CHATS, &owner);
            }
        }
        batch.remove(OWNERS, reference);
        self.apply(batch)?;
        Ok(existed)
    }

    /// Removes sessions idle longer than `idle` (with their chat states) and records older than
    /// `retention`, destroying their keys (in one rewrite of the key file).
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
                    } else {
                        // The chat state of an expired session goes with it.
                        batch.remove(CHATS, &key);
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
