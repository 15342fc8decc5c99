//! Consent guidance: what to say to the family, and when not to, for the level decided and what
//! the caller described. Pure: the engine passes the outcome, the consent answers and what was
//! described (red flags seen, indicators confirmed or dropped), and gets the guidance back.
//!
//! The documents agree that consent is sought wherever possible, except where seeking it would
//! put the child at risk or prejudice an investigation (000:393, 002:414, 003:542, 004:1126).
//! So the guidance **never advises telling the family first** where abuse, a disclosure, FGM,
//! fabricated illness, domestic abuse, any red flag or a child-protection level was described,
//! even if the caller later dropped the indicator; and where no level could be decided it advises
//! talking the concern through with the front door before telling the family. Where the document
//! requires a manager's approval for not seeking consent (Stoke-on-Trent, 004:1128) and no approver
//! was named, it says plainly that the approval is still needed; with consent refused and
//! significant-harm concerns it gives what the document requires (e.g. 004:1133-1141).

use crate::rules::{Area, ConsentKind, ConsentRule, ConsentScope, Indicator};

/// What the family has been told, as the caller answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// They know and agree.
    Agreed,
    /// They know and refused.
    Refused,
    /// Not asked yet.
    NotYet,
    /// Not asked because asking would put the child at risk or prejudice an investigation.
    NotSought,
    /// Not answered (e.g. the consultation ended at the safety question).
    Unknown,
}

impl Status {
    /// From the consent step's choice key.
    pub fn from_key(key: &str) -> Status {
        match key {
            "agreed" => Status::Agreed,
            "refused" => Status::Refused,
            "not_yet" => Status::NotYet,
            "not_sought" => Status::NotSought,
            _ => Status::Unknown,
        }
    }
}

/// Who approved not seeking consent, as the caller answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Someone was named.
    Named,
    /// "Don't know", or nothing given.
    Missing,
}

/// The consultation as far as consent is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// The tier decided; `None` when no level could be decided.
    pub tier: Option<u8>,
    /// Immediate protection is called for.
    pub immediate: bool,
    /// What the family has been told.
    pub status: Status,
    /// Who approved not seeking consent.
    pub approval: Approval,
    /// What was described that makes telling the family first unsafe, in plain words (see
    /// [`risks`]); empty when nothing was.
    pub risks: Vec<String>,
}

/// The guidance: a headline in plain words, what the area's document requires in this case, and
/// the document's other consent rules that apply, each with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guidance {
    /// What to do, in one or two sentences.
    pub headline: String,
    /// What the document requires here (approval still needed, what to do after a refusal).
    pub required: Vec<String>,
    /// The document's other consent rules that apply, quoted with their sources.
    pub rules: Vec<String>,
}

impl Guidance {
    /// Every line, headline first, as the record keeps them.
    pub fn lines(&self) -> Vec<String> {
        std::iter::once(self.headline.clone())
            .chain(self.required.iter().cloned())
            .chain(self.rules.iter().cloned())
            .collect()
    }
}

/// Subjects of an indicator's wording for which the family is not told first, with the words
/// that name them.
const SUBJECTS: &[(&str, &[&str])] = &[
    ("a disclosure", &["disclos"]),
    ("FGM", &["genital", "fgm"]),
    (
        "fabricated or induced illness",
        &["fabricat", "induced illness"],
    ),
    (
        "forced marriage or honour-based abuse",
        &["forced marriage", "honour"],
    ),
    (
        "sexual abuse or exploitation",
        &["sexual abuse", "sexually", "sexual exploitation"],
    ),
    (
        "exploitation or trafficking",
        &[
            "exploit",
            "traffick",
            "modern slavery",
            "grooming",
            "groomed",
        ],
    ),
    (
        "domestic abuse",
        &[
            "domestic abuse",
            "domestic violence",
            "perpetrator",
            "abuser",
            "violent partner",
            "coercive control",
        ],
    ),
    (
        "an injury",
        &["injur", "non-accidental", "bruis", "assault"],
    ),
    ("abuse", &["abuse"]),
];

fn subject(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    SUBJECTS
        .iter()
        .find(|(_, words)| words.iter().any(|w| named(&t, w)))
        .map(|(name, _)| *name)
}

