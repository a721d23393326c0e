//! The CAN state machine (Ratnasamy et al., SIGCOMM 2001).

use overlay::{
    Address, Contact, Key, LookupError, ProtocolError, ReqId, Routing, RoutingOut, SmallMap, Step,
};
use smallvec::smallvec;

mod hand_over;
mod join_retry;
mod missed_neighbours;
mod suspicion;
mod takeover;

use hand_over::HandOver;
use join_retry::JoinAsk;
use takeover::Claim;

use crate::config::CanConfig;
use crate::far_peers::FarPeers;
use crate::messages::{CanMsg, CanTimer, Peer};
use crate::zone::{Bounds, Point, Zone, Zones, key_path};

/// How near a node's zones come to a point: (0 if one holds it else 1, squared distance to
/// the nearest zone, squared distance to that zone's centre); smaller is nearer.
type Score = (f64, f64, f64);

/// Every this many periods an update carries our listing even if our neighbours did not
/// change: a node it names that abuts the receiver but is unknown to it is asked for its
/// zones, and if that one request was lost (a timeout on a loaded host), the two would
/// otherwise never learn of each other, and greedy routes could dead-end between them.
const RELIST_EVERY: u8 = 4;

/// Lookup tag of the join lookup (route to the owner of our point).
const JOIN_TAG: u64 = 1;
/// Lookup tag of a search for a neighbour missed while joining.
const MISSED_NEIGHBOUR_TAG: u64 = 2;

/// A neighbour: its zones, and the neighbours it reported (whom to tell should it fail).
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbour<A> {
    /// The node and its zones.
    pub peer: Peer<A>,
    /// Its neighbours with their zones, from its last listing: whom to tell, and whose
    /// zones to claim, should it and they fail. One row per zone (most nodes have one):
    /// a row is half the size of a peer with its own list of zones, and with many
    /// dimensions these listings are most of a node's memory.
    pub theirs: Vec<(Contact<A>, Zone)>,
}

/// What a request in flight was for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    Join,
    Update,
    Takeover(Key),
    /// A graceful leave's zones, to the taker.
    HandOver,
    /// Asking a suspected neighbour for its zones.
    Probe,
    Notice,
    /// Asking the owner a lookup ended at for its zones.
    Far(Key),
}

/// One CAN node: its zones and its neighbours' zones.
#[derive(Clone, Debug, PartialEq)]
pub struct Can<A> {
    pub(crate) me: Contact<A>,
    pub(crate) cfg: CanConfig,
    pub(crate) zones: Zones,
    pub(crate) neighbours: Vec<Neighbour<A>>,
    pub(crate) joined: bool,
    bootstrap: Option<Contact<A>>,
    claims: Vec<Claim<A>>,
    pending: SmallMap<ReqId, Pending>,
    /// Whether every neighbour has been sent the current neighbour list.
    listed: bool,
    /// Periodic updates sent since the last that carried our listing.
    unlisted_updates: u8,
    /// Zones taken over after a crash: another neighbour of the failed node may have
    /// claimed one too without hearing of our claim (its list of the failed node's
    /// neighbours was a period stale), so a peer that shows the same zone settles it.
    contested: Vec<Zone>,
    /// Whose zone each claim took: a node thought failed that shows its zone is alive
    /// (its answers were only slow), and gets back what was taken from it.
    taken_from: Vec<(Zone, Key)>,
    /// Nodes introduced to a rival claimant this update period.
    introduced: Vec<Key>,
    /// Nodes that a listing showed abutting us, asked for their zones this update period:
    /// once per period each, since every such request carries our listing, which can
    /// prompt more of them, and with listings far from the truth (slow links taken for
    /// crashes) they multiplied until the network did nothing else. Apart from
    /// `introduced`: an introduction sent before our zones last changed does not stand
    /// for this request (in a simulated growth to 10,000 nodes with writes, five nodes
    /// then never learned of an abutting one).
    asked_for_zones: Vec<Key>,
    /// Failed nodes' neighbours, known only from listings, that were sent a takeover
    /// notice not yet answered: one that never answers failed too.
    beyond: Vec<Peer<A>>,
    /// While leaving: the zones being handed over, and to whom.
    handing_over: Option<HandOver<A>>,
    /// Neighbours whose requests went unanswered, asked once more before their zones are
    /// claimed.
    suspects: Vec<Neighbour<A>>,
    /// While joining: the node last asked for a zone.
    join_ask: Option<JoinAsk<A>>,
    /// Zones given to joining nodes that have not shown them yet.
    given: Vec<(Key, Zone)>,
    /// Owners lookups ended at, with their zones (two-hop routing only).
    far: FarPeers<A>,
}

