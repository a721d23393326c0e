//! Building per-node tables on every core (the oracle builds of 10^6 nodes).

/// `f(state, i)` for every `i` in `0..n`, in order, split over up to 8 threads. Each thread
/// gets its own `state` from `init` (a search hint carried from one node to the next).
pub fn build_in_parallel<S, T: Send>(
    n: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize) -> T + Sync,
) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(8);
    let chunk = n.div_ceil(threads).max(1);
    let (init, f) = (&init, &f);
    // Threads fill their share of one buffer in place: collecting per-thread vectors and
    // concatenating them would hold every table twice at the peak.
    let mut built: Vec<Option<T>> = std::iter::repeat_with(|| None).take(n).collect();
    std::thread::scope(|s| {
        for (k, part) in built.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                let mut state = init();
                for (j, slot) in part.iter_mut().enumerate() {
                    *slot = Some(f(&mut state, k * chunk + j));
                }
            });
        }
    });
    // In place when `Option<T>` is no larger than `T` (a table holding a `Vec` is).
    built
        .into_iter()
        .map(|t| t.expect("every table was built"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order() {
        let v = build_in_parallel(
            1000,
            || 0usize,
            |calls, i| {
                *calls += 1;
                i * 2
            },
        );
        assert_eq!(v, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
    }
}
