//! Iterative lookup, the same for every routing algorithm: the initiator asks one node
//! after another for its [`Step`] towards the key, until one names the root.

use crate::apps::AppSet;
use crate::config::LookupMode;
use crate::contact::Contact;
use crate::error::LookupError;
use crate::id::{Key, NodeId};
use crate::io::{Ctx, Event, Output};
use crate::node::{Node, Purpose};
use crate::routing::{Routing, Step};
use crate::time::Time;
use crate::visited::Visited;
use crate::wire::Request;

/// Longest list of fallback candidates a lookup keeps.
const MAX_FALLBACK: usize = 8;
/// Most unanswering nodes a lookup names to the nodes it asks (recursive lookups carry as
/// many failed hops).
pub(crate) const MAX_AVOID: usize = 8;
/// Times a lookup asks a node again, naming the nodes that failed: the node whose answer
/// named the one that just failed, or, once every candidate has failed, this node's own
/// tables (which have dropped each node that failed). After a mass crash the candidates a
/// node names for a key can all be dead while the next ones it knows are not.
const MAX_RESTEPS: u32 = 4;

/// Who started a lookup and gets its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A [`crate::Command::Lookup`].
    User(u64),
    /// The routing algorithm (join, fix fingers, ...).
    Routing(u64),
    /// An application: its index in the node's set, and its tag.
    App {
        /// The application's index.
        app: usize,
        /// Its tag.
        tag: u64,
    },
}

/// One lookup in progress.
#[derive(Clone, Debug)]
pub(crate) struct Lookup<A> {
    key: Key,
    owner: Owner,
    started: Time,
    hops: u32,
    messages: u32,
    failures: u32,
    /// Times a node was asked again after a failure ([`MAX_RESTEPS`]).
    resteps: u32,
    /// The last node that answered, and the candidates it named.
    referrer: Option<(Contact<A>, Vec<NodeId>)>,
    asked: Visited,
    /// Asked nodes that answered, in order (the hop path users see).
    answered: Vec<NodeId>,
    /// Asked nodes that did not answer, named in later queries.
    unanswered: Vec<NodeId>,
    fallback: Vec<Contact<A>>,
    /// The node the query in flight went to.
    in_flight: Option<Contact<A>>,
    /// Nodes that did not answer, asked again once candidates ran out: a timeout on a
    /// loaded host is no proof of a crash, and where one node alone can answer (CAN's
    /// owner of the key's point) a lookup that never asked it again ended in `NoRoute`.
    retry: Vec<Contact<A>>,
    /// Nodes asked again already.
    retried: Vec<NodeId>,
    /// Whether it was started recursively ([`LookupMode::Recursive`]).
    recursive: bool,
    /// Whether it has gone on iteratively (a recursive one that had no answer in time).
    iterating: bool,
}

impl<A> Lookup<A> {
    /// Keeps `failed`, the node whose query failed, to be asked once more when
    /// candidates run out.
    fn keep_for_retry(&mut self, failed: Option<Contact<A>>) {
        if let Some(c) = failed
            && self.retry.len() < MAX_AVOID
            && !self.retry.iter().any(|r| r.id == c.id)
            && !self.retried.contains(&c.id)
        {
            self.retry.push(c);
        }
    }

    /// Whether a recursive answer for `key` may end this lookup.
    pub(crate) fn recursive_answers(&self, key: &Key) -> bool {
        self.recursive && self.key == *key
    }

    /// Takes the path of a recursive answer as its own: each hop a message and its
    /// acknowledgement, and, if the answer came `apart` (in a request of its own rather
    /// than in the first hop's acknowledgement or found here), that request and its
    /// acknowledgement (retries around failed hops on the way are not seen here and not
    /// counted).
    pub(crate) fn took_path(&mut self, path: Vec<NodeId>, apart: bool) {
        self.hops = path.len() as u32;
        self.messages += 2 * self.hops + if apart { 2 } else { 0 };
        if matches!(self.owner, Owner::User(_)) {
            self.answered = path;
        }
    }
}

