//! The local API's coordination routes, over the node's coordination service:
//!
//! | method and path                         | does                               | answers                              |
//! |-----------------------------------------|------------------------------------|--------------------------------------|
//! | `GET /coordination`                     | groups, leaders, clocks, locks     | 200, JSON `CoordinationReport`       |
//! | `POST /coordination/groups/{name}`      | join the group                     | 204                                  |
//! | `POST /coordination/locks/{group}/{name}` | take the lock, hold it while the answer is read | 200, one JSON `LockLine` a second |
//! | `POST /coordination/release/{ticket}`   | give a lock back (or stop waiting) | 204                                  |
//!
//! A lock is held for as long as its answer streams: the first line says `waiting`, a
//! later one `held`, and the node writes a line every second; when the client closes the
//! connection (it finished, or it died), the next write fails and the node gives the lock
//! back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use coordination::service::{CoordinationCommand, CoordinationEvent, CoordinationReport};
use overlay::Layer;
use overlay::net::{NetHandle, PeerAddr};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::api::Failure;
use super::apps::Extra;

/// How long the node may take to answer a command it handles locally.
const LOCAL_WAIT: Duration = Duration::from_secs(5);
/// How often a lock's answer says where the lock is (and finds out the client left).
const BEAT: Duration = Duration::from_secs(1);

type Node = NetHandle<Extra>;
type Events = broadcast::Receiver<<Extra as overlay::AppSet<PeerAddr>>::Event>;
type Event = CoordinationEvent<PeerAddr>;

/// One line of a lock's answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct LockLine {
    /// `waiting`, `held` or `refused`.
    pub state: String,
    /// The holder's number at this node (for `POST /coordination/release/{ticket}`).
    pub ticket: u64,
    /// Why the lock was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The coordination routes over `node`.
pub fn routes(node: Node) -> Router {
    Router::new()
        .route("/coordination", get(report))
        .route("/coordination/groups/{name}", post(join))
        .route("/coordination/locks/{group}/{name}", post(lock))
        .route("/coordination/release/{ticket}", post(release))
        .with_state(node)
}

/// The next coordination event from `events`, if the node still runs.
async fn next_event(events: &mut Events) -> Option<Event> {
    loop {
        match events.recv().await {
            Ok(Layer::Tail(Layer::Head(e))) => return Some(e),
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

async fn send(node: &Node, cmd: CoordinationCommand) -> Result<(), Failure> {
    node.command(cmd).await.map_err(Failure::from)
}

async fn report(State(node): State<Node>) -> Result<Json<CoordinationReport>, Failure> {
    let mut events = node.events();
    send(&node, CoordinationCommand::Report).await?;
    let wait = async {
        loop {
            match next_event(&mut events).await {
                Some(CoordinationEvent::Report(r)) => return Some(r),
                Some(_) => {}
                None => return None,
            }
        }
    };
    match tokio::time::timeout(LOCAL_WAIT, wait).await {
        Ok(Some(r)) => Ok(Json(r)),
        _ => Err(Failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "the node did not answer".into(),
        )),
    }
}

async fn join(State(node): State<Node>, Path(name): Path<String>) -> Result<StatusCode, Failure> {
    send(&node, CoordinationCommand::Join(name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn release(State(node): State<Node>, Path(ticket): Path<u64>) -> Result<StatusCode, Failure> {
    send(&node, CoordinationCommand::Release(ticket)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Numbers the holders at this node.
static TICKETS: AtomicU64 = AtomicU64::new(1);

/// A lock's answer while it streams; dropping it (the client left) gives the lock back.
struct Holding {
    node: Node,
    events: Events,
    ticket: u64,
    state: &'static str,
    started: bool,
}

impl Drop for Holding {
    fn drop(&mut self) {
        let (node, ticket) = (self.node.clone(), self.ticket);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = node.command(CoordinationCommand::Release(ticket)).await;
            });
        }
    }
}

impl Holding {
    fn line(&self, reason: Option<String>) -> Result<Vec<u8>, std::io::Error> {
        let line = LockLine {
            state: self.state.into(),
            ticket: self.ticket,
            reason,
        };
        let mut bytes = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The next line: at once the first time, when the lock comes, or after a beat.
    async fn next(mut self) -> Option<(Result<Vec<u8>, std::io::Error>, Self)> {
        if !self.started {
            self.started = true;
            let line = self.line(None);
            return Some((line, self));
        }
        if self.state != "waiting" {
            if self.state == "refused" {
                return None;
            }
            tokio::time::sleep(BEAT).await;
            let line = self.line(None);
            return Some((line, self));
        }
        let ticket = self.ticket;
        let outcome = tokio::time::timeout(BEAT, async {
            loop {
                match next_event(&mut self.events).await {
                    Some(CoordinationEvent::Acquired(t)) if t == ticket => return Some(None),
                    Some(CoordinationEvent::Refused { ticket: t, reason }) if t == ticket => {
                        return Some(Some(reason));
                    }
                    Some(_) => {}
                    None => return None,
                }
            }
        })
        .await;
        match outcome {
            Err(_) => {}
            Ok(None) => return None,
            Ok(Some(None)) => self.state = "held",
            Ok(Some(Some(reason))) => {
                self.state = "refused";
                let line = self.line(Some(reason));
                return Some((line, self));
            }
        }
        let line = self.line(None);
        Some((line, self))
    }
}

async fn lock(
    State(node): State<Node>,
    Path((group, name)): Path<(String, String)>,
) -> Result<Body, Failure> {
    let ticket = TICKETS.fetch_add(1, Ordering::Relaxed);
    let events = node.events();
    send(
        &node,
        CoordinationCommand::Acquire {
            group,
            lock: name,
            ticket,
        },
    )
    .await?;
    let holding = Holding {
        node,
        events,
        ticket,
        state: "waiting",
        started: false,
    };
    Ok(Body::from_stream(futures::stream::unfold(
        holding,
        Holding::next,
    )))
}
