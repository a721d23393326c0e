//! Taking a few items of a list per period, in turn, so that every item comes up once per
//! rotation: heartbeats, backup probes and backpointer checks all spread their messages so.

/// The next `k` of `items` from `cursor` (wrapping around), and the cursor moved past
/// them. An empty list takes nothing and leaves the cursor where it was.
pub(crate) fn in_turn<I>(items: I, cursor: &mut usize, k: usize) -> impl Iterator<Item = I::Item>
where
    I: ExactSizeIterator + Clone,
{
    let len = items.len();
    let (start, k) = match len {
        0 => (0, 0),
        _ => (*cursor % len, k.min(len)),
    };
    if len > 0 {
        *cursor = start + k;
    }
    items.cycle().skip(start).take(k)
}

#[cfg(test)]
mod tests {
    use super::in_turn;

    #[test]
    fn every_item_comes_up_once_per_rotation() {
        let items = [1, 2, 3, 4, 5];
        let mut cursor = 0;
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.extend(in_turn(items.iter().copied(), &mut cursor, 2));
        }
        assert_eq!(seen, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_batch_larger_than_the_list_takes_each_item_once() {
        let mut cursor = 3;
        let got: Vec<i32> = in_turn([7, 8].iter().copied(), &mut cursor, 5).collect();
        assert_eq!(got, [8, 7]);
        assert_eq!(cursor, 3);
    }

    #[test]
    fn an_empty_list_leaves_the_cursor_alone() {
        let mut cursor = 4;
        assert_eq!(in_turn(std::iter::empty::<u8>(), &mut cursor, 3).count(), 0);
        assert_eq!(cursor, 4);
    }
}
