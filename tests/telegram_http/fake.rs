//! A fake Telegram Bot API on 127.0.0.1: long polling with offsets (an update is delivered
//! again until confirmed), sendMessage, sendDocument, edits, button acknowledgements, setWebhook,
//! and faults on demand (500, a proxy's 502 page, 429, a malformed 200, a held answer).
//! Users are simulated by queueing updates; what the bot sends is recorded with the time.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

/// A fault the next call of a method gets.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500 with the Bot API's JSON error; nothing done.
    Server,
    /// HTTP 502 with a proxy's HTML page; nothing done.
    BadGateway,
    /// HTTP 429 asking to retry after so many seconds; nothing done.
    TooMany(u64),
    /// HTTP 200 with a body that is not the API's JSON (a broken proxy); nothing done. For
    /// getUpdates the body is a cut-off update holding a message's text.
    Malformed,
    /// The call is held for good, before anything is done (the bot is killed meanwhile).
    Hold,
}

/// A message the bot sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat: i64,
    pub id: i64,
    pub text: String,
    /// Callback data of the buttons, with their labels.
    pub buttons: Vec<(String, String)>,
    /// A document's file name and content.
    pub document: Option<(String, String)>,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    next_update: i64,
    updates: VecDeque<(i64, Value)>,
    sent: Vec<Sent>,
    next_message: i64,
    edits: Vec<(i64, i64)>,
    acks: Vec<(String, Option<String>)>,
    faults: HashMap<String, VecDeque<Fault>>,
    webhook: Option<(String, String)>,
    calls: HashMap<String, usize>,
    /// When each update was queued.
    queued: HashMap<i64, Instant>,
}

/// The fake server.
#[derive(Clone)]
pub struct Fake {
    inner: Arc<Mutex<Inner>>,
    /// Bumped whenever an update is queued (wakes long polls).
    updates: Arc<watch::Sender<u64>>,
    /// Bumped whenever the bot sends something.
    sends: Arc<watch::Sender<u64>>,
    held: Arc<Notify>,
    pub addr: SocketAddr,
}

pub const TOKEN: &str = "123456:fictional-token";

impl Fake {
    /// Starts the server on a free port.
    pub async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("an address");
        let fake = Fake {
            inner: Arc::new(Mutex::new(Inner {
                next_update: 1000,
                next_message: 1,
                ..Inner::default()
            })),
            updates: Arc::new(watch::channel(0).0),
            sends: Arc::new(watch::channel(0).0),
            held: Arc::new(Notify::new()),
            addr,
        };
        let app = axum::Router::new()
            .route("/{bot}/{method}", axum::routing::post(call))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next call of `method` (e.g. "sendmessage") gets `fault`.
    pub fn fault(&self, method: &str, fault: Fault) {
        self.lock()
            .faults
            .entry(method.to_lowercase())
            .or_default()
            .push_back(fault);
    }

    /// Removes the faults still waiting for `method`.
    pub fn clear_faults(&self, method: &str) {
        self.lock().faults.remove(&method.to_lowercase());
    }

    /// Resolves once an answer is being held.
    pub async fn holding(&self) {
        self.held.notified().await;
    }

