//! Bounds on everything that arrives from the network.

use crate::error::InvalidMessage;

/// Upper bounds applied to every message before it reaches any state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Longest list of contacts, keys or records in one message.
    pub max_list: usize,
    /// Largest value stored under one key, in bytes.
    pub max_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 4 << 20,
            max_list: 1024,
            max_value_bytes: 1 << 20,
        }
    }
}

impl Limits {
    /// Checks a list length.
    pub fn list(&self, what: &'static str, len: usize) -> Result<(), InvalidMessage> {
        if len > self.max_list {
            return Err(InvalidMessage::TooLong {
                what,
                len,
                max: self.max_list,
            });
        }
        Ok(())
    }

    /// Checks a value's size.
    pub fn value(&self, what: &'static str, len: usize) -> Result<(), InvalidMessage> {
        if len > self.max_value_bytes {
            return Err(InvalidMessage::TooLarge {
                what,
                len,
                max: self.max_value_bytes,
            });
        }
        Ok(())
    }
}
