//! The command line: the top-level commands and the benchmarks (`p2p bench hops`, `churn`,
//! `locate`); the real-node commands' arguments are in `net_cli`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use overlay::LookupMode;
use overlay::sim::LatencyModel;

use crate::net_cli::{ApiArg, DemoArgs, GetArgs, KeyArgs, NodeArgs, PutArgs, StatusArgs};

/// Peer-to-peer overlays and distributed hash tables with pluggable routing.
///
/// Benchmarks run the real protocol state machines in a deterministic discrete-event
/// simulator: the same seed gives the same numbers, bit for bit.
#[derive(Parser, Debug)]
#[command(name = "p2p", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Top,
}

/// Top-level commands.
#[derive(Subcommand, Debug)]
pub enum Top {
    /// Start N real nodes on loopback in this process, store and read keys, kill some
    /// nodes, read again, and report (the quickest way to see an overlay work).
    ///
    /// Example: p2p demo --overlay pastry --nodes 16
    Demo(DemoArgs),
    /// Run a long-lived node: joins the overlay (through --bootstrap, or a peer found on
    /// the LAN by mDNS, or as the first node), serves the local API, and leaves gracefully
    /// on Ctrl-C or SIGTERM.
    ///
    /// Examples:
    ///   p2p node --overlay chord --data-dir ~/.p2p
    ///   p2p node --listen /ip4/0.0.0.0/tcp/4002 --api 127.0.0.1:4081 \
    ///            --bootstrap /ip4/192.168.1.10/tcp/4001/p2p/12D3KooW...
    Node(NodeArgs),
    /// Store a value under a key, through a running node.
    ///
    /// Examples: p2p put greeting hello · p2p put photo --file photo.jpg
    Put(PutArgs),
    /// Read a key's value, through a running node (written to standard output).
    Get(GetArgs),
    /// Add a member to the set under a key, for a time (announce it again before then to
    /// keep it), through a running node: many members per key, each expiring on its own.
    ///
    /// Example: p2p announce printers 192.168.1.7:631 --ttl 300
    Announce(crate::net_cli::AnnounceArgs),
    /// List the live members of the set under a key, one per line, through a running node.
    ///
    /// Example: p2p members printers
    Members(KeyArgs),
    /// Remove a key, through a running node.
    Remove(KeyArgs),
    /// Find a key's responsible node and the path the lookup took.
    ///
    /// Example: p2p lookup greeting --mode iterative
    Lookup(crate::net_cli::LookupArgs),
    /// Show a running node's id, overlay, routing state, neighbours and stored keys.
    Status(StatusArgs),
    /// Make a running node hand its keys over, leave the overlay and exit.
    Leave(ApiArg),
    /// Multicast groups on a running node (Scribe trees over the overlay).
    ///
    /// Examples:
    ///   p2p multicast subscribe news          (prints what arrives)
    ///   p2p multicast publish news "hello"    (from any node)
    ///   p2p multicast groups                  (parent and children in each tree)
    #[command(subcommand)]
    Multicast(crate::multicast_cli::MulticastCommand),
    /// Run a command while holding a distributed lock of the node's group.
    ///
    /// The lock is released when the command ends, and when this client or the node dies.
    /// Exits with the command's status.
    ///
    /// Examples:
    ///   p2p lock backups -- ./backup.sh
    ///   p2p lock counter --group office -- sh -c 'n=$(cat n); echo $((n+1)) > n'
    #[command(verbatim_doc_comment)]
    Lock(crate::coordination_cli::LockArgs),
    /// Print the group's leader (elected among the members; replaced when it crashes).
    Leader(crate::coordination_cli::GroupArgs),
    /// Print the node's Lamport and vector clocks and its estimated offset from the
    /// group's time.
    Clock(crate::coordination_cli::GroupArgs),
    /// Make and read .torrent files (BitTorrent metainfo).
    ///
    /// Examples:
    ///   p2p torrent create film.mkv --tracker http://tracker.lan:6969/announce
    ///   p2p torrent show film.mkv.torrent
    #[command(subcommand, verbatim_doc_comment)]
    Torrent(crate::torrent_cli::TorrentCommand),
    /// Run a BitTorrent tracker (HTTP announce with compact peer lists, and scrape) for
    /// our peers and real clients.
    ///
    /// Example: p2p tracker --listen 0.0.0.0:6969   (announce URL http://HOST:6969/announce)
    Tracker(crate::tracker_cli::TrackerArgs),
    /// Seed a torrent's files to BitTorrent peers (ours and other clients) until
    /// interrupted. The files on disk are verified first.
    ///
    /// Examples:
    ///   p2p seed film.mkv.torrent --dir ~/videos
    ///   p2p seed film.mkv.torrent --dir ~/videos --no-trackers --listen 0.0.0.0:51413
    #[command(verbatim_doc_comment)]
    Seed(crate::transfer_cli::SeedArgs),
    /// Download a torrent from its trackers' peers (and --peer), verifying every piece;
    /// exits 0 once the files are complete. Interrupted, it keeps the verified pieces and
    /// resumes from them next time. A magnet link's metadata is fetched from its peers
    /// first (BEP 9).
    ///
    /// Examples:
    ///   p2p download film.mkv.torrent --dir ~/downloads
    ///   p2p download 'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&x.pe=192.168.1.20:6881'
    ///   p2p download film.mkv.torrent --no-trackers --peer 192.168.1.20:6881
    #[command(verbatim_doc_comment)]
    Download(crate::transfer_cli::DownloadArgs),
    /// Share a file or folder through a running node's overlay, with no tracker: its
    /// torrent goes into the DHT under its info-hash and its name, and this peer is
    /// announced there (again every 30 s) while it seeds, until interrupted.
    ///
    /// Examples:
    ///   p2p share ~/videos/film.mkv
    ///   p2p share ~/photos --name holiday-2026 --listen 0.0.0.0:51413
    #[command(verbatim_doc_comment)]
    Share(crate::share_cli::ShareArgs),
    /// Fetch what a node of the overlay shares (`p2p share`), by name, info-hash or magnet
    /// link: the torrent and its peers come from the DHT, and this peer is announced too
    /// while it runs. Exits 0 once the files are complete and verified.
    ///
    /// Examples:
    ///   p2p fetch film.mkv --dir ~/downloads
    ///   p2p fetch holiday-2026 --dir ~/photos --keep-seeding
    ///   p2p fetch c12fe1c06bba254a9dc9f519b335aa7c1367a88a
    #[command(verbatim_doc_comment)]
    Fetch(crate::share_cli::FetchArgs),
    /// Measure routing algorithms in the simulator.
    #[command(subcommand)]
    Bench(Bench),
}

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum Bench {
    /// Lookup path lengths (hops) against network size, checked against the true root of
    /// every key.
    ///
    /// Example: p2p bench hops --overlay chord --nodes 1000,10000 --lookups 100000 --plot hops.svg
    Hops(HopsArgs),
    /// Lookups and stored keys under failures: many nodes crashing at once (--fail),
    /// continuous churn (--session-median with --duration), or fast growth (--grow).
    ///
    /// Examples:
    ///   p2p bench churn --nodes 10000 --fail 0.5
    ///   p2p bench churn --nodes 10000 --session-median 3600 --duration 7200
    ///   p2p bench churn --nodes 10000 --grow 0.25 --replication 3
    Churn(ChurnArgs),
    /// Tapestry's object location: publish objects from random servers, locate each from
    /// a random node, crash a fraction of the nodes, let maintenance and republishing run,
    /// and locate again.
    ///
    /// Example: p2p bench locate --nodes 10000 --objects 10000 --crash 0.2
    Locate(LocateArgs),
    /// Scribe multicast trees over each overlay on a router-level transit-stub topology
    /// (5,050 routers, as in the Scribe paper): delivery, tree depth, node and link stress
    /// against IP multicast and unicast, delay penalty (RDP) of the tree and end to end,
    /// messages per publish and per join; with --fail, repair after a mass crash. Use --build protocol for Pastry's
    /// proximity neighbour selection (the oracle build knows no proximity).
    ///
    /// Example: p2p bench multicast --overlay all --nodes 1000 --groups 100 --group-size zipf --fail 0.2 --plot multicast.svg
    Multicast(MulticastArgs),
    /// Real libp2p nodes on loopback (not the simulator): lookup hops, latency, messages
    /// and throughput, and put→get success, for each overlay and for libp2p's own Kademlia
    /// (libp2p-kad, k = 20, α = 3) measured the same way.
    ///
    /// Example: p2p bench net --overlay all --nodes 32 --lookups 2000
    Net(NetArgs),
    /// Scribe over each overlay and libp2p's gossipsub (its default configuration), real
    /// nodes on loopback, one group with every node a member: delivery, publisher-to-member
    /// latency and messages per delivery, then the same after a fraction of the nodes
    /// crash without warning. Each overlay's network runs beside a gossipsub network of its
    /// own, publishes taking turns between the two, so both see the same load of the
    /// machine. Gossipsub has no discovery of its own: each of its nodes dials 6 random
    /// nodes started before it.
    ///
    /// Example: p2p bench net-multicast --overlay all --nodes 32 --messages 500
    NetMulticast(crate::bench::net_multicast::NetMulticastArgs),
    /// Mutual exclusion (central server, token ring, Lamport, Ricart-Agrawala, Maekawa),
    /// elections (ring, bully) and clock synchronisation (Cristian, Berkeley, NTP) in a
    /// seeded cluster whose messages overtake each other: messages per entry and per
    /// election against the textbook counts, synchronisation delay, clock errors against
    /// their bounds, and the checkers' verdicts (never two members inside, every request
    /// granted, one leader agreed by all, no clock set back), with crashes and joins on
    /// request.
    ///
    /// Examples:
    ///   p2p bench coordination --nodes 4,16,64
    ///   p2p bench coordination --algorithm maekawa --nodes 16 --requests 6250 --fail 0.25
    Coordination(crate::bench::coordination::CoordinationArgs),
    /// Our BitTorrent peer against libtorrent on loopback, one file in both directions:
    /// our downloader and libtorrent's from a libtorrent seeder, and a libtorrent
    /// downloader from our seeder and from libtorrent's; aria2c and rtorrent beside
    /// libtorrent where installed; each peer its own process, timed to its exit, every
    /// byte checked; our peer's peak memory. Needs python3-libtorrent.
    ///
    /// Example: p2p bench transfer --size 200MiB
    Transfer(crate::bench::transfer::TransferArgs),
    /// A simulated BitTorrent swarm with per-peer upload and download capacities (the
    /// real client's choking and piece picking, at a scale one machine cannot run for
    /// real): download times, upload used, the rarest piece's copies, rarest-first
    /// against random picking, and Qiu and Srikant's fluid model over the same arrivals.
    ///
    /// Examples:
    ///   p2p bench swarm --peers 1000 --plot swarm.svg
    ///   p2p bench swarm --peers 1000 --flash-crowd --picker both
    ///   p2p bench swarm --peers 500 --free-riders 0.3 --json
    Swarm(crate::bench::swarm::SwarmArgs),
}

