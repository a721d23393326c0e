//! The client commands: `p2p put/get/remove/lookup/status/leave` talk to a running node
//! through its local HTTP API.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use overlay::Key;
use overlay::net::{LookupReport, NodeStatus};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::daemon::ApiErrorBody;
use crate::net_cli::{AnnounceArgs, ApiArg, GetArgs, KeyArgs, LookupArgs, PutArgs, StatusArgs};

/// Operations wait this long for the overlay (a leave hands every record over).
const TIMEOUT: Duration = Duration::from_secs(90);

/// A client of one node's local API.
pub(crate) struct Client {
    pub(crate) agent: ureq::Agent,
    api: SocketAddr,
}

impl Client {
    /// A client of the node at `api`, sending its token if a token file is given.
    pub(crate) fn new(api: &ApiArg) -> Result<Self> {
        Self::with_timeout(api, Some(TIMEOUT))
    }

    /// A client whose requests may last as long as the node streams its answer (a
    /// subscription, a held lock).
    pub(crate) fn streaming(api: &ApiArg) -> Result<Self> {
        Self::with_timeout(api, None)
    }

    fn with_timeout(api: &ApiArg, timeout: Option<Duration>) -> Result<Self> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(timeout);
        if let Some(path) = &api.token_file {
            let value = format!("Bearer {}", crate::daemon::read_token(path)?);
            let value = ureq::http::HeaderValue::from_str(&value).with_context(|| {
                format!(
                    "the API token file {} holds a malformed token",
                    path.display()
                )
            })?;
            config = config.middleware(
                move |mut req: ureq::http::Request<ureq::SendBody>,
                      next: ureq::middleware::MiddlewareNext| {
                    req.headers_mut()
                        .insert(ureq::http::header::AUTHORIZATION, value.clone());
                    next.handle(req)
                },
            );
        }
        Ok(Client {
            agent: config.build().into(),
            api: api.api,
        })
    }

    /// The full URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    /// `prefix/name`, the name percent-encoded.
    pub(crate) fn key_path(prefix: &str, name: &str) -> String {
        format!("{prefix}/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
    }

    /// The body of a successful answer; an error answer becomes the node's message.
    pub(crate) fn finish(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>> {
        let mut resp = result.map_err(|e| match e {
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                anyhow::anyhow!(
                    "cannot reach a node's local API at {} ({e}); is `p2p node` running \
                     there? (set --api or P2P_API)",
                    self.api
                )
            }
            e => anyhow::anyhow!("talking to the node at {}: {e}", self.api),
        })?;
        let status = resp.status();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .context("reading the node's answer")?;
        if status.is_success() {
            return Ok(body);
        }
        match serde_json::from_slice::<ApiErrorBody>(&body) {
            Ok(e) => bail!("{}", e.error),
            Err(_) => bail!("the node answered {status}"),
        }
    }

    /// The body of `GET path`.
    pub(crate) fn get(&self, path: &str) -> Result<Vec<u8>> {
        self.finish(self.agent.get(self.url(path)).call())
    }

    /// Stores `value` under `name` in the DHT.
    pub(crate) fn put(&self, name: &str, value: &[u8]) -> Result<()> {
        let path = Self::key_path("/keys", name);
        self.finish(self.agent.put(self.url(&path)).send(value))
            .map(|_| ())
    }

    /// Adds `member` to the set under `name` for `ttl_s` seconds.
    pub(crate) fn announce(&self, name: &str, member: &str, ttl_s: u64) -> Result<()> {
        let path = format!("{}?ttl={ttl_s}", Self::key_path("/sets", name));
        self.finish(self.agent.post(self.url(&path)).send(member.as_bytes()))
            .map(|_| ())
    }
}

/// `p2p put`.
pub fn put(args: PutArgs) -> Result<()> {
    let value = match (&args.value, &args.file) {
        (Some(v), _) => v.clone().into_bytes(),
        (None, Some(path)) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        (None, None) => bail!("give a value or --file"),
    };
    Client::new(&args.api)?.put(&args.key, &value)?;
    eprintln!(
        "stored {} bytes under {:?} (key {})",
        value.len(),
        args.key,
        Key::hash(&args.key)
    );
    Ok(())
}