/// Whether `word` occurs in `text` other than after "without", "no signs of" or "no evidence
/// of" in its clause ("without links to exploitation" names no exploitation; "not protected from
/// abuse" still names abuse).
fn named(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let clause_start = text[..at].rfind(['.', ',', ';', ':']).map_or(0, |i| i + 1);
        let before = format!(" {} ", &text[clause_start..at]);
        !["without", "no signs of", "no evidence of"]
            .iter()
            .any(|n| before.contains(&format!(" {n} ")))
    })
}

/// What was described that makes telling the family first unsafe, in plain words: a reported
/// immediate danger, every red flag named (whether or not the caller kept its
/// indicator), and the subject of every confirmed or dropped indicator that names abuse, a
/// disclosure, FGM, fabricated illness, domestic abuse, exploitation or an injury, or that the
/// document rates at child protection.
pub fn risks(
    area: &Area,
    danger: bool,
    red_flags: &[String],
    confirmed: &[&Indicator],
    dropped: &[&Indicator],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    if danger {
        add("a child in immediate danger".to_string());
    }
    for f in red_flags {
        add(f.clone());
    }
    for (ind, was_dropped) in confirmed
        .iter()
        .map(|i| (*i, false))
        .chain(dropped.iter().map(|i| (*i, true)))
        .filter(|(i, _)| !i.positive)
    {
        let name = match subject(&ind.text) {
            Some(s) => Some(s.to_string()),
            None if ind.immediate || area.indicator_tier(ind) >= 4 => {
                Some("a concern the document rates as significant harm".to_string())
            }
            None => None,
        };
        if let Some(name) = name {
            add(if was_dropped {
                format!("{name} (in what you said, although you removed the indicator)")
            } else {
                name
            });
        }
    }
    out
}

fn scope_for(tier: Option<u8>, risky: bool) -> ConsentScope {
    match tier {
        Some(4) => ConsentScope::ChildProtection,
        _ if risky => ConsentScope::ChildProtection,
        Some(3) => ConsentScope::ChildInNeed,
        _ => ConsentScope::EarlyHelp,
    }
}

