//! From a practitioner's informal text to canonical word stems.
//!
//! Lower-cases, expands the field's abbreviations and texting forms, maps US spellings to the
//! documents' British ones, reads numbers ("3x", "three times"), stems words lightly and folds
//! synonyms, all from the vocabulary data (`vocabulary.toml`). The same pipeline is applied to
//! indicator texts at load and to messages at run time, so the two always meet.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

/// The vocabulary file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VocabularyFile {
    /// Multi-word and symbol forms, replaced before splitting.
    pub phrases: HashMap<String, String>,
    /// Whole-word abbreviations.
    pub abbreviations: HashMap<String, String>,
    /// Spelling variants.
    pub spelling: HashMap<String, String>,
    /// Synonym groups.
    pub synonyms: Vec<SynonymGroup>,
    /// Negation words and reach.
    pub negation: Negation,
    /// Severity and frequency cues.
    pub cues: Cues,
    /// Safety-floor meanings.
    pub red_flag: Vec<RedFlagSpec>,
    /// Words too general to say which need is meant ("concern", "support"); they weigh little.
    pub generic: Vec<String>,
    /// Protective and escalating factors that move a need between early help and targeted help.
    pub context: Context,
}

/// Factors around a need, as the documents weigh them: parents engaging with help lower it,
/// needs that persist or worsen despite help raise it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Words and phrases of protective factors.
    pub protective: Vec<String>,
    /// Words and phrases of escalation.
    pub escalating: Vec<String>,
    /// Phrases saying a need is already met or within the normal range ("age appropriate",
    /// "managing ok"): with no escalation, an early-help need is advice only.
    #[serde(default)]
    pub resolved: Vec<String>,
}

/// Words read as one (the first is canonical).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynonymGroup {
    /// The words; the first is canonical.
    pub words: Vec<String>,
}

/// Negation settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Negation {
    /// Words that negate what follows.
    pub before: Vec<String>,
    /// How many words a negation reaches.
    pub reach: usize,
    /// Openers whose negation reaches to the end of the clause ("no signs of").
    #[serde(default)]
    pub scope: Vec<String>,
    /// Verbs of putting a problem right: negating one asserts what follows ("hasn't sorted the
    /// mould").
    #[serde(default)]
    pub remedies: Vec<String>,
    /// Phrases that make a clause reassuring.
    pub reassurance: Vec<String>,
}

/// Severity and frequency cue words.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cues {
    /// Cues that favour higher tiers.
    pub up: Vec<String>,
    /// Cues that favour lower tiers.
    pub down: Vec<String>,
}

/// A red-flag meaning as written in the vocabulary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedFlagSpec {
    /// Plain name shown to the caller.
    pub name: String,
    /// Marks immediate protection.
    pub immediate: bool,
    /// Groups of words; each group must have a word in the message.
    pub all: Vec<Vec<String>>,
    /// Words or phrases that stop the flag (a benign explanation).
    #[serde(default)]
    pub unless: Vec<String>,
    /// Fires only for a child of at most this age in years (or of unknown age, unless `age_required`).
    #[serde(default)]
    pub max_age: Option<f32>,
    /// With `max_age`: the age must be stated.
    #[serde(default)]
    pub age_required: bool,
    /// Stems looked for in the area's tier-4 indicators to surface.
    pub targets: Vec<String>,
}

/// The vocabulary compiled into the binary.
pub const VOCABULARY: &str = include_str!("vocabulary.toml");

/// The normaliser: vocabulary maps ready for use.
#[derive(Debug, Clone)]
pub struct Normaliser {
    /// Phrases as (needle, padded replacement, first word when the needle is whole words).
    phrases: Vec<(String, String, Option<String>)>,
    abbreviations: HashMap<String, String>,
    spelling: HashMap<String, String>,
    synonyms: HashMap<String, String>,
    synonym_prefixes: Vec<(String, String)>,
    /// Negation openers that reach to the end of the clause, as words.
    scope: Vec<Vec<String>>,
    /// Verbs that stop a negation ("not sorted the mould" asserts the mould).
    remedies: HashSet<String>,
}

/// A word of a message after normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Canonical stem (synonyms folded).
    pub stem: String,
    /// The word's own stem, before synonyms are folded (for red flags).
    pub word: String,
    /// The caller's word it came from (for explanations).
    pub surface: String,
    /// Index of the clause (concern) it belongs to.
    pub clause: usize,
    /// Negated by a preceding "no", "not", "denies"...
    pub negated: bool,
}

