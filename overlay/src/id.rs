//! 160-bit identifiers: keys and node ids, ring arithmetic, digits and points.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha1::{Digest, Sha1};

/// Number of bits in a [`Key`].
pub const KEY_BITS: u32 = 160;
/// Number of bytes in a [`Key`].
pub const KEY_BYTES: usize = 20;

/// A 160-bit identifier on the ring `[0, 2^160)`, stored big-endian.
///
/// Keys and node ids share the space: a node id is the SHA-1 of the node's public key
/// (or, in the simulator, of its name), an object's key is the SHA-1 of its name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Key(pub [u8; KEY_BYTES]);

/// A node's identifier; the same space as [`Key`].
pub type NodeId = Key;

impl Key {
    /// The zero key.
    pub const ZERO: Key = Key([0; KEY_BYTES]);
    /// The largest key, `2^160 - 1`.
    pub const MAX: Key = Key([0xff; KEY_BYTES]);

    /// SHA-1 of arbitrary bytes.
    pub fn hash(data: impl AsRef<[u8]>) -> Key {
        let digest = Sha1::digest(data.as_ref());
        let mut out = [0u8; KEY_BYTES];
        out.copy_from_slice(&digest);
        Key(out)
    }

    /// A key read from 20 big-endian bytes; `None` if the slice has another length.
    pub fn from_slice(bytes: &[u8]) -> Option<Key> {
        <[u8; KEY_BYTES]>::try_from(bytes).ok().map(Key)
    }

    /// A uniformly random key from the caller's (seeded) generator.
    pub fn random(rng: &mut (impl rand::Rng + ?Sized)) -> Key {
        let mut out = [0u8; KEY_BYTES];
        rng.fill_bytes(&mut out);
        Key(out)
    }

    /// The key as 20 big-endian bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// `2^i` for `i < 160`.
    pub fn pow2(i: u32) -> Key {
        assert!(i < KEY_BITS, "2^{i} does not fit in 160 bits");
        let mut out = [0u8; KEY_BYTES];
        let byte = KEY_BYTES - 1 - (i / 8) as usize;
        out[byte] = 1 << (i % 8);
        Key(out)
    }

    /// The key as (top 128 bits, low 32 bits), for word-sized arithmetic.
    #[inline]
    fn limbs(&self) -> (u128, u32) {
        let mut hi = [0u8; 16];
        let mut lo = [0u8; 4];
        hi.copy_from_slice(&self.0[..16]);
        lo.copy_from_slice(&self.0[16..]);
        (u128::from_be_bytes(hi), u32::from_be_bytes(lo))
    }

    #[inline]
    fn from_limbs(hi: u128, lo: u32) -> Key {
        let mut out = [0u8; KEY_BYTES];
        out[..16].copy_from_slice(&hi.to_be_bytes());
        out[16..].copy_from_slice(&lo.to_be_bytes());
        Key(out)
    }

    /// `self + other (mod 2^160)`.
    #[inline]
    pub fn wrapping_add(&self, other: &Key) -> Key {
        let (ah, al) = self.limbs();
        let (bh, bl) = other.limbs();
        let (lo, carry) = al.overflowing_add(bl);
        Key::from_limbs(ah.wrapping_add(bh).wrapping_add(carry as u128), lo)
    }

    /// `self - other (mod 2^160)`.
    #[inline]
    pub fn wrapping_sub(&self, other: &Key) -> Key {
        let (ah, al) = self.limbs();
        let (bh, bl) = other.limbs();
        let (lo, borrow) = al.overflowing_sub(bl);
        Key::from_limbs(ah.wrapping_sub(bh).wrapping_sub(borrow as u128), lo)
    }

    /// Clockwise distance from `self` to `to` on the ring: `to - self (mod 2^160)`.
    #[inline]
    pub fn distance_to(&self, to: &Key) -> Key {
        to.wrapping_sub(self)
    }

