//! The Telegram Bot API over HTTP: the few methods the bot uses, with every failure sorted by
//! kind.
//!
//! teloxide's own requester waits 10 s after any 5xx answer before reporting it, and its errors
//! carry the raw response body (which may hold a message's text or a whole update). This client
//! uses teloxide's types for what Telegram sends, but makes the calls itself: an error is only
//! its kind ([`ApiError`]), never a body, a token or a URL, so it can be logged as it is, and
//! retrying is left to the caller ([`super::send`]).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use teloxide::types::{BotCommand, ChatId, InlineKeyboardMarkup, MessageId, Update};
use url::Url;

/// Telegram's own Bot API server.
pub const TELEGRAM_API: &str = "https://api.telegram.org";

/// How long a request other than long polling may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A Bot API call failed. The text of each variant is safe to log: no body, token or URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The server could not be reached, or the connection broke.
    #[error("network error{}", if *.connect { " (cannot connect)" } else { "" })]
    Network {
        /// Whether the connection was never made (so nothing was delivered).
        connect: bool,
    },
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The server (or a proxy in front of it) failed: HTTP 5xx.
    #[error("server error (HTTP {0})")]
    Server(u16),
    /// Too many requests: Telegram asks to wait this long.
    #[error("too many requests: retry after {} s", .0.as_secs())]
    RetryAfter(Duration),
    /// The answer was not the Bot API's JSON (e.g. a broken proxy's page).
    #[error("malformed response (HTTP {0})")]
    Malformed(u16),
    /// Telegram refused the request; retrying it would not help.
    #[error("refused (HTTP {code}: {kind})")]
    Refused {
        /// The error code.
        code: u16,
        /// What kind of refusal.
        kind: Refusal,
    },
}

impl ApiError {
    /// Whether the same request may succeed when sent again.
    pub fn is_transient(&self) -> bool {
        !matches!(self, ApiError::Refused { .. })
    }

    /// The kind of refusal, if the request was refused.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            ApiError::Refused { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// Why Telegram refused a request, read from its description (which is not kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The user blocked the bot, or the bot cannot write to the chat.
    Forbidden,
    /// The chat does not exist (for this bot).
    ChatNotFound,
    /// An edit that would change nothing.
    NotModified,
    /// A button press too old to acknowledge.
    QueryTooOld,
    /// Another instance is polling, or a webhook is set.
    Conflict,
    /// The token is wrong.
    Unauthorized,
    /// Anything else.
    Other,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Forbidden => "forbidden",
            Refusal::ChatNotFound => "chat not found",
            Refusal::NotModified => "not modified",
            Refusal::QueryTooOld => "query too old",
            Refusal::Conflict => "conflict",
            Refusal::Unauthorized => "unauthorized",
            Refusal::Other => "bad request",
        })
    }
}

fn refusal(code: u16, description: &str) -> Refusal {
    let d = description.to_lowercase();
    if d.contains("not modified") {
        Refusal::NotModified
    } else if d.contains("query is too old") || d.contains("query id is invalid") {
        Refusal::QueryTooOld
    } else if d.contains("chat not found") {
        Refusal::ChatNotFound
    } else {
        match code {
            401 => Refusal::Unauthorized,
            403 => Refusal::Forbidden,
            409 => Refusal::Conflict,
            _ => Refusal::Other,
        }
    }
}

/// The bot itself, as `getMe` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Identity {
    /// The bot's user id.
    pub id: u64,
    /// The bot's username, to recognise `/command@username` in groups.
    #[serde(default)]
    pub username: Option<String>,
}

/// One entry of a `getUpdates` answer: an update, or the id of one that could not be read.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// An update.
    Update(Box<Update>),
    /// An update that could not be read (only its id is kept, so that it is skipped).
    Unreadable(i64),
}

impl Incoming {
    /// The update's id.
    pub fn id(&self) -> i64 {
        match self {
            Incoming::Update(u) => i64::from(u.id.0),
            Incoming::Unreadable(id) => *id,
        }
    }
}

/// The envelope of every Bot API answer.
#[derive(Deserialize)]
struct Answer<T> {
    ok: bool,
    result: Option<T>,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

/// Only the id of a sent message is read, so that an answer with an unexpected shape of message
/// does not make a delivered message look undelivered (and sent twice).
#[derive(Deserialize)]
struct Sent {
    message_id: i32,
}

/// A Bot API client: the server's address, the bot's token and an HTTP client.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Url,
    token: String,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Api {
    /// A client for the server at `base` (Telegram's own when `None`).
    pub fn new(token: &str, base: Option<&Url>) -> Result<Api, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .map_err(|_| ApiError::Network { connect: true })?;
        let base = match base {
            Some(u) => u.clone(),
            None => Url::parse(TELEGRAM_API).map_err(|_| ApiError::Network { connect: true })?,
        };
        Ok(Api::with_client(http, token, base))
    }

    /// A client using an existing HTTP client (e.g. a teloxide `Bot`'s, in tests).
    pub fn with_client(http: reqwest::Client, token: &str, base: Url) -> Api {
        Api {
            http,
            base,
            token: token.to_string(),
        }
    }