const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "by",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "as",
    "with",
    "from",
    "has",
    "have",
    "had",
    "he",
    "she",
    "they",
    "his",
    "her",
    "their",
    "them",
    "him",
    "i",
    "we",
    "you",
    "me",
    "my",
    "our",
    "your",
    "there",
    "which",
    "who",
    "whom",
    "what",
    "when",
    "where",
    "will",
    "would",
    "can",
    "could",
    "may",
    "might",
    "should",
    "do",
    "does",
    "did",
    "so",
    "if",
    "but",
    "than",
    "then",
    "into",
    "about",
    "also",
    "any",
    "some",
    "such",
    "other",
    "more",
    "most",
    "very",
    "just",
    "get",
    "got",
    "s",
    "t",
    "re",
    "ve",
    "ll",
    "d",
    "m",
    "hi",
    "hello",
    "thanks",
    "please",
    "im",
    "ive",
    "hes",
    "shes",
    "theyre",
    "etc",
    "eg",
    "ie",
    "incl",
    "including",
    "e",
    "g",
    "up",
    "out",
    "over",
    "re",
    "via",
    "per",
    "x",
];

/// Marks a comma between words: negation stops there.
const BOUNDARY: &str = ",";

/// Whether a stem carries no meaning for matching.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// The English (Porter2) stemmer: "bruise", "bruises", "bruised" and "bruising" meet, while
/// "care" and "car", "scared" and "scar", "early" and "ear" stay apart.
pub fn stem(word: &str) -> String {
    if word.len() <= 2 || word.chars().any(|c| c.is_ascii_digit()) {
        return word.to_string();
    }
    rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English)
        .stem(word)
        .into_owned()
}

fn number_word(word: &str) -> Option<&'static str> {
    Some(match word {
        "once" => "1 times",
        "twice" => "2 times",
        "one" => "1",
        "two" => "2",
        "three" => "3",
        "four" => "4",
        "five" => "5",
        "six" => "6",
        "seven" => "7",
        "eight" => "8",
        "nine" => "9",
        "ten" => "10",
        "eleven" => "11",
        "twelve" => "12",
        "thirteen" => "13",
        "fourteen" => "14",
        "fifteen" => "15",
        "sixteen" => "16",
        "seventeen" => "17",
        _ => return None,
    })
}

impl Normaliser {
    /// Builds the maps from a vocabulary file.
    pub fn new(vocab: &VocabularyFile) -> Self {
        let mut phrases: Vec<(String, String, Option<String>)> = vocab
            .phrases
            .iter()
            .map(|(k, v)| {
                let from = k.to_lowercase();
                let to = format!(" {} ", v.to_lowercase());
                if from
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
                {
                    let first = from.split(' ').next().map(str::to_string);
                    (format!(" {from} "), to, first)
                } else {
                    (from, to, None)
                }
            })
            .collect();
        // Longest first, so that "on his own" wins over "on his".
        phrases.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let mut n = Normaliser {
            phrases,
            abbreviations: vocab.abbreviations.clone(),
            spelling: vocab.spelling.clone(),
            synonyms: HashMap::new(),
            synonym_prefixes: Vec::new(),
            scope: vocab
                .negation
                .scope
                .iter()
                .map(|o| o.split_whitespace().map(str::to_lowercase).collect())
                .collect(),
            remedies: vocab
                .negation
                .remedies
                .iter()
                .map(|r| r.to_lowercase())
                .collect(),
        };
        for group in &vocab.synonyms {
            let Some(first) = group.words.first() else {
                continue;
            };
            let canonical = stem(first);
            for w in &group.words {
                if w.contains(' ') {
                    continue;
                }
                let s = stem(&w.to_lowercase());
                n.synonyms
                    .entry(s.clone())
                    .or_insert_with(|| canonical.clone());
                if s.len() >= 5 {
                    n.synonym_prefixes.push((s, canonical.clone()));
                }
            }
        }
        n.synonym_prefixes
            .sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        n
    }

    /// The canonical stem of one lower-case word (no expansion).
    pub fn canonical(&self, word: &str) -> String {
        // Markers made by `split_number_suffix` stay as they are: "Y9" is an age, not "school".
        if word == "schoolyear" {
            return word.to_string();
        }
        let word = self.spelling.get(word).map(String::as_str).unwrap_or(word);
        let s = stem(word);
        if let Some(c) = self.synonyms.get(&s) {
            return c.clone();
        }
        if s.len() >= 5 {
            if let Some((_, c)) = self
                .synonym_prefixes
                .iter()
                .find(|(p, _)| s.starts_with(p.as_str()))
            {
                return c.clone();
            }
        }
        s
    }

