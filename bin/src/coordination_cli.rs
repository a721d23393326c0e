//! `p2p lock`, `p2p leader` and `p2p clock`: coordination through a running node's local
//! API.

use std::io::{BufRead, BufReader};
use std::process::ExitStatus;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use coordination::service::{CoordinationReport, GroupReport};

use crate::client::Client;
use crate::daemon::LockLine;
use crate::net_cli::ApiArg;

/// How long `p2p leader` and `p2p clock` wait for a group's first view and leader.
const FIRST_VIEW_WAIT: Duration = Duration::from_secs(30);

/// `p2p lock`.
#[derive(Args, Debug)]
pub struct LockArgs {
    /// The lock's name (locks of different names do not exclude each other).
    pub name: String,
    /// The group whose members share the lock.
    #[arg(long, default_value = "default")]
    pub group: String,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
    /// The command to run while holding the lock, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `p2p leader` and `p2p clock`.
#[derive(Args, Debug)]
pub struct GroupArgs {
    /// The group (the node joins it if it is not in it yet).
    #[arg(long, default_value = "default")]
    pub group: String,
    /// Print the node's coordination state as JSON.
    #[arg(long)]
    pub json: bool,
    /// The node.
    #[command(flatten)]
    pub api: ApiArg,
}

/// What the lock's answer said last.
enum Heard {
    Line(LockLine),
    Ended(String),
}

/// `p2p lock`: waits for the lock, runs the command while holding it, gives it back, and
/// exits with the command's status.
pub fn lock(args: LockArgs) -> Result<()> {
    let c = Client::streaming(&args.api)?;
    let path = format!(
        "{}/{}",
        Client::key_path("/coordination/locks", &args.group),
        Client::key_path("", &args.name).trim_start_matches('/')
    );
    let resp =
        c.agent.post(c.url(&path)).send_empty().map_err(|e| {
            anyhow::anyhow!("cannot reach the node's local API at {} ({e})", c.url(""))
        })?;
    if !resp.status().is_success() {
        let status = resp.status();
        let body = resp.into_body().read_to_string().unwrap_or_default();
        let why = serde_json::from_str::<crate::daemon::ApiErrorBody>(&body)
            .map_or_else(|_| format!("the node answered {status}"), |e| e.error);
        bail!("{why}");
    }
    let reader = BufReader::new(resp.into_body().into_reader());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines() {
            let heard = match line {
                Ok(l) => match serde_json::from_str::<LockLine>(&l) {
                    Ok(l) => Heard::Line(l),
                    Err(e) => Heard::Ended(format!("the node sent a line that is not valid ({e})")),
                },
                Err(e) => Heard::Ended(format!("the node's answer broke off ({e})")),
            };
            let ended = matches!(heard, Heard::Ended(_));
            if tx.send(heard).is_err() || ended {
                return;
            }
        }
        let _ = tx.send(Heard::Ended("the node closed the connection".into()));
    });
    let started = Instant::now();
    let mut said_waiting = false;
    let ticket = loop {
        match rx.recv() {
            Ok(Heard::Line(l)) if l.state == "held" => break l.ticket,
            Ok(Heard::Line(l)) if l.state == "refused" => {
                bail!(
                    "the node refused the lock: {}",
                    l.reason.unwrap_or_default()
                )
            }
            Ok(Heard::Line(_)) => {
                if !said_waiting && started.elapsed() >= Duration::from_secs(1) {
                    eprintln!(
                        "waiting for lock {:?} of group {:?}...",
                        args.name, args.group
                    );
                    said_waiting = true;
                }
            }
            Ok(Heard::Ended(why)) => bail!("no lock: {why}"),
            Err(_) => bail!("no lock: the node's answer ended"),
        }
    };
    eprintln!(
        "holding lock {:?} of group {:?} (waited {:.1} s)",
        args.name,
        args.group,
        started.elapsed().as_secs_f64()
    );
    let status = run_holding(&args.command, &rx)?;
    // Give the lock back at once; closing the connection would too, a beat later.
    let _ = c.finish(
        c.agent
            .post(c.url(&format!("/coordination/release/{ticket}")))
            .send_empty(),
    );
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => std::process::exit(code),
        None => bail!("the command was stopped by a signal ({status})"),
    }
}

