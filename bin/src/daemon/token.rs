//! The local API's token: kept in the data directory (readable by its owner only) so a
//! restarted node keeps it and clients on the machine can read it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// File name of the token inside the data directory.
pub const TOKEN_FILE: &str = "api-token";

/// The token in `dir`, created (32 random bytes, hex) if there is none; and its path.
pub fn load_or_create(dir: &Path) -> Result<(String, PathBuf)> {
    let path = dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim().to_string();
            if token.len() < 16 {
                bail!(
                    "the API token file {} holds {} characters, too few to be a token; \
                     delete it and a new one is made",
                    path.display(),
                    token.len()
                );
            }
            Ok((token, path))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
            let bytes: [u8; 32] = rand::random();
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts
                .open(&path)
                .with_context(|| format!("cannot create the API token file {}", path.display()))?;
            f.write_all(token.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write the API token file {}", path.display()))?;
            Ok((token, path))
        }
        Err(e) => {
            Err(e).with_context(|| format!("cannot read the API token file {}", path.display()))
        }
    }
}

/// The token a client sends, read from `path`.
pub fn read(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the API token file {}", path.display()))?;
    Ok(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("p2p-token-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (a, path) = load_or_create(&dir).unwrap();
        assert_eq!(a.len(), 64);
        let (b, _) = load_or_create(&dir).unwrap();
        assert_eq!(a, b);
        assert_eq!(read(&path).unwrap(), a);
        std::fs::write(&path, "short").unwrap();
        let err = load_or_create(&dir).unwrap_err().to_string();
        assert!(err.contains("too few"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
