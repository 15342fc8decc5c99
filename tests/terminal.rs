//! The terminal chat through the built binary: piped stdin, a temporary data directory.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use frontdoor::dialogue::sample;

/// Runs `frontdoor` with `input` on stdin; returns (success, stdout).
fn run(data: &Path, input: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdoor"))
        .env("FRONTDOOR_DATA_DIR", data)
        .env_remove("FRONTDOOR_AREA")
        .current_dir(data.parent().unwrap_or(data))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("the binary ends");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), stdout)
}

fn answers() -> Vec<String> {
    let rules = frontdoor::rules::load_embedded().expect("rules");
    let area = rules.areas().next().expect("an area");
    sample::answers(area)
}

#[test]
fn a_full_consultation_in_the_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // The outcome fits one screen; the full record is on /record.
    let input = answers().join("\n") + "\n/record\n";
    let (_, out) = run(&data, &input);
    let first_question = out
        .lines()
        .find(|l| l.starts_with('['))
        .expect("a question");
    assert!(
        first_question.contains("immediate danger") && first_question.contains("999"),
        "{first_question}"
    );
    assert!(out.contains("Consultation record FD-"), "{out}");
    assert!(out.contains("does not replace"));
    // The record is in the store, listed by `records list` and exported by reference.
    let reference = out
        .lines()
        .find_map(|l| l.strip_prefix("Reference: "))
        .and_then(|l| l.split('.').next())
        .expect("a reference")
        .to_string();
    let list = Command::new(env!("CARGO_BIN_EXE_frontdoor"))
        .args(["records", "list"])
        .env("FRONTDOOR_DATA_DIR", &data)
        .output()
        .expect("records list");
    assert!(String::from_utf8_lossy(&list.stdout).contains(&reference));
    for format in ["md", "txt", "json"] {
        let export = Command::new(env!("CARGO_BIN_EXE_frontdoor"))
            .args(["records", "export", &reference, "--format", format])
            .env("FRONTDOOR_DATA_DIR", &data)
            .output()
            .expect("records export");
        assert!(export.status.success());
        assert!(
            String::from_utf8_lossy(&export.stdout).contains("Sam Fictional"),
            "{format}"
        );
    }
}

#[test]
fn a_restart_resumes_at_the_same_question_with_answers_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let all = answers();
    let (first, rest) = all.split_at(10);
    let (_, out) = run(&data, &(first.join("\n") + "\n"));
    let last_question = out
        .lines()
        .rfind(|l| l.starts_with('['))
        .expect("a question")
        .to_string();
    assert!(out.contains("Your answers are saved"));
    // Stopped and started again with no input: the same question.
    let (_, out) = run(&data, "");
    assert!(out.contains("Welcome back"), "{out}");
    let resumed = out
        .lines()
        .find(|l| l.starts_with('['))
        .expect("a question");
    assert_eq!(resumed, last_question);
    // The rest of the answers finish the consultation, with the earlier answers in the record.
    let (_, out) = run(&data, &(rest.join("\n") + "\n/record\n"));
    assert!(out.contains("Consultation record FD-"), "{out}");
    assert!(
        out.contains("Name: Sam Fictional") && out.contains("Name: Alex Example"),
        "{out}"
    );
}

#[test]
fn a_piped_concern_of_5000_characters_is_stored_whole() {
    use frontdoor::app::App;
    use frontdoor::config::Config;
    use frontdoor::terminal::{self, Ended, Options};

    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let now = chrono::Utc::now();
    let app = App::open(config.clone(), now).expect("app");
    // Past the 4,095 bytes a terminal's line buffer holds in canonical mode.
    let sentence = "Alex has been late most mornings this term and says she is tired and hungry. ";
    let concern: String = sentence.repeat(5000 / sentence.len() + 1)[..5000]
        .trim_end()
        .to_string();
    assert!(concern.chars().count() > 4990);
    let input = format!("no\nmedway\n{concern}\n");
    let mut out = Vec::new();
    let ended = terminal::run(
        &app,
        "terminal:test",
        input.as_bytes(),
        &mut out,
        Options { echo: true },
        || now,
    )
    .expect("the chat runs");
    assert_eq!(ended, Ended::Input);
    let said = String::from_utf8_lossy(&out);
    assert!(
        said.contains("(End of input. Your answers are saved"),
        "{said}"
    );
    let session = app
        .store()
        .load_session("terminal:test", now, config.session_idle())
        .expect("store")
        .expect("a session");
    assert_eq!(session.concerns.messages, vec![concern]);
}