    /// How often `method` was called.
    pub fn calls(&self, method: &str) -> usize {
        self.lock()
            .calls
            .get(&method.to_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// The webhook set, if any: URL and secret.
    pub fn webhook(&self) -> Option<(String, String)> {
        self.lock().webhook.clone()
    }

    /// Everything sent to `chat` so far.
    pub fn sent(&self, chat: i64) -> Vec<Sent> {
        self.lock()
            .sent
            .iter()
            .filter(|s| s.chat == chat)
            .cloned()
            .collect()
    }

    /// How many button presses were acknowledged.
    pub fn acks(&self) -> usize {
        self.lock().acks.len()
    }

    /// Updates not yet confirmed.
    pub fn unconfirmed(&self) -> usize {
        self.lock().updates.len()
    }

    /// When an update was queued.
    pub fn queued_at(&self, update: i64) -> Option<Instant> {
        self.lock().queued.get(&update).copied()
    }

    fn queue(&self, make: impl FnOnce(i64) -> Value) -> (i64, Value) {
        let mut inner = self.lock();
        let id = inner.next_update;
        inner.next_update += 1;
        let update = make(id);
        inner.updates.push_back((id, update.clone()));
        inner.queued.insert(id, Instant::now());
        drop(inner);
        self.updates.send_modify(|n| *n += 1);
        (id, update)
    }

    /// `user` types `text` in their private chat; returns the update's id.
    pub fn type_text(&self, user: i64, text: &str) -> i64 {
        self.queue(|id| message_update(id, user, text)).0
    }

    /// An update as Telegram would post it to a webhook (not queued for polling).
    pub fn webhook_update(&self, user: i64, text: &str) -> Value {
        let mut inner = self.lock();
        let id = inner.next_update;
        inner.next_update += 1;
        inner.queued.insert(id, Instant::now());
        message_update(id, user, text)
    }

    /// `user` presses the button `data` of the message `on`.
    pub fn press(&self, user: i64, on: &Sent, data: &str) -> i64 {
        let keyboard: Vec<Vec<Value>> = on
            .buttons
            .iter()
            .map(|(d, label)| vec![json!({"text": label, "callback_data": d})])
            .collect();
        self.queue(|id| {
            json!({
                "update_id": id,
                "callback_query": {
                    "id": format!("q{id}"),
                    "from": person(user),
                    "chat_instance": "1",
                    "data": data,
                    "message": {
                        "message_id": on.id,
                        "date": 1_790_000_000,
                        "chat": {"id": user, "type": "private", "first_name": "Fictional"},
                        "from": {"id": 1, "is_bot": true, "first_name": "Front door", "username": "FrontDoorTestBot"},
                        "text": on.text,
                        "reply_markup": {"inline_keyboard": keyboard}
                    }
                }
            })
        })
        .0
    }

    /// Waits until `chat` has received `count` messages in all, or `timeout` passes.
    pub async fn wait_for(&self, chat: i64, count: usize, timeout: Duration) -> Vec<Sent> {
        let mut rx = self.sends.subscribe();
        let deadline = Instant::now() + timeout;
        loop {
            let sent = self.sent(chat);
            if sent.len() >= count {
                return sent;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return sent;
            }
        }
    }
}

fn person(user: i64) -> Value {
    json!({"id": user, "is_bot": false, "first_name": "Fictional", "last_name": "Person"})
}

fn message_update(id: i64, user: i64, text: &str) -> Value {
    json!({
        "update_id": id,
        "message": {
            "message_id": id,
            "date": 1_790_000_000,
            "chat": {"id": user, "type": "private", "first_name": "Fictional"},
            "from": person(user),
            "text": text
        }
    })
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

async fn call(
    State(fake): State<Fake>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        )
            .into_response();
    }
    let method = method.to_lowercase();
    let fault = {
        let mut inner = fake.lock();
        *inner.calls.entry(method.clone()).or_default() += 1;
        inner.faults.get_mut(&method).and_then(VecDeque::pop_front)
    };
    match fault {
        Some(Fault::Server) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(
                    json!({"ok": false, "error_code": 500, "description": "Internal Server Error"}),
                ),
            )
                .into_response()
        }
        Some(Fault::BadGateway) => {
            return (
                StatusCode::BAD_GATEWAY,
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response()
        }
        Some(Fault::TooMany(after)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"ok": false, "error_code": 429,
                    "description": format!("Too Many Requests: retry after {after}"),
                    "parameters": {"retry_after": after}})),
            )
                .into_response()
        }
        Some(Fault::Malformed) => {
            let body = if method == "getupdates" {
                r#"{"ok":true,"result":[{"update_id":99,"message":{"message_id":5,"from":{"id":700999001,"first_name":"Leaky"},"text":"Casey Leakname said her stepdad hits her"#
            } else {
                "<html>upstream connect error</html>"
            };
            return (StatusCode::OK, body).into_response();
        }
        Some(Fault::Hold) => {
            fake.held.notify_one();
            std::future::pending::<()>().await;
        }
        None => {}
    }
    let args: Value = if method == "senddocument" {
        multipart(&headers, &body)
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let response = match method.as_str() {
        "getme" => ok(
            json!({"id": 1, "is_bot": true, "first_name": "Front door", "username": "FrontDoorTestBot"}),
        ),
        "setmycommands" | "deletewebhook" => ok(json!(true)),
        "setwebhook" => {
            fake.lock().webhook = Some((
                args["url"].as_str().unwrap_or("").to_string(),
                args["secret_token"].as_str().unwrap_or("").to_string(),
            ));
            ok(json!(true))
        }
        "getupdates" => get_updates(&fake, &args).await,
        "sendmessage" | "senddocument" => {
            let chat = args["chat_id"]
                .as_i64()
                .or_else(|| args["chat_id"].as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0);
            let buttons = args["reply_markup"]["inline_keyboard"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                        .map(|b| {
                            (
                                b["callback_data"].as_str().unwrap_or("").to_string(),
                                b["text"].as_str().unwrap_or("").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let document = (method == "senddocument").then(|| {
                (
                    args["file_name"].as_str().unwrap_or("").to_string(),
                    args["document"].as_str().unwrap_or("").to_string(),
                )
            });
            let text = args["text"]
                .as_str()
                .or(args["caption"].as_str())
                .unwrap_or("")
                .to_string();
            let id = {
                let mut inner = fake.lock();
                let id = inner.next_message;
                inner.next_message += 1;
                inner.sent.push(Sent {
                    chat,
                    id,
                    text: text.clone(),
                    buttons,
                    document,
                    at: Instant::now(),
                });
                id
            };
            fake.sends.send_modify(|n| *n += 1);
            ok(json!({
                "message_id": id,
                "date": 1_790_000_000,
                "chat": {"id": chat, "type": "private", "first_name": "Fictional"},
                "text": text
            }))
        }
        "editmessagetext" | "editmessagereplymarkup" => {
            let chat = args["chat_id"].as_i64().unwrap_or(0);
            let message = args["message_id"].as_i64().unwrap_or(0);
            fake.lock().edits.push((chat, message));
            ok(json!(true))
        }
        "answercallbackquery" => {
            fake.lock().acks.push((
                args["callback_query_id"].as_str().unwrap_or("").to_string(),
                args["text"].as_str().map(str::to_string),
            ));
            ok(json!(true))
        }
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"ok": false, "error_code": 404, "description": "Not Found"})),
        )
            .into_response(),
    };
    response
}

