//! Who may use the local API. A web page the node's user visits can make the browser send
//! requests to loopback, so the API refuses what a browser sends on a page's behalf:
//!
//! - a `Host` header other than the API's own address (DNS rebinding: a page's own name
//!   resolving to 127.0.0.1);
//! - an `Origin` header, or `Sec-Fetch-Site`, that names another site (cross-site
//!   requests; browsers add both to every request a page makes);
//! - with a token (required when the API listens beyond loopback), a request without
//!   `Authorization: Bearer <token>`.
//!
//! Programs that are not browsers (`p2p`, curl) send a matching `Host` and no `Origin`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::Failure;

/// What the API accepts.
#[derive(Clone, Debug)]
pub struct ApiGuard {
    /// `Host` values that name this API; empty when any is accepted (an API bound to a
    /// wildcard address is reached under any of the machine's names, and then a token
    /// guards it).
    hosts: Vec<String>,
    /// The token every request must carry, if any.
    token: Option<String>,
}

impl ApiGuard {
    /// The guard of an API listening on `addr`, requiring `token` if given.
    pub fn new(addr: SocketAddr, token: Option<String>) -> Self {
        let port = addr.port();
        let hosts = if addr.ip().is_unspecified() {
            Vec::new()
        } else if addr.ip().is_loopback() {
            vec![
                addr.to_string(),
                format!("localhost:{port}"),
                format!("127.0.0.1:{port}"),
                format!("[::1]:{port}"),
            ]
        } else {
            vec![addr.to_string()]
        };
        ApiGuard { hosts, token }
    }

    /// Why `headers` are refused, if they are.
    fn refusal(&self, headers: &HeaderMap) -> Option<Failure> {
        let forbidden = |why: &str| Some(Failure(StatusCode::FORBIDDEN, why.to_string()));
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let Some(host) = host else {
            return forbidden("a request must carry a Host header naming the API");
        };
        if !self.hosts.is_empty() && !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return forbidden(&format!(
                "Host {host:?} is not this API's address; requests through another name \
                 are refused"
            ));
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            if !matches!(site.as_bytes(), b"same-origin" | b"none") {
                return forbidden("cross-site requests are refused");
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let same = origin
                .to_str()
                .ok()
                .and_then(|o| o.strip_prefix("http://"))
                .is_some_and(|o| o.eq_ignore_ascii_case(host));
            if !same {
                return forbidden("requests from another origin are refused");
            }
        }
        if let Some(token) = &self.token {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
                return Some(Failure(
                    StatusCode::UNAUTHORIZED,
                    "this API needs its token: give the client --token-file (the node \
                     keeps it in its data directory)"
                        .into(),
                ));
            }
        }
        None
    }
}

/// Compares in time independent of where the inputs differ, so the token cannot be
/// guessed byte by byte from answer times.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: refuses requests `guard` does not accept before any handler runs.
pub async fn check(State(guard): State<Arc<ApiGuard>>, req: Request, next: Next) -> Response {
    match guard.refusal(req.headers()) {
        Some(failure) => failure.into_response(),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn loopback_api_accepts_its_own_names_and_refuses_rebinding_and_cross_site() {
        let g = ApiGuard::new("127.0.0.1:4080".parse().unwrap(), None);
        assert!(g.refusal(&headers(&[("host", "127.0.0.1:4080")])).is_none());
        assert!(g.refusal(&headers(&[("host", "localhost:4080")])).is_none());
        let same_origin = [
            ("host", "127.0.0.1:4080"),
            ("origin", "http://127.0.0.1:4080"),
        ];
        assert!(g.refusal(&headers(&same_origin)).is_none());
        for bad in [
            &[("host", "evil.example:4080")][..],
            &[("host", "127.0.0.1:4081")],
            &[
                ("host", "127.0.0.1:4080"),
                ("origin", "http://evil.example"),
            ],
            &[("host", "127.0.0.1:4080"), ("origin", "null")],
            &[("host", "127.0.0.1:4080"), ("sec-fetch-site", "cross-site")],
            &[],
        ] {
            let f = g.refusal(&headers(bad)).expect("refused");
            assert_eq!(f.0, StatusCode::FORBIDDEN, "{bad:?}");
        }
    }

    #[test]
    fn a_token_is_required_when_set() {
        let g = ApiGuard::new("0.0.0.0:4080".parse().unwrap(), Some("s3cret".into()));
        let host = ("host", "192.168.1.5:4080");
        let refused = g.refusal(&headers(&[host])).expect("no token");
        assert_eq!(refused.0, StatusCode::UNAUTHORIZED);
        let wrong = g.refusal(&headers(&[host, ("authorization", "Bearer s3cres")]));
        assert!(wrong.is_some());
        assert!(
            g.refusal(&headers(&[host, ("authorization", "Bearer s3cret")]))
                .is_none()
        );
    }
}
