//! Tapestry's object location (DOLR): a server publishes an object by routing towards the
//! object's root and leaving a pointer `object → server` at every hop; a client locates
//! it by routing towards the same root and stopping at the first pointer. Each object has
//! several roots (its key salted), pointers expire unless published again, and servers
//! publish again periodically, so paths repair themselves after failures.
//!
//! Walks are iterative: the walking node asks each hop in turn (the hop stores the pointer
//! or looks for one, and names its next hop), so a hop that fails is skipped in favour of
//! the fallbacks it named, as in the overlay's lookups.

use std::collections::{BTreeMap, BTreeSet};

use overlay::{Address, Contact, Key, Routing, RoutingOut, SmallMap, Step, Time};

use crate::messages::TapestryMsg;
use crate::tapestry::{Pending, Tapestry};

/// Most hops of one walk.
const MAX_WALK_HOPS: u32 = 64;
/// Most servers remembered per object.
const MAX_SERVERS: usize = 8;
/// Most objects a node keeps pointers for: a peer cannot fill its memory.
const MAX_POINTER_OBJECTS: usize = 1 << 20;
/// Nodes named per hop answer (the next hop and its fallbacks).
const STEP_WIDTH: usize = 4;

/// The outcome of a [`Tapestry::locate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Located<A> {
    /// The caller's tag.
    pub tag: u64,
    /// The object.
    pub object: Key,
    /// The servers the first pointer found names; empty when no root had one.
    pub servers: Vec<Contact<A>>,
    /// Nodes asked, over every salt tried.
    pub hops: u32,
}

#[derive(Clone, Debug, PartialEq)]
struct Pointer<A> {
    server: Contact<A>,
    expires: Time,
}

#[derive(Clone, Debug, PartialEq)]
enum WalkKind {
    Publish,
    Locate { tag: u64, object: Key, salt: u8 },
}

#[derive(Clone, Debug, PartialEq)]
struct Walk<A> {
    salted: Key,
    kind: WalkKind,
    asked: Vec<Key>,
    queue: Vec<Contact<A>>,
    hops: u32,
}

/// Pointers held, objects served, walks in progress and finished locates.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Objects<A> {
    pointers: BTreeMap<Key, Vec<Pointer<A>>>,
    served: BTreeSet<Key>,
    walks: SmallMap<u64, Walk<A>>,
    next_walk: u64,
    located: Vec<Located<A>>,
}

impl<A> Default for Objects<A> {
    fn default() -> Self {
        Objects {
            pointers: BTreeMap::new(),
            served: BTreeSet::new(),
            walks: SmallMap::default(),
            next_walk: 0,
            located: Vec::new(),
        }
    }
}

/// The key of `object`'s root number `salt`.
pub fn salted(object: &Key, salt: u8) -> Key {
    let mut bytes = [0u8; 21];
    bytes[..20].copy_from_slice(object.as_bytes());
    bytes[20] = salt;
    Key::hash(bytes)
}

impl<A: Address> Objects<A> {
    /// Leaves (or renews) a pointer `object → server` until `expires`.
    pub(crate) fn add_pointer(&mut self, object: Key, server: Contact<A>, expires: Time) {
        if !self.pointers.contains_key(&object) && self.pointers.len() >= MAX_POINTER_OBJECTS {
            return;
        }
        let list = self.pointers.entry(object).or_default();
        if let Some(p) = list.iter_mut().find(|p| p.server.id == server.id) {
            p.expires = p.expires.max(expires);
        } else if list.len() < MAX_SERVERS {
            list.push(Pointer { server, expires });
        }
    }

    /// The servers live pointers name for `object`, if any.
    pub(crate) fn servers(&self, object: &Key, now: Time) -> Option<Vec<Contact<A>>> {
        let servers: Vec<Contact<A>> = self
            .pointers
            .get(object)?
            .iter()
            .filter(|p| p.expires > now)
            .map(|p| p.server.clone())
            .collect();
        (!servers.is_empty()).then_some(servers)
    }

