//! `p2p share` and `p2p fetch`: BitTorrent without a tracker, through a running node's
//! overlay. Sharing stores the torrent in the DHT under its info-hash (`torrent:<hex>`) and
//! its name (`torrent-name:<name>`, which holds the info-hash), and announces the sharer
//! as a member of the set `peers:<hex>`, again every [`REFRESH`]; fetching resolves a name,
//! info-hash or magnet link to the torrent, reads the set for peers (again every
//! [`REFRESH`], while it runs), announces itself too, and downloads.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Args;
use filesharing::net::ClientConfig;
use filesharing::session::Bitfield;
use filesharing::storage::{OpenMode, Storage};
use filesharing::{CreateOptions, InfoHash, Magnet, Metainfo, create};

use crate::client::Client;
use crate::daemon::MembersBody;
use crate::net_cli::ApiArg;
use crate::transfer_cli::{Beside, PeerSender, check, run_client};

/// How often a sharer announces itself again and a fetcher asks for peers again.
const REFRESH: Duration = Duration::from_secs(30);
/// How long an announcement lives: a few refreshes, so one lost refresh does not matter,
/// and a peer that stopped drops out within minutes.
const ANNOUNCE_TTL_S: u64 = 120;

/// Options both commands share.
#[derive(Args, Debug)]
pub struct OverlayPeerArgs {
    #[command(flatten)]
    pub api: ApiArg,
    /// Address to accept BitTorrent peers on.
    #[arg(long, default_value = "0.0.0.0:6881")]
    pub listen: SocketAddr,
    /// The IP address other peers reach this one at, as announced in the overlay
    /// (default: the --listen address, or if that is 0.0.0.0, the address of the interface
    /// that routes outwards).
    #[arg(long)]
    pub announce_ip: Option<IpAddr>,
    /// Most peer connections at once.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_peers: u32,
    /// Print no progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `p2p share`.
#[derive(Args, Debug)]
pub struct ShareArgs {
    /// The file or folder to share.
    pub path: PathBuf,
    /// The name others fetch it by (default: the file or folder name).
    #[arg(long)]
    pub name: Option<String>,
    /// Bytes per piece (e.g. 256KiB; default about 1,500 pieces).
    #[arg(long, value_parser = crate::torrent_cli::size)]
    pub piece_size: Option<u64>,
    #[command(flatten)]
    pub peer: OverlayPeerArgs,
}

/// `p2p fetch`.
#[derive(Args, Debug)]
pub struct FetchArgs {
    /// What to fetch: a name given to `p2p share`, an info-hash (40 hex digits) or a magnet
    /// link.
    pub what: String,
    /// The folder the download goes into.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Keep running and seeding once complete, until interrupted.
    #[arg(long)]
    pub keep_seeding: bool,
    #[command(flatten)]
    pub peer: OverlayPeerArgs,
}

fn torrent_key(hash: &InfoHash) -> String {
    format!("torrent:{hash}")
}

fn name_key(name: &str) -> String {
    format!("torrent-name:{name}")
}

fn peers_key(hash: &InfoHash) -> String {
    format!("peers:{hash}")
}

/// Shares until interrupted.
pub fn share(args: ShareArgs) -> Result<()> {
    let node = Client::new(&args.peer.api)?;
    let path = args.path.as_path();
    let dir = path
        .parent()
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let opts = CreateOptions {
        piece_length: args.piece_size,
        created_by: Some(format!("p2p/{}", env!("CARGO_PKG_VERSION"))),
        creation_date: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok()),
        ..CreateOptions::default()
    };
    let meta = create(path, &opts, &mut |_, _| {})
        .with_context(|| format!("cannot share {}", path.display()))?;
    let name = args.name.clone().unwrap_or_else(|| meta.info.name.clone());
    if name.is_empty() {
        bail!("the name to share under cannot be empty");
    }
    let bytes = meta.to_bytes()?;
    node.put(&torrent_key(&meta.info_hash), &bytes)
        .context("storing the torrent in the overlay")?;
    node.put(&name_key(&name), meta.info_hash.to_string().as_bytes())
        .context("storing the name in the overlay")?;
    let storage = Storage::open(&meta.info, &dir, OpenMode::Seed)?;
    // The pieces were hashed from these very files a moment ago.
    let have = Bitfield::full(meta.info.pieces.len() as u32);
    let config = client_config(&args.peer, true, Vec::new());
    let magnet = meta.magnet().to_string();
    let a = &args.peer;
    crate::loopback::runtime()?.block_on(run_client(
        &meta,
        storage,
        have,
        config,
        "sharing",
        a.quiet,
        |addr| {
            Some(format!(
                "sharing {} as {name:?} ({}) on {addr}; others run `p2p fetch {name:?}` or \
                 fetch {magnet}; Ctrl-C to stop",
                meta.info.name, meta.info_hash
            ))
        },
        Some(overlay_peers(node, meta.info_hash, a)),
    ))?;
    Ok(())
}

