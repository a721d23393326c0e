//! CAN against the overlay's conformance suite.

use dht_can::{Can, CanConfig};
use overlay::conformance;

type C = Can<u32>;

#[test]
fn lookups_reach_the_root() {
    conformance::lookups_reach_the_root::<C>(&CanConfig::default());
}

#[test]
fn put_get_from_any_node() {
    conformance::put_get_from_any_node::<C>(&CanConfig::default());
}

#[test]
fn graceful_leave_loses_no_key() {
    conformance::graceful_leave_loses_no_key::<C>(&CanConfig::default());
}

#[test]
fn crash_then_repair_keeps_surviving_keys() {
    conformance::crash_then_repair_keeps_surviving_keys::<C>(&CanConfig::default());
}

// Not `lookups_right_after_a_mass_crash_route_around_it`: a key whose point was owned by a
// crashed node has no node to answer for it until a neighbour takes the zone over, a
// takeover delay later, and greedy routing walks around the hole until candidates run out.

#[test]
fn bad_input_changes_nothing() {
    conformance::bad_input_changes_nothing::<C>(&CanConfig::default());
}

#[test]
fn same_seed_same_run() {
    conformance::same_seed_same_run::<C>(&CanConfig::default());
}

#[test]
fn oracle_build_is_converged() {
    conformance::oracle_build_is_converged::<C>(&CanConfig::default());
}

#[test]
fn oracle_build_is_converged_in_three_and_ten_dimensions() {
    for dims in [3, 10] {
        let cfg = CanConfig {
            dims,
            ..CanConfig::default()
        };
        conformance::oracle_build_is_converged::<C>(&cfg);
    }
}

#[test]
fn routed_messages_reach_the_root() {
    conformance::kbr::routed_messages_reach_the_root::<C>(&CanConfig::default());
}

#[test]
fn routed_messages_route_around_crashed_hops() {
    conformance::kbr::routed_messages_route_around_crashed_hops::<C>(&CanConfig::default());
}

#[test]
fn recursive_lookups_match_iterative_ones() {
    conformance::recursive::recursive_lookups_match_iterative_ones::<C>(&CanConfig::default());
}

#[test]
fn recursive_lookups_route_around_crashed_hops() {
    conformance::recursive::recursive_lookups_route_around_crashed_hops::<C>(&CanConfig::default());
}

#[test]
fn update_calls_match_the_neighbour_set() {
    conformance::kbr::update_calls_match_the_neighbour_set::<C>(&CanConfig::default());
}

#[test]
fn probe_scenario_runs_as_expected() {
    conformance::kbr::probe_scenario_runs_as_expected::<C>(&CanConfig::default());
}

#[test]
fn acknowledged_writes_win_whatever_the_clocks() {
    conformance::versions::acknowledged_writes_win_whatever_the_clocks::<C>(&CanConfig::default());
}

#[test]
fn far_future_versions_are_refused() {
    conformance::versions::far_future_versions_are_refused::<C>(&CanConfig::default());
}

#[test]
fn a_lagging_holder_does_not_shadow_the_latest_write() {
    conformance::versions::a_lagging_holder_does_not_shadow_the_latest_write::<C>(
        &CanConfig::default(),
    );
}

#[test]
fn reads_during_leaves_find_a_replica() {
    conformance::reads::reads_during_leaves_find_a_replica::<C>(&CanConfig::default());
}

#[test]
fn reads_right_after_crashes_find_a_replica() {
    conformance::reads::reads_right_after_crashes_find_a_replica::<C>(&CanConfig::default());
}

#[test]
fn reads_while_joins_converge_find_every_write() {
    conformance::reads::reads_while_joins_converge_find_every_write::<C>(&CanConfig::default());
}

#[test]
fn reads_while_growing_fast_find_every_write() {
    conformance::reads::reads_while_growing_fast_find_every_write::<C>(&CanConfig::default());
}

#[test]
fn announced_members_are_read_anywhere_survive_crashes_and_expire() {
    conformance::sets::announced_members_are_read_anywhere_survive_crashes_and_expire::<C>(
        &CanConfig::default(),
    );
}

#[test]
fn sets_outlive_every_holder_leaving_at_once() {
    conformance::sets::sets_outlive_every_holder_leaving_at_once::<C>(&CanConfig::default());
}

#[test]
fn decoders_survive_fuzzing() {
    conformance::fuzz::decoders_survive_fuzzing::<C>(&CanConfig::default());
}

/// The checks next hops matter to, with next hops among the neighbours' neighbours too.
#[test]
fn next_hops_two_zones_away() {
    conformance::next_hop_checks::<C>(&CanConfig {
        two_hop_routing: true,
        ..CanConfig::default()
    });
}