/// Whether any of `zones` abuts any of the zones whose bounds are `bounds`.
fn any_abut(bounds: &[Bounds], zones: &[Zone], d: usize) -> bool {
    zones.iter().any(|z| {
        let b = z.bounds(d);
        bounds.iter().any(|m| m.abuts(&b, d))
    })
}

fn volume(zones: &[Zone]) -> f64 {
    zones.iter().map(Zone::volume).sum()
}

impl<A: Address> Can<A> {
    /// A joined node with the given zones and neighbours (the oracle build).
    pub fn from_tables(
        me: Contact<A>,
        cfg: CanConfig,
        zones: Vec<Zone>,
        neighbours: Vec<Peer<A>>,
    ) -> Self {
        let mut c = Can::new(me, &cfg);
        c.zones = zones.into();
        c.neighbours = neighbours
            .into_iter()
            .map(|peer| Neighbour {
                peer,
                theirs: Vec::new(),
            })
            .collect();
        c.joined = true;
        c
    }

    /// The zones this node owns.
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// The neighbours.
    pub fn neighbours(&self) -> &[Neighbour<A>] {
        &self.neighbours
    }

    fn d(&self) -> usize {
        self.cfg.dims
    }

    fn send(&mut self, out: &mut RoutingOut<'_, Self>, to: Contact<A>, msg: CanMsg<A>) {
        let kind = match &msg {
            CanMsg::JoinRequest | CanMsg::JoinSplit => Pending::Join,
            CanMsg::Update { .. } => Pending::Update,
            CanMsg::Takeover { failed, .. } => Pending::Takeover(*failed),
            CanMsg::Leaving { taker: None, .. } => Pending::HandOver,
            _ => Pending::Notice,
        };
        let id = out.request(to, msg);
        self.pending.insert(id, kind);
    }

    fn take_pending(&mut self, id: ReqId) -> Option<Pending> {
        self.pending.remove(&id)
    }

    fn me_as_peer(&self) -> Peer<A> {
        Peer {
            contact: self.me.clone(),
            zones: self.zones.clone(),
        }
    }

    /// Whether `id` is one of our neighbours.
    fn is_neighbour(&self, id: &Key) -> bool {
        self.neighbours.iter().any(|n| n.peer.contact.id == *id)
    }

    fn neighbour_peers(&self) -> Vec<Peer<A>> {
        self.neighbours.iter().map(|n| n.peer.clone()).collect()
    }

    /// Our zones' bounds.
    fn my_bounds(&self) -> Vec<Bounds> {
        let d = self.d();
        self.zones.iter().map(|z| z.bounds(d)).collect()
    }

    /// Whether zones `theirs` abut any of ours.
    fn abuts_me(&self, theirs: &[Zone]) -> bool {
        any_abut(&self.my_bounds(), theirs, self.d())
    }

    /// Records `peer`'s zones: it is a neighbour exactly when they abut ours.
    fn note_peer(&mut self, out: &mut RoutingOut<'_, Self>, peer: Peer<A>) {
        if peer.contact.id == self.me.id {
            return;
        }
        let at = self
            .neighbours
            .iter()
            .position(|n| n.peer.contact.id == peer.contact.id);
        let abuts = self.abuts_me(&peer.zones);
        match (at, abuts) {
            (Some(i), true) => {
                // Our listing carries our neighbours' zones, read by whoever takes a zone of
                // ours over after a crash: it is due again when one changes.
                if self.neighbours[i].peer.zones != peer.zones {
                    self.listed = false;
                }
                self.neighbours[i].peer = peer;
            }
            (Some(i), false) => {
                let gone = self.neighbours.swap_remove(i);
                self.listed = false;
                out.update(gone.peer.contact, false);
            }
            (None, true) => {
                self.listed = false;
                out.update(peer.contact.clone(), true);
                self.neighbours.push(Neighbour {
                    peer,
                    theirs: Vec::new(),
                });
            }
            (None, false) => {}
        }
    }

