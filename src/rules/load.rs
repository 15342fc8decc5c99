//! Reading rules files: from the copies embedded in the binary, or from a directory.
//!
//! Loading never stops at the first problem: every file is parsed and validated and all the
//! problems found are returned together, each naming its file and place.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::needs::{self, Taxonomy, NEEDS_FILE};
use super::{validate, Area, AreaId, BankHolidays, RuleSet};

/// The name of the bank holidays file within a rules directory.
pub const BANK_HOLIDAYS_FILE: &str = "bank-holidays.toml";

/// The rules files compiled into the binary, so that it runs with no files beside it.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "warwickshire.toml",
        include_str!("../../rules/warwickshire.toml"),
    ),
    (
        "warwickshire-2018.toml",
        include_str!("../../rules/warwickshire-2018.toml"),
    ),
    ("salford.toml", include_str!("../../rules/salford.toml")),
    ("medway.toml", include_str!("../../rules/medway.toml")),
    (
        "stoke-on-trent.toml",
        include_str!("../../rules/stoke-on-trent.toml"),
    ),
    (
        BANK_HOLIDAYS_FILE,
        include_str!("../../rules/bank-holidays.toml"),
    ),
    (NEEDS_FILE, include_str!("../../rules/needs.toml")),
];

/// The ids of the areas compiled into the binary (their file names), in file order.
pub fn embedded_area_ids() -> Vec<&'static str> {
    EMBEDDED
        .iter()
        .filter(|(name, _)| *name != BANK_HOLIDAYS_FILE && *name != NEEDS_FILE)
        .filter_map(|(name, _)| name.strip_suffix(".toml"))
        .collect()
}

/// One problem in one rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's name.
    pub file: String,
    /// Where in the file: a line, or an item such as `indicator "health-1"`.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.place, self.message)
    }
}

/// The rules could not be loaded: every problem found.
#[derive(Debug, Clone, thiserror::Error)]
pub struct RulesError {
    /// All problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in the rules:", self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// The rules directory could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory or a file in it could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The files were read but are not valid.
    #[error(transparent)]
    Invalid(#[from] RulesError),
}

/// Loads the rules compiled into the binary.
pub fn load_embedded() -> Result<RuleSet, RulesError> {
    load_sources(
        EMBEDDED
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect(),
    )
}

/// Loads every `*.toml` file of a directory (one per area, plus `bank-holidays.toml` and
/// `needs.toml`).
pub fn load_dir(dir: &Path) -> Result<RuleSet, LoadError> {
    let io = |path: &Path, source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, text));
    }
    files.sort();
    Ok(load_sources(files)?)
}

/// Parses and validates named rules texts.
pub fn load_sources(files: Vec<(String, String)>) -> Result<RuleSet, RulesError> {
    let mut problems = Vec::new();
    let mut areas = BTreeMap::new();
    let mut bank_holidays = None;
    let mut taxonomy = None;
    for (name, text) in &files {
        if name == NEEDS_FILE {
            match toml::from_str::<Taxonomy>(text) {
                Ok(t) => taxonomy = Some(t),
                Err(e) => problems.push(parse_problem(name, text, &e)),
            }
            continue;
        }
        if name == BANK_HOLIDAYS_FILE {
            match toml::from_str::<BankHolidays>(text) {
                Ok(bh) => bank_holidays = Some(bh),
                Err(e) => problems.push(parse_problem(name, text, &e)),
            }
            continue;
        }
        match toml::from_str::<Area>(text) {
            Ok(area) => {
                let id = area.meta.id.clone();
                if let Some(previous) = areas.insert(id.clone(), (name.clone(), area)) {
                    problems.push(Problem {
                        file: name.clone(),
                        place: "[area] id".into(),
                        message: format!("area id {id:?} is also used by {}", previous.0),
                    });
                }
            }
            Err(e) => problems.push(parse_problem(name, text, &e)),
        }
    }
    let Some(bank_holidays) = bank_holidays else {
        problems.push(Problem {
            file: BANK_HOLIDAYS_FILE.into(),
            place: "file".into(),
            message: "missing or unreadable: opening hours need the bank holidays".into(),
        });
        return Err(RulesError { problems });
    };
    let Some(taxonomy) = taxonomy else {
        problems.push(Problem {
            file: NEEDS_FILE.into(),
            place: "file".into(),
            message: "missing or unreadable: indicators name their needs from it".into(),
        });
        return Err(RulesError { problems });
    };
    problems.extend(needs::validate(NEEDS_FILE, &taxonomy));
    if areas.is_empty() && problems.is_empty() {
        problems.push(Problem {
            file: "rules".into(),
            place: "directory".into(),
            message: "no area files found".into(),
        });
    }
    let ids: Vec<AreaId> = areas.keys().cloned().collect();
    problems.extend(validate::bank_holidays(BANK_HOLIDAYS_FILE, &bank_holidays));
    for (file, area) in areas.values() {
        problems.extend(validate::area(file, area, &ids));
        problems.extend(validate::indicator_needs(file, area, &taxonomy));
    }
    if !problems.is_empty() {
        return Err(RulesError { problems });
    }
    Ok(RuleSet {
        areas: areas
            .into_iter()
            .map(|(id, (_, area))| (id, area))
            .collect(),
        bank_holidays,
        needs: taxonomy,
    })
}

fn parse_problem(file: &str, text: &str, error: &toml::de::Error) -> Problem {
    let place = match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}")
        }
        None => "file".into(),
    };
    Problem {
        file: file.to_string(),
        place,
        message: error.message().to_string(),
    }
}
