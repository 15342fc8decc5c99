//! The commands available at any point (`/urgent`, `/contacts`, `/why`, `/back`, `/summary`,
//! `/area`, `/cancel`, `/ask`, `/help`), and quick advice.

use super::*;

impl Engine {
    /// Handles a command. Returns true when the replies are complete (no question to repeat).
    pub(super) fn command(
        &self,
        s: &mut Session,
        c: Command,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> bool {
        match c {
            Command::Urgent => {
                let mut t = String::from("If a child is in immediate danger, call 999 now.\n");
                let areas: Vec<&Area> = match s.area.as_deref().and_then(|a| self.rules.area(a)) {
                    Some(a) => vec![a],
                    None => self
                        .rules
                        .areas()
                        .filter(|a| a.meta.superseded_by.is_none())
                        .collect(),
                };
                for a in areas {
                    let line = self.call_now_text(
                        s,
                        a,
                        Urgency::Unassessed,
                        now,
                        "asked who to call now (/urgent)",
                    );
                    let _ = writeln!(t, "- {line}");
                }
                out.push(Reply::Say(t.trim_end().to_string()));
            }
            Command::Contacts => {
                let mut t = String::new();
                let areas: Vec<&Area> = match s.area.as_deref().and_then(|a| self.rules.area(a)) {
                    Some(a) => vec![a],
                    None => self.rules.areas().collect(),
                };
                for a in areas {
                    let _ = writeln!(t, "{} ({}):", a.meta.name, a.meta.document);
                    for c in &a.contacts {
                        let hours = contacts::hours_text(c)
                            .map(|h| format!(", {h}"))
                            .unwrap_or_default();
                        let _ = writeln!(
                            t,
                            "- {}: {} ({}{hours})",
                            c.service,
                            c.number,
                            c.purpose.as_str().replace('_', " ")
                        );
                    }
                }
                out.push(Reply::Say(t.trim_end().to_string()));
            }
            Command::Help => out.push(Reply::Say(HELP.to_string())),
            Command::Why => {
                let why = match self.current(s, now) {
                    Some(st) if st.kind == StepKind::Concerns && s.concerns.stage == ConcernStage::Confirm => {
                        "I show what I understood in the words of the area's threshold document so that you and the front door speak the same language; you decide which fit. The level is read from your words on the safe side (a learned model checked so that no child-protection concern is rated low, with red flags as a floor), or the document's own rule where that is higher.".to_string()
                    }
                    Some(st) if st.kind == StepKind::Concerns && s.concerns.stage == ConcernStage::ConfirmDrop => {
                        "What you said may describe significant harm. Removing it can leave a child unprotected, so I check that what I understood is really wrong before taking it out; the safety advice stays either way.".to_string()
                    }
                    Some(st) if st.kind == StepKind::Concerns && s.concerns.stage == ConcernStage::FollowUp => {
                        "What you described could be at two levels; I have given the higher. The answer to this one question decides whether it is higher still; \"no\" or \"don't know\" never lowers it.".to_string()
                    }
                    Some(st) => st.why.clone(),
                    None if s.is_finished() => "The consultation is over; the record is what to copy into your agency's system.".to_string(),
                    None => "The summary lets you check every answer before the outcome, because the record goes into your agency's system.".to_string(),
                };
                out.push(Reply::Say(format!("Why I ask: {why}")));
            }
            Command::Back => {
                if s.concerns.stage != ConcernStage::Describe
                    && !s.answers.contains_key("concerns")
                    && self
                        .current(s, now)
                        .is_some_and(|st| st.kind == StepKind::Concerns)
                {
                    // Inside the concerns: back to describing (messages kept).
                    s.concerns.pending_drop.clear();
                    s.concerns.stage = if matches!(
                        s.concerns.stage,
                        ConcernStage::FollowUp | ConcernStage::ConfirmDrop
                    ) {
                        ConcernStage::Confirm
                    } else {
                        ConcernStage::Describe
                    };
                    out.push(Reply::Say("Back one step; what you wrote is kept.".into()));
                } else {
                    let last = s
                        .order
                        .iter()
                        .rev()
                        .find(|id| {
                            self.script
                                .step(id)
                                .is_some_and(|st| self.applies(s, st, now))
                        })
                        .cloned();
                    match last {
                        Some(id) => {
                            self.unanswer(s, &id);
                            out.push(Reply::Say(
                                "Back one question: please answer it again.".into(),
                            ));
                        }
                        None => out.push(Reply::Say("There is no answer to change yet.".into())),
                    }
                }
            }
            Command::Summary => out.push(Reply::Say(self.summary_text(s, now))),
            Command::Area => match s.fixed_area.as_deref().and_then(|a| self.rules.area(a)) {
                Some(area) => out.push(Reply::Say(format!(
                    "This service is set up for {} only. If the child lives elsewhere, call that council's children's services front door; if a child is in danger, call 999.",
                    area.meta.name
                ))),
                None if s.answers.contains_key("area") => {
                    self.unanswer(s, "area");
                    out.push(Reply::Say(
                        "Which area does the child live in? Your other answers are kept; your concerns are matched again if the area changes.".into(),
                    ));
                }
                None => {}
            },
            Command::Restart => self.cancel(s, now, out),
            Command::Child => {
                s.adding_child = Some(0);
                out.push(Reply::Ask(self.child_question(s, None)));
                return true;
            }
            Command::Cancel => {
                if s.order.is_empty() && s.concerns.messages.is_empty() {
                    self.cancel(s, now, out);
                } else {
                    s.pending_cancel = true;
                    out.push(Reply::Ask(Question {
                        step: "cancel".into(),
                        section: "Cancel".into(),
                        progress: None,
                        text: "Delete every answer of this consultation and start again? (Records already made are kept.)".into(),
                        choices: vec![
                            choice("yes", "Yes, delete and start again"),
                            choice("no", "No, keep my answers"),
                        ],
                        dont_know: false,
                        hint: None,
                    }));
                    return true;
                }
            }
            Command::Ask(text) => {
                if text.trim().is_empty() {
                    out.push(Reply::Say("Type /ask and your concern in a sentence, e.g. \"/ask 14 year old missing school and seen with older men\".".into()));
                } else if text.chars().count() > MAX_CONCERNS_MESSAGE {
                    out.push(Reply::Say(format!(
                        "Please keep /ask under {MAX_CONCERNS_MESSAGE} characters."
                    )));
                } else {
                    match s.area.as_deref().and_then(|a| self.rules.area(a)) {
                        Some(area) => out.extend(self.quick_advice(area, &text, self.age_hint(s, now), now)),
                        None => {
                            s.pending_ask = Some(text);
                            let choices = self
                                .script
                                .steps
                                .iter()
                                .find(|st| st.kind == StepKind::Area)
                                .map(|st| self.choices(st))
                                .unwrap_or_default();
                            out.push(Reply::Ask(Question {
                                step: "ask_area".into(),
                                section: "Quick advice".into(),
                                progress: None,
                                text: "Which area does the child live in? (The levels and numbers differ by area.)".into(),
                                choices,
                                dont_know: false,
                                hint: None,
                            }));
                            return true;
                        }
                    }
                }
            }
            Command::Unknown(word) => out.push(Reply::Say(format!(
                "I do not know the command {word}. {}",
                HELP
            ))),
        }
        s.is_finished()
    }

    /// The question about another child being added.
    pub(super) fn child_question(&self, s: &Session, hint: Option<String>) -> Question {
        let n = s.children.len() + 2;
        let (text, dont_know) = match s.adding_child {
            Some(1) => (
                "What is this child's date of birth, or their age?".to_string(),
                true,
            ),
            Some(2) => (
                "Which school, nursery or setting does this child attend?".to_string(),
                true,
            ),
            Some(3) => {
                let name = s.children.last().map_or("this child", |c| c.name.as_str());
                return Question {
                    step: "other_child".into(),
                    section: format!("Child {n}"),
                    progress: None,
                    text: format!("Is your concern about {name} too?"),
                    choices: yes_no_choices(),
                    dont_know: true,
                    hint,
                };
            }
            _ => ("What is the other child's name?".to_string(), false),
        };
        Question {
            step: "other_child".into(),
            section: format!("Child {n}"),
            progress: None,
            text,
            choices: vec![],
            dont_know,
            hint,
        }
    }

    /// An answer about another child: name, then age, then setting; then back to where the
    /// consultation was.
    pub(super) fn child_answer(
        &self,
        s: &mut Session,
        text: &str,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) {
        let stage = s.adding_child.unwrap_or(0);
        let dont_know = answers::is_dont_know(text) || text.trim() == "dk";
        match stage {
            0 => match answers::parse_name(text) {
                Ok(name) => {
                    s.children.push(OtherChild {
                        name,
                        ..OtherChild::default()
                    });
                    s.adding_child = Some(1);
                }
                Err(h) => {
                    out.push(Reply::Ask(self.child_question(s, Some(h.0))));
                    return;
                }
            },
            1 => {
                if !dont_know {
                    match answers::parse_child_age(text, now.date()) {
                        Ok(age) => {
                            if let Some(c) = s.children.last_mut() {
                                c.age = Some(age);
                            }
                        }
                        Err(h) => {
                            out.push(Reply::Ask(self.child_question(s, Some(h.0))));
                            return;
                        }
                    }
                }
                s.adding_child = Some(2);
            }
            2 => {
                if !dont_know {
                    match answers::parse_text(text) {
                        Ok(t) => {
                            if let Some(c) = s.children.last_mut() {
                                c.setting = t;
                            }
                        }
                        Err(h) => {
                            out.push(Reply::Ask(self.child_question(s, Some(h.0))));
                            return;
                        }
                    }
                }
                // Which child the concern is about: a child the caller's words name needs no
                // question.
                let named = s
                    .children
                    .last()
                    .is_some_and(|c| names_in(&s.concerns.messages, &c.name));
                if !named {
                    s.adding_child = Some(3);
                    out.push(Reply::Ask(self.child_question(s, None)));
                    return;
                }
                self.child_added(s, now, out);
                return;
            }
            _ => {
                let about = if dont_know {
                    None
                } else {
                    // By number ("1", "2"), as the terminal lists them, or in words.
                    let chosen = resolve_choice(&yes_no_choices(), text).map(|k| k == "yes");
                    match chosen.ok_or(()).or_else(|_| answers::parse_yes_no(text)) {
                        Ok(yes) => Some(yes),
                        Err(h) => {
                            out.push(Reply::Ask(self.child_question(s, Some(h.0))));
                            return;
                        }
                    }
                };
                if let Some(c) = s.children.last_mut() {
                    c.concern = about;
                }
                self.child_added(s, now, out);
                return;
            }
        }
        out.push(Reply::Ask(self.child_question(s, None)));
    }

    /// The other child is complete: say so, with what the concern is about, and go back to
    /// where the consultation was.
    fn child_added(&self, s: &mut Session, now: NaiveDateTime, out: &mut Vec<Reply>) {
        s.adding_child = None;
        let Some(child) = s.children.last() else {
            out.extend(self.prompt(s, now, None));
            return;
        };
        let about = match child.concern_about(&s.concerns.messages) {
            ConcernAbout::Named => {
                " Your concern names them, so the record says it is about them too."
            }
            ConcernAbout::Yes => " The record says the concern is about them too.",
            ConcernAbout::No => " The record says the concern is not about them.",
            ConcernAbout::NotKnown => "",
        };
        let name = child.name.clone();
        out.push(Reply::Say(format!(
            "Added {name} to this consultation.{about} /child adds another."
        )));
        if !s.is_finished() {
            out.extend(self.prompt(s, now, None));
        }
    }

    /// Deletes this consultation's answers and starts again (a new generation).
    pub(super) fn cancel(&self, s: &mut Session, now: NaiveDateTime, out: &mut Vec<Reply>) {
        let fixed = s.fixed_area.clone();
        let generation = s.generation.wrapping_add(1);
        *s = self.new_session(now, fixed.as_deref());
        s.generation = generation;
        out.push(Reply::Say(
            "Cancelled: this consultation's answers are deleted. Starting again.".into(),
        ));
    }

    /// The question again after a command; the list of what was understood is not repeated
    /// (only a one-line reminder with its choices).
    pub(super) fn prompt_after_command(&self, s: &Session, now: NaiveDateTime) -> Vec<Reply> {
        let at_confirm = s.concerns.stage == ConcernStage::Confirm
            && !s.concerns.candidates.is_empty()
            && self
                .current(s, now)
                .is_some_and(|st| st.kind == StepKind::Concerns);
        if !at_confirm {
            return self.prompt(s, now, None);
        }
        vec![Reply::Ask(Question {
            step: "concerns".into(),
            section: "Your concerns".into(),
            progress: None,
            text: "Back to what I understood (shown above): \"yes\" to confirm, \"drop 2\" to remove one, or more words to add.".into(),
            choices: vec![
                choice("confirm", "Yes, these fit"),
                choice("none", "None of these fit"),
            ],
            dont_know: false,
            hint: None,
        })]
    }

    /// Quick advice on a concern without a consultation: what was understood (in the area's
    /// words), the level on the safe side (the higher of two when the understanding is unsure,
    /// with what would lower it), 999 first when immediate, and the number to call now.
    /// Nothing is recorded. `age_hint`: the child's age already given, if any.
    pub fn quick_advice(
        &self,
        area: &Area,
        text: &str,
        age_hint: Option<f32>,
        now: NaiveDateTime,
    ) -> Vec<Reply> {
        let mut t = format!(
            "Quick advice for {} ({}): not a consultation, nothing is recorded.\n",
            area.meta.name, area.meta.document
        );
        let a = match assess::assess(
            area,
            &self.understanding,
            &self.rules.bank_holidays,
            text,
            age_hint,
            now,
        ) {
            Ok(a) => a,
            Err(_) => {
                t.push_str("I cannot find this area's numbers. If a child is in danger, call 999.");
                return vec![Reply::Say(t)];
            }
        };
        if a.immediate {
            t.push_str("What you describe may need immediate protection: if the child is in danger now, call 999 first, then the front door.\n");
        }
        if let Some(o) = &a.outcome {
            let _ = writeln!(t, "Level: {} (tier {}). {}", o.level.name, o.tier, o.action);
        }
        if a.shown.is_empty() {
            t.push_str("I could not tell what kind of concern this is. Say more (what you saw or heard, how often, the child's age, any injury), or talk it through with the front door.\n");
        } else {
            t.push_str("What I understood:\n");
            for sh in &a.shown {
                let words = if sh.your_words.is_empty() {
                    String::new()
                } else {
                    format!("; your words: \"{}\"", sh.your_words.join("\", \""))
                };
                match sh.indicator {
                    Some(i) => {
                        let level = area.level(&i.level).map(|l| l.name.as_str()).unwrap_or("");
                        let _ = writeln!(t, "- {}: \"{}\" ({level}){words}", i.domain, i.text);
                    }
                    None => {
                        let _ = writeln!(
                            t,
                            "- {} ({} has no indicator for this; usually tier {}, from {}){words}",
                            sh.need.name, area.meta.document, sh.need.tier, sh.need.basis
                        );
                    }
                }
            }
        }
        if let Some((lower, higher)) = a.reading.unsure {
            let _ = writeln!(
                t,
                "I was unsure between tier {lower} and tier {higher}, so I give the higher."
            );
        }
        if !a.would_lower.is_empty() {
            t.push_str("It would be lower if:\n");
            for (when, tier) in &a.would_lower {
                let _ = writeln!(t, "- {when} (tier {tier})");
            }
        }
        if let Some(f) = &a.follow_up {
            let _ = writeln!(
                t,
                "It would be higher (tier {}{}) if: {}.",
                f.raises_to.0,
                if f.raises_to.1 {
                    ", immediate protection"
                } else {
                    ""
                },
                f.when
            );
        }
        let _ = writeln!(t, "Who to call now: {}", a.call.text(now));
        t.push_str("For a full consultation with a record, answer the questions (/help).");
        vec![Reply::Say(t)]
    }
}

/// Yes and No, as choices (buttons in Telegram, numbered in the terminal).
fn yes_no_choices() -> Vec<Choice> {
    vec![choice("yes", "Yes"), choice("no", "No")]
}
