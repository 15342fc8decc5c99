//! Splitting long texts into Telegram messages.
//!
//! Telegram refuses a message longer than 4,096 characters (counted in UTF-16 code units). A
//! record or a list of contacts can be longer, so texts are cut below that limit, at the
//! largest boundary that fits: between paragraphs, then between lines, then between words, and
//! only for an unbroken run of text in the middle of a word.

/// The most UTF-16 code units put in one message: below Telegram's 4,096, with room to spare.
pub const MAX_MESSAGE: usize = 4_000;

/// Splits `text` into pieces of at most `max` UTF-16 code units, at paragraph boundaries where
/// possible. Pieces are never empty; an empty or blank text gives no pieces.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    split_with(text, max, &["\n\n", "\n", " "])
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect()
}

/// The length Telegram counts.
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

fn split_with(text: &str, max: usize, separators: &[&str]) -> Vec<String> {
    if units(text) <= max {
        return vec![text.to_string()];
    }
    let Some((sep, finer)) = separators.split_first() else {
        return hard_split(text, max);
    };
    let mut out = Vec::new();
    let mut current = String::new();
    for part in text.split(sep) {
        let pieces = if units(part) > max {
            split_with(part, max, finer)
        } else {
            vec![part.to_string()]
        };
        for piece in pieces {
            if current.is_empty() {
                current = piece;
            } else if units(&current) + units(sep) + units(&piece) <= max {
                current.push_str(sep);
                current.push_str(&piece);
            } else {
                out.push(std::mem::replace(&mut current, piece));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Cuts at character boundaries, for text with no separator at all.
fn hard_split(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut n = 0;
    for c in text.chars() {
        let w = c.len_utf16();
        if n + w > max && !current.is_empty() {
            out.push(std::mem::take(&mut current));
            n = 0;
        }
        current.push(c);
        n += w;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_one_message() {
        assert_eq!(split("Call 999.", MAX_MESSAGE), vec!["Call 999."]);
        assert!(split("", MAX_MESSAGE).is_empty());
        assert!(split(" \n\n ", MAX_MESSAGE).is_empty());
    }

    #[test]
    fn long_texts_split_at_paragraphs() {
        let paragraph = "Alex Example was late most mornings this term. ".repeat(20);
        let text = [paragraph.trim(); 12].join("\n\n");
        assert!(units(&text) > MAX_MESSAGE);
        let parts = split(&text, MAX_MESSAGE);
        assert!(parts.len() >= 2);
        assert!(parts.iter().all(|p| units(p) <= MAX_MESSAGE));
        // Nothing lost, nothing cut inside a paragraph.
        assert_eq!(parts.join("\n\n"), text);
        assert!(parts.iter().all(|p| p.ends_with('.')));
    }

    #[test]
    fn a_long_paragraph_splits_at_lines_then_words() {
        let lines = "- Emergency Duty Team: 01782 234234\n".repeat(200);
        let parts = split(&lines, 500);
        assert!(parts.iter().all(|p| units(p) <= 500));
        assert!(parts.iter().all(|p| p.starts_with("- Emergency")));
        let words = "word ".repeat(1000);
        let parts = split(&words, 100);
        assert!(parts
            .iter()
            .all(|p| units(p) <= 100 && !p.contains("wo rd")));
        assert_eq!(parts.join(" ").split_whitespace().count(), 1000);
    }

    #[test]
    fn unbroken_text_and_wide_characters() {
        let parts = split(&"x".repeat(250), 100);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        // An emoji is two UTF-16 units: Telegram counts it so.
        let parts = split(&"😀".repeat(150), 100);
        assert!(parts.iter().all(|p| units(p) <= 100));
        assert_eq!(parts.concat(), "😀".repeat(150));
    }
}
