use super::*;

fn small() -> SwarmConfig {
    SwarmConfig {
        peers: 40,
        file_size: 4 << 20,
        piece_size: 128 << 10,
        upload: (256 << 10) as f64,
        download: (1 << 20) as f64,
        arrival_rate: Some(2.0),
        seed_time: Some(8.0),
        ..SwarmConfig::default()
    }
}

#[test]
fn every_downloader_finishes_and_a_seed_gives_the_same_run() {
    let a = simulate(&small());
    assert_eq!(a.unfinished, 0);
    assert_eq!(a.download_times.len(), 40);
    assert!(a.download_times.iter().all(|t| *t > 0.0));
    assert!(a.upload_utilisation > 0.0 && a.upload_utilisation <= 1.0 + 1e-9);
    let b = simulate(&small());
    assert_eq!(a.download_times, b.download_times);
    let c = simulate(&SwarmConfig { seed: 2, ..small() });
    assert_ne!(a.download_times, c.download_times);
}

#[test]
fn nobody_finishes_before_the_only_seed_has_sent_every_piece_once() {
    // All at once, one seed: the first copy of the file can only come from it.
    let cfg = SwarmConfig {
        arrival_rate: None,
        seed_time: None,
        ..small()
    };
    let r = simulate(&cfg);
    let bound = cfg.file_size as f64 / cfg.upload;
    let first = r.quantile(0.0).unwrap();
    assert!(
        first >= bound - cfg.step,
        "first done at {first}, bound {bound}"
    );
    assert!(r.full_copy_s.unwrap() >= bound - cfg.step);
    // Nor faster than a peer's own download capacity allows.
    assert!(first >= cfg.file_size as f64 / cfg.download);
}

#[test]
fn more_upload_capacity_means_faster_downloads() {
    let slow = simulate(&small());
    let fast = simulate(&SwarmConfig {
        upload: small().upload * 2.0,
        ..small()
    });
    assert!(
        fast.mean_s < slow.mean_s,
        "{} vs {}",
        fast.mean_s,
        slow.mean_s
    );
}

#[test]
fn free_riders_slow_the_swarm_down_and_use_none_of_their_capacity() {
    let fair = simulate(&small());
    let riders = simulate(&SwarmConfig {
        free_riders: 0.5,
        ..small()
    });
    assert_eq!(riders.unfinished, 0);
    assert!(riders.mean_s > fair.mean_s);
    // Half the downloaders never upload, so at most about half the capacity of the
    // downloaders is used.
    assert!(riders.upload_utilisation < fair.upload_utilisation);
}

#[test]
fn the_fluid_model_is_beside_every_sample() {
    let r = simulate(&small());
    assert!(r.fluid_mean_s > 0.0);
    assert!(r.fluid_steady_state_s.is_some());
    assert!(r.samples.iter().any(|s| s.fluid_downloaders > 0.0));
    assert!(r.steady_mean_s.is_some());
}

#[test]
fn bad_configurations_are_refused_with_a_reason() {
    for cfg in [
        SwarmConfig {
            seeds: 0,
            ..small()
        },
        SwarmConfig {
            piece_size: 1,
            ..small()
        },
        SwarmConfig {
            free_riders: 1.5,
            ..small()
        },
        SwarmConfig {
            arrival_rate: Some(0.0),
            ..small()
        },
    ] {
        assert!(cfg.check().is_err());
    }
    assert!(small().check().is_ok());
}

#[test]
fn a_swarm_finishes_without_its_seed_once_it_holds_a_full_copy_and_stops_when_a_piece_is_lost() {
    let flash = SwarmConfig {
        arrival_rate: None,
        seed_time: None,
        ..small()
    };
    let full = simulate(&flash).full_copy_s.unwrap();
    let after = simulate(&SwarmConfig {
        seeds_leave_at: Some(full + flash.step),
        ..flash.clone()
    });
    assert_eq!(after.unfinished, 0);
    // The seed leaves after one second, long before it has sent every piece: the run stops
    // at once, nobody finished, rather than running to its time limit.
    let early = simulate(&SwarmConfig {
        seeds_leave_at: Some(1.0),
        ..flash.clone()
    });
    assert_eq!(early.unfinished, flash.peers);
    assert!(early.duration_s < 2.0, "ran to {}", early.duration_s);
}
