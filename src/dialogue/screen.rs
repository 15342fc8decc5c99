//! The outcome and the first advice as one screen: at most [`MAX_LINES`] lines at [`WIDTH`]
//! columns, the most important first (immediate protection, the level, what to do, whom to call,
//! consent, what happens next). Each part is clipped to its share of lines at a sentence end
//! where it can be, so nothing scrolls the level of need off the screen; the whole record is
//! on `/record` and in the file. Pure.

use crate::record::Record;

/// Columns of the terminal the screen is laid out for.
pub const WIDTH: usize = 80;
/// Most lines of the outcome screen.
pub const MAX_LINES: usize = 25;

/// Word-wrapped lines of `text` at `width` columns (a word longer than a line is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let mut word: String = word.to_string();
            while word.chars().count() > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let cut: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                lines.push(cut);
            }
            let needed =
                line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if needed > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

/// How many lines `text` takes at [`WIDTH`] columns.
pub fn lines(text: &str) -> usize {
    wrap(text, WIDTH).len()
}

/// `text` clipped to at most `max` lines at [`WIDTH`] columns: whole sentences where they fit,
/// else whole words with "...".
pub fn clip(text: &str, max: usize) -> String {
    if lines(text) <= max {
        return text.to_string();
    }
    // The longest run of whole sentences that fits.
    let mut best = None;
    for (i, _) in text.match_indices(". ") {
        let candidate = &text[..=i];
        if lines(candidate) <= max {
            best = Some(candidate);
        } else {
            break;
        }
    }
    if let Some(b) = best {
        return b.to_string();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        let next = if out.is_empty() {
            format!("{word} ...")
        } else {
            format!("{out} {word} ...")
        };
        if lines(&next) > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    format!("{out} ...")
}

/// The advice for a record on one screen, under `title` ("Outcome for Alex", "First advice").
/// `footer` (e.g. where the full record is) is always the last line.
pub fn advice(record: &Record, title: &str, footer: &str) -> String {
    let mut parts: Vec<String> = vec![format!("{title}:")];
    let immediate = record.immediate_danger || record.outcome.as_ref().is_some_and(|o| o.immediate);
    if immediate {
        parts.push(
            "IMMEDIATE PROTECTION: if the child is in danger now, call 999 first, then the front door."
                .into(),
        );
    }
    parts.push(format!("Level of need: {}", record.level_phrase()));
    // Whom to call is never clipped (its numbers and the out-of-hours fallback all stay); the
    // notes about assumed opening hours are left to the record.
    if !record.call_now_reason.is_empty() {
        let call = record
            .call_now_reason
            .split(" Note: ")
            .next()
            .unwrap_or_default();
        parts.push(format!("Call now: {call}"));
    }
    // (text, lines it may take), most important first.
    let mut rest: Vec<(String, usize)> = Vec::new();
    if let Some(o) = &record.outcome {
        rest.push((format!("What to do: {}", o.action), 4));
    } else if !record.immediate_danger {
        rest.push((
            "What to do: talk your concern through with the front door; they will advise.".into(),
            2,
        ));
    }
    if let Some(first) = record.consent.guidance.first() {
        rest.push((format!("Consent: {first}"), 4));
    }
    for r in record.consent.required.iter().take(1) {
        rest.push((format!("Consent, required: {r}"), 2));
    }
    let next: Vec<&String> = record
        .next_steps
        .iter()
        .filter(|s| !s.starts_with("Record this consultation"))
        .collect();
    if let Some(n) = next.first() {
        rest.push((format!("What happens next: {n}"), 3));
    }
    if let Some(o) = &record.outcome {
        rest.push((format!("Why: {} (source {})", o.rule, o.source), 2));
    }
    // A second step (Family Connect's feedback letter, a timescale) where the screen has room.
    if let Some(n) = next.get(1) {
        rest.push((format!("Then: {n}"), 2));
    }
    let mut used: usize = parts.iter().map(|p| lines(p)).sum::<usize>() + lines(footer);
    for (text, share) in rest {
        let room = MAX_LINES.saturating_sub(used);
        if room == 0 {
            break;
        }
        let clipped = clip(&text, share.min(room));
        used += lines(&clipped);
        parts.push(clipped);
    }
    parts.push(footer.to_string());
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_clips_at_sentences() {
        let text = "One two three. Four five six. ".repeat(20);
        assert!(wrap(&text, 80).iter().all(|l| l.chars().count() <= 80));
        let c = clip(&text, 2);
        assert!(lines(&c) <= 2);
        assert!(c.ends_with('.'), "{c}");
        let long = "word ".repeat(100);
        let c = clip(&long, 1);
        assert!(lines(&c) <= 1 && c.ends_with("..."), "{c}");
    }
}