/// `p2p bench net`.
#[derive(Args, Debug, Clone)]
pub struct NetArgs {
    /// Routing algorithm(s) to measure.
    #[arg(long, value_enum, default_value = "all")]
    pub overlay: OverlayArg,
    /// Nodes per network.
    #[arg(long, default_value_t = 32, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(4..=512))]
    pub nodes: usize,
    /// Lookups per network, each for a random key from a random node.
    #[arg(long, default_value_t = 2000, value_parser = positive_count)]
    pub lookups: usize,
    /// Lookups in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub concurrency: usize,
    /// Lookups made before the measured ones, as they are (same modes, random keys and
    /// nodes), and not counted, for our overlays and libp2p-kad alike: the measured
    /// lookups then meet the connections a node in use keeps open. A first lookup to a
    /// node the caller has no connection with pays a handshake; libp2p-kad's bootstrap
    /// connects each node to most others before any lookup, our overlays' maintenance
    /// only to the nodes in their tables. 0 measures from cold.
    #[arg(long, default_value_t = 1000)]
    pub warmup: usize,
    /// Values written and read back through random nodes.
    #[arg(long, default_value_t = 200, value_parser = positive_count)]
    pub keys: usize,
    /// Copies of each key in our overlays.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub replication: u16,
    /// Seconds between maintenance rounds of our overlays.
    #[arg(long, default_value_t = 1.0, value_parser = positive_seconds)]
    pub maintenance: f64,
    /// Seconds to let tables settle after the last join, before measuring. Joins come
    /// every few milliseconds, far faster than maintenance rounds, and Chord's
    /// stabilization closes such gaps one node per round: with 15 s, 0.5–2.5% of Chord's
    /// put→get pairs still met two different roots; with 30 s none did.
    #[arg(long, default_value_t = 30.0, value_parser = positive_seconds)]
    pub settle: f64,
    /// How lookups travel. Each mode is measured on the same network, lookups of the
    /// modes taking turns, and the DHT's own lookups (put→get) use the last one given;
    /// with --churn each mode has a network of its own, whose gets travel in it.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "iterative,recursive"
    )]
    pub lookup_mode: Vec<LookupModeArg>,
    /// Skip the libp2p-kad baseline.
    #[arg(long)]
    pub no_kad: bool,
    /// The consistency benchmark (`--churn`) and its settings.
    #[command(flatten)]
    pub churn: crate::bench::net_churn::ChurnArgs,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// The routing algorithms' parameters.
    #[command(flatten)]
    pub routing: RoutingArgs,
}

