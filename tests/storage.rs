//! Storage you can trust with children's data: it always opens, deletes for real, is encrypted
//! at rest, and backs up and restores. Fictional names only.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};

use frontdoor::record::{Caller, Child, ConsentInfo, Record};
use frontdoor::store::backup;
use frontdoor::store::{Store, StoreError, StoreOptions};

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, 0, 0)
        .single()
        .unwrap_or_default()
}

fn record(n: usize, child: &str) -> Record {
    Record {
        reference: format!("FD-20261122-{n:04}"),
        created: at(10).naive_utc(),
        area: None,
        immediate_danger: false,
        completed: true,
        caller: Caller {
            name: "Sam Fictional".into(),
            ..Caller::default()
        },
        child: Child {
            name: child.into(),
            address: "12 Example Road".into(),
            ..Child::default()
        },
        concerns: vec![format!("{child} has been late most mornings")],
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

fn fill(dir: &Path, n: usize) -> Result<(), StoreError> {
    let store = Store::open(dir)?;
    for i in 1..=n {
        store.save_record(&record(i, &format!("Child{i} Fictional")), at(1))?;
    }
    Ok(())
}

fn readable(dir: &Path) -> Result<usize, StoreError> {
    Ok(Store::open(dir)?
        .records()?
        .into_iter()
        .filter(Result::is_ok)
        .count())
}

fn snapshots(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        })
        .collect()
}

fn tmp() -> Result<tempfile::TempDir, StoreError> {
    tempfile::tempdir().map_err(|e| StoreError::io(Path::new("."), e))
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::io(Path::new("test"), e)
}

/// A full disk (or a kill) while sled writes its snapshot at opening leaves a partial
/// `snap.<lsn>.generating`; sled then picks it and refuses every later open. Crafted here the
/// way a full disk leaves it: the snapshot's first bytes, cut short.
#[test]
fn a_partial_snapshot_left_by_a_full_disk_does_not_stop_the_next_start() -> Result<(), StoreError> {
    let dir = tmp()?;
    let data = dir.path().join("data");
    fill(&data, 40)?;
    // Reopen once more so that a snapshot exists, then cut a copy of it short.
    drop(Store::open(&data)?);
    let snap = snapshots(&data)
        .into_iter()
        .max()
        .ok_or_else(|| io(std::io::Error::other("no snapshot")))?;
    let bytes = std::fs::read(&snap).map_err(io)?;
    let partial = PathBuf::from(format!("{}.generating", snap.display()));
    std::fs::write(&partial, &bytes[..bytes.len() / 2]).map_err(io)?;
    assert_eq!(readable(&data)?, 40, "every record, after the next start");
    assert!(!partial.exists());
    Ok(())
}

/// A damaged snapshot (a flipped bit, a torn write on a full disk) is set aside and rebuilt
/// from the log: the next start opens with every record.
#[test]
fn a_damaged_snapshot_is_rebuilt_from_the_log() -> Result<(), StoreError> {
    let dir = tmp()?;
    let data = dir.path().join("data");
    fill(&data, 40)?;
    drop(Store::open(&data)?);
    for snap in snapshots(&data) {
        let mut bytes = std::fs::read(&snap).map_err(io)?;
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(&snap, &bytes).map_err(io)?;
    }
    assert_eq!(readable(&data)?, 40);
    assert!(data.join("set-aside").is_dir(), "kept for diagnosis");
    Ok(())
}

/// A flipped bit in the log: sled drops everything after it. The store says so in one plain
/// line with what to do, and salvage rescues what the files still hold.
#[test]
fn a_flipped_bit_is_named_and_what_can_be_read_is_salvaged() -> Result<(), StoreError> {
    let dir = tmp()?;
    let data = dir.path().join("data");
    fill(&data, 60)?;
    let db = data.join("db");
    let mut bytes = std::fs::read(&db).map_err(io)?;
    let at = bytes.len() / 3;
    bytes[at] ^= 0x10;
    std::fs::write(&db, &bytes).map_err(io)?;
    let (seen, problems) = match Store::open(&data) {
        Ok(store) => (
            store.records()?.into_iter().filter(Result::is_ok).count(),
            store.problems(),
        ),
        Err(e) => (0, vec![e.to_string()]),
    };
    assert!(seen < 60, "the damage loses records in sled ({seen})");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("frontdoor restore"), "{}", problems[0]);
    // The line names the file the readable entries were saved in.
    let rescued = std::fs::read_dir(data.join("set-aside"))
        .map_err(io)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".fdbackup"))
        .ok_or_else(|| io(std::io::Error::other("no rescue file")))?;
    assert!(problems[0].contains(&rescued.display().to_string()));
    let options = StoreOptions::default();
    // Restore into an empty directory with the same master key.
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(&fresh).map_err(io)?;
    std::fs::copy(data.join("master.key"), fresh.join("master.key")).map_err(io)?;
    backup::restore(&fresh, &rescued, &options)?;
    let store = Store::open(&fresh)?;
    assert!(store.records()?.into_iter().filter(Result::is_ok).count() >= 59);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    assert_eq!(
        store.next_reference(day)?,
        "FD-20261122-0061",
        "references are not given out twice"
    );
    Ok(())
}

