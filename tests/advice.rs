//! Consent guidance (src/advice/consent.rs) in every area: never "tell the family first" where
//! abuse, a disclosure, a red flag or child protection was described, even if the caller dropped
//! the indicator; "not decided" means talking it through with the front door first; and the
//! requirements Stoke-on-Trent's document states (004:1128, 004:1133-1141).

use frontdoor::advice::consent::{guidance, risks, Approval, Situation, Status};
use frontdoor::rules::{load_embedded, Indicator, RuleSet};

fn rules() -> RuleSet {
    load_embedded().expect("valid rules")
}

const STATUSES: [Status; 5] = [
    Status::Agreed,
    Status::Refused,
    Status::NotYet,
    Status::NotSought,
    Status::Unknown,
];

fn situation(tier: Option<u8>, status: Status, risks: Vec<String>) -> Situation {
    Situation {
        tier,
        immediate: false,
        status,
        approval: Approval::Missing,
        risks,
    }
}

/// Words that advise telling the family before the front door is involved.
fn tells_family_first(headline: &str) -> bool {
    headline.contains("Tell the parents or carers")
        || headline.contains("ask for their agreement and record")
        || headline.contains("talk to the parents or carers about your concerns")
}

#[test]
fn never_tell_the_family_first_when_harm_was_described_or_nothing_decided() {
    let rules = rules();
    for area in rules.areas() {
        for tier in [None, Some(1), Some(2), Some(3), Some(4)] {
            for status in STATUSES {
                let risky = situation(tier, status, vec!["disclosure of abuse".into()]);
                let g = guidance(area, &risky);
                assert!(
                    !tells_family_first(&g.headline),
                    "{} {tier:?} {status:?}: {}",
                    area.id(),
                    g.headline
                );
                assert!(g.headline.contains("disclosure of abuse"), "{}", g.headline);
                if tier.is_none() {
                    let g = guidance(area, &situation(None, status, vec![]));
                    assert!(
                        g.headline
                            .contains("talk your concern through with the front door before"),
                        "{}: {}",
                        area.id(),
                        g.headline
                    );
                    assert!(!tells_family_first(&g.headline));
                }
                if tier == Some(4) {
                    let g = guidance(area, &situation(tier, status, vec![]));
                    assert!(!tells_family_first(&g.headline), "{}", g.headline);
                }
            }
        }
        // Plain early help, nothing harmful described: ask the family.
        let g = guidance(area, &situation(Some(2), Status::NotYet, vec![]));
        assert!(g.headline.contains("Early help needs the family's consent"));
    }
}

#[test]
fn a_dropped_red_flag_or_a_harmful_subject_still_counts() {
    let rules = rules();
    let area = rules.area("warwickshire").expect("area");
    let ind = |id: &str| -> &Indicator { area.indicator(id).expect("indicator") };
    // The caller removed "Children who disclose abuse." (ip-4-06): it still counts.
    let disclose = area
        .indicators
        .iter()
        .find(|i| i.text.contains("disclose abuse"))
        .expect("a disclosure row");
    let r = risks(area, false, &[], &[], &[disclose]);
    assert_eq!(
        r,
        vec!["a disclosure (in what you said, although you removed the indicator)".to_string()]
    );
    // Fabricated illness, domestic abuse with the perpetrator at home, FGM named by a red flag.
    let r = risks(
        area,
        false,
        &["female genital mutilation".to_string()],
        &[ind("abn-3-07"), ind("dv-3-03")],
        &[],
    );
    assert_eq!(
        r,
        vec![
            "female genital mutilation".to_string(),
            "fabricated or induced illness".into(),
            "domestic abuse".into()
        ]
    );
    // An everyday early-help need names none.
    let late = area
        .indicators
        .iter()
        .find(|i| i.level == "early-support" && !i.positive && i.domain == "Education")
        .expect("an education need");
    assert!(risks(area, false, &[], &[late], &[]).is_empty());
    assert_eq!(
        risks(area, true, &[], &[], &[]),
        vec!["a child in immediate danger"]
    );
}

#[test]
fn stoke_on_trent_approval_and_refusal() {
    let rules = rules();
    let area = rules.area("stoke-on-trent").expect("area");
    // Not sought, approver "don't know": the approval is still needed (004:1128).
    let mut s = situation(Some(4), Status::NotSought, vec![]);
    let g = guidance(area, &s);
    assert_eq!(g.required.len(), 1, "{:?}", g.required);
    assert!(g.required[0].starts_with("A manager's approval is still needed"));
    assert!(g.required[0].contains("004_5dfddaf231e6a047.txt:1128"));
    // The same when the bot advises not asking (a disclosure, consent not asked yet).
    let g = guidance(
        area,
        &situation(Some(4), Status::NotYet, vec!["disclosure of abuse".into()]),
    );
    assert!(
        g.required.iter().any(|r| r.contains(":1128")),
        "{:?}",
        g.required
    );
    // With an approver named, it is recorded, not asked for again.
    s.approval = Approval::Named;
    let g = guidance(area, &s);
    assert!(g.required[0].starts_with("You named who approved"));
    // Refused with significant-harm concerns: 1133, 1137, 1140 and 1141.
    let g = guidance(area, &situation(Some(4), Status::Refused, vec![]));
    let required = g.required.join("\n");
    for line in [":1133)", ":1137)", ":1140)", ":1141)"] {
        assert!(required.contains(line), "{line}: {required}");
    }
    assert!(required.contains("further advice and approval must be sought"));
    // No refusal requirements for early help.
    let g = guidance(area, &situation(Some(2), Status::Refused, vec![]));
    assert!(g.required.is_empty(), "{:?}", g.required);
    // Other areas name no required approval.
    for other in rules.areas().filter(|a| a.id() != "stoke-on-trent") {
        let g = guidance(other, &situation(Some(4), Status::NotSought, vec![]));
        assert!(g.required.is_empty(), "{}: {:?}", other.id(), g.required);
    }
}

