//! The local API's multicast routes, over the node's Scribe:
//!
//! | method and path                  | does                                   | answers                      |
//! |----------------------------------|----------------------------------------|------------------------------|
//! | `GET /groups`                    | this node's groups, parents, children  | 200, JSON list of `GroupInfo`|
//! | `POST /groups/{name}/create`     | create the group at its root           | 204                          |
//! | `POST /groups/{name}/subscribe`  | become a member                        | 200, `{"attached": bool}`    |
//! | `POST /groups/{name}/unsubscribe`| stop being a member                    | 204                          |
//! | `POST /groups/{name}/publish`    | send the body to every member          | 200, `{"seq": n}`            |
//! | `GET /groups/{name}/messages`    | deliveries from now on, as they come   | 200, one JSON line each      |
//!
//! A group's id is the SHA-1 of its name.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use multicast::{GroupId, ScribeCommand, ScribeEvent};
use overlay::net::{NetHandle, PeerAddr};
use overlay::{Key, Layer};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::api::Failure;
use super::apps::Extra;

/// How long `subscribe` waits for the node to be attached to the tree.
const ATTACH_WAIT: Duration = Duration::from_secs(15);
/// How long the node may take to answer a command it handles locally.
const LOCAL_WAIT: Duration = Duration::from_secs(5);

/// One group as `GET /groups` and `p2p status` show it.
#[derive(Debug, Serialize, Deserialize)]
pub struct GroupInfo {
    /// The group id (hex).
    pub group: String,
    /// Whether this node is a member.
    pub member: bool,
    /// Whether it is the tree's root.
    pub root: bool,
    /// Its parent's node id, if any.
    pub parent: Option<String>,
    /// Its children's node ids.
    pub children: Vec<String>,
}

/// One delivered message, a line of `GET /groups/{name}/messages`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Delivery {
    /// The publisher's node id.
    pub publisher: String,
    /// Its sequence number from that publisher.
    pub seq: u64,
    /// The payload, as text (invalid UTF-8 replaced).
    pub text: String,
}

type Node = NetHandle<Extra>;
type Events = broadcast::Receiver<<Extra as overlay::AppSet<PeerAddr>>::Event>;

/// The multicast routes over `node`.
pub fn routes(node: Node) -> Router {
    Router::new()
        .route("/groups", get(groups))
        .route("/groups/{name}/create", post(create))
        .route("/groups/{name}/subscribe", post(subscribe))
        .route("/groups/{name}/unsubscribe", post(unsubscribe))
        .route("/groups/{name}/publish", post(publish))
        .route("/groups/{name}/messages", get(messages))
        .with_state(node)
}

async fn send(node: &Node, cmd: ScribeCommand) -> Result<(), Failure> {
    node.command(cmd).await.map_err(Failure::from)
}

/// Waits up to `wait` for the first Scribe event `pick` accepts.
async fn wait_for<T>(
    events: &mut Events,
    wait: Duration,
    mut pick: impl FnMut(ScribeEvent<PeerAddr>) -> Option<T>,
) -> Option<T> {
    tokio::time::timeout(wait, async {
        loop {
            match events.recv().await {
                Ok(Layer::Head(e)) => {
                    if let Some(t) = pick(e) {
                        return Some(t);
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}

fn refused(group: GroupId) -> impl FnMut(ScribeEvent<PeerAddr>) -> Option<Result<(), String>> {
    move |e| match e {
        ScribeEvent::Refused { group: g, reason } if g == group => Some(Err(reason)),
        _ => None,
    }
}

async fn groups(State(node): State<Node>) -> Result<Json<Vec<GroupInfo>>, Failure> {
    let mut events = node.events();
    send(&node, ScribeCommand::Report).await?;
    let report = wait_for(&mut events, LOCAL_WAIT, |e| match e {
        ScribeEvent::Groups(g) => Some(g),
        _ => None,
    })
    .await
    .ok_or_else(|| {
        Failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "the node did not answer".into(),
        )
    })?;
    Ok(Json(
        report
            .into_iter()
            .map(|g| GroupInfo {
                group: g.group.to_string(),
                member: g.member,
                root: g.root,
                parent: g.parent.map(|p| p.id.to_string()),
                children: g.children.into_iter().map(|c| c.id.to_string()).collect(),
            })
            .collect(),
    ))
}

async fn create(State(node): State<Node>, Path(name): Path<String>) -> Result<StatusCode, Failure> {
    send(&node, ScribeCommand::Create(Key::hash(&name))).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn subscribe(
    State(node): State<Node>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, Failure> {
    let group = Key::hash(&name);
    let mut events = node.events();
    send(&node, ScribeCommand::Subscribe(group)).await?;
    let mut refusal = refused(group);
    let outcome = wait_for(&mut events, ATTACH_WAIT, |e| match e {
        ScribeEvent::Subscribed { group: g } if g == group => Some(Ok(())),
        e => refusal(e),
    })
    .await;
    match outcome {
        Some(Err(reason)) => Err(Failure(StatusCode::BAD_REQUEST, reason)),
        Some(Ok(())) => Ok(Json(serde_json::json!({ "attached": true }))),
        // Still joining: the membership stands, the tree takes it in when it can.
        None => Ok(Json(serde_json::json!({ "attached": false }))),
    }
}

async fn unsubscribe(
    State(node): State<Node>,
    Path(name): Path<String>,
) -> Result<StatusCode, Failure> {
    send(&node, ScribeCommand::Unsubscribe(Key::hash(&name))).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish(
    State(node): State<Node>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Failure> {
    let group = Key::hash(&name);
    let mut events = node.events();
    let payload = body.to_vec();
    send(&node, ScribeCommand::Publish { group, payload }).await?;
    let mut refusal = refused(group);
    let outcome = wait_for(&mut events, LOCAL_WAIT, |e| match e {
        ScribeEvent::Published { group: g, seq } if g == group => Some(Ok(seq)),
        e => refusal(e).map(|r| r.map(|()| 0)),
    })
    .await;
    match outcome {
        Some(Ok(seq)) => Ok(Json(serde_json::json!({ "seq": seq }))),
        Some(Err(reason)) => Err(Failure(StatusCode::PAYLOAD_TOO_LARGE, reason)),
        None => Err(Failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "the node did not answer".into(),
        )),
    }
}

async fn messages(State(node): State<Node>, Path(name): Path<String>) -> Body {
    let group = Key::hash(&name);
    let events = node.events();
    let lines = futures::stream::unfold(events, move |mut events| async move {
        loop {
            match events.recv().await {
                Ok(Layer::Head(ScribeEvent::Delivered(p))) if p.group == group => {
                    let line = Delivery {
                        publisher: p.publisher.to_string(),
                        seq: p.seq,
                        text: String::from_utf8_lossy(&p.payload).into_owned(),
                    };
                    let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
                    bytes.push(b'\n');
                    return Some((Ok::<_, std::io::Error>(bytes), events));
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Body::from_stream(lines)
}
