//! What the bot remembers of each chat besides the consultation, kept in the store so that a
//! restart changes nothing a user sees: the message whose buttons are live, the question the
//! user last saw, and whether a reply failed to reach them.

use serde::{Deserialize, Serialize};

use crate::dialogue::Reply;

/// The state of one private chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatState {
    /// The message carrying the live buttons: only a press on it is taken.
    #[serde(default)]
    pub keyboard: Option<i32>,
    /// The fingerprint of the last question delivered to the chat ([`super::render::question_id`]).
    /// A typed answer is only taken when it is still the question being asked.
    #[serde(default)]
    pub shown: Option<String>,
    /// An answer was saved but the reply to it (the next question, the outcome) did not reach
    /// the user.
    #[serde(default)]
    pub unsent: bool,
}

/// Where a conversation stands, worked out without changing it.
#[derive(Debug, Clone, PartialEq)]
pub enum Current {
    /// A consultation, started (at least one answer) or not, and the question it is asking.
    Asking {
        /// Whether there is an answer to lose.
        started: bool,
        /// The question's fingerprint.
        id: Option<String>,
        /// The question (and nothing else) as the engine asks it.
        question: Vec<Reply>,
    },
    /// `/ask` is waiting for the area.
    AskArea,
    /// The consultation ended with this record.
    Finished(String),
}

impl Current {
    /// Whether the question last shown (`shown`) is the one being asked, so that an answer
    /// typed now answers what the user saw.
    pub fn is_shown(&self, shown: Option<&str>) -> bool {
        match self {
            Current::Asking { id: Some(id), .. } => shown == Some(id.as_str()),
            Current::AskArea => shown == Some(super::render::ASK_AREA),
            Current::Asking { id: None, .. } | Current::Finished(_) => false,
        }
    }
}
