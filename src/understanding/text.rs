//! A message as words: each with its place in the caller's text, a normal form and a stem.
//!
//! The reading is deliberately light. Words are lower-cased, apostrophes dropped, the field's
//! abbreviations and US spellings put into one form (`words.toml`) and stemmed (Porter2), so that
//! the corpus's evidence for "bruise", "bruises" and "bruising" is pooled. Each word keeps the byte
//! span of the caller's text it came from, so that an explanation can quote the caller's own words
//! and nothing else. Negation ("no marks", "denies", "no signs of ... ") is marked on the words it
//! reaches; what a negation means is left to the model.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;

/// The word data compiled into the binary.
pub const WORDS: &str = include_str!("words.toml");

/// The word data file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordsFile {
    /// Whole-word abbreviations and texting forms, to their expansion (one or more words).
    pub abbreviations: HashMap<String, String>,
    /// Spelling variants, to the documents' British form.
    pub spelling: HashMap<String, String>,
    /// Negation.
    pub negation: NegationWords,
    /// What is never quoted as the caller's words.
    pub quotes: QuoteWords,
}

/// Words that are never quoted alone as "your words".
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteWords {
    /// Lower-case word forms.
    pub never: Vec<String>,
    /// Words a quoted phrase never reaches across ("and", "since", "who"): what follows them is
    /// usually about something else.
    pub breaks: Vec<String>,
}

/// The words that negate, and how far.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegationWords {
    /// Words that negate the next `reach` words of their clause.
    pub before: Vec<String>,
    /// How many words a negation reaches.
    pub reach: usize,
    /// Openers whose negation reaches to the end of the clause.
    pub scope: Vec<String>,
}

/// One word of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// Normal form (lower case, abbreviation expanded, spelling mended).
    pub form: String,
    /// Porter2 stem of the normal form (numbers as written).
    pub stem: String,
    /// Byte span of the caller's text this word came from (an expansion shares its span).
    pub span: Range<usize>,
    /// Index of the sentence it is in.
    pub sentence: usize,
    /// Index of the clause it is in (clauses end at commas, semicolons, "but" and sentence ends).
    pub clause: usize,
    /// Reached by a negation.
    pub negated: bool,
}

/// A message read into words.
#[derive(Debug, Clone, Default)]
pub struct Text {
    /// The words, in order.
    pub words: Vec<Word>,
    /// Number of sentences.
    pub sentences: usize,
}

