use super::*;
use crate::dialogue::Session;
use chrono::{NaiveDate, TimeZone};

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, 0, 0)
        .single()
        .unwrap_or_default()
}

fn temp() -> Result<tempfile::TempDir, StoreError> {
    tempfile::tempdir().map_err(|e| StoreError::io(Path::new("tmp"), e))
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// The step that finishes a consultation: its record and session saved together.
fn save_finished(
    store: &Store,
    record: &Record,
    key: &str,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store.save_step(
        &Step {
            key,
            session,
            record: Some(record),
            new_consultation: false,
            delivered: None,
        },
        now,
    )
}

fn session_named(name: &str) -> Session {
    let mut s = Session {
        area: Some("exampleshire".into()),
        ..Session::default()
    };
    s.answers.insert(
        "child_name".into(),
        crate::dialogue::engine::Answer::Text(name.into()),
    );
    s
}

fn record_named(reference: &str, child: &str) -> Record {
    use crate::record::{Caller, Child, ConsentInfo};
    Record {
        reference: reference.into(),
        created: at(10).naive_utc(),
        area: None,
        immediate_danger: false,
        completed: true,
        caller: Caller::default(),
        child: Child {
            name: child.into(),
            ..Child::default()
        },
        concerns: vec![format!("{child} is often late")],
        indicators: vec![],
        follow_ups: vec![],
        other_children: vec![],
        strengths: String::new(),
        consent: ConsentInfo::default(),
        outcome: None,
        numbers: vec![],
        call_now_reason: String::new(),
        next_steps: vec![],
    }
}

#[test]
fn sessions_round_trip_and_expire() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    let s = Session {
        area: Some("exampleshire".into()),
        ..Session::default()
    };
    store.save_session("terminal:local", &s, at(1))?;
    assert_eq!(
        store.load_session("terminal:local", at(2), Duration::hours(24))?,
        Some(s.clone())
    );
    assert_eq!(store.key_count(), 1);
    assert_eq!(
        store.load_session(
            "terminal:local",
            at(1) + Duration::hours(25),
            Duration::hours(24)
        )?,
        None
    );
    assert_eq!(
        store.load_session("terminal:local", at(2), Duration::hours(24))?,
        None,
        "expired sessions are removed"
    );
    assert_eq!(store.key_count(), 0, "and their keys destroyed");
    Ok(())
}

#[test]
fn references_are_monotonic_and_survive_reopening() -> Result<(), StoreError> {
    let dir = temp()?;
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    {
        let store = Store::open(dir.path())?;
        assert_eq!(store.next_reference(day)?, "FD-20261122-0001");
        assert_eq!(store.next_reference(day)?, "FD-20261122-0002");
    }
    let store = Store::open(dir.path())?;
    assert_eq!(store.next_reference(day)?, "FD-20261122-0003");
    Ok(())
}

#[test]
fn newer_versions_are_refused_not_misread() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    let mut batch = Batch::new();
    batch.put_sealed(
        SESSIONS,
        "k",
        at(1),
        br#"{"v": 99, "saved": "2026-11-22T01:00:00Z", "data": {}}"#.to_vec(),
    );
    batch.put_sealed(
        SESSIONS,
        "old",
        at(1),
        br#"{"v": 1, "saved": "2026-11-22T01:00:00Z", "data": {"area": "x"}}"#.to_vec(),
    );
    store.apply(batch)?;
    assert!(matches!(
        store.load_session("k", at(2), Duration::hours(24)),
        Err(StoreError::NewerVersion { found: 99, .. })
    ));
    // An old envelope missing new fields still loads (fields default).
    assert_eq!(
        store
            .load_session("old", at(2), Duration::hours(24))?
            .and_then(|s| s.area),
        Some("x".into())
    );
    Ok(())
}

