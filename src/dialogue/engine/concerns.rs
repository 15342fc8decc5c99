//! "What is worrying you?": the caller's messages read together by the understanding, what was
//! understood shown in the area's words to confirm, drop or add to, red flags confirmed before
//! they are dropped, and the one follow-up question when the reading is unsure.

use super::*;

/// The re-ask when the first message says nothing about a concern.
const ASK_IN_OWN_WORDS: &str = "Please tell me in your own words what is worrying you: what you saw or heard, the child's age, how often.";

impl Engine {
    pub(super) fn concerns_answer(
        &self,
        s: &mut Session,
        step: &Step,
        text: &str,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let Some(area) = s.area.as_deref().and_then(|a| self.rules.area(a)) else {
            // Only possible if the area's rules were removed after the session began.
            s.answers.remove("area");
            s.area = None;
            return Taken::Hint("Please choose the area again.".into());
        };
        let t = text.trim();
        let n = answers::normalise(t);
        match s.concerns.stage {
            ConcernStage::FollowUp => self.follow_up_answer(s, area, t, now, out),
            ConcernStage::ConfirmDrop => self.confirm_drop_answer(s, area, t, out),
            ConcernStage::Confirm => {
                match answers::parse_confirm(t) {
                    Some(true) => return self.confirm_concerns(s, area, step, now, out),
                    Some(false) => {
                        let all: BTreeSet<usize> = (0..s.concerns.candidates.len()).collect();
                        return self.drop_candidates(s, area, &all);
                    }
                    None => {}
                }
                if let Some(rest) = strip_word(&n, &["drop", "remove", "not", "delete"]) {
                    let numbers: Vec<usize> = rest
                        .split(|c: char| !c.is_ascii_digit())
                        .filter_map(|x| x.parse().ok())
                        .collect();
                    if numbers.is_empty()
                        || numbers
                            .iter()
                            .any(|&k| k == 0 || k > s.concerns.candidates.len())
                    {
                        return Taken::Hint(format!(
                            "To drop an indicator, type \"drop\" and its number (1 to {}), e.g. \"drop 2\".",
                            s.concerns.candidates.len()
                        ));
                    }
                    let drop: BTreeSet<usize> = numbers.into_iter().map(|k| k - 1).collect();
                    return self.drop_candidates(s, area, &drop);
                }
                if let Some(rest) = strip_word(t, &["add", "Add", "ADD"]) {
                    let id = rest.trim();
                    if let Some(ind) = area.indicator(id) {
                        if !s.concerns.candidates.iter().any(|c| c.indicator == ind.id) {
                            s.concerns.candidates.push(Candidate {
                                indicator: ind.id.clone(),
                                need: String::new(),
                                matched: vec![],
                                red_flag: false,
                            });
                        }
                        return Taken::Ok;
                    }
                    if id.is_empty() {
                        return Taken::Hint("To add, type more about your concern, e.g. \"add he has missed 12 days this term\".".into());
                    }
                    return self.concerns_text(s, area, id, now, out);
                }
                self.concerns_text(s, area, t, now, out)
            }
            ConcernStage::Describe => {
                if let Some(ind) = strip_word(t, &["add", "Add", "ADD"])
                    .and_then(|rest| area.indicator(rest.trim()))
                {
                    if !s.concerns.candidates.iter().any(|c| c.indicator == ind.id) {
                        s.concerns.candidates.push(Candidate {
                            indicator: ind.id.clone(),
                            need: String::new(),
                            matched: vec![],
                            red_flag: false,
                        });
                    }
                    s.concerns.stage = ConcernStage::Confirm;
                    return Taken::Ok;
                }
                if !s.concerns.messages.is_empty()
                    && matches!(
                        n.as_str(),
                        "done" | "that's all" | "nothing more" | "no more" | "go on" | "continue"
                    )
                {
                    return self.confirm_concerns(s, area, step, now, out);
                }
                if answers::is_dont_know(t) {
                    return Taken::Hint("Please say in your own words what you have seen or heard that worries you: even a little helps.".into());
                }
                if let Some(hint) = self.not_a_concern(s, area, t, now) {
                    return Taken::Hint(hint);
                }
                self.concerns_text(s, area, t, now, out)
            }
        }
    }

