//! A message as features the model weighs, each remembering the caller's words it came from.
//!
//! Features are strings: `w:` a word's stem, `n:` a negated word's stem, `b:` two consecutive
//! stems in one clause, `c:` a character n-gram of a word (typos and word forms meet), `a:` the
//! child's age group, and `r:` a meaning the rules recognise (family B only). Each occurrence keeps
//! the indices of the words it came from, so a weight can be traced back to the caller's text.

use serde::{Deserialize, Serialize};

use super::age::{age_group, child_age};
use super::text::{Reader, Text};

/// Which features a model reads (the model family and its settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Word stems (and negated stems).
    pub words: bool,
    /// Pairs of consecutive stems within a clause.
    pub bigrams: bool,
    /// Character n-gram lengths of each word (empty: none).
    pub char_ngrams: Vec<usize>,
    /// Most character n-grams kept in the vocabulary (the most frequent).
    pub max_char_features: usize,
    /// The child's age group.
    pub age: bool,
    /// Meanings recognised by hand-written rules (family B), given by the caller of
    /// [`extract`].
    pub rules: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            words: true,
            bigrams: true,
            char_ngrams: vec![3, 4, 5],
            max_char_features: 20_000,
            age: true,
            rules: false,
        }
    }
}

/// One feature found in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    /// The feature's name.
    pub name: String,
    /// Indices of the words it came from (empty for message-wide features such as the age).
    pub words: Vec<usize>,
}

/// A message read for the model.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// The words.
    pub text: Text,
    /// The child's age in years, as stated (or as given by the consultation).
    pub age: Option<f32>,
    /// Every feature occurrence, in order of the words.
    pub occurrences: Vec<Occurrence>,
}

/// Reads `raw` into features. `age_hint` is the child's age already given in the consultation,
/// used when the message states none. `rule_features` are names of meanings recognised by rules
/// (used only when `config.rules`).
pub fn extract(
    config: &FeatureConfig,
    raw: &str,
    age_hint: Option<f32>,
    rule_features: &[String],
) -> Extracted {
    let text = Reader::builtin().read(raw);
    let age = child_age(&text, raw).or(age_hint);
    let mut occurrences = Vec::new();
    each_feature(config, &text, age, rule_features, |name, words| {
        occurrences.push(Occurrence {
            name: name.to_string(),
            words: words.collect(),
        });
    });
    Extracted {
        text,
        age,
        occurrences,
    }
}

/// Calls `found(name, words)` for every feature occurrence of `text`, in order of the words:
/// the one definition of the features, shared by training ([`extract`], which keeps the names)
/// and run time (which looks each name up without keeping it). `words` are the indices of the
/// words the occurrence came from (empty for message-wide features such as the age).
pub fn each_feature(
    config: &FeatureConfig,
    text: &Text,
    age: Option<f32>,
    rule_features: &[String],
    mut found: impl FnMut(&str, std::ops::Range<usize>),
) {
    let mut name = String::new();
    let mut padded: Vec<char> = Vec::new();
    let words = &text.words;
    for (i, w) in words.iter().enumerate() {
        if config.words {
            name.clear();
            name.push_str(if w.negated { "n:" } else { "w:" });
            name.push_str(&w.stem);
            found(&name, i..i + 1);
        }
        if config.bigrams {
            if let Some(next) = words.get(i + 1).filter(|n| n.clause == w.clause) {
                name.clear();
                name.push_str("b:");
                name.push_str(&w.stem);
                name.push(' ');
                name.push_str(&next.stem);
                found(&name, i..i + 2);
            }
        }
        if !config.char_ngrams.is_empty() && !w.form.chars().all(|c| c.is_ascii_digit()) {
            padded.clear();
            padded.push('<');
            padded.extend(w.form.chars());
            padded.push('>');
            for &n in &config.char_ngrams {
                if padded.len() < n {
                    continue;
                }
                for gram in padded.windows(n) {
                    name.clear();
                    name.push_str("c:");
                    name.extend(gram.iter());
                    found(&name, i..i + 1);
                }
            }
        }
    }
    if config.age {
        name.clear();
        name.push_str("a:");
        name.push_str(age_group(age));
        found(&name, 0..0);
    }
    if config.rules {
        for r in rule_features {
            name.clear();
            name.push_str("r:");
            name.push_str(r);
            found(&name, 0..0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_of_each_kind_with_their_words() {
        let e = extract(
            &FeatureConfig::default(),
            "no bruises, 3yo scared",
            None,
            &[],
        );
        let names: Vec<&str> = e.occurrences.iter().map(|o| o.name.as_str()).collect();
        assert!(names.contains(&"n:bruis"));
        assert!(names.contains(&"w:scare"));
        assert!(names.contains(&"a:preschool"));
        assert!(names.iter().any(|n| n.starts_with("c:")));
        assert!(names.iter().any(|n| n.starts_with("b:")));
        // The bigram does not cross the comma.
        assert!(!names.contains(&"b:bruis 3"));
    }

    #[test]
    fn the_age_hint_is_used_when_the_message_states_none() {
        let config = FeatureConfig::default();
        let e = extract(&config, "bruise on her cheek", Some(0.5), &[]);
        assert!(e.occurrences.iter().any(|o| o.name == "a:baby"));
        let e = extract(&config, "bruise on her cheek, she is 9", Some(0.5), &[]);
        assert!(e.occurrences.iter().any(|o| o.name == "a:primary"));
    }
}
