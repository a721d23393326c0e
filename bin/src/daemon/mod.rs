//! `p2p node`: one long-running node with its local HTTP API.

mod api;
mod apps;
mod coordination;
mod guard;
mod multicast;
pub(crate) mod server;
mod token;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use overlay::net::{NetConfig, PeerAddr, spawn_with};
use overlay::{DhtConfig, LookupMode, NodeConfig, Routing};
use tokio::sync::Notify;
use tracing::{info, warn};

use ::coordination::membership::MembershipConfig;
use ::coordination::service::CoordinationConfig;

use crate::net_cli::{CoordinationArgs, NodeArgs};
use crate::overlays::{WithNetRouting, with_net_routing};

pub use api::{ApiErrorBody, MembersBody, router};
pub use coordination::LockLine;
pub use multicast::{Delivery, GroupInfo};
pub use token::read as read_token;

/// How long a leaving node may take to hand its records over before it exits anyway.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(60);

/// Completes, with the reason, if the node has not joined within `seconds` (never when
/// `seconds` is 0).
async fn join_deadline<X: overlay::AppSet<PeerAddr>>(
    node: &overlay::net::NetHandle<X>,
    seconds: f64,
) -> anyhow::Error {
    if seconds > 0.0 {
        let limit = Duration::from_secs_f64(seconds);
        if tokio::time::timeout(limit, node.joined()).await.is_err() {
            let why = match node.status().await {
                Ok(s) => s.join_problem.unwrap_or_else(|| {
                    "the bootstrap node was reached but the join did not complete".into()
                }),
                Err(e) => e.to_string(),
            };
            return anyhow::anyhow!(
                "did not join the overlay within {seconds} s ({why}); check --bootstrap, or \
                 raise --join-timeout"
            );
        }
    }
    std::future::pending().await
}

/// The token the API requires: always when it listens beyond loopback (anyone on the
/// network could reach it), on loopback only with `--api-token`.
fn api_token(args: &NodeArgs) -> Result<Option<String>> {
    if args.api.ip().is_loopback() && !args.api_token {
        return Ok(None);
    }
    let Some(dir) = &args.data_dir else {
        anyhow::bail!(
            "a local API with a token (--api-token, or --api beyond loopback: {}) needs \
             --data-dir, where the token is kept for the clients",
            args.api
        );
    };
    let (token, path) = token::load_or_create(dir)?;
    println!("API token in {}", path.display());
    Ok(Some(token))
}

/// Runs `p2p node` until it is told to leave or is stopped by a signal.
pub fn run(args: NodeArgs) -> Result<()> {
    let runtime = crate::loopback::runtime()?;
    let round = Duration::from_secs_f64(args.maintenance);
    let job = NodeJob {
        args: &args,
        runtime: &runtime,
    };
    with_net_routing(args.overlay, &args.routing, round, job)?
}

struct NodeJob<'a> {
    args: &'a NodeArgs,
    runtime: &'a tokio::runtime::Runtime,
}

impl WithNetRouting for NodeJob<'_> {
    type Out = Result<()>;

    fn run<R: Routing<Addr = PeerAddr>>(self, config: R::Config) -> Result<()> {
        self.runtime.block_on(serve::<R>(self.args, config))
    }
}

/// The node parameters a real node runs with, its lookups travelling in `lookup_mode`.
pub fn node_config(lookup_mode: LookupMode) -> NodeConfig {
    NodeConfig {
        request_timeout: Duration::from_secs(3),
        lookup_mode,
        ..NodeConfig::default()
    }
}

