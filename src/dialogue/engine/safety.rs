//! Safety first: 999 and the front door for an immediate danger, and who to call now.

use super::*;

impl Engine {
    pub(super) fn call_now<'r>(
        &'r self,
        area: &'r Area,
        urgency: Urgency,
        now: NaiveDateTime,
    ) -> Option<CallNow<'r>> {
        contacts::route(area, &self.rules.bank_holidays, urgency, now).ok()
    }

    /// Who to call in `area` for `urgency` now, as one paragraph; the numbers are noted as given.
    pub(super) fn call_now_text(
        &self,
        s: &mut Session,
        area: &Area,
        urgency: Urgency,
        now: NaiveDateTime,
        why: &str,
    ) -> String {
        match self.call_now(area, urgency, now) {
            Some(c) => {
                give_numbers(s, &c, why);
                format!(
                    "{} ({}): {}",
                    area.meta.name,
                    area.meta.front_door,
                    c.text(now)
                )
            }
            None => format!("{}: call 999 if a child is in danger.", area.meta.name),
        }
    }

    pub(super) fn danger_advice(&self, s: &mut Session, now: NaiveDateTime) -> String {
        s.give_number("Police", "999", "a child in immediate danger");
        let mut t = String::from(
            "Call 999 now if a child is in immediate danger. Then call the front door by phone:\n",
        );
        let areas: Vec<&Area> = match s.area.as_deref().and_then(|a| self.rules.area(a)) {
            Some(a) => vec![a],
            None => self
                .rules
                .areas()
                .filter(|a| a.meta.superseded_by.is_none())
                .collect(),
        };
        for a in areas {
            let line =
                self.call_now_text(s, a, Urgency::Immediate, now, "immediate danger: after 999");
            let _ = writeln!(t, "- {line}");
        }
        t.trim_end().to_string()
    }
}
