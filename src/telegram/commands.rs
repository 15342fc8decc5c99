//! The commands of an allowed user in a private chat, and what everyone else gets: a group's
//! commands, `/urgent AREA` and `/contacts AREA` for anyone, and registration with an invite code.

use super::access::{self, Registered};
use super::render::{self, Action, Button, Outgoing, NEW_CONSULTATION};
use super::texts::{self, Said};
use super::turn::{store_kind, Failure, Turn};
use crate::dialogue::{Command, Input, Reply};

pub(super) async fn command(turn: &mut Turn<'_>, word: &str, arg: String) -> Result<(), Failure> {
    let engine_command = match word {
        "start" => None,
        "new" => {
            if in_progress(turn).await? {
                return turn.reply(vec![new_confirmation()], true).await;
            }
            None
        }
        "urgent" | "contacts" if !arg.is_empty() => {
            return public(turn, word, &arg).await;
        }
        "urgent" => Some(Command::Urgent),
        "contacts" => Some(Command::Contacts),
        "why" => Some(Command::Why),
        "ask" => Some(Command::Ask(arg)),
        "area" => Some(Command::Area),
        "back" => Some(Command::Back),
        "summary" => Some(Command::Summary),
        "child" => Some(Command::Child),
        "cancel" => Some(Command::Cancel),
        "record" => return record(turn, &arg).await,
        "delete" => return delete(turn, &arg).await,
        "help" => return turn.reply(vec![Outgoing::text(texts::HELP)], false).await,
        other => {
            let text = format!("I do not know the command /{other}. /help lists what I can do.");
            return turn.reply(vec![Outgoing::text(text)], false).await;
        }
    };
    let Some(c) = engine_command else {
        let replies = turn.step(Input::Start).await?;
        return turn.reply(render::messages(&replies), true).await;
    };
    // Information asked outside a consultation comes without a consultation question.
    let outside = matches!(
        c,
        Command::Urgent | Command::Contacts | Command::Why | Command::Ask(_)
    ) && !in_progress(turn).await?;
    let asking = matches!(c, Command::Ask(_));
    let replies = turn.step(Input::Command(c)).await?;
    if !outside {
        return turn.reply(render::messages(&replies), true).await;
    }
    let kept: Vec<Reply> = replies
        .into_iter()
        .filter(|r| match r {
            Reply::Ask(q) => q.step == render::ASK_AREA,
            Reply::ConfirmMatches(_) => false,
            Reply::Say(_) | Reply::Finished(_) => true,
        })
        .collect();
    let mut messages = render::messages(&kept);
    if asking && !messages.iter().any(|m| m.question.is_some()) {
        messages.push(Outgoing::text(texts::START_HINT));
    }
    turn.reply(messages, false).await
}

async fn in_progress(turn: &Turn<'_>) -> Result<bool, Failure> {
    let key = turn.key();
    let now = turn.now;
    turn.ctx
        .blocking(move |app| app.in_progress(&key, now))
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))
}

fn new_confirmation() -> Outgoing {
    Outgoing {
        text: "You have a consultation in progress. Start a new one? That deletes the answers so far (records already made are kept).".into(),
        buttons: vec![vec![
            Button {
                label: "Start a new one".into(),
                action: Action::NewConfirm,
            },
            Button {
                label: "Carry on".into(),
                action: Action::NewKeep,
            },
        ]],
        document: None,
        question: Some(NEW_CONSULTATION.into()),
    }
}

/// A group chat: only `/urgent` and `/help`; other commands get why not; nothing stored.
pub(super) async fn group(turn: &mut Turn<'_>, said: Said) -> Result<(), Failure> {
    match said {
        Said::Command(word, arg) if word == "urgent" => {
            let area = turn.ctx.area(&arg);
            let mut replies = turn.ctx.public(Command::Urgent, area, turn.now);
            replies.push(Reply::Say(texts::GROUP_NOTE.into()));
            turn.reply(render::messages(&replies), false).await
        }
        Said::Command(word, _) if texts::is_command(&word) => {
            turn.reply(vec![Outgoing::text(texts::GROUP_HELP)], false)
                .await
        }
        _ => Ok(()),
    }
}

/// `/urgent AREA` or `/contacts AREA`: nothing stored.
async fn public(turn: &mut Turn<'_>, word: &str, arg: &str) -> Result<(), Failure> {
    let ctx = turn.ctx;
    let command = if word == "contacts" {
        Command::Contacts
    } else {
        Command::Urgent
    };
    let area = ctx.area(arg);
    let mut replies = Vec::new();
    if area.is_none() && !arg.trim().is_empty() {
        let names: Vec<&str> = ctx.app.engine().rules().areas().map(|a| a.id()).collect();
        replies.push(Reply::Say(format!(
            "I do not know that area (I know: {}). Here is every area:",
            names.join(", ")
        )));
    }
    replies.extend(ctx.public(command, area, turn.now));
    turn.reply(render::messages(&replies), false).await
}