/// How lookups travel on real nodes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LookupModeArg {
    /// The node asks one node after another for its next hop (a round trip per hop).
    Iterative,
    /// Each node passes the lookup on, and the one that finds the root answers directly
    /// (semi-recursive); after two request timeouts without an answer the node goes on
    /// iteratively.
    Recursive,
}

impl LookupModeArg {
    /// The node's setting.
    pub fn mode(self) -> LookupMode {
        match self {
            LookupModeArg::Iterative => LookupMode::Iterative,
            LookupModeArg::Recursive => LookupMode::Recursive,
        }
    }
}

/// Which of a node's routing state its next hops come from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum NextHopsArg {
    /// As each algorithm's paper defines them, whose path lengths the simulator benchmarks
    /// compare with: Chord's closest preceding finger, CAN's closest neighbour.
    Basic,
    /// From state the nodes keep anyway: Chord's whole successor list too (the Chord
    /// journal paper's variant, as in OverSim), CAN's neighbours' neighbours from their
    /// listings ("Know thy neighbor's neighbor"). Pastry and Tapestry are unchanged.
    Extended,
}

impl NextHopsArg {
    /// Whether next hops come from the extended state.
    pub fn extended(self) -> bool {
        self == NextHopsArg::Extended
    }
}

/// A routing algorithm to measure.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OverlayArg {
    /// Chord (Stoica et al. 2001).
    Chord,
    /// Pastry (Rowstron and Druschel 2001).
    Pastry,
    /// Tapestry (Zhao et al. 2004).
    Tapestry,
    /// CAN (Ratnasamy et al. 2001), once per value of --dimensions.
    Can,
    /// Every routing algorithm, one after the other.
    All,
}

