//! Clock synchronisation in the seeded cluster: every estimate within the bound it claims,
//! every clock within the bound the period and the drift allow, and never set back.

use coordination::sync::{Berkeley, ClockSync, Cristian, Ntp};
use coordination::{Member, Reference, SyncConfig, SyncReport, View, run_sync};

fn run<A: ClockSync<Member>>(
    cfg: &SyncConfig,
    reference: Reference,
    make: impl Fn(Member, View<Member>, f64) -> A,
) -> SyncReport {
    let r = run_sync(cfg, reference, make);
    assert_eq!(r.backward_steps, 0, "{r:?}");
    assert_eq!(r.estimate_bound_violations, 0, "{r:?}");
    assert!(r.error_max_ms <= r.bound_ms, "{cfg:?}: {r:?}");
    r
}

fn config(seed: u64) -> SyncConfig {
    SyncConfig {
        seed,
        ..SyncConfig::default()
    }
}

#[test]
fn cristian_keeps_every_clock_within_half_a_round_trip_plus_drift() {
    for seed in 0..20 {
        let r = run(&config(seed), Reference::External, |p, _, d| {
            Cristian::new(p, 0, d)
        });
        assert_eq!(r.messages_per_round, 2.0 * 7.0, "{r:?}");
    }
}

#[test]
fn ntp_bursts_keep_clocks_closer_than_one_exchange() {
    for seed in 0..20 {
        let cristian = run(&config(seed), Reference::External, |p, _, d| {
            Cristian::new(p, 0, d)
        });
        let ntp = run(&config(seed), Reference::External, |p, _, _| {
            Ntp::new(p, 0, 8)
        });
        assert_eq!(ntp.messages_per_round, 16.0 * 7.0, "{ntp:?}");
        // The least-delay sample of eight is better than one exchange, on average.
        assert!(
            ntp.error_mean_ms < cristian.error_mean_ms,
            "{ntp:?} {cristian:?}"
        );
    }
}

#[test]
fn berkeley_keeps_the_group_together() {
    for seed in 0..20 {
        let r = run(&config(seed), Reference::Internal, |p, v, d| {
            Berkeley::new(p, v, 0.5, d)
        });
        assert_eq!(r.messages_per_round, 3.0 * 7.0, "{r:?}");
    }
}

#[test]
fn resynchronising_less_often_lets_clocks_drift_apart_by_two_rho_per_second() {
    // δ/(2ρ): with ρ = 100 ppm a period of 300 s lets two clocks part by up to 60 ms.
    let cfg = SyncConfig {
        drift: 1e-4,
        period: std::time::Duration::from_secs(300),
        duration: std::time::Duration::from_secs(6000),
        ..SyncConfig::default()
    };
    let often = run(
        &SyncConfig {
            period: std::time::Duration::from_secs(10),
            ..cfg.clone()
        },
        Reference::Internal,
        |p, v, d| Berkeley::new(p, v, 0.5, d),
    );
    let rarely = run(&cfg, Reference::Internal, |p, v, d| {
        Berkeley::new(p, v, 0.5, d)
    });
    assert!(
        rarely.error_max_ms > often.error_max_ms,
        "{often:?} {rarely:?}"
    );
}
