//! The summary with corrections, the first advice, the outcome on one screen and the record.

use super::*;

impl Engine {
    pub(super) fn summary_lines(&self, s: &Session, now: NaiveDateTime) -> Vec<(String, String)> {
        self.applicable(s, now)
            .into_iter()
            .filter_map(|st| {
                s.answers.get(st.id.as_str()).map(|a| {
                    (
                        st.id.to_string(),
                        format!(
                            "{}: {}",
                            short_question(&st.question),
                            self.show_answer(s, st, a, now)
                        ),
                    )
                })
            })
            .collect()
    }

    /// The other children, one line each (not numbered: `/child` adds one).
    fn other_children_lines(&self, s: &Session, now: NaiveDateTime) -> Vec<String> {
        s.children
            .iter()
            .map(|c| {
                let age = c
                    .age
                    .as_ref()
                    .map_or("age not known".into(), |a| a.describe(now.date()));
                let setting = if c.setting.is_empty() {
                    String::new()
                } else {
                    format!(", {}", c.setting)
                };
                format!(
                    "Another child: {}, {age}{setting}; the concern is about this child too: {}",
                    c.name,
                    c.concern_about(&s.concerns.messages).describe()
                )
            })
            .collect()
    }

    pub(super) fn summary_text(&self, s: &Session, now: NaiveDateTime) -> String {
        let lines = self.summary_lines(s, now);
        if lines.is_empty() {
            return "No answers yet.".into();
        }
        let mut t = String::from("Your answers so far:\n");
        for (i, (_, line)) in lines.iter().enumerate() {
            let _ = writeln!(t, "{}. {line}", i + 1);
        }
        for line in self.other_children_lines(s, now) {
            let _ = writeln!(t, "   {line}");
        }
        t.trim_end().to_string()
    }

    pub(super) fn summary_prompt(
        &self,
        s: &Session,
        now: NaiveDateTime,
        hint: Option<String>,
    ) -> Vec<Reply> {
        vec![
            Reply::Say(self.summary_text(s, now)),
            Reply::Ask(Question {
                step: "summary".into(),
                section: "Summary".into(),
                progress: None,
                text: "Is this right? Type \"yes\" for the outcome, or the number of an answer to change it.".into(),
                choices: vec![choice("yes", "Yes, show the outcome")],
                dont_know: false,
                hint,
            }),
        ]
    }

    pub(super) fn summary_answer(
        &self,
        mut s: Session,
        text: &str,
        now: NaiveDateTime,
    ) -> (Session, Vec<Reply>) {
        let n = answers::normalise(text);
        let lines = self.summary_lines(&s, now);
        if let Ok(k) = n.trim_start_matches("change ").parse::<usize>() {
            if let Some((id, _)) = k.checked_sub(1).and_then(|i| lines.get(i)) {
                let id = id.clone();
                self.unanswer(&mut s, &id);
                let out = self.prompt(&s, now, None);
                return (s, out);
            }
            let hint = format!(
                "Please type a number from 1 to {}, or \"yes\".",
                lines.len()
            );
            let out = self.prompt(&s, now, Some(hint));
            return (s, out);
        }
        if answers::parse_confirm(text) == Some(true) {
            return self.outcome(s, now);
        }
        let out = self.prompt(&s, now, Some("Please type \"yes\" if the answers are right, or the number of the answer to change.".into()));
        (s, out)
    }

    pub(super) fn unanswer(&self, s: &mut Session, id: &str) {
        s.answers.remove(id);
        s.order.retain(|x| x != id);
        if self
            .script
            .step(id)
            .is_some_and(|st| st.kind == StepKind::Concerns)
        {
            s.concerns.stage = if s.concerns.candidates.is_empty() && s.concerns.messages.is_empty()
            {
                ConcernStage::Describe
            } else {
                ConcernStage::Confirm
            };
        }
    }