#[test]
fn owners_registrations_and_deliveries() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    assert_eq!(store.registration("telegram:7")?, None);
    store.register_user("telegram:7", "abc123", at(1))?;
    assert_eq!(
        store.registration("telegram:7")?.map(|r| r.code),
        Some("abc123".into())
    );
    assert_eq!(store.delivery("telegram:update:1")?, None);
    store.mark_replied("telegram:update:1", at(1))?;
    assert_eq!(
        store.delivery("telegram:update:1")?,
        Some(Delivery::Replied)
    );
    assert_eq!(store.delivery("telegram:update:2")?, None);
    store.purge(
        at(1) + Duration::hours(49),
        Duration::hours(24),
        Duration::days(30),
    )?;
    assert_eq!(
        store.delivery("telegram:update:1")?,
        None,
        "old delivery marks are purged"
    );
    assert_eq!(store.records_owned_by("telegram:7")?, Vec::<String>::new());
    assert_eq!(store.record_owner("FD-20261122-0001")?, None);
    Ok(())
}

#[test]
fn purge_removes_only_what_is_old() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    store.save_session("old", &Session::default(), at(0))?;
    store.save_session("new", &Session::default(), at(0) + Duration::hours(30))?;
    let purged = store.purge(
        at(0) + Duration::hours(31),
        Duration::hours(24),
        Duration::days(30),
    )?;
    assert_eq!(
        purged,
        Purged {
            sessions: 1,
            records: 0
        }
    );
    assert_eq!(store.counts().0, 1);
    assert_eq!(store.key_count(), 1);
    assert!(store.last_purge()?.is_some());
    Ok(())
}

#[test]
fn deleting_a_record_deletes_its_session_and_makes_both_unreadable() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    let name = "Zebedee Fictionalchild";
    let record = record_named("FD-20261122-0001", name);
    let mut session = session_named(name);
    session.finished = Some(record.reference.clone());
    save_finished(&store, &record, "telegram:5", &session, at(1))?;
    // Another chat's session with another child stays.
    store.save_session("telegram:6", &session_named("Other Child"), at(1))?;
    store.flush()?;
    assert!(!files_containing(dir.path(), name).is_empty() || store.encrypted());
    assert!(store.record("FD-20261122-0001")?.is_some());
    assert!(store.delete_record("FD-20261122-0001")?);
    assert!(store.record("FD-20261122-0001")?.is_none());
    assert_eq!(
        store.load_session("telegram:5", at(2), Duration::hours(24))?,
        None,
        "the session that made the record is deleted with it"
    );
    assert!(store
        .load_session("telegram:6", at(2), Duration::hours(24))?
        .is_some());
    assert_eq!(store.key_count(), 1);
    assert_eq!(store.record_owner("FD-20261122-0001")?, None);
    Ok(())
}

#[test]
fn nothing_personal_is_stored_in_plain_text() -> Result<(), StoreError> {
    let dir = temp()?;
    let name = "Quillon Fictionalname";
    {
        let store = Store::open(dir.path())?;
        let record = record_named("FD-20261122-0001", name);
        save_finished(
            &store,
            &record,
            "terminal:local",
            &session_named(name),
            at(1),
        )?;
        store.flush()?;
        assert!(store.record("FD-20261122-0001")?.is_some());
    }
    assert_eq!(files_containing(dir.path(), name), Vec::<String>::new());
    // Without encryption (only for measuring), the same would be readable: the check can fail.
    let plain = temp()?;
    let store = Store::open_with(
        plain.path(),
        &StoreOptions {
            master: None,
            encrypt: false,
        },
    )?;
    store.save_record(&record_named("FD-20261122-0001", name), at(1))?;
    store.flush()?;
    assert!(!files_containing(plain.path(), name).is_empty());
    Ok(())
}