/// Someone without access, in a private chat.
pub(super) async fn stranger(turn: &mut Turn<'_>, user: u64, said: Said) -> Result<(), Failure> {
    let ctx = turn.ctx;
    let code = match said {
        Said::Command(word, arg) => match word.as_str() {
            "urgent" | "contacts" => return public(turn, &word, &arg).await,
            "help" => {
                let text = format!("{}\n\n{}", texts::HELP, texts::NO_ACCESS);
                return turn.reply(vec![Outgoing::text(text)], false).await;
            }
            "start" if !arg.is_empty() => Some(arg),
            _ => None,
        },
        // A single word that is a code, or looks like one, is tried as a code; an ordinary
        // word is not counted as a wrong code.
        Said::Text(t) if ctx.access.is_code(&t) || access::looks_like_code(&t) => Some(t),
        _ => None,
    };
    let Some(code) = code.filter(|_| ctx.access.has_codes()) else {
        return turn.reply(vec![no_access(user)], false).await;
    };
    let now = turn.now;
    let access = ctx.access.clone();
    let registered = ctx
        .blocking(move |app| access.try_register(app.store(), user, &code, now))
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))?;
    match registered {
        Registered::Yes => {
            tracing::info!(user = %ctx.tag(user as i64), "registered with an invite code");
            let mut replies = vec![Reply::Say(
                "Thank you: you are registered, and can now use every command here.".into(),
            )];
            replies.extend(turn.step(Input::Start).await?);
            turn.load_state().await;
            turn.reply(render::messages(&replies), true).await
        }
        Registered::WrongCode => {
            tracing::info!(user = %ctx.tag(user as i64), "a wrong invite code");
            let text = format!(
                "That is not a valid invite code.\n\n{}",
                no_access(user).text
            );
            turn.reply(vec![Outgoing::text(text)], false).await
        }
        Registered::TooManyAttempts => {
            let text = "Too many wrong codes: please wait an hour and try again. If a child is in immediate danger, call 999; /urgent gives the number to call now.";
            turn.reply(vec![Outgoing::text(text)], false).await
        }
    }
}

pub(super) fn no_access(user: u64) -> Outgoing {
    Outgoing::text(format!(
        "{}\n\n(Your Telegram user id is {user}.)",
        texts::NO_ACCESS
    ))
}

/// `/record [REF]`: one of this chat's records, as a Markdown document.
async fn record(turn: &mut Turn<'_>, arg: &str) -> Result<(), Failure> {
    let key = turn.key();
    let wanted = arg.trim().to_uppercase();
    let w = wanted.clone();
    let found = turn
        .ctx
        .blocking(move |app| {
            let store = app.store();
            let mine = store.records_owned_by(&key)?;
            let reference = if w.is_empty() {
                mine.last().cloned()
            } else {
                mine.iter().find(|r| **r == w).cloned()
            };
            Ok::<_, crate::store::StoreError>(match reference {
                Some(r) => store.record(&r)?,
                None => None,
            })
        })
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))?;
    let retention = turn.ctx.app.config().retention_days;
    let out = match found {
        Some(stored) => vec![render::document(&stored.record)],
        None if wanted.is_empty() => vec![Outgoing::text(
            "There is no record from this chat yet: a record is made when a consultation ends.",
        )],
        None => vec![Outgoing::text(format!(
            "There is no record {wanted} from this chat (records are kept for {retention} days)."
        ))],
    };
    turn.reply(out, false).await
}

/// `/delete REF`: deletes one of this chat's records (and the finished consultation that made
/// it, so that nothing later says it is kept).
async fn delete(turn: &mut Turn<'_>, arg: &str) -> Result<(), Failure> {
    let wanted = arg.trim().to_uppercase();
    if wanted.is_empty() {
        let text = "Send /delete and the record's reference, e.g. /delete FD-20261124-0001.";
        return turn.reply(vec![Outgoing::text(text)], false).await;
    }
    let key = turn.key();
    let w = wanted.clone();
    let deleted = turn
        .ctx
        .blocking(move |app| {
            let store = app.store();
            if store.record_owner(&w)?.as_deref() != Some(key.as_str()) {
                return Ok::<_, crate::store::StoreError>(false);
            }
            // Deletes the finished consultation that made it, and the chat's state, too.
            store.delete_record(&w)
        })
        .await
        .map_err(|e| Failure::Store(store_kind(&e)))?;
    let text = if deleted {
        format!("Deleted {wanted}. (Copies you saved elsewhere are not affected.)")
    } else {
        format!("There is no record {wanted} from this chat.")
    };
    turn.reply(vec![Outgoing::text(text)], false).await
}