    pub(super) fn show_answer(
        &self,
        s: &Session,
        step: &Step,
        a: &Answer,
        now: NaiveDateTime,
    ) -> String {
        match a {
            Answer::Text(t) => t.clone(),
            Answer::DontKnow => "don't know".into(),
            Answer::YesNo(b) => if *b { "yes" } else { "no" }.into(),
            Answer::Choice(k) => match step.kind {
                StepKind::Area => self
                    .rules
                    .area(k)
                    .map(|a| format!("{} ({})", a.meta.name, a.meta.document))
                    .unwrap_or_else(|| k.clone()),
                _ => step
                    .choices
                    .iter()
                    .find(|c| &c.key == k)
                    .map(|c| c.label.clone())
                    .unwrap_or_else(|| k.clone()),
            },
            Answer::Contact(c) => c.to_string(),
            Answer::Age(age) => age.describe(now.date()),
            Answer::Address(addr) => addr.text.clone(),
            Answer::Concerns => {
                let area = s.area.as_deref().and_then(|a| self.rules.area(a));
                let inds: Vec<String> = area
                    .map(|area| {
                        s.concerns
                            .candidates
                            .iter()
                            .map(|c| format!("\"{}\"", self.describe_candidate(area, c).1))
                            .collect()
                    })
                    .unwrap_or_default();
                let words: usize = s
                    .concerns
                    .messages
                    .iter()
                    .map(|m| m.split_whitespace().count())
                    .sum();
                if inds.is_empty() {
                    format!(
                        "{} message(s), {words} words; no indicator confirmed",
                        s.concerns.messages.len()
                    )
                } else {
                    format!(
                        "{} message(s), {words} words; confirmed: {}",
                        s.concerns.messages.len(),
                        inds.join("; ")
                    )
                }
            }
        }
    }

    pub(super) fn answer_text(&self, s: &Session, id: &str, now: NaiveDateTime) -> String {
        match (self.script.step(id), s.answers.get(id)) {
            (Some(step), Some(a)) => self.show_answer(s, step, a, now),
            _ => String::new(),
        }
    }

