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
        let mut msg = ScribeMsg::Join {
            group,
            child: child.clone(),
            below: vec![child.id],
        };
        let me = contact(1);
        self.at(ms, |s, ctx| s.forward(ctx, &group, &mut msg, None, &me));
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
