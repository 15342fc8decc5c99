//! The threshold documents as checked data.
//!
//! Each file under `rules/` encodes one partnership's threshold document: its levels of need,
//! its indicators, the decision rule that turns indicators into a level, its consent rules,
//! what a caller must provide and every phone number it gives. The files are deserialised into
//! the `Raw*` mirror types in [`load`], then checked by [`validate`], which reports every problem
//! at once with the file and the item it concerns. Only a [`RuleSet`] that passed is handed to
//! the rest of the program, so the matcher, triage and dialogue can rely on its invariants:
//! ids are unique, every indicator has a level and a source line, every number is well formed.

pub mod bank_holidays;
pub mod hours;
pub mod load;
pub mod needs;
pub mod trace;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use bank_holidays::{BankHoliday, BankHolidays, MovedHoliday};
pub use hours::{Days, OpeningHours};
pub use load::{embedded_area_ids, load_dir, load_embedded, LoadError, RulesError};

/// The version of the rules file format this build understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The stable identifier of an area, e.g. `stoke-on-trent`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AreaId(pub String);

impl fmt::Display for AreaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AreaId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One rules file: a whole threshold document as data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Version of the file format (see [`SCHEMA_VERSION`]).
    pub schema: u32,
    /// Who published the document and what it is.
    #[serde(rename = "area")]
    pub meta: AreaMeta,
    /// Levels of need, lowest first.
    #[serde(rename = "level", default)]
    pub levels: Vec<Level>,
    /// Indicators of need (and strengths) from the document's tables and text.
    #[serde(rename = "indicator", default)]
    pub indicators: Vec<Indicator>,
    /// How the document turns indicators into a level and a response.
    pub decision: Decision,
    /// What the document says about consent.
    #[serde(rename = "consent", default)]
    pub consent: Vec<ConsentRule>,
    /// What the front door asks a caller to provide.
    #[serde(rename = "requirement", default)]
    pub requirements: Vec<Requirement>,
    /// Every phone number the document gives.
    #[serde(rename = "contact", default)]
    pub contacts: Vec<Contact>,
    /// Timescales the document states (e.g. a decision within 24 hours).
    #[serde(rename = "timescale", default)]
    pub timescales: Vec<Timescale>,
    /// What the document says happens next (e.g. the outcomes of a front door conversation).
    #[serde(rename = "next_step", default)]
    pub next_steps: Vec<Timescale>,
    /// What this deployment sets for the area (never read from a rules file).
    #[serde(skip)]
    pub deployment: Deployment,
}

/// What a deployment sets for an area, beyond its document: the front door's opening hours
/// where the document states none (`FRONTDOOR_HOURS_<AREA>`, see `config.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployment {
    /// The front door's opening hours as set for this deployment; empty when not set.
    pub front_door_hours: Vec<OpeningHours>,
}

/// Deployment hours could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeploymentError {
    /// Hours were set for an area the rules do not have.
    #[error("{setting}: there is no area {area:?} in the rules")]
    UnknownArea {
        /// The setting's name.
        setting: String,
        /// The area id.
        area: String,
    },
    /// Hours were set for a front door whose document states them.
    #[error("{setting}: {document} states the hours of {front_door} ({hours}, line {line}); remove the setting, or correct the rules file if the hours have changed")]
    DocumentStatesHours {
        /// The setting's name.
        setting: String,
        /// The document.
        document: String,
        /// The front door.
        front_door: String,
        /// The hours the document states.
        hours: String,
        /// Their source line.
        line: u32,
    },
}

/// The name of the setting that gives an area's front door hours, e.g.
/// `FRONTDOOR_HOURS_STOKE_ON_TRENT` for `stoke-on-trent`.
pub fn hours_setting(area_id: &str) -> String {
    format!(
        "FRONTDOOR_HOURS_{}",
        area_id.to_ascii_uppercase().replace('-', "_")
    )
}