#[test]
fn a_long_consultation_never_makes_sled_write_blob_files() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    // 25 sessions of about 300 KB each, saved several times: without frames, sled writes each
    // page over ~128 KiB to a blob file and leaks the old ones.
    let long = "a long account of what happened, kept whole. ".repeat(6_500);
    for round in 0..3 {
        for n in 0..25 {
            let mut s = session_named("Blob Fictional");
            s.concerns.messages = vec![format!("{round} {long}")];
            store.save_session(&format!("k{n}"), &s, at(1))?;
        }
    }
    let back = store.load_session("k3", at(2), Duration::hours(24))?;
    assert_eq!(
        back.map(|s| s.concerns.messages),
        Some(vec![format!("2 {long}")])
    );
    let blobs = std::fs::read_dir(dir.path().join("blobs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(blobs, 0, "no blob files");
    Ok(())
}

#[test]
fn frames_left_over_from_a_longer_value_are_removed() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    let mut s = session_named("Frame Fictional");
    s.concerns.messages = vec!["x".repeat(20_000)];
    store.save_session("k", &s, at(1))?;
    s.concerns.messages = vec!["short".into()];
    store.save_session("k", &s, at(1))?;
    assert_eq!(store.db().raw(SESSIONS)?.len(), 1);
    assert_eq!(store.load_session("k", at(1), Duration::hours(1))?, Some(s));
    Ok(())
}

#[test]
fn values_stored_in_plain_text_by_an_earlier_version_are_sealed_on_opening(
) -> Result<(), StoreError> {
    let dir = temp()?;
    let name = "Legacy Fictionalname";
    {
        let store = Store::open(dir.path())?;
        let envelope = encode(
            RECORD_VERSION,
            at(1),
            &record_named("FD-20261122-0009", name),
        )?;
        store
            .db()
            .insert_raw(RECORDS, b"FD-20261122-0009", &envelope)?;
        assert!(store.record("FD-20261122-0009")?.is_some(), "still read");
    }
    let store = Store::open(dir.path())?;
    assert!(store
        .db()
        .header(RECORDS, "FD-20261122-0009")?
        .is_some_and(|h| h.sealed()));
    assert_eq!(
        store
            .record("FD-20261122-0009")?
            .map(|r| r.record.child.name),
        Some(name.to_string())
    );
    Ok(())
}

#[test]
fn a_value_moved_to_another_key_or_altered_does_not_open() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    store.save_record(&record_named("FD-20261122-0001", "Moved Fictional"), at(1))?;
    let raw = store
        .db()
        .get(RECORDS, b"FD-20261122-0001")?
        .unwrap_or_default();
    store.db().insert_raw(RECORDS, b"FD-20261122-0002", &raw)?;
    assert!(matches!(
        store.record("FD-20261122-0002"),
        Err(StoreError::Unreadable { .. })
    ));
    let mut altered = raw.clone();
    if let Some(b) = altered.last_mut() {
        *b ^= 1;
    }
    store
        .db()
        .insert_raw(RECORDS, b"FD-20261122-0001", &altered)?;
    assert!(matches!(
        store.record("FD-20261122-0001"),
        Err(StoreError::Unreadable { .. })
    ));
    let listed = store.records()?;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(Result::is_err));
    Ok(())
}

#[test]
fn orphan_keys_are_destroyed_on_opening() -> Result<(), StoreError> {
    let dir = temp()?;
    {
        let store = Store::open(dir.path())?;
        store.save_session("k", &Session::default(), at(1))?;
        // A key written but whose value never was (a crash in between).
        if let Some(r) = store.ring().as_mut() {
            r.create()?;
        }
        assert_eq!(store.key_count(), 2);
    }
    let store = Store::open(dir.path())?;
    assert_eq!(store.key_count(), 1);
    Ok(())
}

#[test]
fn a_missing_key_file_is_reported_not_ignored() -> Result<(), StoreError> {
    let dir = temp()?;
    {
        let store = Store::open(dir.path())?;
        store.save_session("k", &Session::default(), at(1))?;
    }
    std::fs::remove_file(dir.path().join(keys::KEYS_FILE))
        .map_err(|e| StoreError::io(dir.path(), e))?;
    let err = Store::open(dir.path()).err().map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("keys: is missing")),
        "{err:?}"
    );
    Ok(())
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_private() -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp()?;
    let data = dir.path().join("data");
    let store = Store::open(&data)?;
    store.save_session("k", &Session::default(), at(1))?;
    drop(store);
    let store = Store::open(&data)?;
    drop(store);
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default()
    };
    assert_eq!(mode(&data), 0o700);
    for entry in std::fs::read_dir(&data).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_file() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    Ok(())
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        total += if p.is_dir() {
            dir_size(&p)
        } else {
            entry.metadata().map(|m| m.len()).unwrap_or(0)
        };
    }
    total
}

