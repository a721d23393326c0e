//! `p2p tracker`: a BitTorrent tracker over HTTP (announce and scrape) for real clients and
//! ours.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use clap::Args;
use filesharing::tracker::{Tracker, TrackerConfig, parse_announce, parse_scrape};

/// `p2p tracker`.
#[derive(Args, Debug)]
pub struct TrackerArgs {
    /// Address to serve on; clients announce to http://ADDR/announce.
    #[arg(long, default_value = "0.0.0.0:6969")]
    pub listen: SocketAddr,
    /// Seconds between a peer's announces, as told to peers.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub interval: u64,
    /// Take the address a peer claims (`ip=`) over the one it connects from.
    #[arg(long)]
    pub trust_ip: bool,
}

struct Shared {
    tracker: Mutex<Tracker>,
    start: Instant,
}

type Answer = ([(header::HeaderName, &'static str); 1], Vec<u8>);

fn bencoded(body: Vec<u8>) -> Answer {
    ([(header::CONTENT_TYPE, "text/plain")], body)
}

async fn announce(
    State(s): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
) -> impl IntoResponse {
    // Failures are answered 200 with a `failure reason`, which is what clients read.
    let body = match parse_announce(query.as_deref().unwrap_or("")) {
        Ok(req) => {
            let now = s.start.elapsed();
            let mut t = s.tracker.lock().expect("tracker lock");
            t.announce(&req, peer.ip(), now)
        }
        Err(e) => Tracker::failure(&e.to_string()),
    };
    bencoded(body)
}

async fn scrape(State(s): State<Arc<Shared>>, RawQuery(query): RawQuery) -> impl IntoResponse {
    let body = match parse_scrape(query.as_deref().unwrap_or("")) {
        Ok(hashes) => {
            let now = s.start.elapsed();
            s.tracker.lock().expect("tracker lock").scrape(&hashes, now)
        }
        Err(e) => Tracker::failure(&e.to_string()),
    };
    bencoded(body)
}

/// Runs the tracker until Ctrl-C.
pub fn run(args: TrackerArgs) -> Result<()> {
    let interval = Duration::from_secs(args.interval);
    let cfg = TrackerConfig {
        interval,
        min_interval: (interval / 4).max(Duration::from_secs(1)),
        expiry: interval * 2 + Duration::from_secs(60),
        trust_ip: args.trust_ip,
        ..TrackerConfig::default()
    };
    let shared = Arc::new(Shared {
        tracker: Mutex::new(Tracker::new(cfg)),
        start: Instant::now(),
    });
    let app = Router::new()
        .route("/announce", get(announce))
        .route("/scrape", get(scrape))
        .with_state(shared);
    let rt = crate::loopback::runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!("tracker announce URL http://{addr}/announce");
        tokio::select! {
            r = crate::daemon::server::serve(listener, app) => r.context("the tracker stopped"),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}
