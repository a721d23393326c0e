//! The fluid model of Qiu and Srikant ("Modeling and performance analysis of
//! BitTorrent-like peer-to-peer networks", SIGCOMM 2004): downloaders `x(t)` and seeds
//! `y(t)` as continuous quantities,
//!
//! ```text
//! dx/dt = λ(t) − min(c·x, μ·(η·x + y))
//! dy/dt = min(c·x, μ·(η·x + y)) − γ·y
//! ```
//!
//! with the file as the unit of data: `c` and `μ` are a peer's download and upload
//! capacities in files per second, `γ` the rate at which seeds leave, `η` how much of a
//! downloader's upload capacity is put to use (the paper shows it is close to 1 with many
//! pieces; 1 here). Nobody aborts (the paper's `θ` is 0). Two extensions for this
//! simulator's swarms: seeds there from the start upload until a given time (if they
//! leave at all), and free riders upload nothing, so the upload term counts only the share
//! `1 − f` of peers that do.

/// The capacities and rates of the model, in files and seconds.
#[derive(Clone, Copy, Debug)]
pub struct FluidParams {
    /// A peer's download capacity, files per second (`c`).
    pub c: f64,
    /// A peer's upload capacity, files per second (`μ`).
    pub mu: f64,
    /// Rate at which a seed leaves, per second (`γ`; 0: seeds stay).
    pub gamma: f64,
    /// Share of the upload capacity of downloaders in use (`η`).
    pub eta: f64,
    /// Share of peers that upload (1 − the share of free riders).
    pub uploading: f64,
    /// Seeds present from the start.
    pub initial_seeds: f64,
    /// When the initial seeds leave, if they do.
    pub seeds_leave_at: Option<f64>,
}

/// The model integrated over given arrivals.
#[derive(Clone, Debug)]
pub struct FluidRun {
    /// Mean download time, seconds: by Little's law the time downloaders spend in the
    /// system, `∫ x dt`, over the number of arrivals.
    pub mean_download_s: f64,
    /// `(t, x, y)` every `dt`.
    pub series: Vec<(f64, f64, f64)>,
}

/// Integrates the model (forward Euler, step `dt`) from no peer but the initial seeds,
/// each time in `arrivals` (sorted, seconds) adding one downloader, until the last has
/// arrived and fewer than a millionth of a downloader is left (or `max_time`).
pub fn integrate(p: &FluidParams, arrivals: &[f64], dt: f64, max_time: f64) -> FluidRun {
    let (mut x, mut y, mut t) = (0.0f64, 0.0f64, 0.0f64);
    let mut next = 0;
    let mut area = 0.0;
    let mut series = Vec::new();
    loop {
        while next < arrivals.len() && arrivals[next] <= t {
            x += 1.0;
            next += 1;
        }
        series.push((t, x, y));
        if (next == arrivals.len() && x < 1e-6) || t >= max_time {
            break;
        }
        let seeds = if p.seeds_leave_at.is_some_and(|at| t >= at) {
            0.0
        } else {
            p.initial_seeds
        };
        let served = (p.c * x).min(p.mu * (p.uploading * (p.eta * x + y) + seeds));
        let done = (served * dt).min(x);
        area += x * dt;
        x -= done;
        y += done - (p.gamma * y * dt).min(y + done);
        t += dt;
    }
    FluidRun {
        mean_download_s: if arrivals.is_empty() {
            0.0
        } else {
            area / arrivals.len() as f64
        },
        series,
    }
}

/// The model's mean download time in steady state under constant arrivals (the paper's
/// `T = 1 / β` with `θ = 0`): `max(1/c, (1/η)·(1/μ − 1/γ))`, seconds. `None` when seeds
/// never leave (`γ = 0`), where there is no steady state but a growing crowd of seeds.
pub fn steady_state_download_s(p: &FluidParams) -> Option<f64> {
    (p.gamma > 0.0).then(|| {
        let upload_bound = (1.0 / (p.mu * p.uploading) - 1.0 / p.gamma) / p.eta;
        (1.0 / p.c).max(upload_bound)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> FluidParams {
        FluidParams {
            c: 1.0 / 16.0,
            mu: 1.0 / 64.0,
            gamma: 1.0 / 32.0,
            eta: 1.0,
            uploading: 1.0,
            initial_seeds: 1.0,
            seeds_leave_at: None,
        }
    }

    #[test]
    fn steady_arrivals_approach_the_closed_form() {
        // Upload-bound: 1/μ − 1/γ = 64 − 32 = 32 s, above 1/c = 16 s.
        let p = params();
        assert_eq!(steady_state_download_s(&p), Some(32.0));
        // Many arrivals at a steady 5 per second: the warm-up is a small part of the run.
        let arrivals: Vec<f64> = (0..20_000).map(|i| i as f64 / 5.0).collect();
        let run = integrate(&p, &arrivals, 0.05, 1e6);
        let t = run.mean_download_s;
        assert!((t - 32.0).abs() < 32.0 * 0.05, "mean {t}");
    }

    #[test]
    fn download_capacity_bounds_when_seeds_are_plenty() {
        let p = FluidParams {
            gamma: 1.0 / 1000.0,
            ..params()
        };
        assert_eq!(steady_state_download_s(&p), Some(16.0));
        assert_eq!(
            steady_state_download_s(&FluidParams { gamma: 0.0, ..p }),
            None
        );
    }

    #[test]
    fn a_flash_crowd_is_served_at_the_swarm_s_whole_upload_capacity() {
        // 100 downloaders and a seed, nobody leaving, upload-bound: the crowd drains at
        // μ·(x + y + 1) = μ·101 files per second in all, so it is gone after 100/(101 μ).
        let p = FluidParams {
            c: 1.0,
            gamma: 0.0,
            ..params()
        };
        let run = integrate(&p, &[0.0; 100], 0.01, 1e6);
        let end = 6400.0 / 101.0;
        // Until the last downloader, where the download capacity takes over (c·x < μ·101).
        let (last, _, _) = *run.series.iter().find(|(_, x, _)| *x < 1.0).unwrap();
        assert!((last - end).abs() < 1.0, "the last one left at {last}");
        let (_, _, y) = *run.series.last().unwrap();
        assert!((y - 100.0).abs() < 1e-3);
        // x falls linearly, so the mean time is half the end.
        assert!((run.mean_download_s - end / 2.0).abs() < 0.5);
    }
}
