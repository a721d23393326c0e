//! A parent's bookkeeping of its children when answers come back late.

use super::*;
use dht_chord::{Chord, ChordConfig};
use overlay::app::AppAction;
use overlay::conformance::scratch::contact;
use overlay::routing::Routing;
use overlay::{AppCtx, Limits, Phase};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

type Actions = Vec<AppAction<u32, ScribeMsg<u32>, ScribeTimer, ScribeEvent<u32>>>;

/// One node's Scribe, driven by hand at chosen times.
struct Parent {
    scribe: Scribe<u32>,
    overlay: Chord<u32>,
    rng: Xoshiro256PlusPlus,
    next_id: u64,
    actions: Actions,
}

impl Parent {
    fn new() -> Self {
        Parent {
            scribe: Scribe::default(),
            overlay: Chord::new(contact(1), &ChordConfig::default()),
            rng: Xoshiro256PlusPlus::seed_from_u64(1),
            next_id: 0,
            actions: Vec::new(),
        }
    }

    fn at<T>(&mut self, ms: u64, f: impl FnOnce(&mut Scribe<u32>, Cx<'_, '_, u32>) -> T) -> T {
        let limits = Limits::default();
        let mut ctx = AppCtx::new(
            Time(ms * 1000),
            &mut self.rng,
            &self.overlay,
            Phase::Joined,
            &limits,
            &mut self.next_id,
            &mut self.actions,
        );
        f(&mut self.scribe, &mut ctx)
    }

    /// A join from `child` reaching this node, the group id's root.
    fn join(&mut self, ms: u64, group: GroupId, child: &Contact<u32>) {
        self.join_via(ms, group, child, &contact(1));
    }

    /// A join from `child` reaching this node on its way to `next`.
    fn join_via(&mut self, ms: u64, group: GroupId, child: &Contact<u32>, next: &Contact<u32>) {
        let mut msg = ScribeMsg::Join {
            group,
            child: child.clone(),
            below: vec![child.id],
        };
        self.at(ms, |s, ctx| s.forward(ctx, &group, &mut msg, None, next));
    }

    /// Makes this node a forwarder of `group` below `parent`, with `child` below it.
    fn forwarder(&mut self, group: GroupId, parent: &Contact<u32>, child: &Contact<u32>) {
        self.join_via(0, group, child, parent);
        let accepted = ScribeMsg::Accepted {
            group,
            path: vec![parent.id],
            rooted: true,
            root: Some(parent.clone()),
        };
        self.at(10, |s, ctx| s.on_request(ctx, parent, 98, accepted))
            .expect("a valid acceptance");
        assert!(!self.scribe.group(&group).expect("the group").is_root());
    }

    /// Whether this node sent `parent` a `Leave`.
    fn left(&self, parent: &Contact<u32>) -> bool {
        self.actions.iter().any(|a| {
            matches!(a, AppAction::Request { to, msg: ScribeMsg::Leave { .. }, .. } if to == parent)
        })
    }

    /// The id of the last request sent.
    fn last_request(&self) -> ReqId {
        self.actions
            .iter()
            .rev()
            .find_map(|a| match a {
                AppAction::Request { id, .. } => Some(*id),
                _ => None,
            })
            .expect("a request")
    }

    fn has_child(&self, group: &GroupId, child: &Contact<u32>) -> bool {
        child_known(&self.scribe.groups, group, &child.id)
    }
}

#[test]
fn a_refusal_sent_before_a_child_joined_again_keeps_it() {
    let (group, child) = (Key::hash("news"), contact(2));
    let mut parent = Parent::new();
    parent.join(0, group, &child);
    assert!(parent.has_child(&group, &child));

    // A heartbeat goes down; the child, pruned meanwhile, leaves; its join comes back
    // before its refusal of the heartbeat does.
    parent.at(1000, |s, ctx| s.heartbeat(ctx, group, |_| true));
    let heartbeat = parent.last_request();
    let leave = ScribeMsg::Leave { group };
    parent
        .at(1100, |s, ctx| s.on_request(ctx, &child, 99, leave))
        .expect("a valid leave");
    assert!(!parent.has_child(&group, &child));
    parent.join(1200, group, &child);
    parent
        .at(1300, |s, ctx| {
            s.on_response(ctx, &child, heartbeat, ScribeMsg::NotInTree)
        })
        .expect("a valid answer");
    assert!(parent.has_child(&group, &child), "the child joined again");

    // A refusal of a request sent after the child joined drops it.
    parent.at(2000, |s, ctx| s.heartbeat(ctx, group, |_| true));
    let heartbeat = parent.last_request();
    parent
        .at(2100, |s, ctx| {
            s.on_response(ctx, &child, heartbeat, ScribeMsg::NotInTree)
        })
        .expect("a valid answer");
    assert!(!parent.has_child(&group, &child));
}

#[test]
fn a_forwarder_a_join_finds_at_the_root_takes_the_tree_over() {
    let (group, old_root) = (Key::hash("news"), contact(3));
    let mut node = Parent::new();
    node.forwarder(group, &old_root, &contact(2));

    // The old root failed and the overlay now routes the group id here.
    node.join(1000, group, &contact(4));
    let g = node.scribe.group(&group).expect("the group");
    assert!(g.is_root(), "the root is where joins end");
    assert!(g.has_child(&contact(2).id) && g.has_child(&contact(4).id));
    assert!(node.left(&old_root), "the old root is told");
}

#[test]
fn a_forwarder_the_overlay_makes_the_root_takes_the_tree_over() {
    let (group, old_root) = (Key::hash("news"), contact(3));
    let mut node = Parent::new();
    node.forwarder(group, &old_root, &contact(2));
    node.overlay = Chord::from_tables(
        contact(1),
        ChordConfig::default(),
        None,
        Vec::new(),
        Default::default(),
    );

    // Alone on its ring, the node is every key's root: its next tick moves the tree here.
    node.at(1000, |s, ctx| s.on_timer(ctx, ScribeTimer::Tick));
    assert!(node.scribe.group(&group).expect("the group").is_root());
    assert!(node.left(&old_root));
}