#[test]
fn purging_gives_the_space_back() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    let long = "what happened, in the caller's words. ".repeat(400);
    for n in 0..60 {
        let mut s = session_named("Space Fictional");
        for step in 0..8 {
            s.concerns.messages.push(format!("{step} {long}"));
            store.save_session(&format!("k{n}"), &s, at(1))?;
        }
    }
    store.save_session("kept", &session_named("Kept Fictional"), at(20))?;
    let full = dir_size(dir.path());
    let purged = store.purge(at(20), Duration::hours(2), Duration::days(30))?;
    assert_eq!(purged.sessions, 60);
    let after = dir_size(dir.path());
    assert!(
        after * 4 < full,
        "the directory shrinks after a purge: {full} -> {after} bytes"
    );
    assert!(dir.path().join(recovery::POINTER).exists());
    // Everything still works, now and after reopening.
    store.save_session("new", &Session::default(), at(20))?;
    assert!(store
        .load_session("kept", at(20), Duration::hours(2))?
        .is_some());
    drop(store);
    let store = Store::open(dir.path())?;
    assert_eq!(store.counts().0, 2);
    assert!(store
        .load_session("new", at(20), Duration::hours(2))?
        .is_some());
    assert_eq!(store.key_count(), 2);
    Ok(())
}

#[test]
fn a_step_and_its_delivery_mark_are_one_write() -> Result<(), StoreError> {
    let dir = temp()?;
    let s = Session {
        area: Some("medway".into()),
        ..Session::default()
    };
    {
        let store = Store::open(dir.path())?;
        assert_eq!(store.delivery("telegram:1:update:5")?, None);
        store.save_step(
            &Step {
                key: "telegram:9",
                session: &s,
                record: None,
                new_consultation: false,
                delivered: Some("telegram:1:update:5"),
            },
            at(1),
        )?;
        assert_eq!(
            store.delivery("telegram:1:update:5")?,
            Some(Delivery::Saved)
        );
    }
    // Reopened (as after a crash): both are there.
    let store = Store::open(dir.path())?;
    assert_eq!(
        store
            .load_session("telegram:9", at(2), Duration::hours(24))?
            .and_then(|s| s.area),
        Some("medway".into())
    );
    assert_eq!(
        store.delivery("telegram:1:update:5")?,
        Some(Delivery::Saved)
    );
    store.mark_replied("telegram:1:update:5", at(1))?;
    store.mark_replied("telegram:1:update:6", at(1))?;
    assert_eq!(
        store.delivery("telegram:1:update:6")?,
        Some(Delivery::Replied)
    );
    store.purge(
        at(1) + Duration::hours(49),
        Duration::hours(24),
        Duration::days(30),
    )?;
    assert_eq!(store.delivery("telegram:1:update:5")?, None);
    Ok(())
}

#[test]
fn a_finishing_step_saves_the_record_its_owner_and_the_mark_together() -> Result<(), StoreError> {
    let dir = temp()?;
    let reference = "FD-20261122-0001";
    let mut session = session_named("Fictional Finch");
    session.finished = Some(reference.into());
    let record = record_named(reference, "Fictional Finch");
    {
        let store = Store::open(dir.path())?;
        store.save_step(
            &Step {
                key: "telegram:9",
                session: &session,
                record: Some(&record),
                new_consultation: false,
                delivered: Some("telegram:1:update:7"),
            },
            at(1),
        )?;
    }
    let store = Store::open(dir.path())?;
    assert!(store.record(reference)?.is_some());
    assert_eq!(
        store.record_owner(reference)?.as_deref(),
        Some("telegram:9")
    );
    assert_eq!(
        store.delivery("telegram:1:update:7")?,
        Some(Delivery::Saved)
    );
    Ok(())
}