#[test]
fn child_in_need_rows_bring_the_parental_agreement_rule() {
    let rules = rules();
    // Warwickshire 2018, a purple child-in-need row (000:379) is tier 3: the agreement rule shows.
    let area = rules.area("warwickshire-2018").expect("area");
    let g = guidance(area, &situation(Some(3), Status::NotYet, vec![]));
    assert!(g.rules.iter().any(|r| r.contains(":379)")), "{:?}", g.rules);
    // Salford s.20 with agreement (001:300).
    let area = rules.area("salford").expect("area");
    let g = guidance(area, &situation(Some(3), Status::Agreed, vec![]));
    assert!(g.rules.iter().any(|r| r.contains(":300)")), "{:?}", g.rules);
}

mod next_steps {
    use super::rules;
    use frontdoor::advice::next_steps::for_outcome;
    use frontdoor::rules::Indicator;

    #[test]
    fn warwickshire_steps_fit_the_level() {
        let rules = rules();
        let area = rules.area("warwickshire").expect("area");
        let tier2 = for_outcome(area, Some(2), &[], Some("Consider initiating ...")).join("\n");
        assert!(
            !tier2.contains("These children require an immediate referral"),
            "{tier2}"
        );
        assert!(!tier2.contains("decisive, protective action"), "{tier2}");
        assert!(
            tier2.contains("Single agency support; Early Support Assessment"),
            "{tier2}"
        );
        assert!(tier2.contains("003_c286af2336f58c4a.txt:510"), "{tier2}");
        assert!(tier2.contains("consultation feedback letter"), "{tier2}");
        assert!(tier2.contains("Approximately monthly contact"), "{tier2}");
        let tier4 = for_outcome(area, Some(4), &[], Some("other")).join("\n");
        assert!(
            tier4.contains("Family Help Assessment allocated"),
            "{tier4}"
        );
        assert!(
            tier4.contains("These children require an immediate referral"),
            "{tier4}"
        );
        assert!(tier4.contains("consultation feedback letter"), "{tier4}");
        assert!(!tier4.contains("Approximately monthly"), "{tier4}");
        // Not repeated when it is already the recommended action.
        let level = area.level("immediate-protection").expect("level");
        let steps = for_outcome(area, Some(4), &[], Some(&level.response)).join("\n");
        assert!(
            !steps.contains("These children require an immediate referral"),
            "{steps}"
        );
        // Nothing decided: only what goes with every outcome.
        let none = for_outcome(area, None, &[], None);
        assert_eq!(none.len(), 1, "{none:?}");
    }

    #[test]
    fn medway_has_no_escalation_stages_and_rag_only_in_context() {
        let rules = rules();
        let area = rules.area("medway").expect("area");
        for tier in 1..=4 {
            let steps = for_outcome(area, Some(tier), &[], None).join("\n");
            assert!(!steps.contains("Stage 1"), "{steps}");
            assert!(!steps.contains("managers insight"), "{steps}");
            assert!(steps.contains("within 24 hours"), "{steps}");
            if tier >= 3 {
                assert!(
                    steps.contains("how quickly they are made: \"RED – 4HRS ENQUIRY"),
                    "{steps}"
                );
            } else {
                assert!(!steps.contains("RED"), "{steps}");
            }
        }
    }

    #[test]
    fn salford_private_fostering_only_when_it_is_the_concern() {
        let rules = rules();
        let area = rules.area("salford").expect("area");
        let other: &Indicator = area
            .indicators
            .iter()
            .find(|i| i.level == "getting-more-help" && !i.id.starts_with("pf-"))
            .expect("a need");
        let steps = for_outcome(area, Some(3), &[other], None).join("\n");
        assert!(!steps.contains("Private fostering"), "{steps}");
        assert!(steps.contains("Section 47"), "{steps}");
        let pf = area.indicator("pf-3-01").expect("private fostering");
        let steps = for_outcome(area, Some(3), &[pf], None).join("\n");
        assert!(steps.contains("Private fostering"), "{steps}");
        let steps = for_outcome(area, Some(2), &[], None).join("\n");
        assert!(!steps.contains("as quickly as possible"), "{steps}");
        assert!(!steps.contains("escalation"), "{steps}");
    }
}
