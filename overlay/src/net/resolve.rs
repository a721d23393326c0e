//! Host names in bootstrap addresses (`/dns/…`, `/dns4/…`, `/dns6/…`), resolved once at
//! start with the system's resolver (`/etc/hosts`, then DNS), so that a node can be told to
//! join through `/dns4/seed.example.org/tcp/4001/p2p/…`.

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use tracing::warn;

use super::error::NetError;

/// Each address with its host name replaced by the addresses it resolves to (addresses
/// without a name pass unchanged). A name that does not resolve is warned about and
/// dropped; if every given address is dropped, the node cannot join anywhere it was told
/// to, and that is an error.
pub(crate) async fn resolve_names(addrs: &[Multiaddr]) -> Result<Vec<Multiaddr>, NetError> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for addr in addrs {
        match resolve(addr).await {
            Ok(mut resolved) => out.append(&mut resolved),
            Err(reason) => {
                warn!(address = %addr, %reason, "cannot resolve a bootstrap address");
                problems.push(format!("{addr}: {reason}"));
            }
        }
    }
    if out.is_empty() && !problems.is_empty() {
        return Err(NetError::Resolve(problems.join("; ")));
    }
    Ok(out)
}

/// The addresses `addr` stands for.
async fn resolve(addr: &Multiaddr) -> Result<Vec<Multiaddr>, String> {
    let mut parts = addr.iter();
    let (host, v4, v6) = match parts.next() {
        Some(Protocol::Dns(h)) => (h, true, true),
        Some(Protocol::Dns4(h)) => (h, true, false),
        Some(Protocol::Dns6(h)) => (h, false, true),
        _ => return Ok(vec![addr.clone()]),
    };
    let Some(Protocol::Tcp(port)) = parts.next() else {
        return Err("a host name must be followed by /tcp/<port>".into());
    };
    let rest: Vec<Protocol<'_>> = parts.collect();
    let found = tokio::net::lookup_host((host.as_ref(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let resolved: Vec<Multiaddr> = found
        .filter(|sa| (sa.is_ipv4() && v4) || (sa.is_ipv6() && v6))
        .map(|sa| {
            let mut m = Multiaddr::from(sa.ip());
            m.push(Protocol::Tcp(sa.port()));
            for p in &rest {
                m.push(p.clone());
            }
            m
        })
        .collect();
    if resolved.is_empty() {
        let family = if v4 { "IPv4" } else { "IPv6" };
        return Err(format!("{host} has no {family} address"));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_become_addresses_and_the_rest_is_kept() {
        let peer = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
        let named: Multiaddr = format!("/dns4/localhost/tcp/4001/p2p/{peer}")
            .parse()
            .unwrap();
        let got = resolve(&named).await.unwrap();
        assert_eq!(
            got,
            vec![
                format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}")
                    .parse::<Multiaddr>()
                    .unwrap()
            ]
        );
        let plain: Multiaddr = format!("/ip4/10.0.0.1/tcp/1/p2p/{peer}").parse().unwrap();
        assert_eq!(resolve(&plain).await.unwrap(), vec![plain.clone()]);
        let bad: Multiaddr = "/dns4/no-such-host.invalid/tcp/1".parse().unwrap();
        assert!(
            resolve(&bad)
                .await
                .unwrap_err()
                .contains("no-such-host.invalid")
        );
        let e = resolve_names(std::slice::from_ref(&bad))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot resolve any bootstrap address"), "{e}");
        assert_eq!(
            resolve_names(&[bad, plain.clone()]).await.unwrap(),
            vec![plain]
        );
    }
}
