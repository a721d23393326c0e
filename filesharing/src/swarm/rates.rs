//! How a step's capacity is shared: each uploader among the peers it unchokes, each
//! downloader among the peers sending to it, close to max-min fair as competing TCP flows
//! are. An uploader whose share to one peer that peer cannot take gives it to its others.

/// One uploader's flows: its capacity and the downloaders it sends to.
pub(super) struct Uploader {
    /// Bytes per second it can send.
    pub capacity: f64,
    /// The downloaders it unchokes.
    pub to: Vec<usize>,
}

/// Rounds of redistribution: each lets capacity a saturated downloader refused move to
/// the uploader's other flows; three get within a few percent of the fair share.
const ROUNDS: usize = 3;

/// The rate of every flow, in the order of `uploaders` and their `to`; `download(d)` is
/// downloader `d`'s capacity, and `downloaders` one more than the highest index used.
pub(super) fn share(
    uploaders: &[Uploader],
    downloaders: usize,
    download: impl Fn(usize) -> f64,
) -> Vec<Vec<f64>> {
    let mut rates: Vec<Vec<f64>> = uploaders
        .iter()
        .map(|u| vec![u.capacity / u.to.len().max(1) as f64; u.to.len()])
        .collect();
    let mut saturated = vec![false; downloaders];
    for round in 0..=ROUNDS {
        let mut incoming = vec![0.0f64; downloaders];
        for (u, r) in uploaders.iter().zip(&rates) {
            for (&d, &x) in u.to.iter().zip(r) {
                incoming[d] += x;
            }
        }
        for (u, r) in uploaders.iter().zip(rates.iter_mut()) {
            for (&d, x) in u.to.iter().zip(r.iter_mut()) {
                let cap = download(d);
                if incoming[d] > cap {
                    *x *= cap / incoming[d];
                    saturated[d] = true;
                }
            }
        }
        if round == ROUNDS {
            break;
        }
        for (u, r) in uploaders.iter().zip(rates.iter_mut()) {
            let left = u.capacity - r.iter().sum::<f64>();
            let open = u.to.iter().filter(|&&d| !saturated[d]).count();
            if left <= u.capacity * 1e-9 || open == 0 {
                continue;
            }
            for (&d, x) in u.to.iter().zip(r.iter_mut()) {
                if !saturated[d] {
                    *x += left / open as f64;
                }
            }
        }
    }
    rates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploader_gives_what_a_full_downloader_refuses_to_its_others() {
        // Uploader 0 sends to downloaders 0 and 1; downloader 0 takes at most 1.
        let ups = [Uploader {
            capacity: 10.0,
            to: vec![0, 1],
        }];
        let r = share(&ups, 2, |d| if d == 0 { 1.0 } else { 100.0 });
        assert!((r[0][0] - 1.0).abs() < 1e-9);
        assert!((r[0][1] - 9.0).abs() < 1e-9);
    }

    #[test]
    fn no_downloader_takes_more_than_its_capacity() {
        let ups: Vec<Uploader> = (0..5)
            .map(|_| Uploader {
                capacity: 10.0,
                to: vec![0, 1, 2],
            })
            .collect();
        let r = share(&ups, 3, |d| [5.0, 20.0, 1000.0][d]);
        for d in 0..3 {
            let got: f64 = r.iter().map(|v| v[d]).sum();
            assert!(
                got <= [5.0, 20.0, 1000.0][d] + 1e-9,
                "downloader {d} got {got}"
            );
        }
        // Nothing is lost while some downloader has room: every uploader sends it all.
        let total: f64 = r.iter().flatten().sum();
        assert!((total - 50.0).abs() < 1e-6, "sent {total}");
    }
}
