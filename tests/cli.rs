//! The command line around the stored data, through the built binary: records while a chat
//! holds the store, backups, logs at the most verbose level, bad bytes and a closed output.
//! Fictional names only.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use frontdoor::dialogue::sample;

fn frontdoor(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_frontdoor"));
    c.env("FRONTDOOR_DATA_DIR", data)
        .env_remove("FRONTDOOR_AREA")
        .env_remove("FRONTDOOR_DATA_KEY")
        .env_remove("RUST_LOG")
        .current_dir(data.parent().unwrap_or(data));
    c
}

fn answers() -> Vec<String> {
    let rules = frontdoor::rules::load_embedded().expect("rules");
    let area = rules.areas().next().expect("an area");
    sample::answers(area)
}

fn chat(data: &Path, input: &[u8], env: &[(&str, &str)]) -> Output {
    let mut c = frontdoor(data);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("the binary ends")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn reference(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("Reference: "))
        .and_then(|l| l.split('.').next())
        .expect("a reference")
        .to_string()
}

/// A chat that keeps running (its input stays open) until dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[test]
fn records_commands_work_while_a_chat_holds_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let out = chat(&data, (answers().join("\n") + "\n").as_bytes(), &[]);
    let reference = reference(&text(&out.stdout));
    let running = Running(
        frontdoor(&data)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("a chat"),
    );
    let socket = data.join("records.sock");
    let started = Instant::now();
    while !socket.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let list = frontdoor(&data)
        .args(["records", "list"])
        .output()
        .expect("list");
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert!(
        text(&list.stdout).contains(&reference),
        "{}",
        text(&list.stdout)
    );
    // The command the chat suggests, answered by the running chat.
    let export = frontdoor(&data)
        .args(["records", "export", &reference, "--format", "md"])
        .output()
        .expect("export");
    assert!(export.status.success(), "{}", text(&export.stderr));
    assert!(text(&export.stderr).is_empty(), "{}", text(&export.stderr));
    assert!(text(&export.stdout).contains(&reference));
    let missing = frontdoor(&data)
        .args(["records", "show", "FD-20000101-9999"])
        .output()
        .expect("show");
    assert!(!missing.status.success());
    let err = text(&missing.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("no record FD-20000101-9999"), "{err}");
    let delete = frontdoor(&data)
        .args(["records", "delete", &reference])
        .output()
        .expect("delete");
    assert!(delete.status.success(), "{}", text(&delete.stderr));
    drop(running);
    assert!(!socket.exists(), "the socket goes with the process");
    let list = frontdoor(&data)
        .args(["records", "list"])
        .output()
        .expect("list");
    assert!(
        text(&list.stdout).contains("No records"),
        "{}",
        text(&list.stdout)
    );
}

#[test]
fn the_most_verbose_logs_print_no_personal_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let input = answers().join("\n") + "\n/cancel\n";
    let out = chat(&data, input.as_bytes(), &[("RUST_LOG", "trace")]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let reference = reference(&stdout);
    let logs = text(&out.stderr);
    assert!(logs.contains("TRACE"), "logging is on at trace: {logs}");
    let list = frontdoor(&data)
        .args(["records", "show", &reference])
        .env("RUST_LOG", "trace")
        .output()
        .expect("show");
    assert!(text(&list.stdout).contains("Alex Example"));
    let logs = logs + &text(&list.stderr);
    for name in [
        "Alex Example",
        "Sam Fictional",
        "Example Road",
        "Example Primary",
        "01632",
    ] {
        assert!(stdout.contains(name), "{name} was typed");
        assert!(!logs.contains(name), "{name} in the logs:\n{logs}");
    }
}