/// How the network is built before measuring.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BuildArg {
    /// Real joins one after another, then maintenance until every table has converged.
    Protocol,
    /// Tables filled directly with the converged state (for very large networks).
    Oracle,
}

impl BuildArg {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            BuildArg::Protocol => "protocol",
            BuildArg::Oracle => "oracle",
        }
    }
}

/// Options every benchmark shares.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Routing algorithm [default: chord; `bench locate`: tapestry, the one with object
    /// location].
    #[arg(long, value_enum)]
    pub overlay: Option<OverlayArg>,
    /// Seed of the simulation: the same seed gives the same result.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How the network is built.
    #[arg(long, value_enum, default_value = "protocol")]
    pub build: BuildArg,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The routing algorithms' parameters.
    #[command(flatten)]
    pub routing: RoutingArgs,
    /// Seconds of simulated time between maintenance rounds (stabilize, fix fingers,
    /// check predecessor, replica repair).
    #[arg(long, default_value_t = 30.0, value_parser = positive_seconds)]
    pub maintenance: f64,
    /// Message delays: `plane` (nodes at random points of a square, 5 ms plus up to
    /// 141 ms by distance), `constant:MS`, or `uniform:MIN-MAX` (milliseconds).
    #[arg(long, default_value = "plane", value_parser = latency_model)]
    pub latency: LatencyModel,
    /// Probability that any one message is lost (0 <= P < 1).
    #[arg(long, default_value_t = 0.0, value_parser = loss)]
    pub loss: f64,
    /// No progress bar on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Parameters of the routing algorithms (shared by the benchmarks and real nodes).
