//! The command lines of the real clients, shared by the interoperability tests and
//! `p2p bench transfer` (which includes this file): each client kept to the peers it is
//! given or its trackers give, without DHT, local discovery or peer exchange.

use std::path::Path;
use std::process::Command;

/// aria2c listening on `port`, saving to or seeding from `dir`, with `extra` options.
pub fn aria2c(torrent: &Path, dir: &Path, port: u16, extra: &[&str]) -> Command {
    let mut cmd = Command::new("aria2c");
    cmd.args([
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--summary-interval=0",
        "--console-log-level=warn",
        &format!("--listen-port={port}"),
        &format!("--dir={}", dir.display()),
    ])
    .args(extra)
    .arg(torrent);
    cmd
}

/// rtorrent in daemon mode (no terminal), without DHT, peer exchange or UDP trackers, its
/// session in `session`, saving to or seeding from `dir`, listening on `port`; with the
/// configuration file `import` read first if given (options on the command line cannot
/// hold a command with arguments, a file can).
pub fn rtorrent(
    torrent: &Path,
    dir: &Path,
    session: &Path,
    port: u16,
    import: Option<&Path>,
) -> Command {
    let mut cmd = Command::new("rtorrent");
    cmd.arg("-n");
    let mut options = vec![
        "system.daemon.set=true".to_string(),
        format!("directory.default.set={}", dir.display()),
        format!("session.path.set={}", session.display()),
        format!("network.port_range.set={port}-{port}"),
        "network.bind_address.set=127.0.0.1".into(),
        "dht.mode.set=disable".into(),
        "protocol.pex.set=no".into(),
        "trackers.use_udp.set=no".into(),
    ];
    if let Some(rc) = import {
        options.push(format!("import={}", rc.display()));
    }
    options.push(format!("load.start={}", torrent.display()));
    for option in options {
        cmd.arg("-o").arg(option);
    }
    cmd
}