#[test]
fn backup_and_restore_into_an_empty_directory() -> Result<(), StoreError> {
    let dir = tmp()?;
    let data = dir.path().join("data");
    fill(&data, 5)?;
    let file = dir.path().join("backup.fdbackup");
    {
        let store = Store::open(&data)?;
        store.save_session("terminal:local", &Default::default(), at(1))?;
        store.register_user("telegram:7", "print", at(1))?;
        let summary = store.backup(&file)?;
        assert_eq!((summary.sealed, summary.unreadable), (6, 0));
        assert!(
            store.backup(&file).is_err(),
            "an existing file is not overwritten"
        );
    }
    let raw = std::fs::read(&file).map_err(io)?;
    assert!(raw.starts_with(b"FDBACKUP"));
    assert!(!raw.windows(9).any(|w| w == b"Fictional"), "encrypted");
    // Not into a directory in use, nor with another master key.
    assert!(backup::restore(&data, &file, &StoreOptions::default()).is_err());
    let other = dir.path().join("other");
    let wrong = StoreOptions {
        master: Some(frontdoor::store::keys::MasterKey::generate()),
        encrypt: true,
    };
    assert!(backup::restore(&other, &file, &wrong).is_err());
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(&fresh).map_err(io)?;
    std::fs::copy(data.join("master.key"), fresh.join("master.key")).map_err(io)?;
    let restored = backup::restore(&fresh, &file, &StoreOptions::default())?;
    assert_eq!(restored.sealed, 6);
    let store = Store::open(&fresh)?;
    assert_eq!(store.counts(), (1, 5));
    assert_eq!(
        store
            .record("FD-20261122-0003")?
            .map(|r| r.record.child.name),
        Some("Child3 Fictional".into())
    );
    assert!(store.registration("telegram:7")?.is_some());
    assert!(store
        .load_session("terminal:local", at(2), Duration::hours(24))?
        .is_some());
    Ok(())
}

mod deletion {
    //! After every kind of deletion, nothing about the consultation can be read from the data
    //! directory: not by a raw grep (values are encrypted), and not even by decrypting every
    //! copy sled keeps in its files with the keys that remain (the deleted ones' keys are gone).

    use super::*;
    use frontdoor::app::App;
    use frontdoor::config::Config;
    use frontdoor::dialogue::{sample, Input, Reply};
    use frontdoor::store::keys::{KeyRing, MasterKey};
    use frontdoor::store::recovery;

    const NAMES: [&str; 3] = ["Alex Example", "Sam Fictional", "Example Road"];

    fn app(data: &Path) -> App {
        let config = Config {
            data_dir: data.to_path_buf(),
            ..Config::default()
        };
        App::open(config, at(1)).unwrap_or_else(|e| panic!("app: {e}"))
    }

    fn answers() -> Vec<String> {
        let rules = frontdoor::rules::load_embedded().unwrap_or_else(|e| panic!("{e}"));
        let area = rules.areas().next().unwrap_or_else(|| panic!("an area"));
        sample::answers(area)
    }

    /// Answers the first `n` questions (all of them when `n` is large); the record's reference
    /// if it finished.
    fn consult(app: &App, key: &str, n: usize, now: DateTime<Utc>) -> Option<String> {
        let mut reference = None;
        let _ = app.handle(key, Input::Start, now);
        for a in answers().iter().take(n) {
            let replies = app
                .handle(key, Input::parse(a), now)
                .unwrap_or_else(|e| panic!("step: {e}"));
            for r in replies {
                if let Reply::Finished(rec) = r {
                    reference = Some(rec.reference);
                }
            }
        }
        reference
    }

