//! The local API's HTTP server, with the limits that keep slow or stalled clients from
//! holding the node's memory and files: at most [`MAX_CONNECTIONS`] at once (more are
//! answered 503 and closed), headers within [`HEADER_TIMEOUT`], and a body that never
//! pauses longer than [`BODY_TIMEOUT`]. With bodies capped at the largest value (1 MiB),
//! the API's buffers stay under `MAX_CONNECTIONS` × twice that cap (a body is gathered in
//! pieces, then copied whole), 64 MiB.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tracing::{debug, warn};

/// Connections the API serves at once.
pub const MAX_CONNECTIONS: usize = 32;
/// How long a client may take to send a request's headers (also how long an idle
/// connection is kept).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may pause.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The answer to a connection over the cap; written without reading the request.
fn busy_answer() -> String {
    let body = r#"{"error":"the local API is serving too many connections already"}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Serves `app` on `listener` until the listener fails; each request carries its client's
/// address as `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    let app = app.layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT));
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like pass once connections close.
                warn!(error = %e, "the local API cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        // Handlers that need the client's address take it as `ConnectInfo`.
        let service = TowerToHyperService::new(
            app.clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        tokio::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                debug!(error = %e, "local API connection ended");
            }
            drop(permit);
        });
    }
}

async fn refuse(mut stream: TcpStream) {
    let answer = busy_answer();
    let _ = tokio::time::timeout(HEADER_TIMEOUT, stream.write_all(answer.as_bytes())).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_is_well_formed() {
        let text = busy_answer();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(v["error"].is_string());
    }
}