fn cite(area: &Area, rule: &ConsentRule) -> String {
    format!(
        "{} says: \"{}\" ({}:{})",
        area.meta.document, rule.text, area.meta.seed, rule.source
    )
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The consent guidance for `situation` in `area`.
pub fn guidance(area: &Area, situation: &Situation) -> Guidance {
    let risky = !situation.risks.is_empty() || situation.immediate;
    let protection = situation.tier == Some(4) || situation.immediate;
    let described = if situation.risks.is_empty() {
        String::new()
    } else {
        format!("You described {}. ", list(&situation.risks))
    };
    let headline = match (situation.tier, situation.status) {
        (None, Status::Refused) => format!("{described}No level could be decided. The family know and refused: talk your concern through with the front door before you say more to them, and tell the front door that they refused."),
        (None, Status::Agreed) => format!("{described}No level could be decided. The family know and agree; talk your concern through with the front door before you say more to them, and follow their advice."),
        (None, _) => format!("{described}No level could be decided, so talk your concern through with the front door before you tell the family: they will advise whether, when and how the family is told."),
        (_, Status::Agreed) if protection => format!("{described}Consent is not required for child protection (s47) enquiries, but it is good that the family know. Call the front door now, and follow their advice on what the family is told next."),
        (_, Status::Agreed) if risky => format!("{described}The family know and agree. Tell the front door what you described and follow their advice before you say more to the family."),
        (_, Status::Refused) if protection || risky => format!("{described}Do not let the refusal stop you where a child may be at risk of significant harm: call the front door now. Record that consent was refused and why you are going ahead, and tell the front door that the family refused."),
        (_, Status::NotSought) => format!("{described}Not seeking consent is right where asking would put the child at risk or prejudice an investigation: record why, and tell the front door."),
        (_, Status::NotYet | Status::Unknown) if protection || risky => format!("{described}Do not tell the parents or carers first: asking for consent can put the child at risk or prejudice an investigation. Call the front door now and agree with them whether, when and by whom the family is told, and record why consent was not sought."),
        (Some(3), Status::Agreed) => "Targeted help and child in need (s17) services are voluntary; the family's agreement lets the front door go ahead.".to_string(),
        (Some(3), Status::Refused) => "Targeted help and child in need (s17) services are voluntary and need consent. Record the refusal and the family's reasons; if you believe the child is suffering or likely to suffer significant harm, call the front door anyway.".to_string(),
        (Some(3), _) => "Targeted help and child in need services need consent: talk to the parents or carers about your concerns and ask for their agreement before the referral, unless that would put the child at risk; if you are unsure, talk it through with the front door first.".to_string(),
        (Some(1), Status::Agreed) => "Universal services work with the family's agreement, and they have agreed: go ahead with the help on offer.".to_string(),
        (Some(1), Status::Refused) => "Universal help is voluntary: record that the family refused, keep offering it, and talk to the front door if your concerns grow.".to_string(),
        (Some(1), _) => "At this level universal services meet the child's needs with the family's agreement: talk to the parents or carers about what you have noticed and the help on offer, and record what they say.".to_string(),
        (_, Status::Agreed) => "Early help is voluntary and the family has agreed: you can go ahead (for example with an Early Help Assessment).".to_string(),
        (_, Status::Refused) => "Early help is voluntary: without consent it cannot go ahead. Record the refusal, keep offering support, and call the front door if your concerns grow.".to_string(),
        (_, _) => "Early help needs the family's consent. Tell the parents or carers, in plain words, what you are worried about and what help could offer; ask for their agreement and record their answer. Then make the request.".to_string(),
    };

    let scope = scope_for(situation.tier, risky);
    let applies = |r: &&ConsentRule| r.scope == scope || r.scope == ConsentScope::All;
    let not_seeking = situation.status == Status::NotSought
        || (risky && matches!(situation.status, Status::NotYet | Status::Unknown));
    let refused_at_risk = situation.status == Status::Refused && (protection || risky);

    let mut required = Vec::new();
    if not_seeking {
        for rule in area
            .consent
            .iter()
            .filter(|r| r.kind == ConsentKind::Approval)
            .filter(|r| r.text.contains("must be approved"))
        {
            let source = format!("{}:{}", area.meta.seed, rule.source);
            required.push(match situation.approval {
                Approval::Named => format!(
                    "You named who approved not seeking consent: record the approval and the reasons. {} requires it: \"{}\" ({source})",
                    area.meta.document, rule.text
                ),
                Approval::Missing => format!(
                    "A manager's approval is still needed: you have not named who approved the decision not to seek consent, and {} requires it: \"{}\" ({source}). Get that approval, and record it with the reasons.",
                    area.meta.document, rule.text
                ),
            });
        }
    }
    if refused_at_risk {
        for rule in area
            .consent
            .iter()
            .filter(|r| r.kind == ConsentKind::Refused)
            .filter(|r| r.scope == ConsentScope::ChildProtection)
        {
            required.push(format!(
                "{} requires: \"{}\" ({}:{})",
                area.meta.document, rule.text, area.meta.seed, rule.source
            ));
        }
    }

    let kinds: &[ConsentKind] = match situation.status {
        Status::Agreed => &[
            ConsentKind::Needed,
            ConsentKind::NotRequired,
            ConsentKind::Record,
        ],
        Status::Refused => &[
            ConsentKind::Refused,
            ConsentKind::NotRequired,
            ConsentKind::Needed,
            ConsentKind::Record,
        ],
        _ if not_seeking => &[
            ConsentKind::DoNotSeek,
            ConsentKind::Approval,
            ConsentKind::NotRequired,
            ConsentKind::Record,
        ],
        _ => &[
            ConsentKind::Needed,
            ConsentKind::NotRequired,
            ConsentKind::DoNotSeek,
            ConsentKind::Record,
        ],
    };
    let mut rules = Vec::new();
    for k in kinds {
        for rule in area.consent.iter().filter(|r| r.kind == *k).filter(applies) {
            let line = cite(area, rule);
            let already = required.iter().any(|q| q.contains(&rule.text));
            if !already && !rules.contains(&line) {
                rules.push(line);
            }
        }
    }
    Guidance {
        headline,
        required,
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_read_from_the_wording() {
        assert_eq!(
            subject("Children who disclose abuse."),
            Some("a disclosure")
        );
        assert_eq!(
            subject("Previous domestic abuse perpetrator resides in the family home"),
            Some("domestic abuse")
        );
        assert_eq!(subject("Child has over 10% absence"), None);
        assert_eq!(
            subject("Occasionally missing school or home without links to exploitation or family issues."),
            None
        );
        assert_eq!(subject("Child is not protected from abuse"), Some("abuse"));
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    }
}