#[derive(Args, Debug, Clone)]
pub struct RoutingArgs {
    /// Chord: successor-list length.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub successors: u16,
    /// Chord and CAN: which routing state next hops come from [default: basic in the
    /// simulator benchmarks, which reproduce the papers' path lengths; extended on real
    /// nodes].
    #[arg(long, value_enum)]
    pub next_hops: Option<NextHopsArg>,
    /// Pastry: bits per digit (`b`; ids are read in base 2^b). Tapestry reads base 16.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub digit_bits: u32,
    /// CAN: dimensions of the coordinate space, comma-separated (each is its own series).
    #[arg(long, value_delimiter = ',', default_value = "2", value_parser = dimensions)]
    pub dimensions: Vec<usize>,
    /// Pastry leaf-set size (`L`, half on each side).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(2..=256))]
    pub leaf_set: u16,
    /// Pastry: before joining, look for a nearby node, starting from the bootstrap node,
    /// and join through it (nearby-node discovery, Castro et al. 2002): proximity neighbour
    /// selection builds a node's tables from the node its join starts at.
    #[arg(long)]
    pub discover_nearby: bool,
    /// Tapestry: backups per neighbour-map entry besides the closest node (`c`).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(0..=16))]
    pub backups: u16,
}

impl RoutingArgs {
    /// Whether Chord's and CAN's next hops come from the extended state: as `--next-hops`
    /// says, or as `default` where it is not given.
    pub fn extended_next_hops(&self, default: NextHopsArg) -> bool {
        self.next_hops.unwrap_or(default).extended()
    }
}

/// `p2p bench hops`.
#[derive(Args, Debug, Clone)]
pub struct HopsArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Network sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000", value_parser = node_count)]
    pub nodes: Vec<usize>,
    /// Lookups per network size, each for a random key from a random node.
    #[arg(long, default_value_t = 100_000, value_parser = positive_count)]
    pub lookups: usize,
    /// Draw the hop distributions and mean hops against N (with the theory) to this file
    /// (.svg or .png).
    #[arg(long, value_name = "FILE", value_parser = plot_path)]
    pub plot: Option<PathBuf>,
}

/// `p2p bench churn`.
#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["fail", "session_median", "grow"])))]
pub struct ChurnArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Network size.
    #[arg(long, default_value_t = 10_000, value_parser = node_count)]
    pub nodes: usize,
    /// Fraction of nodes that crash at the same instant (0 < F < 1).
    #[arg(long, value_parser = fraction, conflicts_with_all = ["session_median", "duration"])]
    pub fail: Option<f64>,
    /// Continuous churn: median session length in seconds (sessions are exponential;
    /// Poisson arrivals balance departures; half of the departures are graceful, half
    /// are crashes).
    #[arg(long, value_parser = positive_seconds, requires = "duration")]
    pub session_median: Option<f64>,
    /// Continuous churn: simulated seconds to run it.
    #[arg(long, value_parser = positive_seconds)]
    pub duration: Option<f64>,
    /// Growth: the network grows from one node to --nodes, by this fraction of its size
    /// per maintenance round (0 < RATE < 1), while --keys puts and --lookups gets (each of
    /// an acknowledged key) are spread over the joins; then maintenance runs until every
    /// node's tables have converged, for at most 100 rounds.
    #[arg(long, value_name = "RATE", value_parser = fraction)]
    pub grow: Option<f64>,
    /// Keys stored before the failures (with --grow: written during growth).
    #[arg(long, default_value_t = 10_000, value_parser = positive_count)]
    pub keys: usize,
    /// Replication factors to compare, comma-separated (1 = no replication).
    #[arg(long, value_delimiter = ',', default_value = "1,3", value_parser = replication)]
    pub replication: Vec<usize>,
    /// Gets measured: after the crash and repair (--fail), or spread over the run (churn,
    /// growth).
    #[arg(long, default_value_t = 10_000, value_parser = positive_count)]
    pub lookups: usize,
    /// Simulated seconds of maintenance after a mass crash before measuring.
    #[arg(long, default_value_t = 300.0, value_parser = positive_seconds)]
    pub settle: f64,
}