    /// Lower-cases, replaces phrases and splits into clauses of raw words.
    pub fn clauses(&self, text: &str) -> Vec<Vec<String>> {
        let mut t: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .to_lowercase();
        t = t
            .replace(['’', '‘'], "'")
            .replace("n't", " not")
            .replace('&', " & ");
        // Punctuation stands apart, so that phrases ("self-harming,") meet whole words.
        for mark in [',', '.', ';', ':', '!', '?', '(', ')', '"', '\'', '/'] {
            if mark == '/' {
                // "y/o" is a phrase; other slashes separate words ("mum/dad").
                t = t
                    .replace("y/o", "\u{0}yo\u{0}")
                    .replace('/', " / ")
                    .replace("\u{0}yo\u{0}", "y/o");
            } else {
                t = t.replace(mark, &format!(" {mark} "));
            }
        }
        let mut padded = format!(" {t} ");
        // Only phrases whose first word is in the text can be there: most are skipped without
        // searching.
        let present: rustc_hash::FxHashSet<&str> = t.split_whitespace().collect();
        let mut replaced = false;
        let mut out = padded.clone();
        for (needle, to, first) in &self.phrases {
            if first
                .as_ref()
                .is_some_and(|f| !present.contains(f.as_str()))
            {
                continue;
            }
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), to);
                replaced = true;
            }
        }
        if replaced {
            padded = out;
        }
        let mut clauses = Vec::new();
        for clause in padded.split(['.', ';', '!', '?', '\n', '(', ')']) {
            let mut words = Vec::new();
            for raw in
                clause.split(|c: char| !(c.is_alphanumeric() || c == '&' || c == '%' || c == ','))
            {
                if raw.is_empty() {
                    continue;
                }
                if raw.contains(',') {
                    words.push(BOUNDARY.to_string());
                    continue;
                }
                for w in split_number_suffix(raw) {
                    words.push(w);
                }
            }
            if !words.is_empty() {
                clauses.push(words);
            }
        }
        clauses
    }

    /// Normalises a text into tokens with clause numbers and negation marks.
    pub fn tokens(&self, text: &str, negators: &[String], reach: usize) -> Vec<Token> {
        let mut out = Vec::new();
        for (ci, words) in self.clauses(text).into_iter().enumerate() {
            let mut negate_left = 0usize;
            // Inside "no signs of ...": negated to the end of the clause, whatever follows.
            let mut scoped = false;
            for (k, raw) in words.iter().enumerate() {
                let raw = raw.clone();
                // "no signs of X or Y": the negation reaches to the end of the clause.
                if !negators.is_empty()
                    && self
                        .scope
                        .iter()
                        .any(|o| words[k..].starts_with(o.as_slice()))
                {
                    scoped = true;
                }
                // A comma or "but" ends what a negation reaches: "no marks, rotten teeth".
                if raw == BOUNDARY || raw == "but" {
                    negate_left = 0;
                    scoped = false;
                    continue;
                }
                let expanded: Vec<String> = if let Some(n) = number_word(&raw) {
                    n.split(' ').map(str::to_string).collect()
                } else if let Some(exp) = self.abbreviations.get(&raw) {
                    exp.split_whitespace().map(str::to_string).collect()
                } else {
                    vec![raw.clone()]
                };
                if negators.contains(&raw) {
                    negate_left = reach;
                    continue;
                }
                // "hasn't sorted the mould": the negation ends at the remedy verb.
                if negate_left > 0 && self.remedies.contains(&raw) {
                    negate_left = 0;
                }
                let is_stop = is_stopword(&raw);
                for w in expanded {
                    if is_stopword(&w) {
                        continue;
                    }
                    out.push(Token {
                        word: stem(self.spelling.get(&w).map(String::as_str).unwrap_or(&w)),
                        stem: self.canonical(&w),
                        surface: raw.clone(),
                        clause: ci,
                        negated: scoped || negate_left > 0,
                    });
                }
                if !is_stop && negate_left > 0 {
                    negate_left -= 1;
                }
            }
        }
        out
    }

    /// Canonical stems of a phrase from the data (indicator text or keyword), stopwords removed.
    pub fn stems(&self, text: &str) -> Vec<String> {
        self.tokens(text, &[], 0)
            .into_iter()
            .map(|t| t.stem)
            .collect()
    }
}

