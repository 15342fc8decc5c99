//! The safety floor: meanings that always lift the outcome to child protection.
//!
//! The model decides the tier; red flags only ever raise it. A flag is data (`redflags.toml`):
//! groups of words and phrases that must all appear, outside a negation, within one sentence or
//! two consecutive ones, with none of its `unless` phrases there. A flag that fires shows its name
//! and the caller's words that made it fire.

use std::ops::Range;
use std::sync::OnceLock;

use serde::Deserialize;

use super::text::{Reader, Text};

/// The red flags compiled into the binary.
pub const RED_FLAGS: &str = include_str!("redflags.toml");

/// How many consecutive sentences a flag may draw its words from.
const WINDOW: usize = 2;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagsFile {
    red_flag: Vec<FlagSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagSpec {
    name: String,
    immediate: bool,
    #[serde(default)]
    max_age: Option<f32>,
    #[serde(default)]
    age_required: bool,
    needs: Vec<String>,
    all: Vec<Vec<String>>,
    #[serde(default)]
    unless: Vec<String>,
}

/// A word or phrase of a flag, read like a message: one stem, or a sequence of forms.
#[derive(Debug, Clone)]
enum Term {
    Stem(String),
    Phrase(Vec<String>),
}

/// A compiled red flag.
#[derive(Debug, Clone)]
pub struct RedFlag {
    /// Plain-words name.
    pub name: String,
    /// Calls for immediate protection.
    pub immediate: bool,
    /// Needs it is evidence of.
    pub needs: Vec<String>,
    max_age: Option<f32>,
    age_required: bool,
    all: Vec<Vec<Term>>,
    unless: Vec<Vec<String>>,
}

/// A flag that fired on a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// The flag's name.
    pub name: String,
    /// Calls for immediate protection.
    pub immediate: bool,
    /// Needs it is evidence of.
    pub needs: Vec<String>,
    /// Byte spans of the caller's words that made it fire.
    pub spans: Vec<Range<usize>>,
}

/// The shipped red flags (parsed once; a unit test loads them).
pub fn builtin() -> &'static [RedFlag] {
    static FLAGS: OnceLock<Vec<RedFlag>> = OnceLock::new();
    FLAGS.get_or_init(|| {
        // Compiled in and parsed by a unit test: a failure here is a build defect.
        let file: FlagsFile = toml::from_str(RED_FLAGS).expect("built-in redflags.toml is valid");
        compile(&file)
    })
}

fn compile(file: &FlagsFile) -> Vec<RedFlag> {
    let reader = Reader::builtin();
    let term = |s: &str| -> Term {
        let t = reader.read(s);
        if t.words.len() == 1 {
            Term::Stem(t.words[0].stem.clone())
        } else {
            Term::Phrase(t.words.iter().map(|w| w.form.clone()).collect())
        }
    };
    file.red_flag
        .iter()
        .map(|f| RedFlag {
            name: f.name.clone(),
            immediate: f.immediate,
            needs: f.needs.clone(),
            max_age: f.max_age,
            age_required: f.age_required,
            all: f
                .all
                .iter()
                .map(|g| g.iter().map(|s| term(s)).collect())
                .collect(),
            unless: f
                .unless
                .iter()
                .map(|s| {
                    reader
                        .read(s)
                        .words
                        .iter()
                        .map(|w| w.form.clone())
                        .collect()
                })
                .collect(),
        })
        .collect()
}

/// Where `term` occurs outside a negation in `words` (indices into the text), if it does.
fn find(text: &Text, range: &Range<usize>, term: &Term) -> Option<Range<usize>> {
    let words = &text.words[range.clone()];
    match term {
        Term::Stem(s) => words
            .iter()
            .position(|w| !w.negated && w.stem == *s)
            .map(|i| range.start + i..range.start + i + 1),
        Term::Phrase(p) => (0..words.len().saturating_sub(p.len() - 1))
            .find(|&i| !words[i].negated && p.iter().zip(&words[i..]).all(|(f, w)| *f == w.form))
            .map(|i| range.start + i..range.start + i + p.len()),
    }
}

fn contains_phrase(text: &Text, range: &Range<usize>, phrase: &[String]) -> bool {
    let words = &text.words[range.clone()];
    !phrase.is_empty()
        && words
            .windows(phrase.len())
            .any(|w| w.iter().zip(phrase).all(|(a, b)| a.form == *b))
}

/// The flags that fire on `text` for a child of `age`.
pub fn fired(flags: &[RedFlag], text: &Text, age: Option<f32>) -> Vec<Fired> {
    // Word ranges of each window of consecutive sentences.
    let mut windows = Vec::new();
    let sentences = text.sentences.max(1);
    for s in 0..sentences {
        let last = (s + WINDOW - 1).min(sentences - 1);
        let start = text.words.iter().position(|w| w.sentence >= s);
        let end = text.words.iter().rposition(|w| w.sentence <= last);
        if let (Some(a), Some(b)) = (start, end) {
            if a <= b {
                windows.push(a..b + 1);
            }
        }
        if last == sentences - 1 {
            break;
        }
    }
    let mut out: Vec<Fired> = Vec::new();
    for flag in flags {
        match (flag.max_age, age) {
            (Some(max), Some(a)) if a > max => continue,
            (Some(_), None) if flag.age_required => continue,
            _ => {}
        }
        for range in &windows {
            if flag.unless.iter().any(|u| contains_phrase(text, range, u)) {
                continue;
            }
            let found: Option<Vec<Range<usize>>> = flag
                .all
                .iter()
                .map(|group| group.iter().find_map(|t| find(text, range, t)))
                .collect();
            if let Some(found) = found {
                let spans = found
                    .into_iter()
                    .map(|r| text.words[r.start].span.start..text.words[r.end - 1].span.end)
                    .collect();
                out.push(Fired {
                    name: flag.name.clone(),
                    immediate: flag.immediate,
                    needs: flag.needs.clone(),
                    spans,
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::age::child_age;
    use super::*;

    fn names(s: &str) -> Vec<String> {
        let t = Reader::builtin().read(s);
        let age = child_age(&t, s);
        fired(builtin(), &t, age)
            .into_iter()
            .map(|f| f.name)
            .collect()
    }

    #[test]
    fn the_shipped_flags_parse_and_name_needs() {
        let file: FlagsFile = toml::from_str(RED_FLAGS).unwrap();
        assert!(!file.red_flag.is_empty());
        assert!(file.red_flag.iter().all(|f| !f.needs.is_empty()));
    }

    #[test]
    fn flags_fire_on_what_they_mean_and_quote_the_callers_words() {
        let s = "16yo boy, dad kicked him out last night. He slept rough in the park.";
        assert!(names(s).contains(&"a child with nowhere safe to stay tonight".to_string()));
        let t = Reader::builtin().read(s);
        let f = fired(builtin(), &t, child_age(&t, s));
        assert!(f[0].spans.iter().all(|r| !s[r.clone()].is_empty()));
        let quoted: Vec<&str> = f[0].spans.iter().map(|r| &s[r.clone()]).collect();
        assert!(quoted.iter().all(|q| s.contains(q)), "{quoted:?}");
    }

    #[test]
    fn negation_stops_a_flag() {
        assert!(names("he was not kicked out, he is home tonight and settled").is_empty());
    }

    #[test]
    fn sentences_far_apart_do_not_combine() {
        let far = "Dad was homeless years ago. The weather was nice. We went to the park. It will rain tonight.";
        assert!(names(far).is_empty());
    }
}