/// Metadata about the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaMeta {
    /// Stable id used on the command line and in records.
    pub id: AreaId,
    /// Short human name of the area, e.g. "Stoke-on-Trent".
    pub name: String,
    /// The safeguarding partnership that published the document.
    pub partnership: String,
    /// The document's title.
    pub document: String,
    /// The name of the front door in this area ("Family Connect", "The Bridge", ...).
    pub front_door: String,
    /// The seed file (under `shared/seeds/`) the data was taken from.
    pub seed: String,
    /// Dates as the document states them (publication, review), if any.
    #[serde(default)]
    pub dates: Option<String>,
    /// The area whose document replaces this one, if it has been superseded.
    #[serde(default)]
    pub superseded_by: Option<AreaId>,
    /// Source line of the title.
    pub source: u32,
    /// What the encoder had to judge while reconstructing the jumbled PDF text.
    #[serde(default)]
    pub judgements: Vec<String>,
}

/// A level of need as the document names it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Stable id within the area, e.g. `universal`, `green`.
    pub id: String,
    /// The document's own name for the level.
    pub name: String,
    /// Position on the common scale: 1 universal, 2 early help, 3 targeted/CIN, 4 protection.
    pub tier: u8,
    /// Every tier the level spans when it covers more than one (a level for both child in need
    /// and child protection: `[3, 4]`); empty for just `tier`. An indicator's own tier must be
    /// one of them, so that the level's name and the tier shown always agree.
    #[serde(default)]
    pub tiers: Vec<u8>,
    /// The document's description of children at this level.
    pub description: String,
    /// The document's own response: what a professional should do at this level.
    pub response: String,
    /// Source line.
    pub source: u32,
}

/// An indicator of need, or a strength, in the document's own words.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// Stable id within the area.
    pub id: String,
    /// The document's domain (outcome area, side of the assessment triangle).
    pub domain: String,
    /// The level id it sits at.
    pub level: String,
    /// Tier on the common scale when it differs from the level's (only where the wording says so).
    #[serde(default)]
    pub tier: Option<u8>,
    /// The document calls for immediate protection.
    #[serde(default)]
    pub immediate: bool,
    /// A strength or "no concerns" descriptor rather than a need.
    #[serde(default)]
    pub positive: bool,
    /// The document's wording, PDF breakage repaired.
    pub text: String,
    /// Source line in the seed.
    pub source: u32,
    /// Matching aids: extra words or phrases that mean this indicator. Never shown as source text.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The needs (`rules/needs.toml`) this is an indicator of, most specific first.
    #[serde(default)]
    pub needs: Vec<String>,
    /// What the item is. Only indicators are shown to a caller as what was understood.
    #[serde(default)]
    pub kind: IndicatorKind,
    /// Indicators of the same document that describe the same need (e.g. an entry of a list that
    /// repeats a row of the grid): confirmed together they count as one issue, and the need is
    /// rated at the highest of their levels.
    #[serde(default)]
    pub same_need_as: Vec<String>,
}

/// What a row of a document's indicator table is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    /// A sign of need (or a strength) that a caller's concern can be an instance of.
    #[default]
    Indicator,
    /// A description of a level as a whole ("Most children only need this level...").
    Description,
    /// A service or an example of a service ("Debt advice and welfare rights").
    Service,
}

/// The document's rule for turning indicators into a level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// When true the highest level among the indicators is the floor of the outcome.
    pub highest_wins: bool,
    /// The rule as the document states it.
    pub text: String,
    /// Source line.
    pub source: u32,
    /// Counting rules, e.g. "2 or more yellow and/or orange issues = multi-agency response".
    #[serde(rename = "step", default)]
    pub steps: Vec<DecisionStep>,
}

/// One counting rule: when at least `min_count` confirmed indicators sit at any of `levels`,
/// the outcome is at least `outcome`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionStep {
    /// Level ids counted.
    pub levels: Vec<String>,
    /// How many distinct indicators at those levels make the step apply.
    pub min_count: u32,
    /// The level id of the outcome; when absent, the highest level among the issues counted
    /// (e.g. "1 YELLOW or ORANGE issue = single-agency response": one orange issue is Orange).
    #[serde(default)]
    pub outcome: Option<String>,
    /// The response the document gives for this outcome, when it differs from the level's.
    #[serde(default)]
    pub response: Option<String>,
    /// Source line.
    pub source: u32,
}