/// The coordination service of a node run with `args`: the group `default` and those asked
/// for, membership refreshed every maintenance round (the timeout and the grace period
/// scale with it, as [`MembershipConfig`]'s defaults do with 5 s), a Berkeley round every
/// two, the system clock.
pub fn coordination_config(args: &CoordinationArgs, round: Duration) -> CoordinationConfig {
    let mut groups = vec!["default".to_string()];
    groups.extend(args.groups.iter().filter(|g| *g != "default").cloned());
    let membership = MembershipConfig {
        refresh_interval: round,
        member_timeout: round.mul_f64(3.2).max(Duration::from_secs(3)),
        grace: round.mul_f64(1.6).max(Duration::from_secs(1)),
        ..MembershipConfig::default()
    };
    CoordinationConfig {
        groups,
        mutex: args.lock_algorithm,
        election: args.election,
        sync_period: (round * 2).max(Duration::from_secs(1)),
        clock: Arc::new(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        }),
        membership: Arc::new(membership),
        ..CoordinationConfig::default()
    }
}

/// The DHT parameters a real node runs with: `replication` copies, repaired every two
/// maintenance rounds; reads that miss while the neighbourhood changes (for 5 rounds after
/// each change) look again one round later and then two.
pub fn dht_config(replication: u16, round: Duration) -> DhtConfig {
    DhtConfig {
        replication: replication as usize,
        repair_interval: round * 2,
        ..DhtConfig::paced_by(round)
    }
}

async fn serve<R: Routing<Addr = PeerAddr>>(args: &NodeArgs, config: R::Config) -> Result<()> {
    let token = api_token(args)?;
    let round = Duration::from_secs_f64(args.maintenance);
    let cfg = NetConfig {
        routing: config,
        node: node_config(args.lookup_mode.mode()),
        dht: dht_config(args.replication, round),
        listen: args.listen.clone(),
        bootstrap: args.bootstrap.clone(),
        mdns: !args.no_mdns,
        discovery_wait: Duration::from_secs_f64(args.discovery_wait),
        data_dir: args.data_dir.clone(),
        ..NetConfig::default()
    };
    if cfg.data_dir.is_none() {
        info!("no --data-dir: the identity and the records live in memory only");
    }
    let max_value = cfg.node.limits.max_value_bytes;
    let node = spawn_with::<R, apps::Extra>(
        cfg,
        apps::extra(coordination_config(&args.coordination, round)),
    )
    .await
    .context("cannot start the node")?;
    println!("overlay  {}", R::NAME);
    println!("peer id  {}", node.peer_id());
    println!("node id  {}", node.id());
    for a in node.listen_addrs() {
        println!("listening on {a}");
    }
    let listener = tokio::net::TcpListener::bind(args.api)
        .await
        .with_context(|| format!("cannot open the local API on {}", args.api))?;
    // Port 0 lets the system pick: say the port it picked.
    let api = listener
        .local_addr()
        .context("the local API has no address")?;
    println!("local API on http://{api}");
    let left = Arc::new(Notify::new());
    let guard = Arc::new(guard::ApiGuard::new(api, token));
    let app = router(node.clone(), left.clone(), max_value)
        .merge(apps::routes(&node))
        .layer(axum::extract::DefaultBodyLimit::max(max_value))
        .layer(axum::middleware::map_response(api::json_errors))
        .layer(axum::middleware::from_fn_with_state(guard, guard::check));
    let server = tokio::spawn(server::serve(listener, app));

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch for SIGTERM")?;
    let join_deadline = join_deadline(&node, args.join_timeout);
    tokio::select! {
        problem = join_deadline => return Err(problem),
        _ = tokio::signal::ctrl_c() => info!("interrupted: leaving"),
        _ = sigterm.recv() => info!("terminated: leaving"),
        _ = left.notified() => {
            // The API already made the node leave; let its answer reach the client.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return Ok(());
        }
        r = server => {
            r.context("the local API stopped")?.context("the local API failed")?;
        }
    }
    match tokio::time::timeout(LEAVE_TIMEOUT, node.leave()).await {
        Ok(Ok(())) => info!("left the overlay"),
        Ok(Err(e)) => warn!(error = %e, "leaving failed"),
        Err(_) => warn!("hand-over did not finish within {LEAVE_TIMEOUT:?}; exiting anyway"),
    }
    Ok(())
}
