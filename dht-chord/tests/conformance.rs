//! Chord against the overlay's conformance suite.

use dht_chord::{Chord, ChordConfig};
use overlay::conformance;

type C = Chord<u32>;

#[test]
fn lookups_reach_the_root() {
    conformance::lookups_reach_the_root::<C>(&ChordConfig::default());
}

#[test]
fn put_get_from_any_node() {
    conformance::put_get_from_any_node::<C>(&ChordConfig::default());
}

#[test]
fn graceful_leave_loses_no_key() {
    conformance::graceful_leave_loses_no_key::<C>(&ChordConfig::default());
}

#[test]
fn crash_then_repair_keeps_surviving_keys() {
    conformance::crash_then_repair_keeps_surviving_keys::<C>(&ChordConfig::default());
}

#[test]
fn lookups_right_after_a_mass_crash_route_around_it() {
    conformance::lookups_right_after_a_mass_crash_route_around_it::<C>(&ChordConfig::default());
}

#[test]
fn bad_input_changes_nothing() {
    conformance::bad_input_changes_nothing::<C>(&ChordConfig::default());
}

#[test]
fn same_seed_same_run() {
    conformance::same_seed_same_run::<C>(&ChordConfig::default());
}

#[test]
fn oracle_build_is_converged() {
    conformance::oracle_build_is_converged::<C>(&ChordConfig::default());
}

#[test]
fn routed_messages_reach_the_root() {
    conformance::kbr::routed_messages_reach_the_root::<C>(&ChordConfig::default());
}

#[test]
fn routed_messages_route_around_crashed_hops() {
    conformance::kbr::routed_messages_route_around_crashed_hops::<C>(&ChordConfig::default());
}

#[test]
fn recursive_lookups_match_iterative_ones() {
    conformance::recursive::recursive_lookups_match_iterative_ones::<C>(&ChordConfig::default());
}

#[test]
fn recursive_lookups_route_around_crashed_hops() {
    conformance::recursive::recursive_lookups_route_around_crashed_hops::<C>(
        &ChordConfig::default(),
    );
}

#[test]
fn update_calls_match_the_neighbour_set() {
    conformance::kbr::update_calls_match_the_neighbour_set::<C>(&ChordConfig::default());
}

#[test]
fn probe_scenario_runs_as_expected() {
    conformance::kbr::probe_scenario_runs_as_expected::<C>(&ChordConfig::default());
}

#[test]
fn acknowledged_writes_win_whatever_the_clocks() {
    conformance::versions::acknowledged_writes_win_whatever_the_clocks::<C>(&ChordConfig::default());
}

#[test]
fn far_future_versions_are_refused() {
    conformance::versions::far_future_versions_are_refused::<C>(&ChordConfig::default());
}

#[test]
fn a_lagging_holder_does_not_shadow_the_latest_write() {
    conformance::versions::a_lagging_holder_does_not_shadow_the_latest_write::<C>(
        &ChordConfig::default(),
    );
}

#[test]
fn reads_during_leaves_find_a_replica() {
    conformance::reads::reads_during_leaves_find_a_replica::<C>(&ChordConfig::default());
}

#[test]
fn reads_right_after_crashes_find_a_replica() {
    conformance::reads::reads_right_after_crashes_find_a_replica::<C>(&ChordConfig::default());
}

#[test]
fn reads_while_joins_converge_find_every_write() {
    conformance::reads::reads_while_joins_converge_find_every_write::<C>(&ChordConfig::default());
}

#[test]
fn reads_while_growing_fast_find_every_write() {
    conformance::reads::reads_while_growing_fast_find_every_write::<C>(&ChordConfig::default());
}

#[test]
fn announced_members_are_read_anywhere_survive_crashes_and_expire() {
    conformance::sets::announced_members_are_read_anywhere_survive_crashes_and_expire::<C>(
        &ChordConfig::default(),
    );
}

#[test]
fn sets_outlive_every_holder_leaving_at_once() {
    conformance::sets::sets_outlive_every_holder_leaving_at_once::<C>(&ChordConfig::default());
}

#[test]
fn decoders_survive_fuzzing() {
    conformance::fuzz::decoders_survive_fuzzing::<C>(&ChordConfig::default());
}

/// The checks next hops matter to, with next hops from the successor list too.
#[test]
fn next_hops_through_successors() {
    conformance::next_hop_checks::<C>(&ChordConfig {
        route_through_successors: true,
        ..ChordConfig::default()
    });
}