    /// (raw copies of the names in any file, copies readable by decrypting every frame).
    fn findings(data: &Path) -> (usize, usize) {
        let mut raw = 0;
        let mut stack = vec![data.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let bytes = std::fs::read(&p).unwrap_or_default();
                for name in NAMES {
                    raw += bytes
                        .windows(name.len())
                        .filter(|w| *w == name.as_bytes())
                        .count();
                }
            }
        }
        let master = MasterKey::load_or_create(data).unwrap_or_else(|e| panic!("{e}"));
        let ring = KeyRing::open(data, master).unwrap_or_else(|e| panic!("{e}"));
        let readable = recovery::scan_every_copy(data, &ring)
            .open(&ring)
            .entries
            .iter()
            .filter(|e| {
                NAMES
                    .iter()
                    .any(|n| e.value.windows(n.len()).any(|w| w == n.as_bytes()))
            })
            .count();
        (raw, readable)
    }

    #[test]
    fn records_delete_deletes_the_record_and_its_session() -> Result<(), StoreError> {
        let dir = tmp()?;
        let data = dir.path().join("data");
        let app = app(&data);
        let reference = consult(&app, "terminal:local", 100, at(1));
        let reference = reference.unwrap_or_else(|| panic!("the consultation finished"));
        let (raw, readable) = findings(&data);
        assert_eq!(raw, 0, "encrypted at rest");
        assert!(
            readable >= 2,
            "record and session readable before ({readable})"
        );
        assert!(app.store().delete_record(&reference)?);
        assert_eq!(findings(&data), (0, 0));
        assert_eq!(app.store().counts(), (0, 0));
        Ok(())
    }

    #[test]
    fn purging_old_records_and_idle_sessions() -> Result<(), StoreError> {
        let dir = tmp()?;
        let data = dir.path().join("data");
        let app = app(&data);
        assert!(consult(&app, "a", 100, at(1)).is_some());
        consult(&app, "b", 12, at(1));
        assert!(findings(&data).1 >= 3);
        app.purge(at(1) + Duration::days(31))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(findings(&data), (0, 0));
        Ok(())
    }

    #[test]
    fn cancel_destroys_the_answers_so_far() -> Result<(), StoreError> {
        let dir = tmp()?;
        let data = dir.path().join("data");
        let app = app(&data);
        consult(&app, "terminal:local", 12, at(1));
        let before = findings(&data).1;
        assert!(
            before > 1,
            "sled keeps a copy per step ({before}), readable while the key lives"
        );
        // /cancel asks first; "yes" deletes.
        for line in ["/cancel", "yes"] {
            app.handle("terminal:local", Input::parse(line), at(1))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(findings(&data), (0, 0));
        Ok(())
    }

    #[test]
    fn an_expired_session_is_destroyed() -> Result<(), StoreError> {
        let dir = tmp()?;
        let data = dir.path().join("data");
        let app = app(&data);
        consult(&app, "terminal:local", 12, at(1));
        let before = findings(&data).1;
        assert!(
            before > 1,
            "sled keeps a copy per step ({before}), readable while the key lives"
        );
        app.handle("terminal:local", Input::Start, at(1) + Duration::hours(25))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(findings(&data), (0, 0));
        Ok(())
    }

    /// What a chat front end keeps of a chat (its live buttons, the question last shown) goes
    /// with the chat's session, by each kind of deletion, and the steps' delivery marks are
    /// saved with them. The state saved here holds a fictional name, so that a copy of it
    /// left readable would be found.
    #[test]
    fn a_chats_state_goes_with_its_session() -> Result<(), StoreError> {
        for kind in ["cancel", "delete", "expiry"] {
            let dir = tmp()?;
            let data = dir.path().join("data");
            let app = app(&data);
            let key = "telegram:42";
            let finish = if kind == "delete" { 100 } else { 12 };
            let mut reference = None;
            for (n, a) in answers().iter().take(finish).enumerate() {
                let mark = format!("telegram:1:update:{n}");
                let replies = app
                    .handle_delivered(key, Input::parse(a), at(1), Some(&mark))
                    .unwrap_or_else(|e| panic!("step: {e}"));
                assert_eq!(
                    app.store().delivery(&mark)?,
                    Some(frontdoor::store::Delivery::Saved)
                );
                for r in replies {
                    if let Reply::Finished(rec) = r {
                        reference = Some(rec.reference);
                    }
                }
                app.store()
                    .save_chat_state(key, Some(&(n, NAMES[0])), at(1))?;
            }
            app.store().flush()?;
            assert!(findings(&data).1 > 1, "{kind}: readable before");
            match kind {
                "cancel" => {
                    for line in ["/cancel", "yes"] {
                        app.handle(key, Input::parse(line), at(1))
                            .unwrap_or_else(|e| panic!("{e}"));
                    }
                }
                "delete" => {
                    let r = reference.clone().unwrap_or_else(|| panic!("finished"));
                    assert!(app.store().delete_record(&r)?);
                }
                _ => {
                    app.purge(at(1) + Duration::hours(25))
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            }
            assert_eq!(
                app.store().chat_state::<(usize, String)>(key)?,
                None,
                "{kind}"
            );
            assert_eq!(findings(&data), (0, 0), "{kind}");
        }
        Ok(())
    }

    #[test]
    fn a_new_consultation_after_a_finished_one_destroys_the_old_session() -> Result<(), StoreError>
    {
        let dir = tmp()?;
        let data = dir.path().join("data");
        let app = app(&data);
        let reference =
            consult(&app, "terminal:local", 100, at(1)).unwrap_or_else(|| panic!("finished"));
        app.handle("terminal:local", Input::parse("hello"), at(2))
            .unwrap_or_else(|e| panic!("{e}"));
        // Only the record can still be read, and it goes with its deletion.
        assert_eq!(findings(&data).1, 1);
        assert!(app.store().delete_record(&reference)?);
        assert_eq!(findings(&data), (0, 0));
        Ok(())
    }
}
