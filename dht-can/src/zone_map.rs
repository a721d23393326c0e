//! A global map of zones to owners: the simulator's ground truth, the oracle's partition,
//! and the check that every node's neighbour set matches the zones.

use std::collections::BTreeMap;

use overlay::Key;

use crate::zone::{Zone, key_path};

/// Zones (a partition of the torus, or part of one) and who owns each.
#[derive(Clone, Debug, Default)]
pub struct ZoneMap {
    /// Keyed by path: zones are disjoint prefixes, so the zone holding a path is the last
    /// one starting at or before it.
    zones: BTreeMap<u128, (u8, usize)>,
}

impl ZoneMap {
    /// Records that `owner` holds `zone`.
    pub fn insert(&mut self, zone: Zone, owner: usize) {
        self.zones.insert(zone.path(), (zone.depth(), owner));
    }

    /// Number of zones.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// Whether there are no zones.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The zone holding `path` and its owner.
    pub fn find_path(&self, path: u128) -> Option<(Zone, usize)> {
        let (&start, &(depth, owner)) = self.zones.range(..=path).next_back()?;
        let zone = Zone::from_path(start, depth);
        zone.contains_path(path).then_some((zone, owner))
    }

    /// The owner of `key`'s point.
    pub fn owner(&self, key: &Key) -> Option<usize> {
        self.find_path(key_path(key)).map(|(_, o)| o)
    }

    /// Splits `zone` (held by `old`): the half on `key`'s side goes to `owner`. Returns
    /// the two halves, `owner`'s first.
    pub fn split(
        &mut self,
        zone: Zone,
        old: usize,
        key: &Key,
        owner: usize,
    ) -> Option<(Zone, Zone)> {
        let half = zone.half_by(key)?;
        let other = half.sibling().expect("a half has a sibling");
        self.zones.remove(&zone.path());
        self.insert(half, owner);
        self.insert(other, old);
        Some((half, other))
    }

    /// Every zone with its owner.
    pub fn iter(&self) -> impl Iterator<Item = (Zone, usize)> + '_ {
        self.zones
            .iter()
            .map(|(&p, &(depth, owner))| (Zone::from_path(p, depth), owner))
    }

    /// Owners of the zones abutting `zone` in `d` dimensions.
    pub fn neighbours(&self, zone: &Zone, d: usize, out: &mut Vec<usize>) {
        let target = zone.bounds(d);
        let mut stack = vec![Zone::WHOLE];
        while let Some(q) = stack.pop() {
            if q == *zone || !q.bounds(d).may_hold_neighbour_of(&target, d) {
                continue;
            }
            // The zone holding q's first point: if it covers q, it is the only one in q.
            match self.find_path(q.path()) {
                Some((z, owner)) if z.covers(&q) => {
                    if z != *zone && !z.covers(zone) && z.bounds(d).abuts(&target, d) {
                        out.push(owner);
                    }
                }
                _ => {
                    if q.depth() >= crate::zone::MAX_DEPTH {
                        continue;
                    }
                    let lower = Zone::from_path(q.path(), q.depth() + 1);
                    stack.push(lower);
                    stack.extend(lower.sibling());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A join done centrally: the zone holding `key`'s point is split for `owner`.
    fn join(map: &mut ZoneMap, key: &Key, owner: usize) {
        match map.find_path(key_path(key)) {
            None => map.insert(Zone::WHOLE, owner),
            Some((zone, old)) => {
                map.split(zone, old, key, owner);
            }
        }
    }

    #[test]
    fn splits_partition_the_torus_and_neighbours_are_symmetric() {
        let d = 2;
        let mut map = ZoneMap::default();
        for i in 0..200 {
            join(&mut map, &Key::hash(format!("node-{i}")), i);
        }
        assert_eq!(map.len(), 200);
        let volume: f64 = map.iter().map(|(z, _)| z.volume()).sum();
        assert!((volume - 1.0).abs() < 1e-12);
        for i in 0..50 {
            let k = Key::hash(format!("key-{i}"));
            let owner = map.owner(&k).unwrap();
            let zone = map.iter().find(|(_, o)| *o == owner).unwrap().0;
            assert!(zone.contains(&k));
        }
        let zones: Vec<(Zone, usize)> = map.iter().collect();
        for (z, o) in &zones {
            let mut ns = Vec::new();
            map.neighbours(z, d, &mut ns);
            assert!(ns.len() >= 2, "every zone has neighbours");
            for n in ns {
                let nz = zones.iter().find(|(_, x)| *x == n).unwrap().0;
                let mut back = Vec::new();
                map.neighbours(&nz, d, &mut back);
                assert!(back.contains(o));
            }
        }
    }
}
