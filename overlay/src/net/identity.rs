//! The node's identity key, kept in its data directory so a restarted node keeps its peer
//! id and therefore its place in the overlay.

use std::fs;
use std::io::Write;
use std::path::Path;

use libp2p::identity::Keypair;

use crate::net::error::NetError;

/// File name of the identity key inside the data directory.
pub const KEY_FILE: &str = "identity.key";

fn dir_error(path: &Path, e: impl std::fmt::Display) -> NetError {
    NetError::DataDir {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Loads the Ed25519 key from `dir`, or creates one there (written to a temporary file,
/// synced, then renamed, so a crash never leaves a half-written key).
pub fn load_or_create(dir: &Path) -> Result<Keypair, NetError> {
    fs::create_dir_all(dir).map_err(|e| dir_error(dir, e))?;
    let path = dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) if bytes.is_empty() => Err(dir_error(
            &path,
            "the identity key file is empty. Delete it and the node makes a new identity \
             (a new peer id and node id; its records are kept)",
        )),
        Ok(bytes) => Keypair::from_protobuf_encoding(&bytes).map_err(|_| {
            dir_error(
                &path,
                format!(
                    "not an identity key ({} bytes that do not decode as a libp2p key). \
                     Restore it, or delete it and the node makes a new identity",
                    bytes.len()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Keypair::generate_ed25519();
            let bytes = key
                .to_protobuf_encoding()
                .map_err(|e| dir_error(&path, e))?;
            let tmp = dir.join(format!("{KEY_FILE}.tmp"));
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp).map_err(|e| dir_error(&tmp, e))?;
            f.write_all(&bytes).map_err(|e| dir_error(&tmp, e))?;
            f.sync_all().map_err(|e| dir_error(&tmp, e))?;
            fs::rename(&tmp, &path).map_err(|e| dir_error(&path, e))?;
            Ok(key)
        }
        Err(e) => Err(dir_error(&path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_node_keeps_its_key_and_a_bad_key_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("p2p-identity-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let a = load_or_create(&dir).unwrap();
        let b = load_or_create(&dir).unwrap();
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        for bad in [&b"garbage"[..], b""] {
            fs::write(dir.join(KEY_FILE), bad).unwrap();
            let err = load_or_create(&dir).expect_err("a bad key file is refused");
            let text = err.to_string().to_lowercase();
            assert!(
                text.contains(KEY_FILE) && text.contains("delete it"),
                "{text}"
            );
            assert!(!text.contains("feature"), "{text}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