    fn drop_neighbour(&mut self, out: &mut RoutingOut<'_, Self>, id: &Key) -> Option<Neighbour<A>> {
        let at = self
            .neighbours
            .iter()
            .position(|n| n.peer.contact.id == *id)?;
        let gone = self.neighbours.swap_remove(at);
        self.listed = false;
        out.update(gone.peer.contact.clone(), false);
        Some(gone)
    }

    /// Our zones changed: keep only neighbours that still abut, and tell old and new ones.
    fn zones_changed(&mut self, out: &mut RoutingOut<'_, Self>, also_tell: &[Contact<A>]) {
        let mut tell: Vec<Contact<A>> = self
            .neighbours
            .iter()
            .map(|n| n.peer.contact.clone())
            .collect();
        for c in also_tell {
            if c.id != self.me.id && !tell.iter().any(|t| t.id == c.id) {
                tell.push(c.clone());
            }
        }
        let peers = self.neighbour_peers();
        for p in peers {
            self.note_peer(out, p);
        }
        self.send_updates(out, tell);
    }

    fn send_updates(&mut self, out: &mut RoutingOut<'_, Self>, to: Vec<Contact<A>>) {
        self.send_updates_listing(out, to, true);
    }

    fn send_updates_listing(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        to: Vec<Contact<A>>,
        list: bool,
    ) {
        let msg = CanMsg::Update {
            zones: self.zones.clone(),
            neighbours: if list {
                self.neighbour_peers()
            } else {
                Vec::new()
            },
            unchanged: !list,
        };
        for c in to {
            self.send(out, c, msg.clone());
        }
    }

    /// Adds a zone, merging it with its sibling when we hold that too.
    fn add_zone(&mut self, zone: Zone) {
        let mut z = zone;
        while let Some(sib) = z.sibling() {
            let Some(at) = self.zones.iter().position(|x| *x == sib) else {
                break;
            };
            self.zones.swap_remove(at);
            z = z.parent().expect("a zone with a sibling has a parent");
        }
        if !self.zones.iter().any(|x| x.covers(&z)) {
            self.zones.retain(|x| !z.covers(x));
            self.zones.push(z);
        }
    }

    fn owns_any_of(&self, zones: &[Zone]) -> bool {
        takeover::overlap(&self.zones, zones)
    }