/// Which consultations a consent rule concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    /// Every consultation.
    All,
    /// Tier 2: early help, single agency.
    EarlyHelp,
    /// Tier 3: targeted help, child in need (s17).
    ChildInNeed,
    /// Tier 4: child protection (s47), significant harm.
    ChildProtection,
}

/// What a consent rule says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Consent is needed (and how to ask).
    Needed,
    /// Consent is not required (e.g. s47).
    NotRequired,
    /// Do not seek consent when that would raise the risk or prejudice enquiries.
    DoNotSeek,
    /// What to do when consent is refused.
    Refused,
    /// What must be recorded about consent.
    Record,
    /// Who must approve a decision not to seek consent.
    Approval,
    /// General principle (information sharing, working with families).
    Principle,
}

/// A rule about consent, in the document's words.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRule {
    /// Stable id within the area.
    pub id: String,
    /// Which consultations it concerns.
    pub scope: ConsentScope,
    /// What it says.
    pub kind: ConsentKind,
    /// The document's words.
    pub text: String,
    /// Source line.
    pub source: u32,
}

/// Something the front door asks a caller to provide.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable id within the area.
    pub id: String,
    /// The document's words.
    pub text: String,
    /// Source line.
    pub source: u32,
}

/// A timescale or a next step the document states, and the outcomes it is shown with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timescale {
    /// Stable id within the area.
    pub id: String,
    /// The document's words.
    pub text: String,
    /// Source line.
    pub source: u32,
    /// The tiers of the outcome it is shown with; absent for every outcome, `[]` for none (kept
    /// for reference, e.g. the stages of a professional-disagreement escalation).
    #[serde(default)]
    pub tiers: Option<Vec<u8>>,
    /// Only shown when one of these indicators was confirmed (e.g. private fostering).
    #[serde(default)]
    pub indicators: Vec<String>,
    /// The product's words that put the document's words in context, shown before them
    /// (e.g. "If MASH makes enquiries about your referral, their urgency is rated").
    #[serde(default)]
    pub context: Option<String>,
}

impl Timescale {
    /// Whether it is shown with an outcome at `tier` (`None`: no level decided) for these
    /// confirmed indicator ids.
    pub fn shown_with(&self, tier: Option<u8>, confirmed: &[&str]) -> bool {
        let tier_ok = match (&self.tiers, tier) {
            (None, _) => true,
            (Some(ts), Some(t)) => ts.contains(&t),
            (Some(_), None) => false,
        };
        let indicator_ok = self.indicators.is_empty()
            || self
                .indicators
                .iter()
                .any(|i| confirmed.contains(&i.as_str()));
        tier_ok && indicator_ok
    }
}

/// What a phone number is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 999.
    Emergency,
    /// The children's services front door: safeguarding concerns, referrals, immediate protection.
    FrontDoor,
    /// The out-of-hours / emergency duty social work team.
    OutOfHours,
    /// Professional consultation or advice line.
    Consultation,
    /// Police non-emergency (101).
    Police,
    /// Early help / family support referrals and enquiries.
    EarlyHelp,
    /// Specialist lines (private fostering, mental health, Prevent, ...).
    Specialist,
}

impl Purpose {
    /// Lower-case name used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Emergency => "emergency",
            Purpose::FrontDoor => "front_door",
            Purpose::OutOfHours => "out_of_hours",
            Purpose::Consultation => "consultation",
            Purpose::Police => "police",
            Purpose::EarlyHelp => "early_help",
            Purpose::Specialist => "specialist",
        }
    }
}

/// A phone number the document gives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Stable id within the area.
    pub id: String,
    /// The service's name as the document gives it.
    pub service: String,
    /// The number as it should be dialled, spaced for reading.
    pub number: String,
    /// What it is for.
    pub purpose: Purpose,
    /// Opening hours as stated, e.g. `["mon-thu 08:30-17:00", "fri 08:30-16:30"]`; empty when
    /// the document states none.
    #[serde(default)]
    pub hours: Vec<String>,
    /// What the document says about when to use it, in its words.
    #[serde(default)]
    pub note: Option<String>,
    /// The tiers of need (1-3) for which the document makes this line the route when nothing is
    /// urgent (e.g. an early-help or advice line); empty for most lines. Tier 4 and immediate
    /// danger always go to the front door or the out-of-hours team.
    #[serde(default)]
    pub tiers: Vec<u8>,
    /// Source line.
    pub source: u32,
    /// The seed file, when the number is taken from another document than the area's own.
    #[serde(default)]
    pub seed: Option<String>,
}

