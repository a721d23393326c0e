//! The `p2p` binary end to end: small benchmarks, their JSON, and errors for bad flags.

use std::process::Command;

fn p2p(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_p2p"))
        .args(args)
        .output()
        .expect("p2p runs")
}

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "p2p failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn bench_hops_prints_one_json_line_per_size_with_every_field() {
    let out = p2p(&[
        "bench",
        "hops",
        "--nodes",
        "50,200",
        "--lookups",
        "500",
        "--json",
        "--quiet",
    ]);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    for (row, n) in rows.iter().zip([50, 200]) {
        for field in [
            "bench",
            "overlay",
            "nodes",
            "lookups",
            "seed",
            "build",
            "mean_hops",
            "p50_hops",
            "p99_hops",
            "max_hops",
            "failed_lookups",
            "wrong_root",
            "theory_hops",
            "messages",
            "wall_s",
            "peak_rss_mb",
        ] {
            assert!(row.get(field).is_some(), "missing {field} in {row}");
        }
        assert_eq!(row["nodes"], n);
        assert_eq!(row["converged"], 1.0);
        assert_eq!(row["wrong_root"], 0);
        assert_eq!(row["failed_lookups"], 0);
        let mean = row["mean_hops"].as_f64().unwrap();
        assert!(
            mean > 0.0 && mean < 2.0 * row["theory_hops"].as_f64().unwrap(),
            "mean hops {mean}"
        );
    }
}

