//! The consultation feedback record: what was discussed, what was decided and the numbers given.
//!
//! Pure: a [`Record`] in, Markdown or plain text out, the same bytes for the same record. The
//! product is not the system of record: the caller copies this into their own agency's system,
//! so the text says so, and says that it supports and does not replace professional judgement.

use std::fmt::Write as _;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// The line every record carries.
pub const DISCLAIMER: &str = "This record supports, and does not replace, your professional judgement and your agency's safeguarding procedures. Record this consultation in your own agency's system.";

/// The version of the record's shape, stored with it.
pub const RECORD_VERSION: u32 = 1;

/// A consultation feedback record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Reference, e.g. `FD-20261122-0007`.
    pub reference: String,
    /// When the record was made, UK local time.
    pub created: NaiveDateTime,
    /// The area and its document.
    pub area: Option<AreaInfo>,
    /// Whether the caller said a child was in immediate danger.
    pub immediate_danger: bool,
    /// Whether the consultation was completed (false when it ended after the safety question).
    pub completed: bool,
    /// Who consulted.
    pub caller: Caller,
    /// The child and family.
    pub child: Child,
    /// Other children in the same consultation (name, age, setting).
    #[serde(default)]
    pub other_children: Vec<Child>,
    /// The concerns in the caller's words, one entry per message.
    pub concerns: Vec<String>,
    /// The indicators the caller confirmed.
    pub indicators: Vec<ConfirmedIndicator>,
    /// Follow-up questions and answers.
    pub follow_ups: Vec<FollowUp>,
    /// What is working well, what has been tried and the child's view, in the caller's words.
    pub strengths: String,
    /// Consent: status, reason, guidance.
    pub consent: ConsentInfo,
    /// The level of need, when one could be decided.
    pub outcome: Option<OutcomeInfo>,
    /// Every number given during the consultation.
    pub numbers: Vec<NumberGiven>,
    /// Why the line to call now was chosen.
    pub call_now_reason: String,
    /// What happens next and timescales, from the document.
    pub next_steps: Vec<String>,
}

/// The area and the document whose terms the record uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaInfo {
    /// Area id.
    pub id: String,
    /// Area name.
    pub name: String,
    /// The document's title.
    pub document: String,
    /// The partnership that published it.
    pub partnership: String,
    /// The front door's name.
    pub front_door: String,
    /// The seed file the document was taken from.
    pub seed: String,
}

/// The professional who consulted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// Name.
    pub name: String,
    /// Role, organisation, how they know the child and whether they spoke to their
    /// safeguarding lead, as one answer.
    pub role: String,
    /// Organisation. Never asked on its own now (the answer is in `role`); kept only for records
    /// made when it was, and left out of a record while empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organisation: String,
    /// Phone or email.
    pub contact: String,
    /// Relationship to the child. Never asked on its own now (the answer is in `role`); kept only
    /// for records made when it was, and left out of a record while empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub relationship: String,
    /// Whether they spoke to their safeguarding lead. Never asked on its own now (the answer is in
    /// `role`); kept only for records made when it was, and left out of a record while empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub safeguarding_lead: String,
}

/// The child and family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Child {
    /// Name.
    pub name: String,
    /// Date of birth or age, as described.
    pub age: String,
    /// Address with postcode.
    pub address: String,
    /// Household and siblings, language and interpreter, other professionals, as one answer.
    pub household: String,
    /// Language and interpreter needs. Never asked on its own now (the answer is in `household`);
    /// kept only for records made when it was, and left out of a record while empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// Other professionals involved. Never asked on its own now (the answer is in `household`);
    /// kept only for records made when it was, and left out of a record while empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub professionals: String,
    /// What has been tried. Never asked on its own now (the answer is in `Record::strengths`); kept
    /// only for records made when it was, and left out of a record while empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tried: String,
    /// School, nursery or other setting.
    #[serde(default)]
    pub setting: String,
    /// For another child of the consultation: whether the concern is about this child too
    /// ("yes (named in the concern)", "yes", "no", "not known"). Empty for the child the
    /// consultation is about.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub concern: String,
}