#[test]
fn invalid_utf8_is_asked_again_and_control_characters_are_not_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let all = answers();
    let name = all
        .iter()
        .position(|a| a == "Sam Fictional")
        .expect("the sample answers give the caller's name");
    let mut input = Vec::new();
    for (i, a) in all.iter().enumerate() {
        if i == name {
            // Invalid UTF-8 in place of the caller's name, then the name with an ANSI colour,
            // a NUL and a bidi override.
            input.extend_from_slice(b"Sam \xff\xfe Fictional\n");
            input.extend_from_slice("\u{1b}[31mSam\u{1b}[0m Fic\u{0}tional\u{202e}\n".as_bytes());
            continue;
        }
        input.extend_from_slice(a.as_bytes());
        input.push(b'\n');
    }
    let out = chat(&data, &input, &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("not valid text"), "{stdout}");
    let reference = reference(&stdout);
    let show = frontdoor(&data)
        .args(["records", "show", &reference])
        .output()
        .expect("show");
    let shown = text(&show.stdout);
    assert!(shown.contains("Sam Fictional"), "{shown}");
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{0}') && !shown.contains('\u{202e}'),
        "{shown:?}"
    );
}

#[test]
fn a_bad_line_in_a_jsonl_batch_is_reported_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut child = frontdoor(&data)
        .args(["assess", "--area", "warwickshire", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("assess");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"{\"id\":\"a\",\"text\":\"late to school\"}\n{\"id\":\"b\",\"text\":\"\xff\xfe\"}\n{\"id\":\"c\",\"text\":\"hungry\"}\n")
        .expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("assess ends");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].contains("\"line\":2") && lines[1].contains("UTF-8"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("\"id\":\"c\""), "{}", lines[2]);
}

#[test]
fn a_closed_output_ends_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut child = frontdoor(&data)
        .args(["rules", "export"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rules export");
    // Read a little, then close the pipe, as `| head -1` does.
    let mut first = [0u8; 16];
    let mut stdout = child.stdout.take().expect("stdout");
    let _ = stdout.read(&mut first);
    drop(stdout);
    let out = child.wait_with_output().expect("ends");
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert!(out.status.success(), "{err}");
}

#[test]
fn backup_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let out = chat(&data, (answers().join("\n") + "\n").as_bytes(), &[]);
    let reference = reference(&text(&out.stdout));
    let file = dir.path().join("backup.fdbackup");
    let b = frontdoor(&data)
        .arg("backup")
        .arg(&file)
        .output()
        .expect("backup");
    assert!(b.status.success(), "{}", text(&b.stderr));
    // Not into a directory with data in it.
    let r = frontdoor(&data)
        .arg("restore")
        .arg(&file)
        .output()
        .expect("restore");
    assert!(!r.status.success());
    assert_eq!(text(&r.stderr).lines().count(), 1, "{}", text(&r.stderr));
    // Into an empty one that has the master key.
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(&fresh).expect("dir");
    std::fs::copy(data.join("master.key"), fresh.join("master.key")).expect("copy key");
    let r = frontdoor(&fresh)
        .arg("restore")
        .arg(&file)
        .output()
        .expect("restore");
    assert!(r.status.success(), "{}", text(&r.stderr));
    let show = frontdoor(&fresh)
        .args(["records", "show", &reference])
        .output()
        .expect("show");
    assert!(text(&show.stdout).contains("Alex Example"));
}

#[test]
fn records_commands_while_the_store_is_held_without_a_service_say_so_in_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // This test holds the store, as a process that serves no records commands would.
    let store = frontdoor::store::Store::open_with(&data, &Default::default()).expect("store");
    let export = frontdoor(&data)
        .args(["records", "export", "FD-20261124-0001", "--format", "md"])
        .output()
        .expect("export");
    drop(store);
    assert!(!export.status.success());
    assert!(export.stdout.is_empty());
    let err = text(&export.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("held by another frontdoor process"), "{err}");
    assert!(err.contains("/export"), "{err}");
    assert!(
        !err.contains("WouldBlock") && !err.contains("sled") && !err.contains("lock"),
        "no raw storage error: {err}"
    );
}