    /// Shorter of the two ring distances between `self` and `other`.
    pub fn ring_distance(&self, other: &Key) -> Key {
        let a = self.distance_to(other);
        let b = other.distance_to(self);
        a.min(b)
    }

    /// Orders `a` and `b` by their ring distance to `self`, the smaller id first on a tie:
    /// "numerically closest", as Pastry defines a key's root.
    pub fn cmp_distance(&self, a: &Key, b: &Key) -> std::cmp::Ordering {
        self.ring_distance(a)
            .cmp(&self.ring_distance(b))
            .then_with(|| a.cmp(b))
    }

    /// Orders `a` and `b` the way Tapestry's surrogate routing ranks nodes for key `self`
    /// in base `2^b`: at the first digit where they differ, the one whose digit comes first
    /// counting upwards (cyclically) from the key's digit wins. The smallest node under
    /// this order is the key's surrogate root; the next ones are where the root role goes
    /// when it fails.
    pub fn cmp_surrogate(&self, a: &Key, b: &Key, bits: u32) -> std::cmp::Ordering {
        let i = a.shared_prefix_digits(b, bits);
        if i >= Key::digit_count(bits) {
            return std::cmp::Ordering::Equal;
        }
        let base = 1u32 << bits.min(KEY_BITS - i * bits);
        let k = self.digit(i, bits);
        let rank = |x: &Key| (x.digit(i, bits) + base - k) % base;
        rank(a).cmp(&rank(b))
    }

    /// Whether `self` lies in the ring interval `(from, to]`.
    ///
    /// When `from == to` the interval is the whole ring (a single node owns everything).
    #[inline]
    pub fn in_open_closed(&self, from: &Key, to: &Key) -> bool {
        if from == to {
            return true;
        }
        let d = from.distance_to(self);
        !d.is_zero() && d <= from.distance_to(to)
    }

    /// Whether `self` lies in the ring interval `(from, to)`.
    ///
    /// When `from == to` this is the whole ring except `from` itself.
    pub fn in_open(&self, from: &Key, to: &Key) -> bool {
        if from == to {
            return self != from;
        }
        let d = from.distance_to(self);
        !d.is_zero() && d < from.distance_to(to)
    }

    /// Whether every bit is zero.
    #[inline]
    pub fn is_zero(&self) -> bool {
        self.0 == [0; KEY_BYTES]
    }

    /// Number of significant bits: `0` for zero, `i + 1` when the top set bit is `2^i`.
    #[inline]
    pub fn bit_length(&self) -> u32 {
        for (i, b) in self.0.iter().enumerate() {
            if *b != 0 {
                return (KEY_BYTES - i) as u32 * 8 - b.leading_zeros();
            }
        }
        0
    }

    /// The key as a fraction of the ring, in `[0, 1)`.
    pub fn to_unit(&self) -> f64 {
        let mut top = [0u8; 8];
        top.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(top) as f64 / 2f64.powi(64)
    }

    /// Number of base-`2^b` digits in a key (the last digit may be short when `b` does not
    /// divide 160).
    pub fn digit_count(b: u32) -> u32 {
        KEY_BITS.div_ceil(b)
    }

    /// The `i`-th base-`2^b` digit, most significant first; `b` in `1..=8`.
    pub fn digit(&self, i: u32, b: u32) -> u32 {
        assert!((1..=8).contains(&b), "digit width {b} is not in 1..=8");
        let start = i * b;
        assert!(start < KEY_BITS, "digit {i} is past the end of the key");
        let width = b.min(KEY_BITS - start);
        let mut v = 0u32;
        for bit in start..start + width {
            let byte = self.0[(bit / 8) as usize];
            v = (v << 1) | ((byte >> (7 - bit % 8)) & 1) as u32;
        }
        v
    }

    /// Length of the common prefix of `self` and `other` in base-`2^b` digits.
    pub fn shared_prefix_digits(&self, other: &Key, b: u32) -> u32 {
        let xor = Key(std::array::from_fn(|i| self.0[i] ^ other.0[i]));
        let common_bits = KEY_BITS - xor.bit_length();
        (common_bits / b).min(Key::digit_count(b))
    }

