//! Which failed dials say nothing about the peer: the host ran out of file descriptors, or
//! this node's own swarm refused or dropped the dial. A node that took those for the peer's
//! failure would push live peers out of its tables whenever it ran short of descriptors.

use std::error::Error;
use std::io;

use libp2p::TransportError;
use libp2p::swarm::DialError;

/// `EMFILE` and `ENFILE`, too many open files in the process and in the system: 24 and 23
/// on Linux, macOS and the BSDs.
const OUT_OF_FILES: [i32; 2] = [24, 23];

/// Whether a dial failed for a reason of this host's, not the peer's.
pub(crate) fn failed_here(error: &DialError) -> bool {
    match error {
        DialError::Denied { .. } | DialError::Aborted => true,
        DialError::Transport(attempts) => {
            !attempts.is_empty() && attempts.iter().all(|(_, e)| out_of_files(e))
        }
        _ => false,
    }
}

fn out_of_files(error: &TransportError<io::Error>) -> bool {
    let TransportError::Other(e) = error else {
        return false;
    };
    let mut cause: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(c) = cause {
        // libp2p's transport hands the socket's error up inside `Either`s, which show it but
        // hide it from `source`: its display (`… (os error 24)`) is what names the code.
        let text = c.to_string();
        if OUT_OF_FILES
            .iter()
            .any(|n| text.ends_with(&format!("(os error {n})")))
        {
            return true;
        }
        cause = match c.downcast_ref::<io::Error>() {
            // An I/O error wrapping another hides that one from `source` too.
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => c.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use either::Either;
    use libp2p::Multiaddr;

    fn transport(errors: Vec<io::Error>) -> DialError {
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().expect("valid");
        DialError::Transport(
            errors
                .into_iter()
                .map(|e| (addr.clone(), TransportError::Other(e)))
                .collect(),
        )
    }

    #[test]
    fn running_out_of_descriptors_is_this_hosts_failure() {
        assert!(failed_here(&transport(vec![io::Error::from_raw_os_error(
            24
        )])));
        // As the upgraded, boxed TCP transport reports it: the socket's error inside
        // `Either`s inside a transport error inside another I/O error.
        type Inner = Either<Either<io::Error, io::Error>, io::Error>;
        let inner: Inner = Either::Left(Either::Left(io::Error::from_raw_os_error(23)));
        let wrapped = io::Error::other(TransportError::Other(inner));
        assert!(failed_here(&transport(vec![wrapped])));
        assert!(failed_here(&DialError::Aborted));
    }

    #[test]
    fn a_refused_or_unreachable_peer_is_the_peers_failure() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert!(!failed_here(&transport(vec![refused])));
        // One address out of files, another refused: the peer may be gone.
        let mixed = vec![
            io::Error::from_raw_os_error(24),
            io::Error::from(io::ErrorKind::ConnectionRefused),
        ];
        assert!(!failed_here(&transport(mixed)));
        assert!(!failed_here(&transport(Vec::new())));
        assert!(!failed_here(&DialError::NoAddresses));
    }
}