    /// Drops expired pointers.
    pub(crate) fn expire(&mut self, now: Time) {
        self.pointers.retain(|_, list| {
            list.retain(|p| p.expires > now);
            !list.is_empty()
        });
    }

    /// Objects with at least one pointer here.
    pub(crate) fn pointer_count(&self) -> usize {
        self.pointers.len()
    }

    /// Objects this node serves.
    pub(crate) fn served_count(&self) -> usize {
        self.served.len()
    }
}

impl<A: Address> Tapestry<A> {
    pub(crate) fn objects_mut(&mut self) -> &mut Objects<A> {
        self.objects.get_or_insert_with(Box::default)
    }

    /// The servers a live pointer here names for `object`.
    pub(crate) fn pointed_servers(&self, object: &Key, now: Time) -> Option<Vec<Contact<A>>> {
        self.objects.as_ref()?.servers(object, now)
    }

    /// Publishes `object` as served by this node: a walk to each of its roots leaves
    /// pointers on the way; repeated every republish interval while the node serves it.
    pub fn publish(&mut self, out: &mut RoutingOut<'_, Self>, object: Key) {
        self.objects_mut().served.insert(object);
        for salt in 0..self.cfg.salts.max(1) {
            self.start_walk(out, salted(&object, salt), WalkKind::Publish, 0);
        }
    }

    /// Stops serving `object`; its pointers expire.
    pub fn unpublish(&mut self, object: &Key) {
        if let Some(o) = self.objects.as_mut() {
            o.served.remove(object);
        }
    }

    /// Locates `object`: walks towards its first root until a pointer, then tries the next
    /// roots if none was found. The result is collected by [`Tapestry::take_located`].
    pub fn locate(&mut self, out: &mut RoutingOut<'_, Self>, object: Key, tag: u64) {
        let kind = WalkKind::Locate {
            tag,
            object,
            salt: 0,
        };
        self.start_walk(out, salted(&object, 0), kind, 0);
    }

    /// Locates that finished since the last call.
    pub fn take_located(&mut self) -> Vec<Located<A>> {
        self.objects
            .as_mut()
            .map(|o| std::mem::take(&mut o.located))
            .unwrap_or_default()
    }

    /// Objects this node holds pointers for.
    pub fn pointer_count(&self) -> usize {
        self.objects.as_ref().map_or(0, |o| o.pointer_count())
    }

    pub(crate) fn republish(&mut self, out: &mut RoutingOut<'_, Self>) {
        let served: Vec<Key> = self
            .objects
            .as_ref()
            .map(|o| o.served.iter().copied().collect())
            .unwrap_or_default();
        for object in served {
            self.publish(out, object);
        }
    }

    /// Starts a walk at this node: it is the first hop.
    fn start_walk(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        salted: Key,
        kind: WalkKind,
        hops: u32,
    ) {
        if kind == WalkKind::Publish {
            let expires = out.now + self.cfg.pointer_ttl;
            let me = self.me.clone();
            self.objects_mut().add_pointer(salted, me, expires);
        } else if let Some(servers) = self.pointed_servers(&salted, out.now) {
            self.finish_locate(out, &kind, servers, hops);
            return;
        }
        let queue = match self.step(&salted, STEP_WIDTH) {
            Step::Root(_) => Vec::new(),
            Step::Next(next) => next,
        };
        if queue.is_empty() {
            // This node is the root (or knows nobody): the walk ends here.
            self.end_walk(out, kind, hops);
            return;
        }
        let objects = self.objects_mut();
        objects.next_walk += 1;
        let id = objects.next_walk;
        let walk = Walk {
            salted,
            kind,
            asked: vec![self.me.id],
            queue,
            hops,
        };
        self.objects_mut().walks.insert(id, walk);
        self.walk_advance(out, id);
    }