    /// Neighbours ordered by how close their zones come to `key`'s point; with
    /// `listed`, the nodes their listings name and the owners lookups found too (each
    /// once, by its closest zone), except those in `listed`'s slice.
    fn by_distance(&self, key: &Key, with_me: bool, listed: Option<&[Key]>) -> Vec<Contact<A>> {
        let d = self.d();
        let p = Point::of(key, d);
        let path = key_path(key);
        // The owner comes first whatever the arithmetic says: the distance to a zone's
        // edge is rounded, containment is exact.
        let score = |zones: &[Zone]| -> Score {
            zones
                .iter()
                .map(|z| {
                    if z.contains_path(path) {
                        return (0.0, 0.0, 0.0);
                    }
                    let b: Bounds = z.bounds(d);
                    (1.0, b.distance2(&p, d), b.centre_distance2(&p, d))
                })
                .fold((2.0, f64::INFINITY, f64::INFINITY), |a, b| {
                    if b < a { b } else { a }
                })
        };
        let mut scored: Vec<(Score, &Contact<A>)> = self
            .neighbours
            .iter()
            .map(|n| (score(&n.peer.zones), &n.peer.contact))
            .collect();
        if with_me {
            scored.push((score(&self.zones), &self.me));
        }
        if let Some(avoid) = listed {
            let beyond = self.neighbours.iter().flat_map(|n| &n.theirs);
            scored.extend(
                beyond
                    .filter(|(c, _)| c.id != self.me.id && !avoid.contains(&c.id))
                    .map(|(c, z)| (score(std::slice::from_ref(z)), c)),
            );
            scored.extend(
                self.far
                    .iter()
                    .filter(|p| p.contact.id != self.me.id && !avoid.contains(&p.contact.id))
                    .map(|p| (score(&p.zones), &p.contact)),
            );
        }
        scored.sort_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .expect("distances are finite")
                .then_with(|| a.1.id.cmp(&b.1.id))
        });
        if listed.is_some() {
            // A node listed by several neighbours, or with several zones, keeps its best row.
            let mut seen = std::collections::HashSet::new();
            scored.retain(|(_, c)| seen.insert(c.id));
        }
        scored.into_iter().map(|(_, c)| c.clone()).collect()
    }

    /// Greedy next hops toward `key`'s point: the neighbour whose zone comes closest, the
    /// others as fallbacks. With two-hop routing the nodes the neighbours list compete
    /// too, but not those in `avoid`: a failed neighbour leaves the table once CAN's own
    /// requests to it fail, while listed nodes are not probed, so the ones a lookup found
    /// failed are skipped here.
    fn greedy_step(&self, key: &Key, num: usize, avoid: &[Key]) -> Step<A> {
        let listed = self.cfg.two_hop_routing.then_some(avoid);
        let mut next = self.by_distance(key, false, listed);
        next.truncate(num);
        Step::Next(next)
    }

    fn owns(&self, key: &Key) -> bool {
        let path = key_path(key);
        self.zones.iter().any(|z| z.contains_path(path))
    }

    fn arm_timers(&self, out: &mut RoutingOut<'_, Self>) {
        out.timer(self.cfg.update_interval, CanTimer::Update);
    }

    /// A neighbour holding a zone larger than `depth` (shallower), the largest first.
    fn larger_neighbour(&self, depth: u8) -> Option<Contact<A>> {
        self.neighbours
            .iter()
            .filter_map(|n| {
                let d = n.peer.zones.iter().map(|z| z.depth()).min()?;
                (d < depth).then_some((d, &n.peer.contact))
            })
            .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)))
            .map(|(_, c)| c.clone())
    }

    /// Gives a joining node half of a zone: the zone holding its point, or with
    /// `anywhere` (after a uniform-partitioning redirect) this node's largest zone.
    fn on_join_request(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        anywhere: bool,
    ) -> CanMsg<A> {
        if let Some(zone) = self.given_before(&from.id) {
            return self.accept_again(zone);
        }
        let at = if anywhere {
            self.zones
                .iter()
                .enumerate()
                .min_by_key(|(_, z)| z.depth())
                .map(|(i, _)| i)
        } else {
            let path = key_path(&from.id);
            self.zones.iter().position(|z| z.contains_path(path))
        };
        let Some(at) = at else {
            return CanMsg::JoinRedirect;
        };
        if !anywhere && self.cfg.uniform_partitioning && self.zones.len() == 1 {
            if let Some(peer) = self.larger_neighbour(self.zones[at].depth()) {
                return CanMsg::JoinRedirectTo { peer };
            }
        }
        let given = if self.zones.len() > 1 {
            // Holding several zones (after a takeover): hand one over whole.
            self.zones.swap_remove(at)
        } else {
            let Some(half) = self.zones[at].half_by(&from.id) else {
                return CanMsg::JoinRedirect;
            };
            self.zones[at] = half.sibling().expect("a half has a sibling");
            half
        };
        let mut neighbours = self.neighbour_peers();
        neighbours.push(self.me_as_peer());
        self.note_given(from.id, given);
        self.zones_changed(out, &[]);
        // Added after the updates went out: the new node learns everything from the
        // answer, and is not joined (so cannot answer) until it has it.
        self.note_peer(
            out,
            Peer {
                contact: from.clone(),
                zones: smallvec![given],
            },
        );
        CanMsg::JoinAccept {
            zone: given,
            neighbours,
        }
    }

    fn on_update(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        zones: Zones,
        neighbours: Vec<Peer<A>>,
        unchanged: bool,
    ) {
        self.settle_contested(out, from, &zones);
        self.hear_zones(out, from, zones);
        self.answer_stranger(out, from);
        if unchanged {
            return;
        }
        if let Some(n) = self
            .neighbours
            .iter_mut()
            .find(|n| n.peer.contact.id == from.id)
        {
            n.theirs = neighbours
                .iter()
                .flat_map(|p| p.zones.iter().map(|z| (p.contact.clone(), *z)))
                .collect();
        }
        // Nodes the sender knows that abut us but that we missed (a lost announcement).
        // Most of its neighbours are not ours: test them against our bounds, decoded once.
        let d = self.d();
        let mine = self.my_bounds();
        for p in neighbours {
            if p.contact.id == self.me.id
                || self.asked_for_zones.contains(&p.contact.id)
                || self.is_neighbour(&p.contact.id)
            {
                continue;
            }
            let rival = takeover::overlap(&p.zones, &self.contested);
            if rival || (any_abut(&mine, &p.zones, d) && !self.owns_any_of(&p.zones)) {
                // Second-hand zones may be stale: ask the node itself, and take it in from
                // its answer.
                self.asked_for_zones.push(p.contact.id);
                self.send_updates(out, vec![p.contact]);
            }
        }
    }

    fn on_leaving(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        zones: Zones,
        neighbours: Vec<Peer<A>>,
        taker: Option<Contact<A>>,
    ) {
        self.drop_neighbour(out, &from.id);
        match taker {
            None => {
                for z in zones {
                    self.add_zone(z);
                }
                let tell: Vec<Contact<A>> = neighbours.iter().map(|p| p.contact.clone()).collect();
                for p in neighbours {
                    self.note_peer(out, p);
                }
                self.zones_changed(out, &tell);
            }
            Some(t) => {
                // The taker announces its new zones; until then it holds at least ours.
                let mut tz = self
                    .neighbours
                    .iter()
                    .find(|n| n.peer.contact.id == t.id)
                    .map(|n| n.peer.zones.clone())
                    .unwrap_or_default();
                tz.extend(zones);
                self.note_peer(
                    out,
                    Peer {
                        contact: t,
                        zones: tz,
                    },
                );
            }
        }
    }

    /// `from` took us for a neighbour but its zones do not abut ours: it learned of us
    /// from a split that raced its own. The node it should know instead (our new sibling,
    /// whose half it abuts) may never hear of it, and in a four-zone corner no third node
    /// knows both: our listing shows it whom to ask. Once per update period each.
    fn answer_stranger(&mut self, out: &mut RoutingOut<'_, Self>, from: &Contact<A>) {
        let known = self.is_neighbour(&from.id);
        if known || from.id == self.me.id || self.introduced.contains(&from.id) {
            return;
        }
        self.introduced.push(from.id);
        self.send_updates(out, vec![from.clone()]);
    }
}