/// Downloads until complete and verified (exit 0), or until interrupted.
pub fn fetch(args: FetchArgs) -> Result<()> {
    let node = Client::new(&args.peer.api)?;
    let hash = resolve(&node, &args.what)?;
    let bytes = node
        .get(&Client::key_path("/keys", &torrent_key(&hash)))
        .with_context(|| {
            format!("the torrent of {hash} is not in the overlay (is it shared with `p2p share`?)")
        })?;
    let meta = Metainfo::from_bytes(&bytes).context("the overlay's torrent")?;
    if meta.info_hash != hash {
        bail!(
            "the overlay's torrent under {hash} has info-hash {}; refusing it",
            meta.info_hash
        );
    }
    let peers = members(&node, &hash)?;
    if peers.is_empty() && !args.peer.quiet {
        eprintln!("nobody shares {hash} at the moment; waiting for peers");
    }
    std::fs::create_dir_all(&args.dir).with_context(|| format!("{}", args.dir.display()))?;
    let storage = Storage::open(&meta.info, &args.dir, OpenMode::Download)?;
    let have = check(&storage, &meta, args.peer.quiet)?;
    let config = client_config(&args.peer, args.keep_seeding, peers);
    let a = &args.peer;
    let (_, complete) = crate::loopback::runtime()?.block_on(run_client(
        &meta,
        storage,
        have,
        config,
        "fetching",
        a.quiet,
        |addr| (!a.quiet).then(|| format!("{} ({hash}) on {addr}", meta.info.name)),
        Some(overlay_peers(node, hash, a)),
    ))?;
    if !complete {
        bail!("interrupted; the verified pieces are kept, and running the same command resumes");
    }
    println!("{}", args.dir.join(&meta.info.name).display());
    Ok(())
}

/// The info-hash `what` names: a magnet link's, 40 hex digits, or a shared name's.
fn resolve(node: &Client, what: &str) -> Result<InfoHash> {
    if what.starts_with("magnet:") {
        let magnet: Magnet = what.parse().context("the magnet link")?;
        return Ok(magnet.info_hash);
    }
    if what.len() == 40
        && let Ok(hash) = what.parse::<InfoHash>()
    {
        return Ok(hash);
    }
    let value = node
        .get(&Client::key_path("/keys", &name_key(what)))
        .with_context(|| format!("nothing is shared as {what:?} in the overlay"))?;
    let text = String::from_utf8(value).context("the overlay's entry for the name")?;
    text.trim()
        .parse()
        .with_context(|| format!("the overlay's entry for {what:?} is not an info-hash"))
}

/// The peers the overlay lists for `hash` (entries that are not addresses are skipped).
fn members(node: &Client, hash: &InfoHash) -> Result<Vec<SocketAddr>> {
    let body = node
        .get(&Client::key_path("/sets", &peers_key(hash)))
        .context("asking the overlay for peers")?;
    let list: MembersBody = serde_json::from_slice(&body).context("the node's list of peers")?;
    Ok(list.members.iter().filter_map(|m| m.parse().ok()).collect())
}

fn client_config(a: &OverlayPeerArgs, keep_seeding: bool, peers: Vec<SocketAddr>) -> ClientConfig {
    ClientConfig {
        listen: a.listen,
        max_peers: a.max_peers as usize,
        peers,
        use_trackers: false,
        keep_seeding,
        ..ClientConfig::default()
    }
}

/// The address others reach this peer at: `--announce-ip`, else the listening address's,
/// else the interface's that routes outwards (no packet is sent to find it).
fn announced_ip(a: &OverlayPeerArgs) -> IpAddr {
    if let Some(ip) = a.announce_ip {
        return ip;
    }
    if !a.listen.ip().is_unspecified() {
        return a.listen.ip();
    }
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| {
            s.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The task beside the client: every [`REFRESH`], announce this peer in the overlay and
/// pass the peers listed there on to the client.
fn overlay_peers(node: Client, hash: InfoHash, a: &OverlayPeerArgs) -> Beside {
    let ip = announced_ip(a);
    let quiet = a.quiet;
    Box::new(move |addr: SocketAddr, peers: PeerSender| {
        let me = SocketAddr::new(ip, addr.port());
        tokio::spawn(async move {
            let node = std::sync::Arc::new(node);
            loop {
                let n = std::sync::Arc::clone(&node);
                let round = tokio::task::spawn_blocking(move || -> Result<Vec<SocketAddr>> {
                    n.announce(&peers_key(&hash), &me.to_string(), ANNOUNCE_TTL_S)?;
                    members(&n, &hash)
                })
                .await;
                match round {
                    Ok(Ok(found)) => {
                        let others: Vec<SocketAddr> =
                            found.into_iter().filter(|p| *p != me).collect();
                        if !others.is_empty() && peers.send(others).await.is_err() {
                            return;
                        }
                    }
                    Ok(Err(e)) if !quiet => eprintln!("overlay: {e:#}"),
                    _ => {}
                }
                tokio::time::sleep(REFRESH).await;
            }
        })
    })
}