/// `p2p bench locate`.
#[derive(Args, Debug, Clone)]
pub struct LocateArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Network sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000", value_parser = node_count)]
    pub nodes: Vec<usize>,
    /// Objects published, each by a random node.
    #[arg(long, default_value_t = 10_000, value_parser = positive_count)]
    pub objects: usize,
    /// Roots per object (the object key salted this many times).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub salts: u8,
    /// Fraction of nodes that crash at the same instant after the first locates (0 < F < 1).
    #[arg(long, default_value_t = 0.2, value_parser = fraction)]
    pub crash: f64,
    /// Simulated seconds of maintenance (heartbeats, repair, republishing) after the crash
    /// before locating again.
    #[arg(long, default_value_t = 300.0, value_parser = positive_seconds)]
    pub settle: f64,
}

/// `p2p bench multicast`.
#[derive(Args, Debug, Clone)]
pub struct MulticastArgs {
    /// Shared options (the latency model is the topology's).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Network size.
    #[arg(long, default_value_t = 1000, value_parser = node_count)]
    pub nodes: usize,
    /// Groups (one message is published to each).
    #[arg(long, default_value_t = 100, value_parser = positive_count)]
    pub groups: usize,
    /// Members per group: a number, or `zipf` (the group of rank r has N·r^-1.25 members,
    /// as in the Scribe paper).
    #[arg(long, default_value = "zipf", value_parser = group_size)]
    pub group_size: GroupSize,
    /// The router-level topology nodes attach to (`transit-stub`: GT-ITM style, 10
    /// transit domains of 5 routers, 10 stub domains of 10 routers per transit router).
    #[arg(long, value_enum, default_value = "transit-stub")]
    pub topology: TopologyArg,
    /// Maintenance rounds run after the build, before the groups form: proximity
    /// neighbour selection keeps bringing nearer nodes into tables that already hold
    /// every slot.
    #[arg(long, default_value_t = 60)]
    pub settle_rounds: u32,
    /// Through which node each node joins while the network is built by protocol:
    /// `nearest` by the topology's delay (Pastry's join assumes a nearby node, and its
    /// proximity neighbour selection starts from that node's tables), or `random` (with
    /// `--discover-nearby`, Pastry then looks for a nearby node itself).
    #[arg(long, value_enum, default_value = "nearest")]
    pub bootstrap: BootstrapArg,
    /// The bottleneck remover's limit: children per node and group beyond which newcomers
    /// are sent to a child to ask instead (0: no limit).
    #[arg(long, default_value_t = multicast::ScribeConfig::default().max_children)]
    pub max_children: usize,
    /// Crash this fraction of the nodes at once after the trees are built, and measure
    /// the repair (0 < F < 1).
    #[arg(long, value_parser = fraction)]
    pub fail: Option<f64>,
    /// Draw each overlay's RDP (mean, median, p90) and mean link stress beside IP
    /// multicast's and unicast's to this file (.svg or .png).
    #[arg(long, value_name = "FILE", value_parser = plot_path)]
    pub plot: Option<PathBuf>,
}

/// How big the groups of `bench multicast` are.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GroupSize {
    /// Every group has this many members.
    Fixed(usize),
    /// The Scribe paper's Zipf-like sizes.
    Zipf,
}