impl<A: Address> Routing for Can<A> {
    type Addr = A;
    type Msg = CanMsg<A>;
    type Timer = CanTimer<A>;
    type Config = CanConfig;

    const NAME: &'static str = "can";

    fn new(me: Contact<A>, config: &CanConfig) -> Self {
        let mut cfg = config.clone();
        cfg.dims = cfg.dims.clamp(1, crate::zone::MAX_DIMS);
        let far = FarPeers::new(cfg.far_peers);
        Can {
            me,
            cfg,
            zones: Zones::new(),
            neighbours: Vec::new(),
            joined: false,
            bootstrap: None,
            claims: Vec::new(),
            pending: SmallMap::default(),
            listed: false,
            unlisted_updates: 0,
            contested: Vec::new(),
            taken_from: Vec::new(),
            introduced: Vec::new(),
            asked_for_zones: Vec::new(),
            beyond: Vec::new(),
            handing_over: None,
            suspects: Vec::new(),
            join_ask: None,
            given: Vec::new(),
            far,
        }
    }

    fn me(&self) -> &Contact<A> {
        &self.me
    }

    fn join(&mut self, out: &mut RoutingOut<'_, Self>, bootstrap: Option<Contact<A>>) {
        match bootstrap {
            Some(b) if b.id != self.me.id => {
                self.bootstrap = Some(b.clone());
                out.lookup(self.me.id, JOIN_TAG, Some(b));
            }
            _ => {
                self.zones = smallvec![Zone::WHOLE];
                self.joined = true;
                out.joined();
                self.arm_timers(out);
            }
        }
    }

    fn leave(&mut self, out: &mut RoutingOut<'_, Self>) {
        self.joined = false;
        if self.neighbours.is_empty() {
            return;
        }
        let zones = std::mem::take(&mut self.zones);
        self.handing_over = Some(HandOver::new(zones, self.neighbour_peers()));
        self.hand_over(out);
    }

    fn is_joined(&self) -> bool {
        self.joined
    }

