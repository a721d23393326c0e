//! Tapestry against the overlay's conformance suite.

use dht_tapestry::{Tapestry, TapestryConfig};
use overlay::conformance;

type C = Tapestry<u32>;

#[test]
fn lookups_reach_the_root() {
    conformance::lookups_reach_the_root::<C>(&TapestryConfig::default());
}

#[test]
fn put_get_from_any_node() {
    conformance::put_get_from_any_node::<C>(&TapestryConfig::default());
}

#[test]
fn graceful_leave_loses_no_key() {
    conformance::graceful_leave_loses_no_key::<C>(&TapestryConfig::default());
}

#[test]
fn crash_then_repair_keeps_surviving_keys() {
    conformance::crash_then_repair_keeps_surviving_keys::<C>(&TapestryConfig::default());
}

#[test]
fn lookups_right_after_a_mass_crash_route_around_it() {
    conformance::lookups_right_after_a_mass_crash_route_around_it::<C>(&TapestryConfig::default());
}

#[test]
fn bad_input_changes_nothing() {
    conformance::bad_input_changes_nothing::<C>(&TapestryConfig::default());
}

#[test]
fn same_seed_same_run() {
    conformance::same_seed_same_run::<C>(&TapestryConfig::default());
}

#[test]
fn oracle_build_is_converged() {
    conformance::oracle_build_is_converged::<C>(&TapestryConfig::default());
}

#[test]
fn routed_messages_reach_the_root() {
    conformance::kbr::routed_messages_reach_the_root::<C>(&TapestryConfig::default());
}

#[test]
fn routed_messages_route_around_crashed_hops() {
    conformance::kbr::routed_messages_route_around_crashed_hops::<C>(&TapestryConfig::default());
}

#[test]
fn recursive_lookups_match_iterative_ones() {
    conformance::recursive::recursive_lookups_match_iterative_ones::<C>(&TapestryConfig::default());
}

#[test]
fn recursive_lookups_route_around_crashed_hops() {
    conformance::recursive::recursive_lookups_route_around_crashed_hops::<C>(
        &TapestryConfig::default(),
    );
}

#[test]
fn update_calls_match_the_neighbour_set() {
    conformance::kbr::update_calls_match_the_neighbour_set::<C>(&TapestryConfig::default());
}

#[test]
fn probe_scenario_runs_as_expected() {
    conformance::kbr::probe_scenario_runs_as_expected::<C>(&TapestryConfig::default());
}

#[test]
fn acknowledged_writes_win_whatever_the_clocks() {
    conformance::versions::acknowledged_writes_win_whatever_the_clocks::<C>(
        &TapestryConfig::default(),
    );
}

#[test]
fn far_future_versions_are_refused() {
    conformance::versions::far_future_versions_are_refused::<C>(&TapestryConfig::default());
}

#[test]
fn a_lagging_holder_does_not_shadow_the_latest_write() {
    conformance::versions::a_lagging_holder_does_not_shadow_the_latest_write::<C>(
        &TapestryConfig::default(),
    );
}

#[test]
fn reads_during_leaves_find_a_replica() {
    conformance::reads::reads_during_leaves_find_a_replica::<C>(&TapestryConfig::default());
}

#[test]
fn reads_right_after_crashes_find_a_replica() {
    conformance::reads::reads_right_after_crashes_find_a_replica::<C>(&TapestryConfig::default());
}

#[test]
fn reads_while_joins_converge_find_every_write() {
    conformance::reads::reads_while_joins_converge_find_every_write::<C>(&TapestryConfig::default());
}

#[test]
fn reads_while_growing_fast_find_every_write() {
    conformance::reads::reads_while_growing_fast_find_every_write::<C>(&TapestryConfig::default());
}

#[test]
fn announced_members_are_read_anywhere_survive_crashes_and_expire() {
    conformance::sets::announced_members_are_read_anywhere_survive_crashes_and_expire::<C>(
        &TapestryConfig::default(),
    );
}

#[test]
fn sets_outlive_every_holder_leaving_at_once() {
    conformance::sets::sets_outlive_every_holder_leaving_at_once::<C>(&TapestryConfig::default());
}

#[test]
fn decoders_survive_fuzzing() {
    conformance::fuzz::decoders_survive_fuzzing::<C>(&TapestryConfig::default());
}
