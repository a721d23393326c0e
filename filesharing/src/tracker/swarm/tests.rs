use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

fn req(peer: u8, port: u16, left: u64, event: Event) -> AnnounceRequest {
    AnnounceRequest {
        info_hash: InfoHash([7; 20]),
        peer_id: [peer; 20],
        port,
        left,
        uploaded: 0,
        downloaded: 0,
        event,
        numwant: None,
        compact: true,
        ip: None,
    }
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn value(bytes: &[u8]) -> bt_bencode::Value {
    bt_bencode::from_slice(bytes).expect("bencode")
}

fn int(v: &bt_bencode::Value, key: &str) -> u64 {
    v.get(key)
        .and_then(|x| x.as_u64())
        .unwrap_or_else(|| panic!("no {key}"))
}

fn compact(v: &bt_bencode::Value) -> Vec<u8> {
    v.get("peers")
        .and_then(|p| p.as_byte_str())
        .expect("compact peers")
        .to_vec()
}

#[test]
fn peers_learn_of_each_other_compactly_and_counts_follow_events() {
    let mut t = Tracker::default();
    let s = Duration::from_secs;
    let a = value(&t.announce(&req(1, 6881, 0, Event::Started), ip(1), s(0)));
    assert_eq!(int(&a, "interval"), 120);
    assert_eq!((int(&a, "complete"), int(&a, "incomplete")), (1, 0));
    assert!(compact(&a).is_empty(), "a peer is not told of itself");
    let b = value(&t.announce(&req(2, 7000, 500, Event::Started), ip(2), s(1)));
    assert_eq!((int(&b, "complete"), int(&b, "incomplete")), (1, 1));
    assert_eq!(compact(&b), [10, 0, 0, 1, 0x1a, 0xe1]);
    // The seeder hears of the leecher; a second seeder only of leechers.
    let a = value(&t.announce(&req(1, 6881, 0, Event::None), ip(1), s(2)));
    assert_eq!(compact(&a), [10, 0, 0, 2, 0x1b, 0x58]);
    let c = value(&t.announce(&req(3, 6882, 0, Event::Started), ip(3), s(3)));
    assert_eq!(compact(&c), [10, 0, 0, 2, 0x1b, 0x58]);
    // The leecher completes (counted once), then stops.
    t.announce(&req(2, 7000, 0, Event::Completed), ip(2), s(4));
    t.announce(&req(2, 7000, 0, Event::Completed), ip(2), s(5));
    let scrape = value(&t.scrape(&[InfoHash([7; 20])], s(6)));
    let key = bt_bencode::ByteString::from(vec![7u8; 20]);
    let entry = scrape
        .get("files")
        .and_then(|f| f.as_dict())
        .and_then(|d| d.get(&key))
        .expect("entry");
    assert_eq!(
        (
            int(entry, "complete"),
            int(entry, "downloaded"),
            int(entry, "incomplete")
        ),
        (3, 1, 0)
    );
    t.announce(&req(2, 7000, 0, Event::Stopped), ip(2), s(7));
    assert_eq!(t.size(), (1, 2));
}

#[test]
fn silent_peers_expire_and_limits_hold() {
    let cfg = TrackerConfig {
        max_peers: 2,
        max_torrents: 1,
        ..TrackerConfig::default()
    };
    let mut t = Tracker::new(cfg);
    let s = Duration::from_secs;
    t.announce(&req(1, 1, 10, Event::Started), ip(1), s(0));
    t.announce(&req(2, 1, 10, Event::Started), ip(2), s(200));
    let full = value(&t.announce(&req(3, 1, 10, Event::Started), ip(3), s(201)));
    assert!(full.get("failure reason").is_some());
    let mut other = req(1, 1, 10, Event::Started);
    other.info_hash = InfoHash([8; 20]);
    assert!(
        value(&t.announce(&other, ip(1), s(202)))
            .get("failure reason")
            .is_some()
    );
    // Peer 1 has been silent for more than 300 s.
    t.expire(s(301));
    assert_eq!(t.size(), (1, 1));
    t.expire(s(1000));
    assert_eq!(t.size(), (0, 0));
}

#[test]
fn numwant_ipv6_and_dictionary_lists() {
    let mut t = Tracker::default();
    let s = Duration::from_secs;
    for i in 1..=10 {
        t.announce(&req(i, 1000 + u16::from(i), 5, Event::Started), ip(i), s(0));
    }
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    t.announce(&req(11, 9, 5, Event::Started), v6, s(0));
    let mut r = req(12, 1, 5, Event::Started);
    r.numwant = Some(4);
    let a = value(&t.announce(&r, ip(12), s(1)));
    let n4 = compact(&a).len() / 6;
    let n6 = a
        .get("peers6")
        .and_then(|p| p.as_byte_str())
        .map_or(0, |p| p.len() / 18);
    assert_eq!(n4 + n6, 4);
    r.numwant = Some(1000);
    let a = value(&t.announce(&r, ip(12), s(2)));
    assert_eq!(compact(&a).len() / 6, 10);
    assert_eq!(
        a.get("peers6").and_then(|p| p.as_byte_str()).unwrap().len(),
        18
    );
    r.compact = false;
    let a = value(&t.announce(&r, ip(12), s(3)));
    let list = a.get("peers").and_then(|p| p.as_list()).expect("a list");
    assert_eq!(list.len(), 11);
    assert!(
        list.iter()
            .any(|p| p.get("ip").and_then(|i| i.as_str()) == Some("::1"))
    );
    // A client behind the tracker's proxy: its claimed address only when trusted.
    let mut t = Tracker::new(TrackerConfig {
        trust_ip: true,
        ..TrackerConfig::default()
    });
    let mut claimed = req(1, 80, 5, Event::Started);
    claimed.ip = Some(ip(99));
    t.announce(&claimed, ip(1), s(0));
    let b = value(&t.announce(&req(2, 1, 5, Event::Started), ip(2), s(0)));
    assert_eq!(compact(&b), [10, 0, 0, 99, 0, 80]);
}
