//! The labelled corpus: practitioner messages with their tier, immediacy, needs and basis.
//!
//! Pure: the command line reads the files (`corpus/train/*.jsonl`, `corpus/validation/*.jsonl`);
//! this module parses their lines and checks them against the taxonomy, reporting every problem
//! with its file and line, and finds near-duplicates.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Unique id; its prefix before the first '-' is the writer.
    pub id: String,
    /// The message.
    pub text: String,
    /// Tier on the common scale, 1-4.
    pub tier: u8,
    /// The child needs protecting now (implies tier 4).
    #[serde(default)]
    pub immediate: bool,
    /// Need ids, most important first.
    #[serde(default)]
    pub needs: Vec<String>,
    /// The child's age in years, when stated.
    #[serde(default)]
    pub age: Option<f32>,
    /// Seed file and line supporting the tier ("004_....txt:534").
    #[serde(default)]
    pub basis: Option<String>,
    /// How the message was written (paraphrase, negated, free...).
    #[serde(default)]
    pub variant: Option<String>,
    /// The indicator it paraphrases ("area/id").
    #[serde(default)]
    pub indicator: Option<String>,
    /// The writer's voice.
    #[serde(default)]
    pub voice: Option<String>,
    /// The writer's style.
    #[serde(default)]
    pub style: Option<String>,
}

impl Example {
    /// The writer: the id's prefix before the first '-'.
    pub fn writer(&self) -> &str {
        self.id.split('-').next().unwrap_or(&self.id)
    }
}

/// A problem in a corpus file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Parses one JSON-lines file, checking each example. `need_ids` are the taxonomy's ids.
pub fn parse(file: &str, content: &str, need_ids: &HashSet<&str>) -> (Vec<Example>, Vec<Problem>) {
    let mut examples = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in content.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut problem = |message: String| {
            problems.push(Problem {
                file: file.to_string(),
                line: line_no,
                message,
            })
        };
        let ex: Example = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(e) => {
                problem(format!("not a valid example: {e}"));
                continue;
            }
        };
        if ex.text.trim().is_empty() {
            problem(format!("{}: the text is empty", ex.id));
        }
        if !(1..=4).contains(&ex.tier) {
            problem(format!("{}: tier {} is not 1-4", ex.id, ex.tier));
        }
        if ex.immediate && ex.tier != 4 {
            problem(format!("{}: immediate but tier {}", ex.id, ex.tier));
        }
        if ex.needs.is_empty() {
            problem(format!("{}: no needs", ex.id));
        }
        for need in &ex.needs {
            if !need_ids.contains(need.as_str()) {
                problem(format!("{}: unknown need \"{need}\"", ex.id));
            }
        }
        if ex.age.is_some_and(|a| !(0.0..18.0).contains(&a)) {
            problem(format!("{}: age {:?} is not 0-17", ex.id, ex.age));
        }
        examples.push(ex);
    }
    (examples, problems)
}

/// Ids used more than once.
pub fn duplicate_ids(examples: &[Example]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut dups = Vec::new();
    for e in examples {
        if !seen.insert(e.id.as_str()) {
            dups.push(e.id.clone());
        }
    }
    dups
}

/// The word 3-grams of a text, lower-cased, punctuation ignored.
fn shingles(text: &str) -> HashSet<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() < 3 {
        return std::iter::once(words.join(" ")).collect();
    }
    words.windows(3).map(|w| w.join(" ")).collect()
}

/// Pairs of examples (by index) whose word 3-grams overlap by at least `threshold` (Jaccard),
/// with the overlap. Near-duplicates teach the model nothing new and inflate its figures.
pub fn near_duplicates(texts: &[&str], threshold: f64) -> Vec<(usize, usize, f64)> {
    let sets: Vec<HashSet<String>> = texts.iter().map(|t| shingles(t)).collect();
    let mut postings: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in sets.iter().enumerate() {
        for g in s {
            postings.entry(g.as_str()).or_default().push(i);
        }
    }
    let mut shared: HashMap<(usize, usize), usize> = HashMap::new();
    for docs in postings.values() {
        // A 3-gram in hundreds of messages ("i am worried") says nothing about duplication.
        if docs.len() > 200 {
            continue;
        }
        for (k, &a) in docs.iter().enumerate() {
            for &b in &docs[k + 1..] {
                *shared.entry((a, b)).or_default() += 1;
            }
        }
    }
    let mut pairs: Vec<(usize, usize, f64)> = shared
        .into_iter()
        .filter_map(|((a, b), n)| {
            let union = sets[a].len() + sets[b].len() - n;
            let j = n as f64 / union.max(1) as f64;
            (j >= threshold).then_some((a, b, j))
        })
        .collect();
    pairs.sort_by_key(|x| (x.0, x.1));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs() -> HashSet<&'static str> {
        ["injury", "neglect", "universal-advice"]
            .into_iter()
            .collect()
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let content = r#"{"id":"w1-0001","text":"bruise on arm","tier":3,"needs":["injury"]}
{"id":"w1-0002","text":"x","tier":5,"needs":["injury"]}
not json
{"id":"w1-0004","text":"left","tier":2,"immediate":true,"needs":["nope"]}
"#;
        let (ex, problems) = parse("f.jsonl", content, &needs());
        assert_eq!(ex.len(), 3);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 4]);
        assert!(problems[0].to_string().contains("tier 5"));
    }

    #[test]
    fn near_duplicates_are_found_and_different_texts_are_not() {
        let texts = [
            "Mum came to pick up the 3yo and was slurring and could not stand up",
            "Mum came to pick up the 3yo and was slurring and could not stand",
            "Dad says the baby fell off the sofa but the bruise is on her ear",
        ];
        let pairs = near_duplicates(&texts, 0.8);
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].0, pairs[0].1), (0, 1));
    }

    #[test]
    fn the_writer_is_the_id_prefix() {
        let e: Example =
            serde_json::from_str(r#"{"id":"w07-0012","text":"t","tier":1,"needs":[]}"#).unwrap();
        assert_eq!(e.writer(), "w07");
    }
}