/// Runs `command` while the lock's answer keeps coming; if it stops (the node died or
/// dropped the lock), the command is killed: it no longer holds the lock.
fn run_holding(command: &[String], rx: &mpsc::Receiver<Heard>) -> Result<ExitStatus> {
    let mut child = std::process::Command::new(&command[0])
        .args(&command[1..])
        .spawn()
        .with_context(|| format!("cannot run {:?}", command[0]))?;
    loop {
        if let Some(status) = child.try_wait().context("waiting for the command")? {
            return Ok(status);
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Heard::Line(_)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(Heard::Ended(why)) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("lost the lock while the command ran ({why}); the command was killed");
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("lost the lock while the command ran; the command was killed");
            }
        }
    }
}

/// The node's report once `pick` finds what it needs in the group (the node joins the
/// group first), waiting up to [`FIRST_VIEW_WAIT`].
fn report_when(
    args: &GroupArgs,
    mut ready: impl FnMut(&GroupReport) -> bool,
) -> Result<CoordinationReport> {
    let c = Client::new(&args.api)?;
    let join = Client::key_path("/coordination/groups", &args.group);
    c.finish(c.agent.post(c.url(&join)).send_empty())?;
    let deadline = Instant::now() + FIRST_VIEW_WAIT;
    loop {
        let body = c.get("/coordination")?;
        let report: CoordinationReport =
            serde_json::from_slice(&body).context("the node's coordination report is not valid")?;
        let found = report
            .groups
            .iter()
            .any(|g| g.name == args.group && ready(g));
        if found {
            return Ok(report);
        }
        if Instant::now() > deadline {
            bail!(
                "group {:?} has no leader at this node after {} s (its view: {})",
                args.group,
                FIRST_VIEW_WAIT.as_secs(),
                report
                    .groups
                    .iter()
                    .find(|g| g.name == args.group)
                    .map_or("none".into(), |g| format!("{} members", g.members.len()))
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn group<'a>(report: &'a CoordinationReport, name: &str) -> &'a GroupReport {
    report
        .groups
        .iter()
        .find(|g| g.name == name)
        .expect("report_when found the group")
}

/// `p2p leader`.
pub fn leader(args: GroupArgs) -> Result<()> {
    let report = report_when(&args, |g| g.leader.is_some())?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let g = group(&report, &args.group);
    let leader = g.leader.expect("report_when waited for a leader");
    let me = if leader == report.me {
        " (this node)"
    } else {
        ""
    };
    println!("leader    {leader}{me}");
    println!(
        "group     {} ({} members, view {})",
        g.name,
        g.members.len(),
        g.epoch
    );
    println!("election  {}", g.election);
    Ok(())
}

/// `p2p clock`.
pub fn clock(args: GroupArgs) -> Result<()> {
    let report = report_when(&args, |g| g.leader.is_some())?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let g = group(&report, &args.group);
    println!("lamport   {}", report.lamport);
    let vector: Vec<String> = report
        .vector
        .iter()
        .map(|(p, n)| format!("{}:{n}", &p.to_string()[..8]))
        .collect();
    println!("vector    [{}]", vector.join(" "));
    println!(
        "clock     {:.6} s since 1970 (the system clock)",
        report.clock
    );
    match (g.offset, g.offset_bound, g.offset_age) {
        (Some(o), Some(b), Some(age)) => println!(
            "offset    {:+.3} ms ± {:.3} ms from group {:?}'s time (Berkeley, {:.1} s ago; master {})",
            o * 1e3,
            b * 1e3,
            g.name,
            age,
            g.leader
                .map_or("-".into(), |l| l.to_string()[..8].to_string())
        ),
        _ => println!(
            "offset    not estimated yet (the leader runs a Berkeley round every two maintenance rounds)"
        ),
    }
    Ok(())
}