impl<R: Routing, S: AppSet<R::Addr>> Node<R, S> {
    /// Starts a lookup for `key`; with `via`, the first query goes there (joining, always
    /// iterative); `mode` overrides the node's [`crate::NodeConfig::lookup_mode`].
    pub(crate) fn start_lookup(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        key: Key,
        owner: Owner,
        via: Option<Contact<R::Addr>>,
        mode: Option<LookupMode>,
    ) {
        let recursive = via.is_none()
            && self.routing.is_joined()
            && mode.unwrap_or(self.cfg.lookup_mode) == LookupMode::Recursive;
        self.next_id += 1;
        let lid = self.next_id;
        self.lookups.insert(
            lid,
            Lookup {
                key,
                owner,
                started: ctx.now,
                hops: 0,
                messages: 0,
                failures: 0,
                resteps: 0,
                referrer: None,
                asked: Visited::default(),
                answered: Vec::new(),
                unanswered: Vec::new(),
                fallback: Vec::new(),
                in_flight: None,
                retry: Vec::new(),
                retried: Vec::new(),
                recursive,
                iterating: !recursive,
            },
        );
        match via {
            Some(first) => {
                self.lookups
                    .get_mut(&lid)
                    .expect("just inserted")
                    .fallback
                    .push(first);
                self.lookup_query_next(ctx, lid);
            }
            None if !self.routing.is_joined() => {
                self.finish_lookup(ctx, lid, Err(LookupError::NotJoined))
            }
            None => {
                let step = self.routing.step(&key, self.cfg.step_width);
                match step {
                    Step::Next(_) if recursive => self.start_recursive(ctx, lid, key),
                    step => self.lookup_step(ctx, lid, step),
                }
            }
        }
    }

    /// A recursive lookup had no answer in time, or could not leave this node: it goes on
    /// iteratively from here (a recursive answer that comes later still ends it).
    pub(crate) fn lookup_fallback(&mut self, ctx: &mut Ctx<'_, R, S>, lid: u64) {
        let Some(l) = self.lookups.get_mut(&lid) else {
            return;
        };
        if l.iterating {
            return;
        }
        l.iterating = true;
        let key = l.key;
        if !self.routing.is_joined() {
            self.finish_lookup(ctx, lid, Err(LookupError::NotJoined));
            return;
        }
        let step = self.routing.step(&key, self.cfg.step_width);
        self.lookup_step(ctx, lid, step);
    }

    /// A queried node answered with its step.
    pub(crate) fn lookup_answer(&mut self, ctx: &mut Ctx<'_, R, S>, lid: u64, step: Step<R::Addr>) {
        let Some(l) = self.lookups.get_mut(&lid) else {
            return;
        };
        l.hops += 1;
        l.messages += 1;
        if let Some(c) = l.in_flight.take() {
            l.referrer = Some((c, step.contacts().iter().map(|n| n.id).collect()));
        }
        if let Some(&last) = l.asked.last()
            && matches!(l.owner, Owner::User(_))
        {
            l.answered.push(last);
        }
        self.lookup_step(ctx, lid, step);
    }

    fn lookup_step(&mut self, ctx: &mut Ctx<'_, R, S>, lid: u64, step: Step<R::Addr>) {
        let me = self.me().id;
        let Some(l) = self.lookups.get_mut(&lid) else {
            return;
        };
        match step {
            Step::Root(nodes) if !nodes.is_empty() => self.finish_lookup(ctx, lid, Ok(nodes)),
            Step::Root(_) => self.lookup_query_next(ctx, lid),
            Step::Next(mut fresh) => {
                // Closer candidates go first; the older ones stay behind them as fallbacks.
                // Both lists are free of duplicates already; only their overlap is dropped.
                fresh.retain(|c| c.id != me && !l.asked.contains(&c.id));
                let answered = fresh.len();
                for c in std::mem::take(&mut l.fallback) {
                    if fresh.len() >= MAX_FALLBACK {
                        break;
                    }
                    if !fresh[..answered].iter().any(|f| f.id == c.id) {
                        fresh.push(c);
                    }
                }
                fresh.truncate(MAX_FALLBACK);
                l.fallback = fresh;
                self.lookup_query_next(ctx, lid);
            }
        }
    }