    /// A first message that is not a concern is asked about rather than read as one: a
    /// yes, a no or a greeting; a child's age alone (kept as the child's age); a name alone
    /// ("Tom Smith": kept for the child's name, and the question asked about that child). Never
    /// when the words raise a red flag or immediate danger (those are read as a concern at once).
    fn not_a_concern(
        &self,
        s: &mut Session,
        area: &Area,
        text: &str,
        now: NaiveDateTime,
    ) -> Option<String> {
        if !s.concerns.messages.is_empty() {
            return None;
        }
        let n = answers::normalise(text);
        if answers::parse_yes_no(text).is_ok()
            || matches!(n.as_str(), "hi" | "hello" | "hey" | "help" | "?" | "start")
        {
            return Some(ASK_IN_OWN_WORDS.into());
        }
        if text.split_whitespace().count() <= 3 {
            if let Ok(age) = answers::parse_child_age(text, now.date()) {
                let said = age.describe(now.date());
                if !s.answers.contains_key("child_age") {
                    self.store(s, "child_age", Answer::Age(age));
                }
                return Some(format!(
                    "Thanks: the child's age is noted ({said}). {ASK_IN_OWN_WORDS}"
                ));
            }
        }
        if s.concerns.name_given.is_some() {
            return None;
        }
        let name = answers::looks_like_a_name(text)?;
        // A red flag's words are a concern whatever their case. The model's reading of a bare
        // name is not evidence (a name the corpus's writers used often carries their messages'
        // weight), so it does not decide.
        if self
            .assess(s, area, text, now)
            .is_some_and(|a| !a.reading.red_flags.is_empty())
        {
            return None;
        }
        let about = if answers::is_title(&name) {
            // An adult ("Mr Smith"): asked about, never offered as the child's name.
            name.clone()
        } else {
            let given = name.split_whitespace().next().unwrap_or(&name).to_string();
            s.concerns.name_given = Some(name);
            given
        };
        Some(format!(
            "Thanks. What is worrying you about {about}? Tell me what you saw or heard (the child's details come after the first advice)."
        ))
    }

