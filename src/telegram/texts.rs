//! What the bot says outside the consultation itself, the command menu, and how a message's
//! text is read (a command for this bot, for another bot, or an answer).

use teloxide::types::BotCommand;

/// The commands of the menu and what each does.
const MENU: &[(&str, &str)] = &[
    ("start", "Begin, or carry on where you left off"),
    ("new", "Start a new consultation"),
    ("ask", "Quick advice: /ask and your concern in a sentence"),
    ("urgent", "Who to call right now (any area: /urgent stoke)"),
    ("contacts", "Every number for an area"),
    ("area", "Change the child's area"),
    ("back", "Change your last answer"),
    ("why", "Why I ask the current question"),
    ("summary", "Your answers so far"),
    ("child", "Add another child to this consultation"),
    ("cancel", "Delete this consultation and start again"),
    (
        "record",
        "Your consultation record (/record REF for an older one)",
    ),
    ("delete", "Delete one of your records: /delete REF"),
    ("help", "How this bot works"),
];

/// The commands shown in Telegram's command menu.
pub fn commands() -> Vec<BotCommand> {
    MENU.iter().map(|(c, d)| BotCommand::new(*c, *d)).collect()
}

/// Whether `word` is one of this bot's commands.
pub fn is_command(word: &str) -> bool {
    MENU.iter().any(|(c, _)| *c == word)
}

/// How to use the bot, in a private chat.
pub const HELP: &str = "Front door consultation for professionals who work with children: I ask what a children's services front-door worker asks on the phone, and end with the level of need, what to do, the number to call and a record for your agency's system.

If a child is in immediate danger, call 999 now.

Answer with the buttons or by typing. Commands:
/start begin, or carry on where you left off
/new start a new consultation
/ask <concern> quick advice: the matching indicators, the level and who to call
/urgent [area] who to call right now
/contacts [area] every number for an area
/area change the child's area
/back change your last answer
/why why I ask the current question
/summary your answers so far
/child add another child to this consultation
/cancel delete this consultation and start again
/record [REF] your consultation record, as a Markdown file
/delete REF delete one of your records
/help this message

This supports your professional judgement and your agency's safeguarding procedures; it does not replace them. Records are kept here only for a short time: copy yours into your agency's system.";

/// How to get access, for someone who has none.
pub const NO_ACCESS: &str = "Consultations here take personal information about children, so they are only for professionals who have been given access.

To get access, ask whoever runs this service in your organisation: they can give you an invite code to send to me here (or /start followed by the code), or add your Telegram user id. I have not kept anything you wrote.

Meanwhile: if a child is in immediate danger, call 999. /urgent gives the children's services number to call right now, for every area; /contacts lists every number.";

/// What the bot says in a group.
pub const GROUP_HELP: &str = "In a group I only answer /urgent (who to call right now) and /help. A consultation is about a child and takes personal information, which does not belong in a group chat: message me privately instead.

If a child is in immediate danger, call 999 now.";

/// Added to `/urgent` in a group.
pub const GROUP_NOTE: &str = "(In a group I only answer /urgent and /help. For a consultation, message me privately: details about a child do not belong in a group chat.)";

/// A message that is not text.
pub const NOT_TEXT: &str = "I can only read text messages: please type your answer. (Photos, voice notes and files are not read or kept.)";

/// An edited message.
pub const EDITED: &str = "I do not read edited messages. To change your last answer, send /back; /summary shows every answer.";

/// The answer could not be saved, so it was not taken: sending it again is right.
pub const NOT_SAVED: &str = "Sorry: I could not save your last message (a problem on my side), so it was not taken. Please send it again in a moment. If a child is in immediate danger, call 999; /urgent gives the number to call now.";

/// The answer is saved but the reply did not reach the caller (said when it can be).
pub const REPLY_LOST: &str = "Your last answer is saved, but my next message could not be sent. Send /start (or anything) to see the question I am asking: what you send next is not taken as an answer.";

/// Put before the question when a redelivered message's answer was already saved (e.g. after a
/// restart while the reply was being sent).
pub const ALREADY_SAVED: &str = "(Your last answer is saved.)";

/// Put before the question when a message was not taken because its question was not on screen.
pub const NOT_TAKEN_UNSENT: &str = "Your last answer is saved, but my reply to it did not reach you, so I have not taken what you just sent as an answer. Here is the question I am asking:";

/// Put before the question when a message was not taken because another question is current.
pub const NOT_TAKEN: &str = "I have not taken what you just sent as an answer, as it may have been meant for another question. Here is the question I am asking:";

/// After `/ask` or another command outside a consultation.
pub const START_HINT: &str = "(/start begins a full consultation, with a record for your agency.)";

/// A press on a button of a question already answered.
pub const ANSWERED: &str =
    "That question has already been answered: the latest question is the last message.";

/// A press on a question that is not the one being asked any more.
pub const MOVED_ON: &str = "That question is no longer the current one: here is where you are.";

/// A message's text, read as a command (addressed to this bot) or as an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// `/word arg`, with the word lower-cased.
    Command(String, String),
    /// A command for another bot in a group (`/help@OtherBot`).
    OtherBot,
    /// Anything else.
    Text(String),
}

/// Reads a message's text; `me` is this bot's username.
pub fn read(text: &str, me: Option<&str>) -> Said {
    let t = text.trim();
    let Some(rest) = t.strip_prefix('/') else {
        return Said::Text(t.to_string());
    };
    let (word, arg) = match rest.split_once(char::is_whitespace) {
        Some((w, a)) => (w, a.trim()),
        None => (rest, ""),
    };
    let (word, to) = match word.split_once('@') {
        Some((w, to)) => (w, Some(to)),
        None => (word, None),
    };
    if let (Some(to), Some(me)) = (to, me) {
        if !to.eq_ignore_ascii_case(me) {
            return Said::OtherBot;
        }
    }
    Said::Command(word.to_lowercase(), arg.to_string())
}

/// A kind for the logs, never the text itself.
pub fn kind(said: &Said) -> &'static str {
    match said {
        Said::Command(w, _) => MENU
            .iter()
            .find(|(c, _)| c == w)
            .map_or("unknown command", |(c, _)| c),
        Said::OtherBot => "other bot",
        Said::Text(_) => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_for_this_bot_only() {
        assert_eq!(
            read("/urgent stoke", Some("FrontDoorBot")),
            Said::Command("urgent".into(), "stoke".into())
        );
        assert_eq!(
            read("/Help@frontdoorbot", Some("FrontDoorBot")),
            Said::Command("help".into(), String::new())
        );
        assert_eq!(read("/help@OtherBot", Some("FrontDoorBot")), Said::OtherBot);
        assert_eq!(read(" yes ", None), Said::Text("yes".into()));
        assert_eq!(kind(&read("/urgent", None)), "urgent");
        assert_eq!(kind(&read("/secret-word", None)), "unknown command");
    }

    #[test]
    fn the_menu_has_every_command() {
        let names: Vec<String> = commands().into_iter().map(|c| c.command).collect();
        for c in [
            "start", "new", "ask", "urgent", "contacts", "area", "back", "summary", "cancel",
            "record", "delete", "help",
        ] {
            assert!(names.iter().any(|n| n == c), "{c}");
            assert_eq!(kind(&Said::Command(c.into(), String::new())), c);
        }
        assert!(commands().iter().all(|c| c.description.len() <= 256));
    }
}