    /// A client for the same server, token and HTTP client as a teloxide bot.
    pub fn from_bot(bot: &teloxide::Bot) -> Api {
        Api::with_client(bot.client().clone(), bot.token(), bot.api_url())
    }

    fn url(&self, method: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .push(&format!("bot{}", self.token))
                .push(method);
        }
        url
    }

    /// Calls `method` with a JSON body.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let request = self.http.post(self.url(method)).json(body).timeout(timeout);
        read(request.send().await).await
    }

    /// The bot's own identity.
    pub async fn get_me(&self) -> Result<Identity, ApiError> {
        self.call("GetMe", &json!({}), REQUEST_TIMEOUT).await
    }

    /// Registers the command menu.
    pub async fn set_my_commands(&self, commands: &[BotCommand]) -> Result<(), ApiError> {
        let _: Value = self
            .call(
                "SetMyCommands",
                &json!({ "commands": commands }),
                REQUEST_TIMEOUT,
            )
            .await?;
        Ok(())
    }

    /// Removes the webhook (keeping the updates waiting), so that long polling works.
    pub async fn delete_webhook(&self) -> Result<(), ApiError> {
        let _: Value = self
            .call(
                "DeleteWebhook",
                &json!({ "drop_pending_updates": false }),
                REQUEST_TIMEOUT,
            )
            .await?;
        Ok(())
    }

    /// Sets the webhook: Telegram posts updates of the given kinds to `url`, with `secret` in
    /// the `X-Telegram-Bot-Api-Secret-Token` header.
    pub async fn set_webhook(
        &self,
        url: &Url,
        secret: &str,
        kinds: &[&str],
    ) -> Result<(), ApiError> {
        let body = json!({
            "url": url.as_str(),
            "secret_token": secret,
            "allowed_updates": kinds,
            "drop_pending_updates": false,
        });
        let _: Value = self.call("SetWebhook", &body, REQUEST_TIMEOUT).await?;
        Ok(())
    }

    /// Long polling: the updates from `offset` on, waiting up to `wait` for one. Calling it
    /// with an offset confirms every update below it to Telegram.
    pub async fn get_updates(
        &self,
        offset: i64,
        wait: Duration,
        limit: u8,
        kinds: &[&str],
    ) -> Result<Vec<Incoming>, ApiError> {
        let body = json!({
            "offset": offset,
            "timeout": wait.as_secs(),
            "limit": limit,
            "allowed_updates": kinds,
        });
        let raw: Vec<Value> = self
            .call("GetUpdates", &body, wait + REQUEST_TIMEOUT)
            .await?;
        Ok(raw.into_iter().filter_map(incoming).collect())
    }

    /// Sends a text message, with inline buttons when given; returns its id.
    pub async fn send_message(
        &self,
        chat: ChatId,
        text: &str,
        keyboard: Option<&InlineKeyboardMarkup>,
    ) -> Result<MessageId, ApiError> {
        let mut body = json!({ "chat_id": chat.0, "text": text });
        if let Some(k) = keyboard {
            body["reply_markup"] = serde_json::to_value(k).unwrap_or(Value::Null);
        }
        let sent: Sent = self.call("SendMessage", &body, REQUEST_TIMEOUT).await?;
        Ok(MessageId(sent.message_id))
    }

    /// Sends a file with a caption; returns its message id.
    pub async fn send_document(
        &self,
        chat: ChatId,
        name: &str,
        content: &[u8],
        caption: &str,
    ) -> Result<MessageId, ApiError> {
        let file = reqwest::multipart::Part::bytes(content.to_vec())
            .file_name(name.to_string())
            .mime_str("text/markdown")
            .map_err(|_| ApiError::Malformed(0))?;
        let form = reqwest::multipart::Form::new()
            .text("chat_id", chat.0.to_string())
            .text("caption", caption.to_string())
            .part("document", file);
        let request = self
            .http
            .post(self.url("SendDocument"))
            .multipart(form)
            .timeout(REQUEST_TIMEOUT);
        let sent: Sent = read(request.send().await).await?;
        Ok(MessageId(sent.message_id))
    }

    /// Replaces a message's text, removing its buttons.
    pub async fn edit_message_text(
        &self,
        chat: ChatId,
        message: MessageId,
        text: &str,
    ) -> Result<(), ApiError> {
        let body = json!({ "chat_id": chat.0, "message_id": message.0, "text": text });
        let _: Value = self.call("EditMessageText", &body, REQUEST_TIMEOUT).await?;
        Ok(())
    }

    /// Removes a message's buttons.
    pub async fn remove_keyboard(&self, chat: ChatId, message: MessageId) -> Result<(), ApiError> {
        let body = json!({ "chat_id": chat.0, "message_id": message.0 });
        let _: Value = self
            .call("EditMessageReplyMarkup", &body, REQUEST_TIMEOUT)
            .await?;
        Ok(())
    }

    /// Acknowledges a button press, with a short notice when given.
    pub async fn answer_callback_query(
        &self,
        id: &str,
        notice: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut body = json!({ "callback_query_id": id });
        if let Some(text) = notice {
            body["text"] = Value::String(text.to_string());
        }
        let _: Value = self
            .call("AnswerCallbackQuery", &body, REQUEST_TIMEOUT)
            .await?;
        Ok(())
    }
}