impl Child {
    /// Whether the concern is about this child too (another child of the consultation).
    pub fn concern_is_about(&self) -> bool {
        self.concern.starts_with("yes")
    }
}

/// A confirmed indicator, in the area's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmedIndicator {
    /// Indicator id.
    pub id: String,
    /// The document's domain.
    pub domain: String,
    /// The document's words.
    pub text: String,
    /// The level's name.
    pub level: String,
    /// Tier on the common scale.
    pub tier: u8,
    /// `seed:line`.
    pub source: String,
}

/// A follow-up question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
}

/// Consent as discussed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentInfo {
    /// The status, in words.
    pub status: String,
    /// Why consent is missing, when it is.
    pub reason: String,
    /// Who approved not seeking consent, when asked.
    pub approval: String,
    /// The child's own view, when asked.
    pub child_view: String,
    /// The guidance given: a headline, then the area's consent rules that apply.
    pub guidance: Vec<String>,
    /// What the area's document requires in this case (an approval still needed, what to do
    /// after a refusal), with sources.
    #[serde(default)]
    pub required: Vec<String>,
}

/// The level of need decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeInfo {
    /// The level's name.
    pub level: String,
    /// Tier on the common scale.
    pub tier: u8,
    /// Whether immediate protection is called for.
    pub immediate: bool,
    /// The recommended action, in the area's words.
    pub action: String,
    /// The part of the decision rule that gave it.
    pub rule: String,
    /// `seed:line` of that rule.
    pub source: String,
}

/// A number given to the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberGiven {
    /// The service.
    pub service: String,
    /// The number.
    pub number: String,
    /// Why it was given.
    pub why: String,
}

fn or_none(s: &str) -> &str {
    if s.trim().is_empty() {
        "(not given)"
    } else {
        s
    }
}

/// Escapes text typed by a caller so that it shows literally in Markdown.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

enum Style {
    Markdown,
    Text,
}

impl Record {
    /// The record as Markdown.
    pub fn to_markdown(&self) -> String {
        self.render(Style::Markdown)
    }

    /// The record as plain text.
    pub fn to_text(&self) -> String {
        self.render(Style::Text)
    }

    /// The record as pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The level as one short phrase, e.g. "Level 3: Targeted (tier 3)".
    pub fn level_phrase(&self) -> String {
        match &self.outcome {
            Some(o) => format!("{} (tier {})", o.level, o.tier),
            None if self.immediate_danger => "Immediate danger reported: call 999".to_string(),
            None => "Not decided (no indicator confirmed)".to_string(),
        }
    }

