//! Consent: which consent questions apply (why it is missing, who agreed not to seek it) and the
//! guidance for what the caller described and what the family has been told. The guidance
//! itself is `advice::consent` (pure, from the area's document); this is where the consultation
//! puts its answers to it.

use super::*;
use crate::advice::consent as advice;

impl Engine {
    /// Whether a consent condition of the script holds for the answers so far.
    pub(super) fn consent_condition(&self, s: &Session, condition: Condition) -> bool {
        match condition {
            Condition::ConsentMissing => matches!(
                s.text("consent"),
                Some("refused" | "not_yet" | "not_sought")
            ),
            Condition::ConsentNotSought => s.text("consent") == Some("not_sought"),
            _ => false,
        }
    }

    /// The consent guidance (headline first, then the document's rules) and what the document
    /// requires, for the level decided. Dropped indicators still count (unless the caller added
    /// them back): what was described matters for whether the family may be told first.
    pub(super) fn consent_guidance(
        &self,
        s: &Session,
        area: &Area,
        info: Option<&OutcomeInfo>,
        danger: bool,
        confirmed: &[&Indicator],
    ) -> (Vec<String>, Vec<String>) {
        let consent_key = s.text("consent").unwrap_or("").to_string();
        let dropped: Vec<&Indicator> = s
            .concerns
            .dropped
            .iter()
            .filter(|id| !confirmed.iter().any(|c| &&c.id == id))
            .filter_map(|id| area.indicator(id))
            .collect();
        let situation = advice::Situation {
            tier: info.map(|o| o.tier),
            immediate: info.is_some_and(|o| o.immediate),
            status: advice::Status::from_key(&consent_key),
            approval: match s.answers.get("consent_approval") {
                Some(Answer::Text(t)) if !t.trim().is_empty() => advice::Approval::Named,
                _ => advice::Approval::Missing,
            },
            risks: advice::risks(area, danger, &s.concerns.red_flags, confirmed, &dropped),
        };
        let advice = advice::guidance(area, &situation);
        let required = advice.required.clone();
        let guidance = std::iter::once(advice.headline)
            .chain(advice.rules)
            .collect();
        (guidance, required)
    }
}