/// `p2p get`.
pub fn get(args: GetArgs) -> Result<()> {
    let c = Client::new(&args.api)?;
    let value = c.get(&Client::key_path("/keys", &args.key))?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &value)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} bytes to {}", value.len(), path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&value)?;
            if std::io::IsTerminal::is_terminal(&out) && !value.ends_with(b"\n") {
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// `p2p announce`.
pub fn announce(args: AnnounceArgs) -> Result<()> {
    Client::new(&args.api)?.announce(&args.key, &args.member, args.ttl)?;
    eprintln!(
        "{:?} is a member of {:?} for {} s",
        args.member, args.key, args.ttl
    );
    Ok(())
}

/// `p2p members`.
pub fn members(args: KeyArgs) -> Result<()> {
    let c = Client::new(&args.api)?;
    let body = c.get(&Client::key_path("/sets", &args.key))?;
    if args.json {
        println!("{}", String::from_utf8_lossy(&body));
        return Ok(());
    }
    let list: crate::daemon::MembersBody =
        serde_json::from_slice(&body).context("the node's list of members")?;
    for m in list.members {
        println!("{m}");
    }
    Ok(())
}

/// `p2p remove`.
pub fn remove(args: KeyArgs) -> Result<()> {
    let c = Client::new(&args.api)?;
    let path = Client::key_path("/keys", &args.key);
    c.finish(c.agent.delete(c.url(&path)).call())?;
    eprintln!("removed {:?}", args.key);
    Ok(())
}

/// `p2p lookup`.
pub fn lookup(args: LookupArgs) -> Result<()> {
    let LookupArgs { key: args, mode } = args;
    let c = Client::new(&args.api)?;
    let mut path = Client::key_path("/lookup", &args.key);
    if let Some(mode) = mode {
        path = format!("{path}?mode={}", mode.mode().name());
    }
    let body = c.get(&path)?;
    let report: LookupReport =
        serde_json::from_slice(&body).context("the node's lookup answer is not valid")?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!("key       {} ({:?})", report.key, args.key);
    if let Some((id, peer)) = report.replicas.first() {
        println!("root      {} {peer}", &id[..8]);
    }
    for (id, peer) in report.replicas.iter().skip(1) {
        println!("replica   {} {peer}", &id[..8]);
    }
    let path: Vec<String> = report.path.iter().map(|id| id[..8].to_string()).collect();
    println!(
        "path      {}",
        if path.is_empty() {
            "(answered locally)".into()
        } else {
            path.join(" -> ")
        }
    );
    println!(
        "hops      {}   messages {}   latency {:.2} ms",
        report.hops, report.messages, report.latency_ms
    );
    Ok(())
}

/// `p2p status`.
pub fn status(args: StatusArgs) -> Result<()> {
    let c = Client::new(&args.api)?;
    let body = c.get("/status")?;
    let s: NodeStatus =
        serde_json::from_slice(&body).context("the node's status answer is not valid")?;
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    println!("overlay     {}", s.overlay);
    println!("phase       {}", s.phase);
    println!("node id     {}", s.id);
    println!("peer id     {}", s.peer);
    for a in &s.listen {
        println!("listening   {a}");
    }
    if let Some(problem) = &s.join_problem {
        println!("not joined  {problem}");
    }
    if let Some(problem) = &s.storage_problem {
        println!("disk        writes refused: {problem}");
    }
    println!("routing     {}", s.routing);
    println!("apps        {}", s.applications.join(", "));
    println!(
        "stored      {} keys ({} live values)",
        s.stored_keys, s.stored_values
    );
    println!(
        "traffic     {} messages sent, {} timeouts, {} rejected; {} peers connected",
        s.messages_sent, s.timeouts, s.rejected, s.connected_peers
    );
    println!("neighbours  {}", s.neighbours.len());
    for (id, peer) in &s.neighbours {
        println!("  {} {peer}", &id[..8]);
    }
    crate::multicast_cli::print_groups(&c)
}

/// `p2p leave`.
pub fn leave(args: ApiArg) -> Result<()> {
    let c = Client::new(&args)?;
    c.finish(c.agent.post(c.url("/leave")).send_empty())?;
    eprintln!("the node handed its records over and left");
    Ok(())
}
