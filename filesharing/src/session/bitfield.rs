//! Which pieces a peer has, in the wire's layout (high bit of byte 0 is piece 0).

/// A set of piece indices below a fixed count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: u32,
    ones: u32,
}

impl Bitfield {
    /// No piece of `len`.
    pub fn empty(len: u32) -> Self {
        Bitfield {
            bytes: vec![0; len.div_ceil(8) as usize],
            len,
            ones: 0,
        }
    }

    /// Every piece of `len`.
    pub fn full(len: u32) -> Self {
        let mut b = Self::empty(len);
        for i in 0..len {
            b.set(i);
        }
        b
    }

    /// Reads a peer's bitfield message; `None` if its length is wrong or a spare bit is set.
    pub fn from_wire(bytes: &[u8], len: u32) -> Option<Self> {
        if bytes.len() != len.div_ceil(8) as usize {
            return None;
        }
        let spare = bytes.len() as u32 * 8 - len;
        if spare > 0 && bytes[bytes.len() - 1] & ((1u8 << spare) - 1) != 0 {
            return None;
        }
        let ones = bytes.iter().map(|b| b.count_ones()).sum();
        Some(Bitfield {
            bytes: bytes.to_vec(),
            len,
            ones,
        })
    }

    /// The bytes of a bitfield message.
    pub fn as_wire(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether piece `i` is in the set (false beyond the count).
    pub fn get(&self, i: u32) -> bool {
        i < self.len && self.bytes[(i / 8) as usize] & (0x80 >> (i % 8)) != 0
    }

    /// Adds piece `i`; returns whether it was new. `i` must be below the count.
    pub fn set(&mut self, i: u32) -> bool {
        debug_assert!(i < self.len);
        let byte = &mut self.bytes[(i / 8) as usize];
        let bit = 0x80 >> (i % 8);
        let new = *byte & bit == 0;
        *byte |= bit;
        self.ones += new as u32;
        new
    }

    /// How many pieces are in the set.
    pub fn count(&self) -> u32 {
        self.ones
    }

    /// The number of pieces it ranges over.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether it ranges over no piece.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every piece is in the set.
    pub fn is_full(&self) -> bool {
        self.ones == self.len
    }

    /// The pieces in the set, in order.
    pub fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|&i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_bits_and_lengths_are_checked() {
        assert!(Bitfield::from_wire(&[0xff, 0x80], 9).is_some());
        assert!(Bitfield::from_wire(&[0xff, 0xc0], 9).is_none());
        assert!(Bitfield::from_wire(&[0xff], 9).is_none());
        let b = Bitfield::from_wire(&[0b1010_0000], 3).unwrap();
        assert_eq!(b.ones().collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(Bitfield::full(9).as_wire(), &[0xff, 0x80]);
    }
}