    /// The key with digit `i` (base `2^b`) set to `value`, other digits unchanged.
    pub fn with_digit(&self, i: u32, b: u32, value: u32) -> Key {
        let start = i * b;
        let width = b.min(KEY_BITS - start);
        let mut k = *self;
        for j in 0..width {
            let bit = start + j;
            let on = (value >> (width - 1 - j)) & 1 == 1;
            let mask = 1u8 << (7 - bit % 8);
            if on {
                k.0[(bit / 8) as usize] |= mask;
            } else {
                k.0[(bit / 8) as usize] &= !mask;
            }
        }
        k
    }

    /// The smallest and the largest key sharing the first `digits` base-`2^b` digits with
    /// this one: the keys with that prefix form this interval of the ring.
    pub fn prefix_range(&self, digits: u32, b: u32) -> (Key, Key) {
        let bits = (digits * b).min(KEY_BITS);
        let mut lo = *self;
        let mut hi = *self;
        for bit in bits..KEY_BITS {
            let mask = 1u8 << (7 - bit % 8);
            lo.0[(bit / 8) as usize] &= !mask;
            hi.0[(bit / 8) as usize] |= mask;
        }
        (lo, hi)
    }

    /// The key hashed to a point of the unit torus `[0,1)^d`, one coordinate per dimension.
    ///
    /// Each coordinate is drawn from SHA-1 of the key and the dimension's index, so any `d`
    /// gets independent, uniform coordinates.
    pub fn to_point(&self, d: usize) -> Vec<f64> {
        (0..d)
            .map(|j| {
                let mut buf = [0u8; KEY_BYTES + 4];
                buf[..KEY_BYTES].copy_from_slice(&self.0);
                buf[KEY_BYTES..].copy_from_slice(&(j as u32).to_be_bytes());
                Key::hash(buf).to_unit()
            })
            .collect()
    }

    /// Short hex form (first 4 bytes) for logs.
    pub fn short(&self) -> String {
        self.0[..4].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Ord for Key {
    #[inline]
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        // Word-sized comparison of the big-endian value; the same order as the bytes'.
        self.limbs().cmp(&other.limbs())
    }
}

impl PartialOrd for Key {
    #[inline]
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.short())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Error for a string that is not 40 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("a key is 40 hexadecimal digits, got {0:?}")]
pub struct ParseKeyError(String);

impl std::str::FromStr for Key {
    type Err = ParseKeyError;