#[test]
fn bench_hops_is_deterministic_for_a_seed() {
    let run = || {
        let rows = json_lines(&p2p(&[
            "bench",
            "hops",
            "--nodes",
            "100",
            "--lookups",
            "300",
            "--json",
            "--quiet",
            "--seed",
            "7",
        ]));
        (
            rows[0]["hop_histogram"].clone(),
            rows[0]["messages"].clone(),
            rows[0]["events"].clone(),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn bench_churn_reports_losses_per_replication_factor() {
    let out = p2p(&[
        "bench",
        "churn",
        "--nodes",
        "100",
        "--fail",
        "0.5",
        "--keys",
        "300",
        "--lookups",
        "300",
        "--json",
        "--quiet",
    ]);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["replication"], 1);
    assert_eq!(rows[1]["replication"], 3);
    assert!(rows[1]["keys_lost"].as_u64().unwrap() < rows[0]["keys_lost"].as_u64().unwrap());
    assert_eq!(rows[1]["wrong_root"], 0);
}

#[test]
fn bench_plot_writes_an_svg() {
    let dir = std::env::temp_dir().join(format!("p2p-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hops.svg");
    let out = p2p(&[
        "bench",
        "hops",
        "--nodes",
        "50,100",
        "--lookups",
        "200",
        "--quiet",
        "--plot",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Mean hops against N"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_multicast_plots_rdp_and_link_stress_per_overlay() {
    let dir = std::env::temp_dir().join(format!("p2p-mplot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("multicast.svg");
    let out = p2p(&[
        "bench",
        "multicast",
        "--overlay",
        "all",
        "--nodes",
        "100",
        "--groups",
        "4",
        "--quiet",
        "--plot",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Relative delay penalty"));
    for label in ["chord", "pastry", "tapestry", "can d=2", "IP multicast"] {
        assert!(svg.contains(label), "{label} missing from the plot");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_multicast_delay_penalties_are_never_below_the_direct_path() {
    // Delays on the topology are shortest paths, so neither the tree (from the root) nor
    // the whole way (from the publisher) can beat the unicast delay it is divided by.
    let rows = json_lines(&p2p(&[
        "bench",
        "multicast",
        "--overlay",
        "pastry",
        "--nodes",
        "200",
        "--groups",
        "6",
        "--settle-rounds",
        "4",
        "--json",
        "--quiet",
    ]));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["delivery_ratio"], 1.0);
    let field = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} missing"));
    for k in ["rdp", "e2e_rdp"] {
        let (median, p90) = (field(&format!("{k}_median")), field(&format!("{k}_p90")));
        assert!(
            median >= 1.0 && p90 >= median,
            "{k}: median {median}, p90 {p90}"
        );
    }
    assert!(field("rdp_max") >= field("rdp_p90"));
}

#[test]
fn bench_multicast_trees_heal_after_a_fifth_of_the_nodes_crash() {
    // On this seed, orphaned subtrees adopted each other's joins and closed loops that
    // never healed: Chord's trees stayed broken for the whole 300 s.
    let rows = json_lines(&p2p(&[
        "bench",
        "multicast",
        "--overlay",
        "chord",
        "--nodes",
        "1000",
        "--groups",
        "100",
        "--maintenance",
        "5",
        "--fail",
        "0.2",
        "--seed",
        "2",
        "--json",
        "--quiet",
    ]));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert!(
        r["repair_s"].as_f64().is_some(),
        "the trees never healed: {r}"
    );
    assert!(r["delivery_after_repair"].as_f64().unwrap() >= 0.999, "{r}");
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    for (args, reason) in [
        (vec!["bench", "hops", "--nodes", "0"], "at least 1 node"),
        (
            vec!["bench", "hops", "--overlay", "kademlia"],
            "possible values",
        ),
        (vec!["bench", "churn", "--nodes", "10"], "--fail"),
        (vec!["bench", "churn", "--fail", "1.5"], "between 0 and 1"),
        (vec!["bench", "hops", "--plot", "out.pdf"], ".svg or .png"),
        (vec!["bench", "hops", "--latency", "warp"], "latency model"),
        (
            vec!["bench", "net-multicast", "--rate", "0"],
            "positive number per second",
        ),
        (
            vec!["bench", "net", "--churn", "--write-rate", "0"],
            "positive number per second",
        ),
        (vec!["bench", "net", "--repair", "5"], "--churn"),
        (
            vec!["bench", "net-multicast", "--crash", "1"],
            "strictly between 0 and 1",
        ),
        (
            vec!["bench", "swarm", "--piece-size", "1"],
            "give a larger --piece-size",
        ),
        (
            vec!["bench", "swarm", "--free-riders", "1"],
            "from 0 to below 1",
        ),
        (
            vec!["bench", "swarm", "--file-size", "lots"],
            "is not a size",
        ),
        (
            vec!["bench", "swarm", "--flash-crowd", "--seed-time", "5"],
            "cannot be used with",
        ),
    ] {
        let out = p2p(&args);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{args:?}: {err}");
    }
}

#[test]
fn overlay_all_runs_every_algorithm_with_its_parameters() {
    let out = p2p(&[
        "bench",
        "hops",
        "--overlay",
        "all",
        "--dimensions",
        "2,4",
        "--nodes",
        "200",
        "--lookups",
        "400",
        "--json",
        "--quiet",
    ]);
    let rows = json_lines(&out);
    let variants: Vec<&str> = rows
        .iter()
        .map(|r| r["variant"].as_str().unwrap())
        .collect();
    assert_eq!(
        variants,
        ["chord", "pastry", "tapestry", "can d=2", "can d=4"]
    );
    for row in &rows {
        assert_eq!(row["wrong_root"], 0, "{row}");
        assert_eq!(row["failed_lookups"], 0, "{row}");
        assert_eq!(row["converged"], 1.0, "{row}");
    }
    assert_eq!(rows[1]["params"]["b"], "4");
    assert_eq!(rows[1]["params"]["leaf_set"], "16");
    assert_eq!(rows[2]["params"]["backups"], "3");
    assert_eq!(rows[4]["params"]["d"], "4");
    // Pastry's hops stay within log16 N, Tapestry's within log16 N + 1.
    let pastry = rows[1]["mean_hops"].as_f64().unwrap();
    assert!(
        pastry <= rows[1]["theory_hops"].as_f64().unwrap(),
        "{pastry}"
    );
    let tapestry = rows[2]["mean_hops"].as_f64().unwrap();
    assert!(
        tapestry <= rows[2]["theory_hops"].as_f64().unwrap() + 1.0,
        "{tapestry}"
    );
}

#[test]
fn churn_bench_runs_for_pastry_tapestry_and_can() {
    for overlay in ["pastry", "tapestry", "can"] {
        let out = p2p(&[
            "bench",
            "churn",
            "--overlay",
            overlay,
            "--nodes",
            "150",
            "--fail",
            "0.25",
            "--keys",
            "200",
            "--lookups",
            "200",
            "--replication",
            "3",
            "--json",
            "--quiet",
        ]);
        let rows = json_lines(&out);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["overlay"], overlay);
    }
}

#[test]
fn locate_bench_finds_published_objects_before_and_after_a_crash() {
    let out = p2p(&[
        "bench",
        "locate",
        "--nodes",
        "300",
        "--objects",
        "300",
        "--crash",
        "0.2",
        "--json",
        "--quiet",
    ]);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["overlay"], "tapestry");
    assert_eq!(row["located"], 1.0, "{row}");
    assert!(row["live_objects"].as_u64().unwrap() > 150, "{row}");
    assert!(
        row["located_after_repair"].as_f64().unwrap() >= 0.99,
        "{row}"
    );
}

#[test]
fn locate_bench_is_tapestry_only() {
    let out = p2p(&["bench", "locate", "--overlay", "chord", "--nodes", "10"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Tapestry"), "{err}");
}

#[test]
fn client_commands_without_a_node_say_where_they_looked() {
    let out = p2p(&["get", "some-key", "--api", "127.0.0.1:9"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("127.0.0.1:9") && err.contains("p2p node"),
        "{err}"
    );
}

#[test]
fn a_node_refuses_bad_start_options_with_a_clear_error() {
    let out = p2p(&[
        "node",
        "--overlay",
        "all",
        "--no-mdns",
        "--api",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("one routing algorithm"));
    let out = p2p(&[
        "node",
        "--no-mdns",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--api",
        "127.0.0.1:0",
        "--bootstrap",
        "/ip4/127.0.0.1/tcp/1",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/p2p/<peer id>"));
    let out = p2p(&[
        "put",
        "k",
        "--file",
        "/nonexistent/file",
        "--api",
        "127.0.0.1:9",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/file"));
}

#[test]
fn bench_swarm_compares_the_pickers_and_the_fluid_model_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("swarm.svg");
    let args = [
        "bench",
        "swarm",
        "--peers",
        "60",
        "--file-size",
        "4MiB",
        "--piece-size",
        "128KiB",
        "--upload",
        "256KiB",
        "--arrival-rate",
        "2",
        "--seed-time",
        "8",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ];
    let rows = json_lines(&p2p(&args));
    assert_eq!(rows.len(), 2);
    for (row, picker) in rows.iter().zip(["rarest", "random"]) {
        assert_eq!(row["config"]["picker"], picker);
        assert_eq!(row["download_times"].as_array().unwrap().len(), 60);
        assert_eq!(row["unfinished"], 0);
        for field in [
            "mean_s",
            "fluid_mean_s",
            "steady_mean_s",
            "fluid_steady_state_s",
        ] {
            assert!(row[field].as_f64().unwrap() > 0.0, "{field}: {row}");
        }
        assert!(row["samples"].as_array().unwrap().len() > 10);
    }
    // The same seed, the same run.
    assert_eq!(json_lines(&p2p(&args)), rows);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("Download times"));
}

/// Real nodes on loopback: Scribe over Pastry and gossipsub, one row each, every field
/// there, and every message of the stable half delivered to every member.
#[test]
fn bench_net_churn_reads_back_acknowledged_writes_beside_kad() {
    let out = p2p(&[
        "bench",
        "net",
        "--churn",
        "--overlay",
        "pastry",
        "--nodes",
        "8",
        "--duration",
        "6",
        "--churn-interval",
        "1.4",
        "--repair",
        "3",
        "--json",
        "--quiet",
    ]);
    let rows = json_lines(&out);
    let overlays: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r["overlay"].as_str().unwrap(), r["mode"].as_str()))
        .collect();
    assert_eq!(
        overlays,
        [
            ("pastry", Some("iterative")),
            ("pastry", Some("recursive")),
            ("libp2p-kad", None)
        ]
    );
    for row in &rows {
        assert_eq!(row["bench"], "net-churn");
        assert_eq!(row["nodes"], 8);
        assert_eq!(row["join_failed"], 0, "{row}");
        // Four churn events in 6 s: two joins, a crash and a leave.
        assert_eq!(row["joins"], 2, "{row}");
        assert_eq!(row["crashes"], 1, "{row}");
        assert_eq!(row["leaves"], 1, "{row}");
        let writes = row["writes"].as_u64().unwrap();
        assert!((50..=61).contains(&writes), "10 writes a second: {row}");
        for field in ["read_at_once", "read_after_repair"] {
            let f = row[field].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&f), "{field} in {row}");
        }
        assert!(row["get_ms_p50"].as_f64().unwrap() > 0.0, "{row}");
    }
    for ours in &rows[..2] {
        // A write caught mid-way by the crash or the leave may go unacknowledged.
        let acked = ours["writes_acked"].as_u64().unwrap();
        let writes = ours["writes"].as_u64().unwrap();
        assert!(acked + 2 >= writes, "{ours}");
        assert_eq!(ours["read_after_repair"], 1.0, "{ours}");
        assert!(ours["p50_vs_kad"].as_f64().unwrap() > 0.0);
    }
}

/// Real nodes on loopback: each lookup mode on the same Chord network, every lookup
/// answered, over as many hops either way, and the DHT's put→get (in the last mode given)
/// on that mode's row alone.
#[test]
fn bench_net_measures_each_lookup_mode_on_one_network() {
    let out = p2p(&[
        "bench",
        "net",
        "--overlay",
        "chord",
        "--nodes",
        "8",
        "--lookups",
        "60",
        "--keys",
        "10",
        "--maintenance",
        "0.5",
        "--settle",
        "5",
        "--no-kad",
        "--json",
        "--quiet",
    ]);
    let rows = json_lines(&out);
    let modes: Vec<&str> = rows.iter().map(|r| r["mode"].as_str().unwrap()).collect();
    assert_eq!(modes, ["iterative", "recursive"]);
    for row in &rows {
        assert_eq!(row["overlay"], "chord");
        assert_eq!(row["lookups"], 30, "{row}");
        assert_eq!(row["lookups_ok"], 30, "{row}");
        assert!(row["hops_p99"].as_f64().unwrap() <= 3.0, "{row}");
    }
    assert_eq!(rows[0]["put_get_success"], serde_json::Value::Null);
    assert_eq!(rows[1]["put_get_success"], 1.0, "{}", rows[1]);
}

#[test]
fn bench_net_multicast_measures_scribe_beside_gossipsub() {
    let out = p2p(&[
        "bench",
        "net-multicast",
        "--overlay",
        "pastry",
        "--nodes",
        "6",
        "--messages",
        "30",
        "--rate",
        "100",
        "--settle",
        "0.5",
        "--repair",
        "3",
        "--json",
        "--quiet",
    ]);
    let rows = json_lines(&out);
    let protocols: Vec<&str> = rows
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["scribe", "gossipsub"]);
    for row in &rows {
        for field in [
            "overlay",
            "delivery_ratio",
            "latency_p50_ms",
            "latency_p99_ms",
            "messages_per_delivery",
            "delivery_after_crash",
        ] {
            assert!(row.get(field).is_some(), "missing {field} in {row}");
        }
        assert_eq!(row["nodes"], 6);
        assert_eq!(row["crashed"], 2);
        assert_eq!(row["delivery_ratio"], 1.0, "{row}");
        let after = row["delivery_after_crash"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&after), "{row}");
        assert!(row["messages_per_delivery"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(rows[0]["overlay"], "pastry");
    assert!(rows[0]["p50_vs_gossipsub"].as_f64().unwrap() > 0.0);
    assert_eq!(rows[1]["beside"], "pastry", "{}", rows[1]);
}