/// Splits "3x" into "3 times", "4mo" into "4 month", "y9" into "year 9", "14yo" into "14 year old".
fn split_number_suffix(raw: &str) -> Vec<String> {
    let digits_end = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    if digits_end > 0 && digits_end < raw.len() {
        let (n, rest) = raw.split_at(digits_end);
        let rest = match rest {
            "x" => "times",
            "yo" | "yrs" | "yr" | "y" => "year old",
            "mo" | "mos" | "m" | "mths" | "mth" | "months" | "month" => "month old",
            "wk" | "wks" | "w" | "weeks" => "week old",
            "th" | "st" | "nd" | "rd" => "",
            "pm" | "am" => "",
            other => other,
        };
        let mut v = vec![n.to_string()];
        v.extend(rest.split_whitespace().map(str::to_string));
        return v;
    }
    if let Some(n) = raw
        .strip_prefix('x')
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    {
        return vec![n.to_string(), "times".into()];
    }
    if let Some(n) = raw
        .strip_prefix('y')
        .filter(|n| !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit()))
    {
        return vec!["schoolyear".into(), n.to_string()];
    }
    vec![raw.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normaliser() -> Normaliser {
        let vocab: VocabularyFile = toml::from_str(VOCABULARY).expect("vocabulary parses");
        Normaliser::new(&vocab)
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("bruise"), stem("bruises"));
        assert_eq!(stem("bruise"), stem("bruised"));
        assert_eq!(stem("bruise"), stem("bruising"));
        assert_eq!(stem("hitting"), "hit");
        assert_eq!(stem("injuries"), stem("injury"));
        assert_ne!(stem("care"), stem("car"));
        assert_ne!(stem("scared"), stem("scar"));
        assert_ne!(stem("early"), stem("ear"));
    }

    #[test]
    fn abbreviations_and_synonyms() {
        let n = normaliser();
        let s = n.stems("mum DV victim, bruises");
        assert!(s.contains(&n.canonical("mother")));
        assert!(s.contains(&n.canonical("domestic")));
        assert!(s.contains(&n.canonical("violence")));
        assert_eq!(n.canonical("bruise"), n.canonical("injury"));
        assert_eq!(n.canonical("behavior"), n.canonical("behaviour"));
        assert_eq!(n.canonical("smacked"), n.canonical("hit"));
    }

    #[test]
    fn numbers_and_ages() {
        let n = normaliser();
        let s = n.stems("missing 3x this month, 14yo, baby 4mo, three times");
        assert!(s.contains(&"3".to_string()));
        assert!(s.contains(&n.canonical("times")));
        assert!(s.contains(&"14".to_string()));
        assert!(s.contains(&"4".to_string()));
    }

    #[test]
    fn negation_marks_following_words() {
        let n = normaliser();
        let vocab: VocabularyFile = toml::from_str(VOCABULARY).expect("vocabulary parses");
        let t = n.tokens(
            "no marks seen, denies any hitting",
            &vocab.negation.before,
            3,
        );
        let injury = n.canonical("injury");
        assert!(t.iter().filter(|t| t.stem == injury).all(|t| t.negated));
        let hit = n.canonical("hit");
        assert!(t.iter().filter(|t| t.stem == hit).all(|t| t.negated));
    }

    #[test]
    fn a_scope_negation_reaches_the_end_of_the_clause() {
        let n = normaliser();
        let vocab: VocabularyFile = toml::from_str(VOCABULARY).expect("vocabulary parses");
        let t = n.tokens(
            "no signs of anyone older hanging round or grooming him, new phone",
            &vocab.negation.before,
            3,
        );
        let groom = n.canonical("grooming");
        assert!(t.iter().any(|t| t.stem == groom));
        assert!(t.iter().filter(|t| t.stem == groom).all(|t| t.negated));
        let phone = n.canonical("phone");
        assert!(t.iter().filter(|t| t.stem == phone).all(|t| !t.negated));
        // A remedy verb ends a short negation, not a clause-wide one.
        let t = n.tokens("hasn't treated the lice", &vocab.negation.before, 3);
        let lice = n.canonical("lice");
        assert!(t.iter().filter(|t| t.stem == lice).all(|t| !t.negated));
        let t = n.tokens("no signs of lice being treated", &vocab.negation.before, 3);
        assert!(t.iter().filter(|t| t.stem == lice).all(|t| t.negated));
    }

    #[test]
    fn y9_is_a_school_year_not_school() {
        let n = normaliser();
        assert_eq!(n.canonical("schoolyear"), "schoolyear");
    }

    #[test]
    fn hostile_input_is_bounded() {
        let n = normaliser();
        let long = "a".repeat(10_000);
        assert!(n.stems(&long).len() <= 1);
        let _ = n.stems("😀👶🏽 бить 打 \u{0}\u{7} ");
        assert!(n.stems("").is_empty());
        assert!(n.stems("   \t\n ").is_empty());
    }
}