    fn on_request(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: CanMsg<A>,
    ) -> Result<(), ProtocolError> {
        if !self.joined {
            return match msg {
                CanMsg::Leaving {
                    zones,
                    neighbours,
                    taker: None,
                } if self.handing_over.is_some() => {
                    // Holding no zone, the answer to a hand-over not taken is `Zones`.
                    let reply = if self.pass_hand_over_on(out, from, zones, neighbours) {
                        CanMsg::Ack
                    } else {
                        CanMsg::Zones {
                            zones: Zones::new(),
                        }
                    };
                    out.respond(from.clone(), id, reply);
                    Ok(())
                }
                _ => Err(ProtocolError::NotJoined),
            };
        }
        let reply = match msg {
            CanMsg::JoinRequest => self.on_join_request(out, from, false),
            CanMsg::JoinSplit => self.on_join_request(out, from, true),
            CanMsg::Update {
                zones,
                neighbours,
                unchanged,
            } => {
                self.on_update(out, from, zones, neighbours, unchanged);
                CanMsg::Zones {
                    zones: self.zones.clone(),
                }
            }
            CanMsg::Leaving {
                zones,
                neighbours,
                taker,
            } => {
                self.on_leaving(out, from, zones, neighbours, taker);
                CanMsg::Ack
            }
            CanMsg::Takeover { failed, zones } => self.on_takeover(out, from, failed, zones),
            CanMsg::AskZones => CanMsg::Zones {
                zones: self.zones.clone(),
            },
            CanMsg::JoinAccept { .. }
            | CanMsg::JoinRedirect
            | CanMsg::JoinRedirectTo { .. }
            | CanMsg::Zones { .. }
            | CanMsg::TakeoverReject { .. }
            | CanMsg::Ack => {
                return Err(ProtocolError::Unexpected(
                    "a can response sent as a request".into(),
                ));
            }
        };
        out.respond(from.clone(), id, reply);
        Ok(())
    }

    fn on_response(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: CanMsg<A>,
    ) -> Result<(), ProtocolError> {
        let Some(kind) = self.take_pending(id) else {
            return Err(ProtocolError::Unexpected(
                "a can answer nobody asked for".into(),
            ));
        };
        match (kind, msg) {
            (Pending::Join, CanMsg::JoinAccept { zone, neighbours }) => {
                if self.joined {
                    return Ok(());
                }
                self.zones = smallvec![zone];
                self.joined = true;
                self.join_ask = None;
                out.joined();
                let tell: Vec<Contact<A>> = neighbours.iter().map(|p| p.contact.clone()).collect();
                for p in neighbours {
                    self.note_peer(out, p);
                }
                self.zones_changed(out, &tell);
                self.arm_timers(out);
            }
            (Pending::Join, CanMsg::JoinRedirectTo { peer }) => {
                if !self.joined && peer.id != self.me.id {
                    self.ask_for_zone(out, peer, true, 1);
                }
            }
            (Pending::Join, CanMsg::JoinRedirect) => {
                self.join_refused();
                if let Some(b) = self.bootstrap.clone() {
                    out.timer(self.cfg.join_retry, CanTimer::RetryJoin(b));
                }
            }
            (Pending::Update | Pending::Takeover(_) | Pending::Probe, CanMsg::Zones { zones }) => {
                self.notice_answered(from);
                self.clear_suspect(&from.id);
                self.settle_given(out, from, &zones);
                self.note_peer(
                    out,
                    Peer {
                        contact: from.clone(),
                        zones,
                    },
                );
            }
            (Pending::Takeover(failed), CanMsg::TakeoverReject { zones }) => {
                self.notice_answered(from);
                self.yield_claim(out, &failed, &zones);
            }
            (Pending::Far(_), CanMsg::Zones { zones }) => {
                if !zones.is_empty() {
                    self.far.insert(Peer {
                        contact: from.clone(),
                        zones,
                    });
                }
            }
            (Pending::Notice | Pending::HandOver, CanMsg::Ack) => {}
            (Pending::HandOver, CanMsg::Zones { .. }) => self.taker_failed(out, from),
            _ => {
                return Err(ProtocolError::Unexpected(
                    "a can answer of the wrong kind".into(),
                ));
            }
        }
        Ok(())
    }

    fn on_request_failed(&mut self, out: &mut RoutingOut<'_, Self>, to: &Contact<A>, id: ReqId) {
        match self.take_pending(id) {
            Some(Pending::Join) => {
                if let Some(b) = self.bootstrap.clone() {
                    out.timer(self.cfg.join_retry, CanTimer::RetryJoin(b));
                }
            }
            Some(Pending::Takeover(_)) => self.notice_unanswered(out, to),
            Some(Pending::HandOver) => self.taker_failed(out, to),
            Some(Pending::Probe) => self.probe_unanswered(out, to),
            _ => {}
        }
    }