async fn get_updates(fake: &Fake, args: &Value) -> Response {
    let offset = args["offset"].as_i64().unwrap_or(0);
    let limit = args["limit"].as_u64().unwrap_or(100) as usize;
    let wait = Duration::from_secs(args["timeout"].as_u64().unwrap_or(0));
    let mut rx = fake.updates.subscribe();
    let deadline = Instant::now() + wait;
    loop {
        let batch: Vec<Value> = {
            let mut inner = fake.lock();
            // An offset confirms every update below it.
            inner.updates.retain(|(id, _)| *id >= offset);
            inner
                .updates
                .iter()
                .take(limit)
                .map(|(_, u)| u.clone())
                .collect()
        };
        if !batch.is_empty() {
            return ok(Value::Array(batch));
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return ok(json!([]));
        }
    }
}

/// The fields of a multipart body (files as their content, with `file_name` set).
fn multipart(headers: &HeaderMap, body: &[u8]) -> Value {
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("boundary=").nth(1))
        .unwrap_or("")
        .trim_matches('"')
        .to_string();
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{boundary}")) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let attr = |name: &str| {
            head.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        };
        if let Some(name) = attr(" name") {
            if let Some(file) = attr("filename") {
                fields.insert("file_name".into(), Value::String(file));
            }
            fields.insert(name, Value::String(content.to_string()));
        }
    }
    Value::Object(fields)
}