    pub(super) fn concerns_text(
        &self,
        s: &mut Session,
        area: &Area,
        text: &str,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let len = text.chars().count();
        if len == 0 {
            return Taken::Hint("Please describe your concerns.".into());
        }
        if len > MAX_CONCERNS_MESSAGE {
            return Taken::Hint(format!(
                "That message is very long ({len} characters). Please send it in parts of up to {MAX_CONCERNS_MESSAGE} characters; each part is added to the last."
            ));
        }
        let so_far: usize = s.concerns.messages.iter().map(|m| m.chars().count()).sum();
        if so_far + len > MAX_CONCERNS_TOTAL {
            let left = MAX_CONCERNS_TOTAL.saturating_sub(so_far);
            return Taken::Hint(format!(
                "A consultation keeps up to {MAX_CONCERNS_TOTAL} characters of concerns, and {so_far} are already taken, so there is room for {left} more. Please send the most important part in up to {left} characters (the rest can go in your own notes or the referral)."
            ));
        }
        s.concerns.messages.push(text.to_string());
        let before = s.concerns.immediate;
        self.analyse(s, area, now);
        if s.concerns.immediate && !before {
            let line = self.call_now_text(
                s,
                area,
                Urgency::Immediate,
                now,
                "the concerns may need immediate protection",
            );
            s.give_number(
                "Police",
                "999",
                "the concerns may need immediate protection",
            );
            let flags = if s.concerns.red_flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.concerns.red_flags.join("; "))
            };
            out.push(Reply::Say(format!(
                "What you describe may need immediate protection{flags}. If the child is in danger now, call 999, then the front door: {line}"
            )));
        }
        s.concerns.stage = ConcernStage::Confirm;
        Taken::Ok
    }

    /// Reads every concern message together with the understanding (the child's age given so
    /// far as the hint) and puts forward the needs it describes, each in the area's own words.
    /// Needs the caller dropped stay dropped; indicators the caller added stay.
    pub(super) fn analyse(&self, s: &mut Session, area: &Area, now: NaiveDateTime) {
        let text = s.concerns.messages.join("\n");
        let Some(a) = self.assess(s, area, &text, now) else {
            return;
        };
        s.concerns.immediate |= a.immediate;
        // Red flags: the floor's, and a child-protection kind of concern read at child
        // protection (the documents' own red flags), so that dropping one is confirmed first
        // and the consent caution names it.
        let mut flags: Vec<String> = a.reading.red_flags.iter().map(|f| f.name.clone()).collect();
        if a.tier >= 4 {
            flags.extend(
                a.shown
                    .iter()
                    .filter(|sh| sh.need.tier >= 4 && sh.need.group == "harm")
                    .map(|sh| sh.need.name.clone()),
            );
        }
        for f in flags {
            if !s.concerns.red_flags.contains(&f) {
                s.concerns.red_flags.push(f);
            }
        }
        // The follow-up's worrying answer is kept: reading again never lowers the tier.
        let raised = s
            .concerns
            .follow_up
            .as_ref()
            .filter(|f| f.worrying)
            .map_or(0, |f| f.raises_to);
        s.concerns.tier = a.tier.max(raised);
        let flagged: BTreeSet<&str> = a
            .reading
            .red_flags
            .iter()
            .flat_map(|f| f.needs.iter().map(String::as_str))
            .collect();
        let added: Vec<Candidate> = s
            .concerns
            .candidates
            .iter()
            .filter(|c| c.need.is_empty())
            .cloned()
            .collect();
        let mut candidates: Vec<Candidate> = Vec::new();
        for shown in &a.shown {
            let id = shown.need.id.clone();
            if s.concerns.dropped_needs.contains(&id) || s.concerns.withdrawn.contains(&id) {
                continue;
            }
            let red_flag = shown.red_flag
                || flagged.contains(id.as_str())
                || (a.tier >= 4 && shown.need.tier >= 4 && shown.need.group == "harm");
            candidates.push(Candidate {
                indicator: shown.indicator.map(|i| i.id.clone()).unwrap_or_default(),
                need: id,
                matched: shown.your_words.clone(),
                red_flag,
            });
        }
        for c in added {
            if !candidates
                .iter()
                .any(|k| !k.indicator.is_empty() && k.indicator == c.indicator)
            {
                candidates.push(c);
            }
        }
        s.concerns.candidates = candidates;
        if s.concerns.follow_up.is_none() {
            s.concerns.follow_up = a.follow_up.map(|f| {
                let question = follow_up_question_text(f.factor, &f.when);
                FollowUpState {
                    factor: f.factor,
                    need: f.need,
                    raises_to: f.raises_to.0,
                    immediate: f.raises_to.1,
                    when: f.when,
                    question,
                    answer: None,
                    worrying: false,
                }
            });
        }
    }

    /// The assessment of `text` in `area` at `now`, with the child's age known so far.
    pub(super) fn assess<'a>(
        &'a self,
        s: &Session,
        area: &'a Area,
        text: &str,
        now: NaiveDateTime,
    ) -> Option<Assessment<'a>> {
        assess::assess(
            area,
            &self.understanding,
            &self.rules.bank_holidays,
            text,
            self.age_hint(s, now),
            now,
        )
        .ok()
    }

    /// The child's age in years as already given in this consultation (the age question, or an
    /// age given in answer to the follow-up), for reading the concern.
    pub(super) fn age_hint(&self, s: &Session, now: NaiveDateTime) -> Option<f32> {
        let from_follow_up = s
            .concerns
            .follow_up
            .as_ref()
            .filter(|f| f.factor == Factor::Age)
            .and_then(|f| f.answer.as_deref())
            .and_then(|a| answers::parse_child_age(a, now.date()).ok());
        let age = match s.answers.get("child_age") {
            Some(Answer::Age(a)) => Some(a.clone()),
            _ => from_follow_up,
        }?;
        Some(age_years(&age, now.date()))
    }

    /// After a change of area (or of the child's age): read every message again.
    pub(super) fn reanalyse(&self, s: &mut Session, now: NaiveDateTime) {
        s.concerns.candidates.retain(|c| c.need.is_empty());
        s.concerns.pending_drop.clear();
        s.answers.remove("concerns");
        s.order.retain(|x| x != "concerns");
        if let Some(area) = s.area.as_deref().and_then(|a| self.rules.area(a)) {
            // Indicators added by id belong to the old area's document.
            s.concerns
                .candidates
                .retain(|c| area.indicator(&c.indicator).is_some());
            if !s.concerns.messages.is_empty() {
                self.analyse(s, area, now);
            }
        }
        s.concerns.stage = if s.concerns.messages.is_empty() {
            ConcernStage::Describe
        } else {
            ConcernStage::Confirm
        };
    }

    pub(super) fn confirmed<'a>(&self, s: &Session, area: &'a Area) -> Vec<&'a Indicator> {
        s.concerns
            .candidates
            .iter()
            .filter_map(|c| area.indicator(&c.indicator))
            .collect()
    }

    /// The caller confirmed what was understood: the follow-up question next when the
    /// understanding was unsure, else the concerns are done.
    pub(super) fn confirm_concerns(
        &self,
        s: &mut Session,
        area: &Area,
        step: &Step,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let _ = area;
        out.push(Reply::Say(self.first_advice(s, now)));
        // Asked only about a need the caller kept, and never when a red flag already gives what
        // a worrying answer would (child protection; immediate protection when the answer could
        // make it immediate).
        let ask = s.concerns.follow_up.as_ref().is_some_and(|f| {
            f.answer.is_none()
                && s.concerns.candidates.iter().any(|c| c.need == f.need)
                && (!s.concerns.red_flag_stands() || (f.immediate && !s.concerns.immediate))
        });
        if ask {
            s.concerns.stage = ConcernStage::FollowUp;
        } else {
            self.finish_concerns(s, step);
        }
        Taken::Ok
    }

    pub(super) fn finish_concerns(&self, s: &mut Session, step: &Step) {
        s.concerns.stage = ConcernStage::Confirm;
        self.store(s, step.id.as_str(), Answer::Concerns);
        // A name typed at the concern question, then used in the concern: the child's name
        // (shown in the summary, where it can be corrected).
        if let Some(name) = s.concerns.name_given.clone() {
            if !s.answers.contains_key("child_name") && names_in(&s.concerns.messages, &name) {
                self.store(s, "child_name", Answer::Text(name));
            }
        }
    }

    pub(super) fn follow_up_question(
        &self,
        s: &Session,
        progress: Option<Progress>,
        hint: Option<String>,
    ) -> Option<Question> {
        let f = s.concerns.follow_up.as_ref()?;
        let choices = if f.factor == Factor::Age {
            vec![]
        } else {
            vec![
                choice("yes", "Yes"),
                choice("no", "No"),
                choice("dont_know", "Don't know"),
            ]
        };
        Some(Question {
            step: "follow_up".into(),
            section: "Your concerns".into(),
            progress,
            text: f.question.clone(),
            choices,
            dont_know: true,
            hint,
        })
    }

    /// The follow-up answer: a worrying one raises the tier to the need's `raises_to`; any other
    /// keeps the tier already given (the higher of the two the understanding was unsure
    /// between). The child's age, when that was asked, is used to read the concern again.
    pub(super) fn follow_up_answer(
        &self,
        s: &mut Session,
        area: &Area,
        text: &str,
        now: NaiveDateTime,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let Some(f) = s.concerns.follow_up.clone() else {
            if let Some(step) = self.concerns_step() {
                self.finish_concerns(s, step);
            }
            return Taken::Ok;
        };
        if text.trim().is_empty() {
            return Taken::Hint("Please answer yes, no or \"don't know\".".into());
        }
        let (answer, worrying) = match answers::parse_follow_up(f.factor, text, now.date()) {
            Ok(a) => a,
            Err(h) => return Taken::Hint(h.0),
        };
        if let Some(state) = s.concerns.follow_up.as_mut() {
            state.answer = Some(answer);
            state.worrying = worrying;
        }
        let (before, was_immediate) = (s.concerns.tier, s.concerns.immediate);
        if worrying {
            s.concerns.tier = s.concerns.tier.max(f.raises_to);
            s.concerns.immediate |= f.immediate;
        }
        if f.factor == Factor::Age {
            // Read again with the age (the tier only goes up: see `analyse`).
            let raised = s.concerns.tier;
            self.analyse(s, area, now);
            s.concerns.tier = s.concerns.tier.max(raised);
            s.concerns.immediate |= was_immediate || (worrying && f.immediate);
        }
        self.say_if_raised(
            s,
            now,
            (before, was_immediate),
            "With your answer, the advice changes",
            out,
        );
        if let Some(step) = self.concerns_step() {
            self.finish_concerns(s, step);
        }
        Taken::Ok
    }

    pub(super) fn concerns_step(&self) -> Option<&Step> {
        self.script
            .steps
            .iter()
            .find(|st| st.kind == StepKind::Concerns)
    }

    /// Drops the candidates at `drop` (0-based). A red flag, or an indicator calling for
    /// immediate protection, is not dropped at once: the caller is asked to confirm that what was
    /// understood is wrong.
    pub(super) fn drop_candidates(
        &self,
        s: &mut Session,
        area: &Area,
        drop: &BTreeSet<usize>,
    ) -> Taken {
        let mut kept = Vec::new();
        let mut ask = Vec::new();
        for (i, c) in std::mem::take(&mut s.concerns.candidates)
            .into_iter()
            .enumerate()
        {
            let red = c.red_flag
                || area
                    .indicator(&c.indicator)
                    .is_some_and(|ind| ind.immediate);
            if !drop.contains(&i) {
                kept.push(c);
            } else if red {
                ask.push(c.key().to_string());
                kept.push(c);
            } else {
                note_dropped(&mut s.concerns, &c);
            }
        }
        s.concerns.candidates = kept;
        if !ask.is_empty() {
            s.concerns.pending_drop = ask;
            s.concerns.stage = ConcernStage::ConfirmDrop;
        } else if s.concerns.candidates.is_empty() {
            s.concerns.stage = ConcernStage::Describe;
        }
        Taken::Ok
    }

    pub(super) fn confirm_drop_question(
        &self,
        s: &Session,
        progress: Option<Progress>,
        hint: Option<String>,
    ) -> Option<Question> {
        let area = s.area.as_deref().and_then(|a| self.rules.area(a))?;
        let key = s.concerns.pending_drop.first()?;
        let c = s.concerns.candidates.iter().find(|c| c.key() == key)?;
        let (_, text, _, _) = self.describe_candidate(area, c);
        let words = Some(c.matched.join(", ")).filter(|w| !w.is_empty());
        let said = match words {
            Some(w) => format!("You said \"{w}\", which I read as"),
            None => "You chose".to_string(),
        };
        Some(Question {
            step: "confirm_drop".into(),
            section: "Your concerns".into(),
            progress,
            text: format!(
                "{said} \"{text}\": a sign of possible significant harm. Is that wrong (it did not happen, or I misread you)? If it is right but the words do not fit, keep it: the front door can lower a level, but a missed concern can leave a child unprotected."
            ),
            choices: vec![
                choice("yes", "Yes, that is wrong: remove it"),
                choice("no", "No, keep it"),
            ],
            dont_know: false,
            hint,
        })
    }

    pub(super) fn confirm_drop_answer(
        &self,
        s: &mut Session,
        area: &Area,
        text: &str,
        out: &mut Vec<Reply>,
    ) -> Taken {
        let Some(key) = s.concerns.pending_drop.first().cloned() else {
            s.concerns.stage = ConcernStage::Confirm;
            return Taken::Ok;
        };
        let wrong = match answers::parse_yes_no_or(
            text,
            &[
                "wrong",
                "yes that is wrong",
                "yes that is wrong remove it",
                "remove",
                "remove it",
            ],
            &["keep", "keep it", "no keep it"],
        ) {
            Some(b) => b,
            None => {
                return Taken::Hint(
                    "Please answer \"yes\" (it is wrong: remove it) or \"no\" (keep it).".into(),
                )
            }
        };
        s.concerns.pending_drop.remove(0);
        if wrong {
            let removed: Vec<Candidate> = s
                .concerns
                .candidates
                .iter()
                .filter(|c| c.key() == key)
                .cloned()
                .collect();
            s.concerns.candidates.retain(|c| c.key() != key);
            if !s.concerns.withdrawn.contains(&key) {
                s.concerns.withdrawn.push(key.clone());
            }
            for c in &removed {
                note_dropped(&mut s.concerns, c);
                let (_, text, _, _) = self.describe_candidate(area, c);
                out.push(Reply::Say(red_flag_caution(&text)));
            }
        } else {
            out.push(Reply::Say("Kept.".into()));
        }
        if s.concerns.pending_drop.is_empty() {
            s.concerns.stage = if s.concerns.candidates.is_empty() {
                ConcernStage::Describe
            } else {
                ConcernStage::Confirm
            };
        }
        Taken::Ok
    }

    /// A candidate as shown: (domain, words, level, tier). The area's indicator where it has
    /// one; else the need in plain words, saying the document has no indicator for it.
    pub(super) fn describe_candidate(
        &self,
        area: &Area,
        c: &Candidate,
    ) -> (String, String, String, u8) {
        if let Some(i) = area.indicator(&c.indicator) {
            let level = area
                .level(&i.level)
                .map(|l| l.name.clone())
                .unwrap_or_default();
            return (
                i.domain.clone(),
                i.text.clone(),
                level,
                area.indicator_tier(i),
            );
        }
        match self.rules.needs.need(&c.need) {
            Some(n) => {
                let level = area
                    .level_for_tier(n.tier)
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                (
                    "Not in this document".to_string(),
                    format!(
                        "{} ({} has no indicator for this; usually tier {}, from {})",
                        n.name, area.meta.document, n.tier, n.basis
                    ),
                    level,
                    n.tier,
                )
            }
            None => (String::new(), c.key().to_string(), String::new(), 0),
        }
    }

    pub(super) fn match_list(&self, s: &Session, progress: Option<Progress>) -> MatchList {
        let area = s.area.as_deref().and_then(|a| self.rules.area(a));
        let items: Vec<ShownMatch> = match area {
            Some(area) => s
                .concerns
                .candidates
                .iter()
                .enumerate()
                .map(|(n, c)| {
                    let (domain, text, level, tier) = self.describe_candidate(area, c);
                    let ind = area.indicator(&c.indicator);
                    ShownMatch {
                        number: n + 1,
                        indicator: if c.indicator.is_empty() {
                            c.need.clone()
                        } else {
                            c.indicator.clone()
                        },
                        domain,
                        text,
                        level,
                        tier,
                        matched: c.matched.clone(),
                        red_flag: c.red_flag || ind.is_some_and(|i| i.immediate),
                        strength: ind.is_some_and(|i| i.positive),
                    }
                })
                .collect(),
            None => vec![],
        };
        let prompt = if items.is_empty() {
            "I could not tell what kind of concern this is. Tell me more in your own words (what you saw or heard, how often, the child's age, any injury), or type \"done\" to go on: the front door will still advise."
        } else {
            "Is this what you are worried about? Type \"yes\" to confirm, \"drop 2\" to remove one, or type more to add (\"none\" if none fit)."
        };
        MatchList {
            document: area.map(|a| a.meta.document.clone()).unwrap_or_default(),
            items,
            prompt: prompt.to_string(),
            choices: vec![
                choice("confirm", "Yes, these fit"),
                choice("none", "None of these fit"),
            ],
            progress,
        }
    }
}