    pub(super) fn outcome(&self, mut s: Session, now: NaiveDateTime) -> (Session, Vec<Reply>) {
        let record = self.record(&mut s, now, true);
        let mut children: Vec<String> = vec![if record.child.name.is_empty() {
            "the child".to_string()
        } else {
            record.child.name.clone()
        }];
        children.extend(
            record
                .other_children
                .iter()
                .filter(|c| c.concern_is_about())
                .map(|c| c.name.clone()),
        );
        let child = match children.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => children.concat(),
        };
        let text = screen::advice(
            &record,
            &format!("Outcome for {child}"),
            "The full record: /record (and saved as a file with /export).",
        );
        let mut out = vec![Reply::Say(text)];
        s.finished = Some(String::new());
        out.push(Reply::Finished(Box::new(record)));
        (s, out)
    }

    /// The first advice, as soon as the concern is confirmed: the level, what to do, consent and
    /// the number to call now, on one screen. The numbers given are noted.
    pub(super) fn first_advice(&self, s: &mut Session, now: NaiveDateTime) -> String {
        let record = self.record(s, now, true);
        screen::advice(
            &record,
            "First advice (you can call now; the rest of the questions are for the record)",
            "Now a few questions for the record and the call (\"don't know\" is fine where offered).",
        )
    }

    /// After the child's age is given: the concern read again with it. The tier only goes up;
    /// when it does (or immediate protection is now called for), the caller is told at once.
    pub(super) fn reread_with_age(
        &self,
        s: &mut Session,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) {
        let Some(area) = s.area.as_deref().and_then(|a| self.rules.area(a)) else {
            return;
        };
        if s.concerns.messages.is_empty() {
            return;
        }
        let text = s.concerns.messages.join("\n");
        let Some(a) = self.assess(s, area, &text, now) else {
            return;
        };
        let (before, was_immediate) = (s.concerns.tier, s.concerns.immediate);
        s.concerns.tier = before.max(a.tier);
        s.concerns.immediate |= a.immediate;
        for f in &a.reading.red_flags {
            if !s.concerns.red_flags.contains(&f.name) {
                s.concerns.red_flags.push(f.name.clone());
            }
        }
        self.say_if_raised(
            s,
            now,
            (before, was_immediate),
            "With the child's age, the advice changes",
            out,
        );
    }

    /// When the level went up since `before` (tier, immediate), the new advice at once, with
    /// the number to call now: the caller may already be dialling on the first advice.
    pub(super) fn say_if_raised(
        &self,
        s: &mut Session,
        now: NaiveDateTime,
        before: (u8, bool),
        title: &str,
        out: &mut Vec<Reply>,
    ) {
        let (tier, was_immediate) = before;
        if s.concerns.tier > tier || (s.concerns.immediate && !was_immediate) {
            let record = self.record(s, now, true);
            out.push(Reply::Say(screen::advice(
                &record,
                title,
                "The questions go on below.",
            )));
        }
    }

    /// The level of need for the concerns: the understanding's tier for the caller's words
    /// (raised by a worrying follow-up answer), or the area's own decision rule on the
    /// indicators kept where that is higher. None only when nothing was read.
    pub(super) fn concern_outcome(
        &self,
        s: &Session,
        area: &Area,
        confirmed: &[&Indicator],
    ) -> Option<OutcomeInfo> {
        let by_rule = triage::decide(area, confirmed);
        let rule_tier = by_rule.as_ref().map_or(0, |o| o.tier);
        let read = s.concerns.tier;
        if rule_tier >= read {
            return by_rule.map(|o| OutcomeInfo {
                level: o.level.name.clone(),
                tier: o.tier,
                immediate: o.immediate || s.concerns.immediate,
                action: o.action.clone(),
                rule: o.rule.clone(),
                source: format!("{}:{}", area.meta.seed, o.source),
            });
        }
        let level = area
            .level_for_tier(read)
            .or_else(|| area.levels.iter().rfind(|l| l.tier <= read))?;
        let answered = s.concerns.follow_up.as_ref().filter(|f| f.answer.is_some());
        let rule = if s.concerns.red_flag_stands() {
            format!(
                "A red flag was described ({}): that is child protection in every threshold document.",
                s.concerns.red_flags.join("; ")
            )
        } else if let Some(f) = answered.filter(|f| f.worrying && f.raises_to >= read) {
            format!(
                "You said yes to \"{}\": that puts this at tier {} ({}).",
                f.when, f.raises_to, level.name
            )
        } else if answered.is_some() {
            format!(
                "What you described could be at two levels; the higher is given (tier {read}, {}). The front door can lower it when it knows more.",
                level.name
            )
        } else {
            format!(
                "What you described reads as tier {read} on the common scale: {}.",
                level.name
            )
        };
        Some(OutcomeInfo {
            level: level.name.clone(),
            tier: read,
            immediate: s.concerns.immediate,
            action: level.response.clone(),
            rule,
            source: format!("{}:{}", area.meta.seed, level.source),
        })
    }

    /// Builds the record from the session (reference left empty for the application to fill).
    pub(super) fn record(&self, s: &mut Session, now: NaiveDateTime, completed: bool) -> Record {
        let area = s.area.as_deref().and_then(|a| self.rules.area(a));
        let danger = s.answers.get("danger") == Some(&Answer::YesNo(true));
        let confirmed: Vec<&Indicator> = area.map(|a| self.confirmed(s, a)).unwrap_or_default();
        let mut outcome = None;
        let mut call_now_reason = String::new();
        let mut next_steps = Vec::new();
        let mut guidance = Vec::new();
        let mut consent_required: Vec<String> = Vec::new();
        if let Some(area) = area {
            let mut info = self.concern_outcome(s, area, &confirmed);
            // The caller's own report of immediate danger is never under-rated.
            if danger && completed {
                let under = info.as_ref().is_none_or(|o| o.tier < 4);
                if let (true, Some(level)) =
                    (under, area.level_for_tier(4).or_else(|| area.levels.last()))
                {
                    info = Some(OutcomeInfo {
                        level: level.name.clone(),
                        tier: if level.covers(4) { 4 } else { level.tier },
                        immediate: true,
                        action: level.response.clone(),
                        rule: "You reported a child in immediate danger: that is treated at the highest level, whatever the indicators.".into(),
                        source: format!("{}:{}", area.meta.seed, level.source),
                    });
                } else if let Some(o) = info.as_mut() {
                    o.immediate = true;
                }
            }
            // A red flag the caller has not withdrawn is never "not decided", nor below
            // child protection when none of its indicators was kept.
            let red_flag_kept = s.concerns.candidates.iter().any(|c| c.red_flag);
            if completed && s.concerns.red_flag_stands() && !red_flag_kept {
                let under = info.as_ref().is_none_or(|o| o.tier < 4);
                if let (true, Some(level)) =
                    (under, area.level_for_tier(4).or_else(|| area.levels.last()))
                {
                    info = Some(OutcomeInfo {
                        level: level.name.clone(),
                        tier: if level.covers(4) { 4 } else { level.tier },
                        immediate: s.concerns.immediate || info.as_ref().is_some_and(|o| o.immediate),
                        action: level.response.clone(),
                        rule: format!(
                            "You described {}, a sign of possible significant harm: the level stays at child protection until the front door advises otherwise.",
                            s.concerns.red_flags.join("; ")
                        ),
                        source: format!("{}:{}", area.meta.seed, level.source),
                    });
                }
            }
            if completed {
                let tier = info.as_ref().map(|o| o.tier);
                (guidance, consent_required) =
                    self.consent_guidance(s, area, info.as_ref(), danger, &confirmed);
                let urgency = Urgency::of(
                    tier,
                    danger || s.concerns.immediate || info.as_ref().is_some_and(|o| o.immediate),
                );
                if let Some(c) = self.call_now(area, urgency, now) {
                    call_now_reason = c.text(now);
                    give_numbers(s, &c, "the line to call for this outcome");
                }
                next_steps.extend(next_steps::for_outcome(
                    area,
                    tier,
                    &confirmed,
                    info.as_ref().map(|o| o.action.as_str()),
                ));
            }
            outcome = info;
        }
        if completed || danger {
            next_steps.push("Record this consultation, the advice given and what you decided in your own agency's system; this bot is not the system of record.".into());
        }
        if completed && !s.concerns.red_flags.is_empty() && !s.concerns.red_flag_stands() {
            // The caller said what was understood was wrong: the safety advice stays.
            next_steps.insert(
                0,
                format!(
                    "You described {} and then said it was wrong. If you are unsure, talk it through with the front door now; if a child is in danger, call 999.",
                    s.concerns.red_flags.join("; ")
                ),
            );
        }
        if danger {
            next_steps.insert(
                0,
                "Call 999 now if the child is in immediate danger, then the front door.".into(),
            );
        } else if s.concerns.immediate && completed {
            // The matcher's safety floor saw immediate danger in the caller's words: say so in
            // the outcome even when the confirmed indicators do not call for it.
            let flags = if s.concerns.red_flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.concerns.red_flags.join("; "))
            };
            next_steps.insert(
                0,
                format!("Your words suggested a child may need immediate protection{flags}: if the child is in danger now, call 999, then the front door."),
            );
            s.give_number(
                "Police",
                "999",
                "the concerns may need immediate protection",
            );
        }
        let follow_ups = s
            .concerns
            .follow_up
            .iter()
            .filter_map(|f| {
                f.answer.as_ref().map(|a| record::FollowUp {
                    question: f.question.clone(),
                    answer: a.clone(),
                })
            })
            .collect();
        let consent_status = self.answer_text(s, "consent", now);
        Record {
            reference: String::new(),
            created: now,
            area: area.map(|a| AreaInfo {
                id: a.id().to_string(),
                name: a.meta.name.clone(),
                document: a.meta.document.clone(),
                partnership: a.meta.partnership.clone(),
                front_door: a.meta.front_door.clone(),
                seed: a.meta.seed.clone(),
            }),
            immediate_danger: danger,
            completed,
            caller: record::Caller {
                name: self.answer_text(s, "caller_name", now),
                role: self.answer_text(s, "caller_role", now),
                contact: self.answer_text(s, "caller_contact", now),
                // Organisation, relationship and safeguarding lead are asked within the role.
                ..record::Caller::default()
            },
            child: record::Child {
                name: self.answer_text(s, "child_name", now),
                age: self.answer_text(s, "child_age", now),
                address: self.answer_text(s, "address", now),
                household: self.answer_text(s, "household", now),
                setting: self.answer_text(s, "child_setting", now),
                // Language and other professionals are asked with the household, what was
                // tried with what is working well.
                ..record::Child::default()
            },
            other_children: s
                .children
                .iter()
                .map(|c| record::Child {
                    name: c.name.clone(),
                    age: c
                        .age
                        .as_ref()
                        .map_or("don't know".into(), |a| a.describe(now.date())),
                    setting: c.setting.clone(),
                    concern: c.concern_about(&s.concerns.messages).describe().to_string(),
                    ..record::Child::default()
                })
                .collect(),
            concerns: s.concerns.messages.clone(),
            indicators: area
                .map(|area| {
                    s.concerns
                        .candidates
                        .iter()
                        .map(|c| match area.indicator(&c.indicator) {
                            Some(i) => ConfirmedIndicator {
                                id: i.id.clone(),
                                domain: i.domain.clone(),
                                text: i.text.clone(),
                                level: area
                                    .level(&i.level)
                                    .map(|l| l.name.clone())
                                    .unwrap_or_default(),
                                tier: area.indicator_tier(i),
                                source: format!("{}:{}", area.meta.seed, i.source),
                            },
                            None => {
                                let (domain, text, level, tier) = self.describe_candidate(area, c);
                                ConfirmedIndicator {
                                    id: c.key().to_string(),
                                    domain,
                                    text,
                                    level,
                                    tier,
                                    source: self
                                        .rules
                                        .needs
                                        .need(&c.need)
                                        .map(|n| n.basis.clone())
                                        .unwrap_or_default(),
                                }
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
            follow_ups,
            strengths: self.answer_text(s, "strengths", now),
            consent: record::ConsentInfo {
                status: consent_status,
                reason: self.answer_text(s, "consent_reason", now),
                approval: self.answer_text(s, "consent_approval", now),
                child_view: self.answer_text(s, "child_view", now),
                guidance,
                required: consent_required,
            },
            outcome,
            // The chosen area's numbers and 999 only: numbers given for other areas (before the
            // area was chosen) do not belong in this child's record.
            numbers: s
                .numbers
                .iter()
                .filter(|n| {
                    area.is_none_or(|a| {
                        n.number == "999" || a.contacts.iter().any(|c| c.number == n.number)
                    })
                })
                .cloned()
                .collect(),
            call_now_reason,
            next_steps,
        }
    }
}