fn group_size(s: &str) -> Result<GroupSize, String> {
    if s.trim().eq_ignore_ascii_case("zipf") {
        return Ok(GroupSize::Zipf);
    }
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(GroupSize::Fixed(n)),
        _ => Err(format!(
            "`{s}` is neither a positive number of members nor `zipf`"
        )),
    }
}

/// Through which node a simulated newcomer joins.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum BootstrapArg {
    /// The joined node nearest it.
    Nearest,
    /// A joined node chosen at random.
    Random,
}

impl BootstrapArg {
    /// The simulator's setting.
    pub fn setting(self) -> overlay::sim::Bootstrap {
        match self {
            BootstrapArg::Nearest => overlay::sim::Bootstrap::Nearest,
            BootstrapArg::Random => overlay::sim::Bootstrap::Random,
        }
    }
}

/// Router-level topologies.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TopologyArg {
    /// GT-ITM-style transit-stub.
    TransitStub,
}

fn node_count(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of nodes"))?;
    if n == 0 {
        return Err("a network needs at least 1 node".into());
    }
    if n > 10_000_000 {
        return Err(format!(
            "{n} nodes is more than the simulator's limit of 10,000,000"
        ));
    }
    Ok(n)
}

fn dimensions(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(d) if (1..=dht_can::MAX_DIMS).contains(&d) => Ok(d),
        _ => Err(format!(
            "`{s}`: CAN dimensions must be between 1 and {}",
            dht_can::MAX_DIMS
        )),
    }
}

pub fn positive_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a positive whole number")),
    }
}

fn replication(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=16).contains(&n) => Ok(n),
        _ => Err(format!("replication factor `{s}` must be between 1 and 16")),
    }
}

pub fn fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f < 1.0 => Ok(f),
        _ => Err(format!("`{s}` is not a fraction strictly between 0 and 1")),
    }
}

pub fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f.is_finite() => Ok(f),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

/// Parses a rate: messages (or writes) per second, above 0.
pub fn positive_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("`{s}` is not a positive number per second")),
    }
}

/// Parses a number of seconds that may be 0.
pub fn non_negative_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f >= 0.0 && f.is_finite() => Ok(f),
        _ => Err(format!("`{s}` is not a number of seconds (0 or more)")),
    }
}

pub(crate) fn plot_path(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    match p.extension().and_then(|e| e.to_str()) {
        Some("svg" | "png") => Ok(p),
        _ => Err(format!("`{s}`: the plot file must end in .svg or .png")),
    }
}

fn loss(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(f),
        _ => Err(format!("`{s}` is not a loss probability in [0, 1)")),
    }
}

fn millis(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(ms) if ms >= 0.0 && ms.is_finite() => Ok(Duration::from_secs_f64(ms / 1000.0)),
        _ => Err(format!("`{s}` is not a number of milliseconds")),
    }
}

fn latency_model(s: &str) -> Result<LatencyModel, String> {
    let bad = || format!("`{s}` is not a latency model: use plane, constant:MS or uniform:MIN-MAX");
    match s.split_once(':') {
        None if s == "plane" => Ok(LatencyModel::default()),
        Some(("constant", ms)) => Ok(LatencyModel::Constant(millis(ms)?)),
        Some(("uniform", range)) => {
            let (lo, hi) = range.split_once('-').ok_or_else(bad)?;
            let (min, max) = (millis(lo)?, millis(hi)?);
            if min > max {
                return Err(format!("`{s}`: the minimum is above the maximum"));
            }
            Ok(LatencyModel::Uniform { min, max })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_models_parse_or_say_why_not() {
        assert_eq!(latency_model("plane").unwrap(), LatencyModel::default());
        assert_eq!(
            latency_model("constant:50").unwrap(),
            LatencyModel::Constant(Duration::from_millis(50))
        );
        assert_eq!(
            latency_model("uniform:10-90").unwrap(),
            LatencyModel::Uniform {
                min: Duration::from_millis(10),
                max: Duration::from_millis(90)
            }
        );
        assert!(
            latency_model("uniform:90-10")
                .unwrap_err()
                .contains("above")
        );
        assert!(latency_model("fast").is_err());
        assert!(loss("1").is_err());
        assert!(node_count("0").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
