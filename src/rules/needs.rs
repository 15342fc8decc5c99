//! The need taxonomy (`rules/needs.toml`): the kinds of concern the understanding recognises.
//!
//! A need is one kind of concern whatever its severity ("an injury, bruise or mark on a child");
//! its `tier` is the usual tier on the common scale, with a seed line as `basis`, and its
//! modifiers say what moves it (the child's age, how often, an injury, the explanation, who is
//! involved, whether they have access now, a protective parent). Every indicator of every area
//! names the need(s) it is an indicator of, so an understood need is shown in the area's own words.

use serde::{Deserialize, Serialize};

use super::load::Problem;

/// The file name of the taxonomy within a rules directory.
pub const NEEDS_FILE: &str = "needs.toml";

/// What moves a need between tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Factor {
    /// The child's age or mobility.
    Age,
    /// Once, sometimes, persistent, escalating.
    Frequency,
    /// An injury or harm done, and how serious.
    Injury,
    /// Whether there is an explanation that fits.
    Explanation,
    /// Who is involved (a parent, an adult, a peer).
    Who,
    /// Whether the person has access to the child now.
    Access,
    /// A parent who protects and engages.
    ProtectiveParent,
}

impl Factor {
    /// The factor's name as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Age => "age",
            Factor::Frequency => "frequency",
            Factor::Injury => "injury",
            Factor::Explanation => "explanation",
            Factor::Who => "who",
            Factor::Access => "access",
            Factor::ProtectiveParent => "protective-parent",
        }
    }
}

/// Something that moves a need to another tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modifier {
    /// What kind of fact moves it.
    pub factor: Factor,
    /// When, in plain words.
    pub when: String,
    /// The tier it then takes.
    pub tier: u8,
    /// Whether it then calls for immediate protection.
    #[serde(default)]
    pub immediate: bool,
    /// Seed file and line placing it there.
    pub basis: String,
}

/// One kind of concern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Need {
    /// Stable id (lower case, digits, '-').
    pub id: String,
    /// Group: harm, care, parent, health, education, family, universal.
    pub group: String,
    /// Plain words shown to the caller.
    pub name: String,
    /// What it covers.
    pub definition: String,
    /// Usual tier on the common scale.
    pub tier: u8,
    /// Seed file and line placing it at that tier.
    pub basis: String,
    /// When it calls for immediate protection, in plain words.
    #[serde(default)]
    pub immediate_when: Option<String>,
    /// What moves it.
    #[serde(default, rename = "modifier")]
    pub modifiers: Vec<Modifier>,
}

/// The taxonomy file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// Schema version (1).
    pub schema: u32,
    /// The needs.
    #[serde(rename = "need")]
    pub needs: Vec<Need>,
}

impl Taxonomy {
    /// The need with this id.
    pub fn need(&self, id: &str) -> Option<&Need> {
        self.needs.iter().find(|n| n.id == id)
    }

    /// Need ids in file order.
    pub fn ids(&self) -> Vec<String> {
        self.needs.iter().map(|n| n.id.clone()).collect()
    }
}

/// Seed file name and line of a basis ("004_x.txt:534").
pub fn parse_basis(basis: &str) -> Option<(&str, u32)> {
    let (file, line) = basis.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    (file.ends_with(".txt") && line > 0).then_some((file, line))
}

/// Every problem of the taxonomy, each with its place.
pub fn validate(file: &str, t: &Taxonomy) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |place: String, message: String| {
        problems.push(Problem {
            file: file.to_string(),
            place,
            message,
        })
    };
    if t.schema != 1 {
        problem("schema".into(), format!("schema {} is not 1", t.schema));
    }
    let groups = [
        "harm",
        "care",
        "parent",
        "health",
        "education",
        "family",
        "universal",
    ];
    let mut seen = std::collections::HashSet::new();
    for n in &t.needs {
        let place = format!("need {:?}", n.id);
        if n.id.is_empty()
            || !n
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            problem(
                place.clone(),
                "id must be lower case, digits and '-'".into(),
            );
        }
        if !seen.insert(n.id.as_str()) {
            problem(place.clone(), "id used twice".into());
        }
        if !groups.contains(&n.group.as_str()) {
            problem(place.clone(), format!("unknown group {:?}", n.group));
        }
        if !(1..=4).contains(&n.tier) {
            problem(place.clone(), format!("tier {} is not 1-4", n.tier));
        }
        if n.name.trim().is_empty() || n.definition.trim().is_empty() {
            problem(place.clone(), "name and definition are required".into());
        }
        if parse_basis(&n.basis).is_none() {
            problem(
                place.clone(),
                format!("basis {:?} is not FILE.txt:LINE", n.basis),
            );
        }
        for m in &n.modifiers {
            if !(1..=4).contains(&m.tier) {
                problem(
                    place.clone(),
                    format!("a modifier's tier {} is not 1-4", m.tier),
                );
            }
            if m.immediate && m.tier != 4 {
                problem(place.clone(), "an immediate modifier must be tier 4".into());
            }
            if parse_basis(&m.basis).is_none() {
                problem(
                    place.clone(),
                    format!("modifier basis {:?} is not FILE.txt:LINE", m.basis),
                );
            }
        }
    }
    if t.needs.is_empty() {
        problem("file".into(), "no needs".into());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILTIN: &str = include_str!("../../rules/needs.toml");

    #[test]
    fn the_shipped_taxonomy_is_valid() {
        let t: Taxonomy = toml::from_str(BUILTIN).unwrap();
        assert!(validate(NEEDS_FILE, &t).is_empty());
        assert!(t.needs.len() >= 80);
        let injury = t.need("injury").unwrap();
        assert!(injury
            .modifiers
            .iter()
            .any(|m| m.factor == Factor::Age && m.immediate));
    }

    #[test]
    fn problems_are_reported_with_the_need() {
        let t = Taxonomy {
            schema: 1,
            needs: vec![Need {
                id: "Bad Id".into(),
                group: "nowhere".into(),
                name: "x".into(),
                definition: "y".into(),
                tier: 7,
                basis: "seed:1".into(),
                immediate_when: None,
                modifiers: vec![],
            }],
        };
        let p = validate("needs.toml", &t);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p.iter().all(|p| p.place == "need \"Bad Id\""));
    }
}
