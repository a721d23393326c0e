//! A bandwidth simulation of a BitTorrent swarm, for what the real peer cannot show on one
//! machine: a thousand peers with limited upload and download capacities, arriving over
//! time or all at once, leaving some time after they finish.
//!
//! The model works at the level of pieces and rates, in steps of simulated time. Each peer
//! has an upload and a download capacity; an uploader shares its capacity equally among the
//! peers it unchokes, and a downloader offered more than its capacity takes every offer
//! proportionally less. The peers follow the real client's policies (those of
//! [`crate::session`]): every peer knows up to 50 others from the tracker (at most 80
//! connections); it unchokes the four interested neighbours that gave it the most in the
//! last period (seeds: that it gave the most), re-chosen every 10 s, plus one optimistic
//! unchoke rotated every 30 s, and fills a free slot at once; a downloader finishes started
//! pieces first (shared between uploaders, as blocks are), picks its first four pieces at
//! random and then the rarest among its neighbours (or at random, to compare). Free riders
//! download but never upload.
//!
//! The result is set beside the fluid model of Qiu and Srikant (SIGCOMM 2004), integrated
//! over the same arrivals, its seeds leaving at the rate the run's did: see [`fluid`].
//!
//! ```
//! use filesharing::swarm::{Picker, SwarmConfig, simulate};
//!
//! let report = simulate(&SwarmConfig {
//!     peers: 20,
//!     file_size: 4 << 20,
//!     piece_size: 256 << 10,
//!     ..SwarmConfig::default()
//! });
//! assert_eq!(report.download_times.len(), 20);
//! assert!(report.fluid_mean_s > 0.0);
//! ```

pub mod fluid;
mod neighbours;
mod peer;
mod rates;
mod report;
mod sim;

pub use report::{Sample, SwarmReport};
pub use sim::simulate;

use serde::Serialize;

/// How a downloader chooses a new piece once past its first few.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Picker {
    /// The piece fewest of its neighbours have.
    Rarest,
    /// Any piece the uploader has, at random.
    Random,
}

/// What is simulated.
#[derive(Clone, Debug, Serialize)]
pub struct SwarmConfig {
    /// Downloaders that arrive.
    pub peers: usize,
    /// Seeds present from the start (they stay unless `seeds_leave_at`).
    pub seeds: usize,
    /// Bytes in the file.
    pub file_size: u64,
    /// Bytes per piece.
    pub piece_size: u64,
    /// Every peer's upload capacity, bytes per second.
    pub upload: f64,
    /// Every peer's download capacity, bytes per second.
    pub download: f64,
    /// Poisson arrivals at this many peers per second; `None`: all at time zero (a flash
    /// crowd).
    pub arrival_rate: Option<f64>,
    /// Mean seconds a finished peer stays as a seed (exponentially distributed); `None`:
    /// it stays to the end.
    pub seed_time: Option<f64>,
    /// Simulated second at which the initial seeds leave; `None`: they never do. Once
    /// they are gone, a piece nobody else has is lost for good.
    pub seeds_leave_at: Option<f64>,
    /// How new pieces are chosen.
    pub picker: Picker,
    /// Share of the downloaders that never upload, 0 to 1.
    pub free_riders: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Seconds of simulated time per step.
    pub step: f64,
    /// Simulated seconds after which the run stops, finished or not.
    pub max_time: f64,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        SwarmConfig {
            peers: 1000,
            seeds: 1,
            file_size: 64 << 20,
            piece_size: 256 << 10,
            upload: (1 << 20) as f64,
            download: (4 << 20) as f64,
            arrival_rate: Some(1.0),
            seed_time: Some(32.0),
            seeds_leave_at: None,
            picker: Picker::Rarest,
            free_riders: 0.0,
            seed: 1,
            step: 0.25,
            max_time: 20_000.0,
        }
    }
}

impl SwarmConfig {
    /// Pieces in the file.
    pub fn pieces(&self) -> u32 {
        self.file_size.div_ceil(self.piece_size.max(1)) as u32
    }

    /// Bytes in piece `i` (the last may be short).
    pub(crate) fn piece_len(&self, i: u32) -> u64 {
        let start = i as u64 * self.piece_size;
        self.piece_size.min(self.file_size - start)
    }

    /// Why this configuration cannot be run, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.peers == 0 {
            return Err("--peers must be at least 1".into());
        }
        if self.seeds == 0 {
            return Err("--seeds must be at least 1: without a seed nobody can finish".into());
        }
        if self.file_size == 0 || self.piece_size == 0 {
            return Err("the file and its pieces must have at least one byte".into());
        }
        if self.pieces() > 100_000 {
            return Err(format!(
                "{} pieces: give a larger --piece-size (at most 100,000 pieces)",
                self.pieces()
            ));
        }
        if self.upload.is_nan()
            || self.download.is_nan()
            || self.upload <= 0.0
            || self.download <= 0.0
        {
            return Err("upload and download capacities must be above zero".into());
        }
        if self.arrival_rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
            return Err("--arrival-rate must be above zero".into());
        }
        if self.seed_time.is_some_and(|t| t.is_nan() || t < 0.0) {
            return Err("--seed-time must not be negative".into());
        }
        if !(0.0..=1.0).contains(&self.free_riders) {
            return Err("--free-riders is a share, from 0 to 1".into());
        }
        if self.step.is_nan() || self.step <= 0.0 || self.step > 10.0 {
            return Err("the step must be above 0 and at most 10 s".into());
        }
        if self.seeds_leave_at.is_some_and(|t| t.is_nan() || t < 0.0) {
            return Err("the seeds cannot leave before the start".into());
        }
        if self.max_time.is_nan() || self.max_time <= 0.0 {
            return Err("the run's time limit must be above zero".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
