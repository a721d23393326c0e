//! The node's local HTTP API (JSON on loopback), used by `p2p put/get/remove/lookup/status/
//! leave` and by anything that speaks HTTP:
//!
//! | method and path       | does                               | answers                      |
//! |-----------------------|------------------------------------|------------------------------|
//! | `GET /status`         | the node's state                   | 200, JSON `NodeStatus`       |
//! | `PUT /keys/{name}`    | store the body under SHA-1(name)   | 204                          |
//! | `GET /keys/{name}`    | read it                            | 200 with the bytes, or 404   |
//! | `DELETE /keys/{name}` | remove it                          | 204                          |
//! | `GET /lookup/{name}?mode=M` | find its root and the hop path (M: `iterative` or `recursive`, default the node's) | 200, JSON `LookupReport` |
//! | `POST /sets/{name}?ttl=S` | add the body (UTF-8, ≤ 1 KiB) to the set under SHA-1(name) for S seconds (default 600) | 204 |
//! | `GET /sets/{name}`    | the set's live members             | 200, JSON `{"members": [..]}`|
//! | `POST /leave`         | hand records over, leave and exit  | 200 once left                |
//!
//! Errors are JSON `{"error": "..."}`: 400 bad request, 401 no or wrong token, 403 refused
//! origin or host ([`super::guard`]), 404 no such key or path, 405 wrong method, 413 value
//! too large, 503 not joined yet or stopped, 502 the overlay could not complete the
//! operation, 507 the node's disk is full (writes only; reads go on).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use overlay::AppSet;
use overlay::net::{ApiError, LookupReport, NetHandle, NodeStatus, PeerAddr};
use overlay::{Key, LookupMode};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// The body of every error answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// What went wrong.
    pub error: String,
}

struct ApiState<X: AppSet<PeerAddr>> {
    node: NetHandle<X>,
    left: Arc<Notify>,
}

// By hand: a derived `Clone` would require `X: Clone`.
impl<X: AppSet<PeerAddr>> Clone for ApiState<X> {
    fn clone(&self) -> Self {
        ApiState {
            node: self.node.clone(),
            left: Arc::clone(&self.left),
        }
    }
}

/// An error answer: its status and the message of its JSON body.
pub(crate) struct Failure(pub(crate) StatusCode, pub(crate) String);

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        let status = match e {
            ApiError::Stopped | ApiError::NotJoined => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Failed(_) => StatusCode::BAD_GATEWAY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Storage(_) => StatusCode::INSUFFICIENT_STORAGE,
        };
        Failure(status, e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(ApiErrorBody { error: self.1 })).into_response()
    }
}

/// Middleware: gives every error answer the documented JSON body. Answers made by the
/// framework rather than a handler (an unknown path, a wrong method, a body too large or
/// malformed) come as plain text or empty; their text, or the status's reason, becomes
/// the message.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase()
    } else {
        text
    };
    let mut out = Failure(status, message).into_response();
    // Keep what the framework said beyond the body (`allow` on a 405).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// The API's routes over `node`; `left` is notified once `POST /leave` has completed.
pub fn router<X: AppSet<PeerAddr>>(
    node: NetHandle<X>,
    left: Arc<Notify>,
    max_value: usize,
) -> Router {
    Router::new()
        .route("/status", get(status::<X>))
        .route(
            "/keys/{name}",
            get(get_key::<X>).put(put_key::<X>).delete(remove_key::<X>),
        )
        .route("/lookup/{name}", get(lookup::<X>))
        .route("/sets/{name}", get(members::<X>).post(announce::<X>))
        .route("/leave", post(leave::<X>))
        .layer(DefaultBodyLimit::max(max_value))
        .with_state(ApiState { node, left })
}

async fn status<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
) -> Result<Json<NodeStatus>, Failure> {
    Ok(Json(s.node.status().await?))
}

async fn put_key<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<StatusCode, Failure> {
    s.node.put(Key::hash(&name), body.to_vec()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_key<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    match s.node.get(Key::hash(&name)).await? {
        Some(v) => Ok(v.into_response()),
        None => Err(Failure(
            StatusCode::NOT_FOUND,
            format!("no value is stored under {name:?}"),
        )),
    }
}

async fn remove_key<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
    Path(name): Path<String>,
) -> Result<StatusCode, Failure> {
    s.node.remove(Key::hash(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query of `POST /sets/{name}`.
#[derive(Debug, Deserialize)]
struct AnnounceQuery {
    /// Seconds the member lives unless announced again.
    ttl: Option<u64>,
}

/// The answer of `GET /sets/{name}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct MembersBody {
    /// The live members, most time left first.
    pub members: Vec<String>,
}

/// A member's default time to live.
const DEFAULT_TTL_S: u64 = 600;

async fn announce<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
    Path(name): Path<String>,
    Query(q): Query<AnnounceQuery>,
    body: Bytes,
) -> Result<StatusCode, Failure> {
    let bad = |m: String| Failure(StatusCode::BAD_REQUEST, m);
    let member =
        String::from_utf8(body.to_vec()).map_err(|_| bad("a member must be UTF-8 text".into()))?;
    if member.is_empty() {
        return Err(bad("a member cannot be empty".into()));
    }
    let max_ttl = overlay::dht::MAX_TTL.as_secs();
    let ttl = q.ttl.unwrap_or(DEFAULT_TTL_S);
    if !(1..=max_ttl).contains(&ttl) {
        return Err(bad(format!(
            "ttl must be 1 to {max_ttl} seconds, not {ttl}"
        )));
    }
    s.node
        .announce(
            Key::hash(&name),
            member.into_bytes(),
            std::time::Duration::from_secs(ttl),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn members<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
    Path(name): Path<String>,
) -> Result<Json<MembersBody>, Failure> {
    let members = s.node.members(Key::hash(&name)).await?;
    Ok(Json(MembersBody {
        members: members
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect(),
    }))
}

/// `?mode=iterative|recursive`; the node's own mode without it.
#[derive(serde::Deserialize)]
struct LookupQuery {
    mode: Option<LookupMode>,
}

async fn lookup<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
    Path(name): Path<String>,
    Query(q): Query<LookupQuery>,
) -> Result<Json<LookupReport>, Failure> {
    Ok(Json(s.node.lookup_with(Key::hash(&name), q.mode).await?))
}

async fn leave<X: AppSet<PeerAddr>>(
    State(s): State<ApiState<X>>,
) -> Result<Json<serde_json::Value>, Failure> {
    s.node.leave().await?;
    s.left.notify_one();
    Ok(Json(serde_json::json!({ "left": true })))
}
