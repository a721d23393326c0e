//! `p2p multicast`: groups on a running node, through its local API.

use std::io::{BufRead, BufReader, Read, Write};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::client::Client;
use crate::daemon::{Delivery, GroupInfo};
use crate::net_cli::ApiArg;

/// `p2p multicast`.
#[derive(Subcommand, Debug)]
pub enum MulticastCommand {
    /// Create a group at its root (subscribing creates it too).
    Create(GroupArg),
    /// Make the node a member, then print the messages it receives, one a line, until
    /// interrupted (or --count are printed). The node stays a member until `unsubscribe`.
    Subscribe(SubscribeArgs),
    /// Stop the node being a member.
    Unsubscribe(GroupArg),
    /// Send a message to every member (the text, or standard input with --stdin).
    Publish(PublishArgs),
    /// List the node's groups with its parent and children in each tree.
    Groups(ApiArg),
}

/// A group on a node.
#[derive(Args, Debug)]
pub struct GroupArg {
    /// The group's name (its id is the SHA-1 of the name).
    pub group: String,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
}

/// `p2p multicast subscribe`.
#[derive(Args, Debug)]
pub struct SubscribeArgs {
    /// The group.
    #[command(flatten)]
    pub group: GroupArg,
    /// Exit after this many messages.
    #[arg(long)]
    pub count: Option<u64>,
    /// Print each message as a JSON line (publisher, seq, text).
    #[arg(long)]
    pub json: bool,
}

/// `p2p multicast publish`.
#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The group.
    #[command(flatten)]
    pub group: GroupArg,
    /// The message.
    #[arg(required_unless_present = "stdin")]
    pub message: Option<String>,
    /// Read the message from standard input instead.
    #[arg(long, conflicts_with = "message")]
    pub stdin: bool,
}

/// Runs a `p2p multicast` command.
pub fn run(cmd: MulticastCommand) -> Result<()> {
    match cmd {
        MulticastCommand::Create(g) => {
            let c = Client::new(&g.api)?;
            post(&c, &g.group, "create", &[])?;
            eprintln!("asked the root of {:?} to create it", g.group);
        }
        MulticastCommand::Subscribe(args) => subscribe(args)?,
        MulticastCommand::Unsubscribe(g) => {
            let c = Client::new(&g.api)?;
            post(&c, &g.group, "unsubscribe", &[])?;
            eprintln!("no longer a member of {:?}", g.group);
        }
        MulticastCommand::Publish(args) => {
            let payload = match args.message {
                Some(m) => m.into_bytes(),
                None => {
                    let mut buf = Vec::new();
                    std::io::stdin()
                        .read_to_end(&mut buf)
                        .context("cannot read standard input")?;
                    buf
                }
            };
            let c = Client::new(&args.group.api)?;
            let body = post(&c, &args.group.group, "publish", &payload)?;
            let answer: serde_json::Value =
                serde_json::from_slice(&body).context("the node's publish answer is not valid")?;
            eprintln!(
                "published {} bytes to {:?} (message {} from this node)",
                payload.len(),
                args.group.group,
                answer["seq"]
            );
        }
        MulticastCommand::Groups(api) => print_groups(&Client::new(&api)?)?,
    }
    Ok(())
}

fn post(c: &Client, group: &str, what: &str, body: &[u8]) -> Result<Vec<u8>> {
    let path = format!("{}/{what}", Client::key_path("/groups", group));
    c.finish(c.agent.post(c.url(&path)).send(body))
}

fn subscribe(args: SubscribeArgs) -> Result<()> {
    let g = &args.group;
    let c = Client::new(&g.api)?;
    // Listen first, so nothing delivered right after the node attaches is missed.
    let path = format!("{}/messages", Client::key_path("/groups", &g.group));
    let stream = Client::streaming(&g.api)?
        .agent
        .get(c.url(&path))
        .call()
        .with_context(|| format!("cannot reach the node's local API at {}", c.url("")))?;
    if !stream.status().is_success() {
        bail!("the node answered {} to {path}", stream.status());
    }
    let body = post(&c, &g.group, "subscribe", &[])?;
    let answer: serde_json::Value =
        serde_json::from_slice(&body).context("the node's subscribe answer is not valid")?;
    if answer["attached"] == true {
        eprintln!(
            "subscribed to {:?}; waiting for messages (Ctrl-C to stop)",
            g.group
        );
    } else {
        eprintln!(
            "subscribed to {:?}; the tree has not taken the node in yet",
            g.group
        );
    }
    let mut out = std::io::stdout().lock();
    let reader = BufReader::new(stream.into_body().into_reader());
    for (printed, line) in (1..).zip(reader.lines()) {
        let line = line.context("the node's message stream broke off")?;
        if args.json {
            writeln!(out, "{line}")?;
        } else {
            let d: Delivery = serde_json::from_str(&line).context("a message line is not valid")?;
            writeln!(out, "[{} #{}] {}", &d.publisher[..8], d.seq, d.text)?;
        }
        out.flush()?;
        if args.count.is_some_and(|n| printed >= n) {
            break;
        }
    }
    Ok(())
}

/// Prints the node's groups (part of `p2p status`).
pub fn print_groups(c: &Client) -> Result<()> {
    let body = c.get("/groups")?;
    let groups: Vec<GroupInfo> =
        serde_json::from_slice(&body).context("the node's group list is not valid")?;
    println!("groups      {}", groups.len());
    for g in &groups {
        let role = match (g.root, g.member) {
            (true, true) => "root, member",
            (true, false) => "root",
            (false, true) => "member",
            (false, false) => "forwarder",
        };
        let parent = g.parent.as_deref().map_or("-", |p| &p[..8]);
        let children: Vec<&str> = g.children.iter().map(|c| &c[..8]).collect();
        println!(
            "  {} {role}; parent {parent}; children [{}]",
            &g.group[..8],
            children.join(" ")
        );
    }
    Ok(())
}
