//! The info-hash: SHA-1 of a torrent's bencoded info dictionary, the swarm's name.

use std::fmt;
use std::str::FromStr;

use data_encoding::{BASE32, HEXLOWER_PERMISSIVE};
use serde::{Deserialize, Serialize};

/// A torrent's info-hash (BEP 3): 20 bytes, written as 40 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InfoHash(pub [u8; 20]);

impl InfoHash {
    /// The SHA-1 of `info`, the bencoded info dictionary as it appears in the file.
    pub fn of(info: &[u8]) -> Self {
        use sha1::Digest;
        InfoHash(sha1::Sha1::digest(info).into())
    }

    /// The 32-character base32 form that some magnet links use.
    pub fn to_base32(&self) -> String {
        BASE32.encode(&self.0)
    }
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&data_encoding::HEXLOWER.encode(&self.0))
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({self})")
    }
}

/// Why a string is not an info-hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an info-hash (40 hex digits or 32 base32 characters): {0:?}")]
pub struct BadInfoHash(pub String);

impl FromStr for InfoHash {
    type Err = BadInfoHash;

    /// 40 hex digits (either case) or 32 base32 characters (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = match s.len() {
            40 => HEXLOWER_PERMISSIVE.decode(s.as_bytes()).ok(),
            32 => BASE32.decode(s.to_ascii_uppercase().as_bytes()).ok(),
            _ => None,
        };
        bytes
            .and_then(|b| <[u8; 20]>::try_from(b).ok())
            .map(InfoHash)
            .ok_or_else(|| BadInfoHash(s.chars().take(64).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base32_name_the_same_hash() {
        let h = InfoHash::of(b"d4:name1:ae");
        let hex = h.to_string();
        assert_eq!(hex.len(), 40);
        assert_eq!(hex.parse::<InfoHash>(), Ok(h));
        assert_eq!(hex.to_uppercase().parse::<InfoHash>(), Ok(h));
        assert_eq!(h.to_base32().parse::<InfoHash>(), Ok(h));
        assert_eq!(h.to_base32().to_lowercase().parse::<InfoHash>(), Ok(h));
        assert!("abc".parse::<InfoHash>().is_err());
        assert!("zz".repeat(20).parse::<InfoHash>().is_err());
    }
}