/// The reader: word data ready for use.
pub struct Reader {
    abbreviations: HashMap<String, Vec<String>>,
    spelling: HashMap<String, String>,
    negators: Vec<String>,
    reach: usize,
    scope: Vec<Vec<String>>,
    not_quoted: std::collections::HashSet<String>,
    phrase_breaks: std::collections::HashSet<String>,
    stemmer: Stemmer,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("abbreviations", &self.abbreviations.len())
            .field("negators", &self.negators)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// The reader over the built-in word data (parsed once; a unit test loads it).
    pub fn builtin() -> &'static Reader {
        static READER: OnceLock<Reader> = OnceLock::new();
        READER.get_or_init(|| {
            // Compiled in and parsed by a unit test: a failure here is a build defect.
            let file: WordsFile =
                toml::from_str(WORDS).expect("built-in words.toml is valid (tested)");
            Reader::new(&file)
        })
    }

    /// A reader over the given word data.
    pub fn new(file: &WordsFile) -> Reader {
        let split = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_string).collect() };
        Reader {
            abbreviations: file
                .abbreviations
                .iter()
                .map(|(k, v)| (k.to_lowercase(), split(v)))
                .collect(),
            spelling: file.spelling.clone(),
            negators: file.negation.before.clone(),
            reach: file.negation.reach,
            scope: file.negation.scope.iter().map(|s| split(s)).collect(),
            not_quoted: file.quotes.never.iter().map(|w| w.to_lowercase()).collect(),
            phrase_breaks: file
                .quotes
                .breaks
                .iter()
                .map(|w| w.to_lowercase())
                .collect(),
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// Whether `form` (a word's normal form) says nothing about a concern on its own (a
    /// function word, a job title): never quoted as the caller's words.
    pub fn is_never_quoted(&self, form: &str) -> bool {
        self.not_quoted.contains(&form.to_lowercase())
    }

    /// Whether a quoted phrase stops at `form` rather than reach across it ("and", "since").
    pub fn is_phrase_break(&self, form: &str) -> bool {
        self.phrase_breaks.contains(&form.to_lowercase())
    }

    /// Whether `form` (a word's normal form) is a negating word ("no", "not", "denies").
    pub fn is_negator(&self, form: &str) -> bool {
        self.negators.iter().any(|n| n == form)
            || self
                .scope
                .iter()
                .any(|s| s.first().is_some_and(|f| f == form))
    }

    /// Reads `text` into words.
    pub fn read(&self, text: &str) -> Text {
        let mut words = Vec::new();
        let (mut sentence, mut clause) = (0usize, 0usize);
        let mut start: Option<usize> = None;
        let mut pending_break = 0u8; // 1: clause break, 2: sentence break
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i <= chars.len() {
            let (pos, c) = chars.get(i).copied().unwrap_or((text.len(), ' '));
            // A word is letters and digits; an apostrophe inside a word is dropped ("didn't").
            let inner_apostrophe = (c == '\'' || c == '\u{2019}')
                && start.is_some()
                && chars.get(i + 1).is_some_and(|(_, n)| n.is_alphanumeric());
            if c.is_alphanumeric() || inner_apostrophe {
                if start.is_none() {
                    if pending_break == 2 && !words.is_empty() {
                        sentence += 1;
                        clause += 1;
                    } else if pending_break == 1 && !words.is_empty() {
                        clause += 1;
                    }
                    pending_break = 0;
                    start = Some(pos);
                }
            } else {
                if let Some(s) = start.take() {
                    self.push_word(&text[s..pos], s..pos, sentence, clause, &mut words);
                }
                // A full stop between digits or inside an abbreviation ("e.g.") does not end a
                // sentence when the next character is not a space.
                let next_is_space = chars.get(i + 1).is_none_or(|(_, n)| n.is_whitespace());
                match c {
                    '.' | '!' | '?' if next_is_space => pending_break = 2,
                    '\n' => pending_break = 2,
                    ',' | ';' | ':' | '(' | ')' | '-' | '\u{2013}' | '\u{2014}' | '/' => {
                        pending_break = pending_break.max(1)
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        // "but" and "however" start a new clause.
        let mut shift = 0;
        for w in words.iter_mut() {
            if w.form == "but" || w.form == "however" || w.form == "although" {
                shift += 1;
            }
            w.clause += shift;
        }
        self.mark_negation(&mut words);
        let sentences = words.last().map_or(0, |w| w.sentence + 1);
        Text { words, sentences }
    }

    fn push_word(
        &self,
        raw: &str,
        span: Range<usize>,
        sentence: usize,
        clause: usize,
        out: &mut Vec<Word>,
    ) {
        let lower: String = raw
            .chars()
            .filter(|c| *c != '\'' && *c != '\u{2019}')
            .flat_map(char::to_lowercase)
            .collect();
        // Split a number glued to a unit ("8wk", "3yo", "15yrs"), keeping both parts.
        let digits: String = lower.chars().take_while(char::is_ascii_digit).collect();
        let parts: Vec<String> = if !digits.is_empty() && digits.len() < lower.len() {
            vec![digits.clone(), lower[digits.len()..].to_string()]
        } else {
            vec![lower]
        };
        for part in parts {
            let forms = match self.abbreviations.get(&part) {
                Some(expansion) => expansion.clone(),
                None => vec![self.spelling.get(&part).cloned().unwrap_or(part)],
            };
            for form in forms {
                let stem = if form.chars().all(|c| c.is_ascii_digit()) {
                    form.clone()
                } else {
                    self.stemmer.stem(&form).into_owned()
                };
                out.push(Word {
                    form,
                    stem,
                    span: span.clone(),
                    sentence,
                    clause,
                    negated: false,
                });
            }
        }
    }

    fn mark_negation(&self, words: &mut [Word]) {
        let n = words.len();
        let mut i = 0;
        while i < n {
            // Clause-wide openers: "no signs of ...".
            if let Some(len) = self
                .scope
                .iter()
                .filter(|p| matches_at(words, i, p))
                .map(Vec::len)
                .max()
            {
                let clause = words[i].clause;
                let mut j = i + len;
                while j < n && words[j].clause == clause {
                    words[j].negated = true;
                    j += 1;
                }
                i += len;
                continue;
            }
            if self.negators.iter().any(|neg| *neg == words[i].form) {
                let clause = words[i].clause;
                for w in words.iter_mut().skip(i + 1).take(self.reach) {
                    if w.clause != clause {
                        break;
                    }
                    w.negated = true;
                }
            }
            i += 1;
        }
    }
}

fn matches_at(words: &[Word], at: usize, phrase: &[String]) -> bool {
    phrase.len() <= words.len() - at
        && phrase
            .iter()
            .zip(&words[at..])
            .all(|(p, w)| *p == w.form && w.clause == words[at].clause)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(t: &Text) -> Vec<&str> {
        t.words.iter().map(|w| w.form.as_str()).collect()
    }

    #[test]
    fn word_data_parses() {
        let file: WordsFile = toml::from_str(WORDS).unwrap();
        assert!(file.abbreviations.contains_key("dv"));
        assert!(file.negation.reach > 0);
    }

    #[test]
    fn words_keep_the_callers_spans() {
        let text = "Y4 boy, bruises on his arm; didn't explain them.";
        let t = Reader::builtin().read(text);
        let bruises = t.words.iter().find(|w| w.form == "bruise").unwrap();
        assert_eq!(&text[bruises.span.clone()], "bruises");
        assert_eq!(bruises.stem, "bruis");
        let didnt = t.words.iter().find(|w| w.form == "didnt").unwrap();
        assert_eq!(&text[didnt.span.clone()], "didn't");
    }

    #[test]
    fn abbreviations_expand_and_numbers_split_from_units() {
        let t = Reader::builtin().read("DV at home, 8wk old baby");
        assert!(forms(&t).starts_with(&["domestic", "violence", "at", "home"]));
        assert!(forms(&t).contains(&"8"));
    }

    #[test]
    fn negation_reaches_a_few_words_or_the_clause() {
        let t = Reader::builtin().read("no marks seen, but she is scared of dad");
        let marks = t.words.iter().find(|w| w.form == "marks").unwrap();
        let scared = t.words.iter().find(|w| w.form == "scared").unwrap();
        assert!(marks.negated);
        assert!(!scared.negated);
        let t = Reader::builtin().read("no signs of anyone older hanging round or grooming him");
        assert!(
            t.words
                .iter()
                .find(|w| w.form == "grooming")
                .unwrap()
                .negated
        );
    }

    #[test]
    fn every_contracted_negator_negates_what_follows() {
        // Apostrophes, straight or curly, are dropped when read: "hadn't" is read as "hadnt".
        for neg in [
            "isn't",
            "wasn't",
            "doesn't",
            "didn't",
            "don't",
            "hasn't",
            "haven't",
            "hadn't",
            "aren't",
            "weren't",
            "can't",
            "cannot",
            "won't",
            "couldn't",
            "wouldn't",
            "shouldn't",
            "mustn't",
            "hadn’t",
            "won’t",
        ] {
            let t = Reader::builtin().read(&format!("mum {neg} reported him missing"));
            let reported = t.words.iter().find(|w| w.form == "reported");
            assert!(reported.is_some_and(|w| w.negated), "{neg}: {:?}", t.words);
        }
    }

    #[test]
    fn sentences_and_clauses_are_counted() {
        let t = Reader::builtin().read("Mum drinks. Kids hungry, dirty. Weight 2.5kg");
        assert_eq!(t.sentences, 3);
        let hungry = t.words.iter().find(|w| w.form == "hungry").unwrap();
        let dirty = t.words.iter().find(|w| w.form == "dirty").unwrap();
        assert_ne!(hungry.clause, dirty.clause);
    }

    #[test]
    fn odd_input_is_read_without_panic() {
        for s in [
            "",
            "   ",
            "🙂🙂",
            "'",
            "a'",
            "9",
            "\u{202e}abc",
            "x\0y",
            "...!!!",
        ] {
            let _ = Reader::builtin().read(s);
        }
    }
}
