//! The questions for the record: which steps apply, where the caller is, the question to show,
//! and taking an answer (parsed by `answers`, stored, its side effects: the 999 advice, the area,
//! the child's age read into the concern).

use super::*;

impl Engine {
    pub(super) fn applies(&self, s: &Session, step: &Step, now: NaiveDateTime) -> bool {
        match step.when {
            None => true,
            Some(Condition::DangerYes) => s.answers.get("danger") == Some(&Answer::YesNo(true)),
            Some(c @ (Condition::ConsentMissing | Condition::ConsentNotSought)) => {
                self.consent_condition(s, c)
            }
            Some(Condition::ChildCanGiveView) => match s.answers.get("child_age") {
                Some(Answer::Age(a)) => a.years_on(now.date()).is_some_and(|y| y >= VIEW_AGE),
                Some(Answer::DontKnow) => true,
                _ => false,
            },
        }
    }

    pub(super) fn applicable<'s>(&'s self, s: &Session, now: NaiveDateTime) -> Vec<&'s Step> {
        self.script
            .steps
            .iter()
            .filter(|st| self.applies(s, st, now))
            .collect()
    }

    /// The step being asked: the first that applies and has no answer.
    pub(super) fn current<'s>(&'s self, s: &Session, now: NaiveDateTime) -> Option<&'s Step> {
        self.applicable(s, now)
            .into_iter()
            .find(|st| !s.answers.contains_key(st.id.as_str()))
    }

    pub(super) fn progress(
        &self,
        s: &Session,
        step: &Step,
        now: NaiveDateTime,
    ) -> Option<Progress> {
        let all = self.applicable(s, now);
        let current = all.iter().position(|st| st.id == step.id)? + 1;
        Some(Progress {
            current,
            total: all.len(),
        })
    }

    pub(super) fn choices(&self, step: &Step) -> Vec<Choice> {
        match step.kind {
            StepKind::YesNo => vec![choice("yes", "Yes"), choice("no", "No")],
            StepKind::Area => self
                .rules
                .areas()
                .map(|a| {
                    let mut label = format!("{} ({})", a.meta.name, a.meta.front_door);
                    if let Some(next) = &a.meta.superseded_by {
                        let _ = write!(label, ": {}, superseded by {}", a.meta.document, next);
                    }
                    choice(a.id(), &label)
                })
                .collect(),
            _ => step.choices.clone(),
        }
    }

    /// What to show for where the consultation is.
    pub(super) fn prompt(
        &self,
        s: &Session,
        now: NaiveDateTime,
        hint: Option<String>,
    ) -> Vec<Reply> {
        let Some(step) = self.current(s, now) else {
            return self.summary_prompt(s, now, hint);
        };
        let progress = self.progress(s, step, now);
        if step.kind == StepKind::Concerns {
            match s.concerns.stage {
                ConcernStage::Confirm => {
                    let mut out = Vec::new();
                    if let Some(h) = hint {
                        out.push(Reply::Say(h));
                    }
                    out.push(Reply::ConfirmMatches(self.match_list(s, progress)));
                    return out;
                }
                ConcernStage::FollowUp => {
                    if let Some(q) = self.follow_up_question(s, progress, hint.clone()) {
                        return vec![Reply::Ask(q)];
                    }
                }
                ConcernStage::ConfirmDrop => {
                    if let Some(q) = self.confirm_drop_question(s, progress, hint.clone()) {
                        return vec![Reply::Ask(q)];
                    }
                }
                ConcernStage::Describe => {
                    if !s.concerns.messages.is_empty() || !s.concerns.candidates.is_empty() {
                        return vec![Reply::Ask(Question {
                            step: step.id.to_string(),
                            section: step.section.clone(),
                            progress,
                            text: "Tell me more about what you are worried about, in your own words (or \"done\" to go on without an indicator).".into(),
                            choices: vec![],
                            dont_know: false,
                            hint,
                        })];
                    }
                }
            }
        }
        // A name typed where the concern was asked, not used in the concern: offered here.
        let hint = match (&s.concerns.name_given, hint) {
            (Some(name), None) if step.id.as_str() == "child_name" => Some(format!(
                "Earlier you typed \"{name}\": type \"yes\" if that is the child's name."
            )),
            (_, hint) => hint,
        };
        vec![Reply::Ask(Question {
            step: step.id.to_string(),
            section: step.section.clone(),
            progress,
            text: step.question.clone(),
            choices: self.choices(step),
            dont_know: step.dont_know,
            hint,
        })]
    }

    // ----- Answers ------------------------------------------------------------------------

    pub(super) fn answer(
        &self,
        mut s: Session,
        text: String,
        from_button: bool,
        now: NaiveDateTime,
    ) -> (Session, Vec<Reply>) {
        let mut out = Vec::new();
        let Some(step) = self.current(&s, now) else {
            return self.summary_answer(s, &text, now);
        };
        let taken = if step.kind == StepKind::Concerns {
            self.concerns_answer(&mut s, step, &text, now, &mut out)
        } else {
            self.take(&mut s, step, &text, from_button, now, &mut out)
        };
        match taken {
            Taken::Ok => {
                if s.is_finished() {
                    return (s, out);
                }
                out.extend(self.prompt(&s, now, None));
            }
            Taken::Hint(h) => {
                let h = match (&step.example, step.kind) {
                    (Some(e), k) if k != StepKind::Concerns && !h.contains("e.g.") => {
                        format!("{h} (For example: {e}.)")
                    }
                    _ => h,
                };
                out.extend(self.prompt(&s, now, Some(h)));
            }
        }
        (s, out)
    }

    pub(super) fn take(
        &self,
        s: &mut Session,
        step: &Step,
        text: &str,
        from_button: bool,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let id = step.id.to_string();
        if text.trim().is_empty() {
            return Taken::Hint("I did not get an answer. Please type one.".into());
        }
        if answers::is_dont_know(text) && !from_button {
            if step.dont_know {
                self.store(s, &id, Answer::DontKnow);
                return Taken::Ok;
            }
            return Taken::Hint(format!(
                "This one is needed, \"don't know\" will not do here: {}",
                step.why
            ));
        }
        let answer = match step.kind {
            StepKind::YesNo => match resolve_choice(&self.choices(step), text).map(|k| k == "yes").ok_or(()).or_else(|_| answers::parse_yes_no(text)) {
                Ok(b) => Answer::YesNo(b),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Choice | StepKind::Consent => match resolve_choice(&step.choices, text) {
                Some(k) => Answer::Choice(k),
                None => return Taken::Hint(format!("Please choose one of the options, by number or in words: {}.", labels(&step.choices))),
            },
            StepKind::Area => match self.resolve_area(text) {
                Some(a) => Answer::Choice(a.id().to_string()),
                None => {
                    return Taken::Hint(format!(
                        "I do not know that area. Please choose one of: {}. (If the child lives elsewhere, call that council's children's services front door; if a child is in danger, call 999.)",
                        self.rules.areas().map(|a| a.meta.name.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                }
            },
            StepKind::Text if text.trim().len() <= 2 && text.trim().chars().all(|c| c.is_ascii_digit()) => {
                return Taken::Hint("That looks like the number of a choice, but this question needs a few words.".into());
            }
            StepKind::Text => match answers::parse_text(text) {
                Ok(t) => Answer::Text(t),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Name if id == "child_name" => {
                // "yes": the name typed where the concern was asked.
                let text = match (&s.concerns.name_given, answers::parse_yes_no(text)) {
                    (Some(name), Ok(true)) => name.clone(),
                    _ => text.to_string(),
                };
                let text = text.as_str();
                // "Alex Example, Example Primary": the name, then the school or setting.
                let (name, setting) = match text.split_once(',') {
                    Some((n, rest)) if !rest.trim().is_empty() => (n, Some(rest.trim())),
                    _ => (text, None),
                };
                match answers::parse_name(name) {
                    Ok(t) => {
                        match setting.map(answers::parse_text) {
                            Some(Ok(st)) => {
                                s.answers.insert("child_setting".into(), Answer::Text(st));
                            }
                            Some(Err(h)) => return Taken::Hint(h.0),
                            None => {
                                s.answers.remove("child_setting");
                            }
                        }
                        Answer::Text(t)
                    }
                    Err(h) => return Taken::Hint(h.0),
                }
            }
            StepKind::Name => match answers::parse_name(text) {
                Ok(t) => Answer::Text(t),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::PhoneOrEmail => match answers::parse_contact(text) {
                Ok(c) => Answer::Contact(c),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::DateOrAge => match answers::parse_child_age(text, now.date()) {
                Ok(a) => Answer::Age(a),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Address => match answers::parse_address(text) {
                Ok(a) => Answer::Address(a),
                Err(h) => return Taken::Hint(h.0),
            },
            StepKind::Concerns => return Taken::Hint("Please describe your concerns.".into()),
        };
        // Side effects of particular answers.
        match (&*id, &answer) {
            ("danger", Answer::YesNo(true)) => {
                let text = self.danger_advice(s, now);
                out.push(Reply::Say(text));
            }
            ("danger_continue", Answer::YesNo(false)) => {
                self.store(s, &id, answer);
                out.push(Reply::Say(
                    "Understood. Make the calls now. Here is the record of the advice given; you can start a new consultation at any time.".into(),
                ));
                let record = self.record(s, now, false);
                s.finished = Some(String::new());
                out.push(Reply::Finished(Box::new(record)));
                return Taken::Ok;
            }
            ("child_age", Answer::Age(_)) => {
                self.store(s, &id, answer);
                self.reread_with_age(s, now, out);
                return Taken::Ok;
            }
            ("area", Answer::Choice(a)) => {
                if s.area.as_deref() != Some(a.as_str()) {
                    s.area = Some(a.clone());
                    self.reanalyse(s, now);
                }
                if let Some(area) = self.rules.area(a) {
                    if let Some(next) = &area.meta.superseded_by {
                        let newer = self
                            .rules
                            .area(next.as_str())
                            .map(|n| n.meta.document.clone())
                            .unwrap_or_else(|| next.to_string());
                        out.push(Reply::Say(format!(
                            "Note: {} has been superseded by {newer}. Use the newer document unless you have a reason not to (/back to change).",
                            area.meta.document
                        )));
                    }
                }
            }
            _ => {}
        }
        self.store(s, &id, answer);
        Taken::Ok
    }

    pub(super) fn store(&self, s: &mut Session, id: &str, answer: Answer) {
        s.answers.insert(id.to_string(), answer);
        s.order.retain(|x| x != id);
        s.order.push(id.to_string());
    }

    pub(super) fn resolve_area(&self, text: &str) -> Option<&Area> {
        let n = answers::normalise(text);
        if n.is_empty() {
            return None;
        }
        let areas: Vec<&Area> = self.rules.areas().collect();
        if let Ok(i) = n.parse::<usize>() {
            return i.checked_sub(1).and_then(|i| areas.get(i).copied());
        }
        let exact = areas.iter().find(|a| {
            a.id() == n
                || answers::normalise(&a.meta.name) == n
                || answers::normalise(&a.meta.front_door) == n
        });
        if let Some(a) = exact {
            // Among areas with the same name, prefer the current document.
            let same: Vec<&&Area> = areas
                .iter()
                .filter(|b| b.meta.name == a.meta.name)
                .collect();
            return same
                .iter()
                .find(|b| b.meta.superseded_by.is_none())
                .map(|b| **b)
                .or(Some(*a));
        }
        let prefixed: Vec<&&Area> = areas
            .iter()
            .filter(|a| {
                n.len() >= 3
                    && (a.id().starts_with(&n) || answers::normalise(&a.meta.name).starts_with(&n))
            })
            .collect();
        let current: Vec<&&Area> = prefixed
            .iter()
            .copied()
            .filter(|a| a.meta.superseded_by.is_none())
            .collect();
        if current.len() == 1 {
            return Some(current[0]);
        }
        if prefixed.len() == 1 {
            return Some(prefixed[0]);
        }
        areas
            .iter()
            .filter(|a| a.meta.superseded_by.is_none())
            .map(|a| {
                (
                    strsim::jaro_winkler(&n, &answers::normalise(&a.meta.name)),
                    *a,
                )
            })
            .filter(|(score, _)| *score > 0.9)
            .max_by(|x, y| x.0.total_cmp(&y.0))
            .map(|(_, a)| a)
    }
}
