//! What a swarm simulation measured.

use serde::Serialize;

/// The swarm at one moment.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Sample {
    /// Simulated seconds.
    pub t: f64,
    /// Peers still downloading.
    pub downloaders: usize,
    /// Peers with every piece (the initial seeds included).
    pub seeds: usize,
    /// Copies of the rarest piece among the present peers other than the initial seeds.
    pub rarest_copies: u32,
    /// Bytes uploaded since the last sample over what the present uploaders could have
    /// sent, 0 to 1.
    pub upload_utilisation: f64,
    /// The fluid model's downloaders at this time.
    pub fluid_downloaders: f64,
    /// The fluid model's seeds (the initial ones included).
    pub fluid_seeds: f64,
}

/// The outcome of a run.
#[derive(Clone, Debug, Serialize)]
pub struct SwarmReport {
    /// Seconds from arrival to the last piece, of each downloader that finished, in order
    /// of arrival.
    pub download_times: Vec<f64>,
    /// Downloaders that had not finished when the run stopped.
    pub unfinished: usize,
    /// Simulated seconds the run lasted.
    pub duration_s: f64,
    /// Mean of `download_times`.
    pub mean_s: f64,
    /// The fluid model's mean download time over the same arrivals, with the run's mean
    /// seeding time.
    pub fluid_mean_s: f64,
    /// Mean download time of the downloaders that arrived in the second half of the
    /// arrivals (steady arrivals only): the swarm past its warm-up.
    pub steady_mean_s: Option<f64>,
    /// The fluid model's steady-state mean download time, where it has one (seeds leave).
    pub fluid_steady_state_s: Option<f64>,
    /// Mean seconds the finished downloaders were drawn to stay as seeds (the configured
    /// mean if none finished): the model's `1/γ`. `None` when seeds stay.
    pub seed_time_mean_s: Option<f64>,
    /// Bytes uploaded over what the present uploaders could have sent while anyone was
    /// downloading, 0 to 1.
    pub upload_utilisation: f64,
    /// When the peers other than the initial seeds first held every piece between them:
    /// from then on the swarm could finish without its seeds.
    pub full_copy_s: Option<f64>,
    /// Of the samples after `full_copy_s` taken while anyone was downloading, the share in
    /// which some piece had a single copy outside the initial seeds.
    pub single_copy_share: Option<f64>,
    /// The swarm every simulated second or so.
    pub samples: Vec<Sample>,
}

impl SwarmReport {
    /// The `q`-quantile (0 to 1) of the download times, by nearest rank.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let mut v = self.download_times.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(v[rank - 1])
    }

    /// The steady-state mean over the fluid model's, minus one: 0.1 is 10% slower.
    pub fn steady_gap(&self) -> Option<f64> {
        Some(self.steady_mean_s? / self.fluid_steady_state_s? - 1.0)
    }
}