    /// Asks the next node of walk `id`, or ends the walk when none is left.
    pub(crate) fn walk_advance(&mut self, out: &mut RoutingOut<'_, Self>, id: u64) {
        let Some(w) = self.objects.as_mut().and_then(|o| o.walks.get_mut(&id)) else {
            return;
        };
        let next = loop {
            if w.queue.is_empty() || w.hops >= MAX_WALK_HOPS {
                break None;
            }
            let c = w.queue.remove(0);
            if !w.asked.contains(&c.id) {
                break Some(c);
            }
        };
        let Some(next) = next else {
            let w = self.objects_mut().walks.remove(&id).expect("present");
            self.end_walk(out, w.kind, w.hops);
            return;
        };
        w.asked.push(next.id);
        let msg = match w.kind {
            WalkKind::Publish => TapestryMsg::Publish {
                object: w.salted,
                server: self.me.clone(),
            },
            WalkKind::Locate { .. } => TapestryMsg::Locate { object: w.salted },
        };
        self.send(out, next, msg, Pending::Walk(id));
    }

    /// A hop answered with its routing step.
    pub(crate) fn walk_hop(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        id: u64,
        from: &Contact<A>,
        step: Step<A>,
    ) {
        let Some(w) = self.objects.as_mut().and_then(|o| o.walks.get_mut(&id)) else {
            return;
        };
        w.hops += 1;
        let fresh: Vec<Contact<A>> = match step {
            // The hop is the root: nowhere further to go.
            Step::Root(nodes) if nodes.first().is_none_or(|r| r.id == from.id) => Vec::new(),
            Step::Root(nodes) => nodes.into_iter().take(1).collect(),
            Step::Next(nodes) => nodes,
        };
        if fresh.is_empty() {
            let w = self.objects_mut().walks.remove(&id).expect("present");
            self.end_walk(out, w.kind, w.hops);
            return;
        }
        // The hop's choices go first; earlier fallbacks stay behind them.
        let mut queue: Vec<Contact<A>> = fresh
            .into_iter()
            .filter(|c| !w.asked.contains(&c.id))
            .collect();
        for c in std::mem::take(&mut w.queue) {
            if queue.len() >= 2 * STEP_WIDTH {
                break;
            }
            if !queue.iter().any(|q| q.id == c.id) {
                queue.push(c);
            }
        }
        w.queue = queue;
        self.walk_advance(out, id);
    }

    /// A hop held a pointer.
    pub(crate) fn walk_found(
        &mut self,
        out: &mut RoutingOut<'_, Self>,
        id: u64,
        servers: Vec<Contact<A>>,
    ) {
        if let Some(w) = self.objects.as_mut().and_then(|o| o.walks.remove(&id)) {
            self.finish_locate(out, &w.kind, servers, w.hops + 1);
        }
    }

    /// A walk reached the root or ran out of nodes: a publish is done; a locate that
    /// found nothing tries the object's next root.
    fn end_walk(&mut self, out: &mut RoutingOut<'_, Self>, kind: WalkKind, hops: u32) {
        let WalkKind::Locate { tag, object, salt } = kind else {
            return;
        };
        let next = salt + 1;
        if next < self.cfg.salts.max(1) {
            let kind = WalkKind::Locate {
                tag,
                object,
                salt: next,
            };
            self.start_walk(out, salted(&object, next), kind, hops);
        } else {
            self.finish_locate(
                out,
                &WalkKind::Locate { tag, object, salt },
                Vec::new(),
                hops,
            );
        }
    }

    fn finish_locate(
        &mut self,
        _out: &mut RoutingOut<'_, Self>,
        kind: &WalkKind,
        servers: Vec<Contact<A>>,
        hops: u32,
    ) {
        if let WalkKind::Locate { tag, object, .. } = kind {
            self.objects_mut().located.push(Located {
                tag: *tag,
                object: *object,
                servers,
                hops,
            });
        }
    }
}