#[test]
fn chat_states_round_trip_and_expire() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    store.save_chat_state("telegram:9", Some(&(41, "q")), at(1))?;
    store.save_chat_state("telegram:8", Some(&(40, "r")), at(5))?;
    assert_eq!(
        store.chat_state::<(i32, String)>("telegram:9")?,
        Some((41, "q".into()))
    );
    assert_eq!(
        store.purge_chat_states(at(1) + Duration::hours(25), Duration::hours(24))?,
        1
    );
    assert_eq!(store.chat_state::<(i32, String)>("telegram:9")?, None);
    store.save_chat_state::<(i32, String)>("telegram:8", None, at(6))?;
    assert_eq!(store.chat_state::<(i32, String)>("telegram:8")?, None);
    Ok(())
}

/// A chat's state holds a fingerprint of what the caller described: it is sealed, and goes
/// (its key destroyed) with the session under the same key, however that session is deleted.
#[test]
fn a_chat_state_is_sealed_and_deleted_with_its_session() -> Result<(), StoreError> {
    let dir = temp()?;
    let store = Store::open(dir.path())?;
    let secret = "Fictional Wren";
    let state = |k: &str| -> Result<Option<String>, StoreError> { store.chat_state::<String>(k) };

    // Expiry (a purge, or loading an idle session).
    store.save_session("telegram:1", &session_named("A"), at(1))?;
    store.save_chat_state("telegram:1", Some(&secret), at(1))?;
    store.save_session("telegram:2", &session_named("B"), at(1))?;
    store.save_chat_state("telegram:2", Some(&secret), at(1))?;
    store.flush()?;
    assert!(
        files_containing(dir.path(), secret).is_empty(),
        "chat states are sealed"
    );
    let p = store.purge(
        at(1) + Duration::hours(25),
        Duration::hours(24),
        Duration::days(30),
    )?;
    assert_eq!(p.sessions, 2);
    assert_eq!(state("telegram:1")?, None);
    assert_eq!(state("telegram:2")?, None);

    store.save_session("telegram:3", &session_named("C"), at(1))?;
    store.save_chat_state("telegram:3", Some(&secret), at(1))?;
    assert_eq!(
        store.load_session(
            "telegram:3",
            at(1) + Duration::hours(25),
            Duration::hours(24)
        )?,
        None
    );
    assert_eq!(state("telegram:3")?, None);

    // A new consultation (/cancel, or after a finished one).
    store.save_session("telegram:4", &session_named("D"), at(1))?;
    store.save_chat_state("telegram:4", Some(&secret), at(1))?;
    store.save_step(
        &Step {
            key: "telegram:4",
            session: &Session::default(),
            record: None,
            new_consultation: true,
            delivered: None,
        },
        at(2),
    )?;
    assert_eq!(state("telegram:4")?, None);

    // Deleting the record deletes the finished session and the chat's state.
    let reference = "FD-20261122-0009";
    let mut finished = session_named("E");
    finished.finished = Some(reference.into());
    let record = record_named(reference, "Fictional Heron");
    save_finished(&store, &record, "telegram:5", &finished, at(1))?;
    store.save_chat_state("telegram:5", Some(&secret), at(1))?;
    assert!(store.delete_record(reference)?);
    assert_eq!(state("telegram:5")?, None);

    // An invite lock-out is not a chat's state and survives the chat's deletions.
    store.save_chat_state("invite-attempts:telegram:5", Some(&"3"), at(1))?;
    store.delete_session("telegram:5")?;
    assert_eq!(state("invite-attempts:telegram:5")?, Some("3".to_string()));

    // And the old copies sled keeps are unreadable: their keys are gone. Left: the session of
    // the new consultation in telegram:4 and the lock-out.
    assert_eq!(store.key_count(), 2);
    Ok(())
}