    fn render(&self, style: Style) -> String {
        let md = matches!(style, Style::Markdown);
        let esc = |s: &str| {
            if md {
                escape_markdown(s)
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        let heading = |out: &mut String, title: &str| {
            if md {
                let _ = writeln!(out, "\n## {title}\n");
            } else {
                let _ = writeln!(out, "\n{title}\n{}", "-".repeat(title.chars().count()));
            }
        };
        let field = |out: &mut String, name: &str, value: &str| {
            if md {
                let _ = writeln!(out, "- **{name}:** {}", esc(or_none(value)));
            } else {
                let _ = writeln!(out, "{name}: {}", or_none(value));
            }
        };
        // Fields no longer asked separately (they are part of another answer) are shown only
        // when a record made before has them.
        let optional = |out: &mut String, name: &str, value: &str| {
            if !value.trim().is_empty() {
                field(out, name, value);
            }
        };
        let bullet = |out: &mut String, value: &str| {
            let _ = writeln!(out, "{} {value}", if md { "-" } else { "*" });
        };

        let title = format!("Consultation record {}", self.reference);
        if md {
            let _ = writeln!(out, "# {title}");
        } else {
            let _ = writeln!(out, "{title}\n{}", "=".repeat(title.chars().count()));
        }
        out.push('\n');
        field(&mut out, "Reference", &self.reference);
        field(
            &mut out,
            "Date and time (UK)",
            &self.created.format("%d/%m/%Y %H:%M").to_string(),
        );
        match &self.area {
            Some(a) => {
                field(&mut out, "Area", &a.name);
                field(
                    &mut out,
                    "Document",
                    &format!("{}, {}", a.document, a.partnership),
                );
                field(&mut out, "Front door", &a.front_door);
            }
            None => field(&mut out, "Area", ""),
        }
        field(
            &mut out,
            "Immediate danger reported",
            if self.immediate_danger {
                "yes: told to call 999 first"
            } else {
                "no"
            },
        );
        if !self.completed {
            field(
                &mut out,
                "Status",
                "consultation ended before the outcome; only the safety advice was given",
            );
        }

        heading(&mut out, "Caller");
        field(&mut out, "Name", &self.caller.name);
        field(
            &mut out,
            "Role, organisation, link to the child, safeguarding lead",
            &self.caller.role,
        );
        optional(&mut out, "Organisation", &self.caller.organisation);
        field(&mut out, "Contact", &self.caller.contact);
        optional(
            &mut out,
            "Relationship to the child",
            &self.caller.relationship,
        );
        optional(
            &mut out,
            "Spoken to safeguarding lead",
            &self.caller.safeguarding_lead,
        );

        heading(&mut out, "Child and family");
        field(&mut out, "Name", &self.child.name);
        field(&mut out, "Date of birth or age", &self.child.age);
        optional(&mut out, "School or setting", &self.child.setting);
        field(&mut out, "Address", &self.child.address);
        field(
            &mut out,
            "Household, language, other professionals",
            &self.child.household,
        );
        optional(&mut out, "Language and interpreter", &self.child.language);
        optional(
            &mut out,
            "Other professionals involved",
            &self.child.professionals,
        );
        optional(&mut out, "What has been tried", &self.child.tried);

        for (i, c) in self.other_children.iter().enumerate() {
            heading(&mut out, &format!("Another child ({})", i + 2));
            field(&mut out, "Name", &c.name);
            field(&mut out, "Date of birth or age", &c.age);
            optional(&mut out, "School or setting", &c.setting);
            optional(&mut out, "The concern is about this child too", &c.concern);
        }

        heading(&mut out, "Concerns in the caller's words");
        if self.concerns.is_empty() {
            bullet(&mut out, "(none given)");
        }
        for c in &self.concerns {
            bullet(&mut out, &esc(c));
        }

        heading(&mut out, "Confirmed indicators");
        if self.indicators.is_empty() {
            bullet(&mut out, "(none confirmed)");
        }
        for i in &self.indicators {
            bullet(
                &mut out,
                &format!(
                    "{}: \"{}\" ({}, tier {}; source {})",
                    esc(&i.domain),
                    esc(&i.text),
                    esc(&i.level),
                    i.tier,
                    i.source
                ),
            );
        }
        if !self.follow_ups.is_empty() {
            heading(&mut out, "Follow-up questions");
            for f in &self.follow_ups {
                bullet(
                    &mut out,
                    &format!("{} {}", esc(&f.question), esc(&f.answer)),
                );
            }
        }

        heading(
            &mut out,
            "What is working well, what was tried, the child's view",
        );
        let _ = writeln!(out, "{}", esc(or_none(&self.strengths)));

        heading(&mut out, "Consent");
        field(&mut out, "Status", &self.consent.status);
        if !self.consent.reason.is_empty() {
            field(&mut out, "Reason consent is missing", &self.consent.reason);
        }
        if !self.consent.approval.is_empty() {
            field(
                &mut out,
                "Decision not to seek consent approved by",
                &self.consent.approval,
            );
        }
        if !self.consent.child_view.is_empty() {
            field(&mut out, "The child's view", &self.consent.child_view);
        }
        let mut guidance = self.consent.guidance.iter();
        if let Some(headline) = guidance.next() {
            bullet(&mut out, &esc(headline));
        }
        for r in &self.consent.required {
            bullet(&mut out, &esc(&format!("Required: {r}")));
        }
        for g in guidance {
            bullet(&mut out, &esc(g));
        }

        heading(&mut out, "Outcome");
        field(&mut out, "Level of need", &self.level_phrase());
        if let Some(o) = &self.outcome {
            field(&mut out, "Recommended action", &o.action);
            field(
                &mut out,
                "Decision rule",
                &format!("{} (source {})", o.rule, o.source),
            );
            if o.immediate {
                field(
                    &mut out,
                    "Immediate protection",
                    "the document calls for immediate protection: call 999, then the front door",
                );
            }
        }

        heading(&mut out, "Numbers given");
        for n in &self.numbers {
            bullet(
                &mut out,
                &format!("{}: {} ({})", esc(&n.service), n.number, esc(&n.why)),
            );
        }
        if !self.call_now_reason.is_empty() {
            let _ = writeln!(out, "\n{}", esc(&self.call_now_reason));
        }

        heading(&mut out, "Next steps and timescales");
        for s in &self.next_steps {
            bullet(&mut out, &esc(s));
        }

        out.push('\n');
        if md {
            let _ = writeln!(out, "_{}_", DISCLAIMER);
        } else {
            let _ = writeln!(out, "{DISCLAIMER}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn sample() -> Record {
        Record {
            reference: "FD-20261122-0001".into(),
            created: NaiveDate::from_ymd_opt(2026, 11, 22)
                .and_then(|d| d.and_hms_opt(10, 30, 0))
                .unwrap_or_default(),
            area: Some(AreaInfo {
                id: "exampleshire".into(),
                name: "Exampleshire".into(),
                document: "Example Levels of Need".into(),
                partnership: "Example Partnership".into(),
                front_door: "Example Front Door".into(),
                seed: "fixture.txt".into(),
            }),
            immediate_danger: false,
            completed: true,
            caller: Caller {
                name: "Sam Fictional".into(),
                ..Caller::default()
            },
            child: Child {
                name: "Alex *Example*".into(),
                ..Child::default()
            },
            other_children: vec![],
            concerns: vec!["He is often late".into()],
            indicators: vec![ConfirmedIndicator {
                id: "edu-2".into(),
                domain: "Education".into(),
                text: "Poor school attendance".into(),
                level: "Level 2: Early Help".into(),
                tier: 2,
                source: "fixture.txt:21".into(),
            }],
            follow_ups: vec![],
            strengths: String::new(),
            consent: ConsentInfo {
                status: "agreed".into(),
                ..ConsentInfo::default()
            },
            outcome: None,
            numbers: vec![NumberGiven {
                service: "Police".into(),
                number: "999".into(),
                why: "a child in immediate danger".into(),
            }],
            call_now_reason: String::new(),
            next_steps: vec![],
        }
    }

    #[test]
    fn fields_never_asked_are_not_stored_while_empty_and_old_records_keep_them() {
        let json = sample().to_json().expect("json");
        for key in [
            "organisation",
            "relationship",
            "safeguarding_lead",
            "language",
            "professionals",
            "tried",
        ] {
            assert!(!json.contains(&format!("\"{key}\"")), "{key}: {json}");
        }
        // A record made when these were asked on their own still shows them.
        let mut old: serde_json::Value = serde_json::from_str(&json).expect("value");
        old["caller"]["organisation"] = "Example Primary".into();
        old["child"]["tried"] = "Extra reading support".into();
        let old: Record = serde_json::from_value(old).expect("an older record reads");
        let text = old.to_text();
        assert!(text.contains("Organisation: Example Primary"), "{text}");
        assert!(
            text.contains("What has been tried: Extra reading support"),
            "{text}"
        );
        assert!(!sample().to_text().contains("Organisation"));
    }

    #[test]
    fn renders_are_deterministic_and_carry_the_disclaimer() {
        let r = sample();
        assert_eq!(r.to_markdown(), r.clone().to_markdown());
        assert_eq!(r.to_text(), r.to_text());
        for text in [r.to_markdown(), r.to_text()] {
            assert!(text.contains("FD-20261122-0001"));
            assert!(text.contains("does not replace"));
            assert!(text.contains("22/11/2026 10:30"));
            assert!(text.contains("Poor school attendance"));
            assert!(text.contains("999"));
        }
        assert!(r.to_markdown().contains("Alex \\*Example\\*"));
        assert!(r.to_text().contains("Alex *Example*"));
    }

    #[test]
    fn json_round_trips() {
        let r = sample();
        let json = r.to_json().unwrap_or_default();
        let back: Result<Record, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(r));
    }
}