    fn from_str(s: &str) -> Result<Key, ParseKeyError> {
        if s.len() != KEY_BYTES * 2 || !s.is_ascii() {
            return Err(ParseKeyError(s.to_string()));
        }
        let mut out = [0u8; KEY_BYTES];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
                .map_err(|_| ParseKeyError(s.to_string()))?;
        }
        Ok(Key(out))
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{KEY_BYTES} bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Key, E> {
                Key::from_slice(v).ok_or_else(|| E::invalid_length(v.len(), &self))
            }
        }
        d.deserialize_bytes(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(v: u64) -> Key {
        let mut k = [0u8; KEY_BYTES];
        k[12..].copy_from_slice(&v.to_be_bytes());
        Key(k)
    }

    #[test]
    fn pow2_and_bit_length_agree() {
        for i in 0..KEY_BITS {
            assert_eq!(Key::pow2(i).bit_length(), i + 1);
        }
        assert_eq!(Key::ZERO.bit_length(), 0);
    }

    proptest! {
        #[test]
        fn prefix_range_holds_exactly_the_keys_with_the_prefix(
            a in any::<[u8; 20]>(), x in any::<[u8; 20]>(), digits in 0u32..41, d in 0u32..16,
        ) {
            let (a, x) = (Key(a), Key(x));
            let (lo, hi) = a.prefix_range(digits, 4);
            let inside = lo <= x && x <= hi;
            prop_assert_eq!(inside, a.shared_prefix_digits(&x, 4) >= digits);
            let i = digits.min(39);
            let k = a.with_digit(i, 4, d);
            prop_assert_eq!(k.digit(i, 4), d);
            prop_assert!(k.shared_prefix_digits(&a, 4) >= i);
        }
    }

    #[test]
    fn intervals_wrap_around_zero() {
        let (a, b) = (key(10), key(20));
        assert!(key(15).in_open_closed(&a, &b));
        assert!(key(20).in_open_closed(&a, &b));
        assert!(!key(10).in_open_closed(&a, &b));
        assert!(!key(20).in_open(&a, &b));
        // (20, 10] wraps through zero.
        assert!(key(5).in_open_closed(&b, &a));
        assert!(Key::MAX.in_open_closed(&b, &a));
        assert!(!key(15).in_open_closed(&b, &a));
        assert!(key(7).in_open_closed(&a, &a));
        assert!(!key(10).in_open(&a, &a));
    }

    #[test]
    fn digits_read_most_significant_first() {
        let k: Key = "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334".parse().unwrap();
        assert_eq!(k.digit(0, 4), 0xa);
        assert_eq!(k.digit(1, 4), 0x1);
        assert_eq!(k.digit(39, 4), 0x4);
        assert_eq!(k.digit(0, 8), 0xa1);
        assert_eq!(k.digit(0, 1), 1);
        assert_eq!(k.digit(1, 1), 0);
        // 160 = 53 * 3 + 1: the last base-8 digit is a single bit.
        assert_eq!(Key::digit_count(3), 54);
        assert_eq!(k.digit(53, 3), 0);
        let other: Key = "a1b2ffffffffffffffffffffffffffffffffffff".parse().unwrap();
        assert_eq!(k.shared_prefix_digits(&other, 4), 4);
        assert_eq!(k.shared_prefix_digits(&k, 4), 40);
    }

    #[test]
    fn text_and_cbor_round_trip() {
        let k = Key::hash("hello");
        assert_eq!(k.to_string().parse::<Key>().unwrap(), k);
        assert!("xyz".parse::<Key>().is_err());
        let mut buf = Vec::new();
        cbor4ii::serde::to_writer(&mut buf, &k).unwrap();
        let back: Key = cbor4ii::serde::from_slice(&buf).unwrap();
        assert_eq!(back, k);
        let bad: Result<Key, _> = cbor4ii::serde::from_slice(&buf[..buf.len() - 1]);
        assert!(bad.is_err());
    }

    #[test]
    fn points_are_in_the_unit_cube() {
        let p = Key::hash("x").to_point(10);
        assert_eq!(p.len(), 10);
        assert!(p.iter().all(|c| (0.0..1.0).contains(c)));
    }

    proptest! {
        #[test]
        fn order_is_the_byte_order(a in any::<[u8; 20]>(), b in any::<[u8; 20]>()) {
            prop_assert_eq!(Key(a).cmp(&Key(b)), a.cmp(&b));
        }

        #[test]
        fn add_then_sub_is_identity(a in any::<[u8; 20]>(), b in any::<[u8; 20]>()) {
            let (a, b) = (Key(a), Key(b));
            prop_assert_eq!(a.wrapping_add(&b).wrapping_sub(&b), a);
            prop_assert_eq!(a.distance_to(&b).wrapping_add(&a), b);
        }

        #[test]
        fn exactly_one_side_of_a_split(x in any::<[u8; 20]>(), a in any::<[u8; 20]>(), b in any::<[u8; 20]>()) {
            let (x, a, b) = (Key(x), Key(a), Key(b));
            prop_assume!(a != b);
            // (a, b] and (b, a] partition the ring.
            prop_assert!(x.in_open_closed(&a, &b) ^ x.in_open_closed(&b, &a));
        }
    }
}