/// Every area's rules and the bank holidays, validated.
#[derive(Debug, Clone)]
pub struct RuleSet {
    areas: BTreeMap<AreaId, Area>,
    /// Bank holidays used for opening hours.
    pub bank_holidays: BankHolidays,
    /// The need taxonomy every indicator maps to.
    pub needs: needs::Taxonomy,
}

impl RuleSet {
    /// All areas, ordered by id.
    pub fn areas(&self) -> impl Iterator<Item = &Area> {
        self.areas.values()
    }

    /// The area with this id.
    pub fn area(&self, id: &str) -> Option<&Area> {
        self.areas.get(&AreaId(id.to_string()))
    }

    /// Area ids, ordered.
    pub fn area_ids(&self) -> Vec<&str> {
        self.areas.keys().map(|k| k.as_str()).collect()
    }

    /// Applies a deployment's front door hours, by area id. Refuses hours for an unknown area or
    /// for a front door whose document states its hours, naming the setting.
    pub fn set_front_door_hours(
        &mut self,
        hours: &BTreeMap<String, Vec<OpeningHours>>,
    ) -> Result<(), DeploymentError> {
        for (id, spans) in hours {
            let setting = hours_setting(id);
            let Some(area) = self.areas.get_mut(&AreaId(id.clone())) else {
                return Err(DeploymentError::UnknownArea {
                    setting,
                    area: id.clone(),
                });
            };
            if let Some(front) = area
                .contacts
                .iter()
                .find(|c| c.purpose == Purpose::FrontDoor && !c.hours.is_empty())
            {
                return Err(DeploymentError::DocumentStatesHours {
                    setting,
                    document: area.meta.document.clone(),
                    front_door: front.service.clone(),
                    hours: front.hours.join(", "),
                    line: front.source,
                });
            }
            area.deployment.front_door_hours = spans.clone();
        }
        Ok(())
    }
}

impl Area {
    /// The area id.
    pub fn id(&self) -> &str {
        self.meta.id.as_str()
    }

    /// The level with this id.
    pub fn level(&self, id: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.id == id)
    }

    /// The indicator with this id.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// The tier on the common scale of an indicator: its own or its level's.
    pub fn indicator_tier(&self, indicator: &Indicator) -> u8 {
        indicator
            .tier
            .or_else(|| self.level(&indicator.level).map(|l| l.tier))
            .unwrap_or(0)
    }

    /// The emergency contact (999).
    pub fn emergency(&self) -> Option<&Contact> {
        self.contacts
            .iter()
            .find(|c| c.purpose == Purpose::Emergency)
    }

    /// Contacts with the given purpose, in file order.
    pub fn contacts_for(&self, purpose: Purpose) -> impl Iterator<Item = &Contact> {
        self.contacts.iter().filter(move |c| c.purpose == purpose)
    }

    /// The level for a tier: the lowest whose own tier it is, else the highest that spans it.
    pub fn level_for_tier(&self, tier: u8) -> Option<&Level> {
        self.levels
            .iter()
            .find(|l| l.tier == tier)
            .or_else(|| self.levels.iter().rev().find(|l| l.covers(tier)))
    }

    /// `preferred` when it spans `tier`, else the level for that tier, else `preferred`.
    pub fn level_covering<'a>(&'a self, tier: u8, preferred: &'a Level) -> &'a Level {
        if preferred.covers(tier) {
            preferred
        } else {
            self.level_for_tier(tier).unwrap_or(preferred)
        }
    }

    /// The position of a level in the document's order (lowest first).
    pub fn level_rank(&self, id: &str) -> usize {
        self.levels.iter().position(|l| l.id == id).unwrap_or(0)
    }
}

impl Level {
    /// Whether the level spans `tier` (its own tier, or one of `tiers`).
    pub fn covers(&self, tier: u8) -> bool {
        tier == self.tier || self.tiers.contains(&tier)
    }
}
