//! Node ids in reports as hexadecimal text (`serde(with = ...)`), so that a report reads
//! well as JSON: the wire encoding of a key is its raw bytes.

use overlay::NodeId;
use serde::de::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

fn parse<E: Error>(s: &str) -> Result<NodeId, E> {
    s.parse()
        .map_err(|_| E::custom(format!("{s:?} is not a node id (40 hex digits)")))
}

/// One id.
pub mod one {
    use super::*;

    /// As hex.
    pub fn serialize<S: Serializer>(id: &NodeId, s: S) -> Result<S::Ok, S::Error> {
        id.to_string().serialize(s)
    }

    /// From hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NodeId, D::Error> {
        parse(&String::deserialize(d)?)
    }
}

/// An optional id.
pub mod option {
    use super::*;

    /// As hex, or null.
    pub fn serialize<S: Serializer>(id: &Option<NodeId>, s: S) -> Result<S::Ok, S::Error> {
        id.map(|i| i.to_string()).serialize(s)
    }

    /// From hex, or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NodeId>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse(&s))
            .transpose()
    }
}

/// A list of ids.
pub mod list {
    use super::*;

    /// As hex.
    pub fn serialize<S: Serializer>(ids: &[NodeId], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ids.iter().map(|i| i.to_string()))
    }

    /// From hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NodeId>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| parse(s))
            .collect()
    }
}

/// A list of ids with a count each.
pub mod counts {
    use super::*;

    /// As `[hex, count]` pairs.
    pub fn serialize<S: Serializer>(pairs: &[(NodeId, u64)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(pairs.iter().map(|(i, n)| (i.to_string(), *n)))
    }

    /// From `[hex, count]` pairs.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(NodeId, u64)>, D::Error> {
        Vec::<(String, u64)>::deserialize(d)?
            .iter()
            .map(|(s, n)| parse(s).map(|i| (i, *n)))
            .collect()
    }
}