    fn on_timer(&mut self, out: &mut RoutingOut<'_, Self>, timer: CanTimer<A>) {
        match timer {
            CanTimer::Update => {
                let to = self
                    .neighbours
                    .iter()
                    .map(|n| n.peer.contact.clone())
                    .collect();
                self.unlisted_updates = (self.unlisted_updates + 1) % RELIST_EVERY;
                let list = !self.listed || self.unlisted_updates == 0;
                self.listed = true;
                self.send_updates_listing(out, to, list);
                // Claims settled long ago are forgotten.
                self.claims.retain(|c| !c.claimed);
                self.introduced.clear();
                self.asked_for_zones.clear();
                self.look_for_missed_neighbours(out);
                out.timer(self.cfg.update_interval, CanTimer::Update);
            }
            CanTimer::Takeover(failed) => self.claim(out, failed),
            CanTimer::RetryJoin(b) => self.retry_join(out, b),
        }
    }

    fn on_lookup_done(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        tag: u64,
        result: Result<&[Contact<A>], LookupError>,
    ) {
        if tag == MISSED_NEIGHBOUR_TAG {
            if let Ok([owner, ..]) = result {
                self.found_missed(out, owner);
            }
            return;
        }
        if tag != JOIN_TAG || self.joined {
            return;
        }
        match result {
            Ok(nodes) if nodes[0].id != self.me.id => {
                let owner = nodes[0].clone();
                self.ask_for_zone(out, owner, false, 1);
            }
            _ => {
                if let Some(b) = self.bootstrap.clone() {
                    out.timer(self.cfg.join_retry, CanTimer::RetryJoin(b));
                }
            }
        }
    }

    fn answers_at_once(msg: &CanMsg<A>) -> bool {
        // Updates (a suspect's probe among them) are answered with the zones on receipt,
        // and one unanswered only makes the peer a suspect.
        matches!(msg, CanMsg::Update { .. })
    }

    fn root_found(&mut self, out: &mut RoutingOut<'_, Self>, key: &Key, root: &Contact<A>) {
        if !self.cfg.two_hop_routing || !self.joined {
            return;
        }
        self.far.found_root(key_path(key), &root.id);
        let asking = self.pending.values().any(|p| *p == Pending::Far(root.id));
        let known = self.far.knows(&root.id) || self.is_neighbour(&root.id);
        if !asking && !known {
            let id = out.request(root.clone(), CanMsg::AskZones);
            self.pending.insert(id, Pending::Far(root.id));
        }
    }

    fn peer_failed(&mut self, out: &mut RoutingOut<'_, Self>, peer: &Contact<A>) {
        self.far.remove(&peer.id);
        self.suspect(out, peer);
    }

    fn step(&self, key: &Key, num: usize) -> Step<A> {
        let num = num.max(1);
        if !self.joined {
            return Step::Next(Vec::new());
        }
        if self.owns(key) {
            return Step::Root(self.replica_set(key, num));
        }
        self.greedy_step(key, num, &[])
    }

    fn step_avoiding(&self, key: &Key, num: usize, avoid: &[Key]) -> Step<A> {
        if !self.joined || self.owns(key) {
            return self.step(key, num);
        }
        self.greedy_step(key, num.max(1), avoid)
    }

    fn local_lookup(&self, key: &Key, num: usize, _safe: bool) -> Vec<Contact<A>> {
        self.step(key, num).contacts().to_vec()
    }

    fn neighbor_set(&self, num: usize) -> Vec<Contact<A>> {
        self.neighbours
            .iter()
            .take(num)
            .map(|n| n.peer.contact.clone())
            .collect()
    }

    fn replica_set(&self, key: &Key, max_rank: usize) -> Vec<Contact<A>> {
        if !self.joined {
            return Vec::new();
        }
        let mut v = self.by_distance(key, true, None);
        // Our own zones are exact; what we hold about a neighbour's may be a split behind.
        if self.owns(key)
            && let Some(at) = v.iter().position(|c| c.id == self.me.id)
        {
            let me = v.remove(at);
            v.insert(0, me);
        }
        v.truncate(max_rank);
        v
    }

    fn is_root(&self, key: &Key) -> bool {
        self.joined && self.owns(key)
    }

    fn summary(&self) -> String {
        format!(
            "can id={} d={} zones={} volume={:.3e} neighbours={}",
            self.me.id.short(),
            self.cfg.dims,
            self.zones.len(),
            volume(&self.zones),
            self.neighbours.len()
        )
    }
}