    /// The query in flight failed (timeout or a peer not serving): try the next candidate.
    pub(crate) fn lookup_query_failed(&mut self, ctx: &mut Ctx<'_, R, S>, lid: u64) {
        let Some(l) = self.lookups.get_mut(&lid) else {
            return;
        };
        l.failures += 1;
        // One query is in flight at a time: the one that failed went to the last node asked.
        if let Some(&gone) = l.asked.last()
            && l.unanswered.len() < MAX_AVOID
        {
            l.unanswered.push(gone);
        }
        let failed = l.in_flight.take();
        // The node that named the one that failed knows the next candidates after it
        // (Chord's successor list past a crashed successor): ask it again, naming it.
        if let (Some(c), Some((referrer, named))) = (&failed, &l.referrer)
            && named.contains(&c.id)
            && l.resteps < MAX_RESTEPS
        {
            let again = referrer.clone();
            l.resteps += 1;
            l.keep_for_retry(failed);
            self.lookup_ask(ctx, lid, again);
            return;
        }
        l.keep_for_retry(failed);
        self.lookup_query_next(ctx, lid);
    }

    fn lookup_query_next(&mut self, ctx: &mut Ctx<'_, R, S>, lid: u64) {
        let max_hops = self.cfg.max_hops;
        let Some(l) = self.lookups.get_mut(&lid) else {
            return;
        };
        if l.hops + l.failures >= max_hops {
            self.finish_lookup(ctx, lid, Err(LookupError::TooManyHops));
            return;
        }
        let next = loop {
            if l.fallback.is_empty() {
                break None;
            }
            let c = l.fallback.remove(0);
            if !l.asked.contains(&c.id) {
                break Some(c);
            }
        };
        let Some(next) = next else {
            // Every candidate failed: ask our own (now repaired) tables once more.
            let key = l.key;
            let avoid = l.unanswered.clone();
            if self.routing.is_joined() && l.failures > 0 && l.resteps < MAX_RESTEPS {
                let step = self
                    .routing
                    .step_avoiding(&key, self.cfg.step_width, &avoid);
                let l = self.lookups.get_mut(&lid).expect("present");
                if step.contacts().iter().any(|c| !l.asked.contains(&c.id)) {
                    l.resteps += 1;
                    self.lookup_step(ctx, lid, step);
                    return;
                }
            }
            let l = self.lookups.get_mut(&lid).expect("present");
            // The last to fail first: greedy lookups fail nearest the key.
            if let Some(again) = l.retry.pop() {
                l.retried.push(again.id);
                l.unanswered.retain(|id| *id != again.id);
                self.lookup_ask(ctx, lid, again);
                return;
            }
            self.finish_lookup(ctx, lid, Err(LookupError::NoRoute));
            return;
        };
        self.lookup_ask(ctx, lid, next);
    }

    /// Sends the lookup's query to `next`.
    fn lookup_ask(&mut self, ctx: &mut Ctx<'_, R, S>, lid: u64, next: Contact<R::Addr>) {
        let Some(l) = self.lookups.get_mut(&lid) else {
            return;
        };
        l.in_flight = Some(next.clone());
        l.asked.push(next.id);
        l.messages += 1;
        let body = Request::FindNext {
            key: l.key,
            avoid: l.unanswered.clone(),
        };
        self.request(ctx, next, body, Purpose::Lookup(lid));
    }

    pub(crate) fn finish_lookup(
        &mut self,
        ctx: &mut Ctx<'_, R, S>,
        lid: u64,
        result: Result<Vec<Contact<R::Addr>>, LookupError>,
    ) {
        let Some(l) = self.lookups.remove(&lid) else {
            return;
        };
        if let Ok([root, ..]) = result.as_deref()
            && root.id != self.me().id
        {
            let key = l.key;
            self.call_routing(ctx, |r, out| r.root_found(out, &key, root));
        }
        match l.owner {
            Owner::User(op) => ctx.out.push(Output::Event(Event::LookupDone {
                op,
                key: l.key,
                result,
                hops: l.hops,
                path: l.answered,
                messages: l.messages,
                latency: ctx.now.since(l.started),
            })),
            Owner::Routing(tag) => self.call_routing(ctx, |r, out| {
                r.on_lookup_done(out, tag, result.as_deref().map_err(|e| *e))
            }),
            Owner::App { app, tag } => self.call_apps(ctx, |apps, cx| {
                apps.on_lookup_done(cx, app, tag, result, l.hops)
            }),
        }
    }
}