/// Reads an answer. Only the status and the envelope's fields are looked at; the body itself
/// never leaves this function.
async fn read<T: DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, ApiError> {
    let response = sent.map_err(|e| network(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| network(&e))?;
    if status >= 500 {
        return Err(ApiError::Server(status));
    }
    let answer: Answer<T> = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(_) if status == 429 => return Err(ApiError::RetryAfter(Duration::from_secs(1))),
        Err(_) => return Err(ApiError::Malformed(status)),
    };
    if answer.ok {
        return answer.result.ok_or(ApiError::Malformed(status));
    }
    if let Some(after) = answer.parameters.and_then(|p| p.retry_after) {
        return Err(ApiError::RetryAfter(Duration::from_secs(after.max(1))));
    }
    let code = answer.error_code.unwrap_or(status);
    match code {
        429 => Err(ApiError::RetryAfter(Duration::from_secs(1))),
        500.. => Err(ApiError::Server(code)),
        _ => Err(ApiError::Refused {
            code,
            kind: refusal(code, answer.description.as_deref().unwrap_or("")),
        }),
    }
}

fn network(e: &reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::Timeout
    } else {
        ApiError::Network {
            connect: e.is_connect(),
        }
    }
}

fn incoming(value: Value) -> Option<Incoming> {
    let id = value.get("update_id")?.as_i64()?;
    // Read from text, not from the `Value`: teloxide's update reader needs borrowed keys, and
    // reads an update from a `Value` as an unknown kind.
    match serde_json::from_str::<Update>(&value.to_string()) {
        Ok(u) => Some(Incoming::Update(Box::new(u))),
        Err(_) => Some(Incoming::Unreadable(id)),
    }
}

/// A webhook's secret token: derived from the bot token, so it stays the same across restarts
/// and reveals nothing about it. Telegram allows 1-256 characters of `A-Z a-z 0-9 _ -`.
pub fn webhook_secret(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("frontdoor-webhook:{token}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_urls_keep_the_servers_path() {
        let api = Api::with_client(
            reqwest::Client::new(),
            "123:abc",
            Url::parse("http://127.0.0.1:8081/").unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(
            api.url("SendMessage").as_str(),
            "http://127.0.0.1:8081/bot123:abc/SendMessage"
        );
        let api = Api::with_client(
            reqwest::Client::new(),
            "123:abc",
            Url::parse("https://example.org/telegram").unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(
            api.url("GetMe").as_str(),
            "https://example.org/telegram/bot123:abc/GetMe"
        );
        assert!(!format!("{api:?}").contains("abc"));
    }

    #[test]
    fn refusals_are_sorted_by_kind() {
        assert_eq!(
            refusal(403, "Forbidden: bot was blocked by the user"),
            Refusal::Forbidden
        );
        assert_eq!(
            refusal(
                400,
                "Bad Request: message is not modified: specified new message content"
            ),
            Refusal::NotModified
        );
        assert_eq!(
            refusal(
                400,
                "Bad Request: query is too old and response timeout expired"
            ),
            Refusal::QueryTooOld
        );
        assert_eq!(refusal(409, "Conflict: terminated"), Refusal::Conflict);
        assert_eq!(
            refusal(400, "Bad Request: chat not found"),
            Refusal::ChatNotFound
        );
        assert!(!ApiError::Refused {
            code: 400,
            kind: Refusal::Other
        }
        .is_transient());
        assert!(ApiError::Server(502).is_transient());
        assert!(ApiError::Malformed(200).is_transient());
    }

    #[test]
    fn unreadable_updates_keep_their_id() {
        let ok = incoming(json!({
            "update_id": 7,
            "message": {
                "message_id": 1, "date": 0,
                "chat": {"id": 5, "type": "private", "first_name": "Fictional"},
                "from": {"id": 5, "is_bot": false, "first_name": "Fictional"},
                "text": "hello"
            }
        }));
        assert!(matches!(&ok, Some(Incoming::Update(u)) if u.id.0 == 7));
        assert!(
            matches!(&ok, Some(Incoming::Update(u)) if matches!(u.kind, teloxide::types::UpdateKind::Message(_))),
            "{ok:?}"
        );
        let odd = incoming(json!({"update_id": 8, "message": {"broken": true}}));
        assert_eq!(odd.map(|i| i.id()), Some(8));
        assert!(incoming(json!({"no_id": 1})).is_none());
    }

    #[test]
    fn the_webhook_secret_is_stable_and_allowed() {
        let s = webhook_secret("123:abc");
        assert_eq!(s, webhook_secret("123:abc"));
        assert_ne!(s, webhook_secret("123:abd"));
        assert!(s.len() <= 256 && s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!s.contains("abc"));
    }
}
