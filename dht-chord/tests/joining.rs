//! A node still joining answers the routing requests it cannot serve yet with
//! `Unavailable` at once, so its peers neither wait for a timeout nor take it for failed.

use dht_chord::{Chord, ChordConfig, ChordMsg};
use overlay::{
    Command, Contact, Ctx, Input, Key, Node, NodeConfig, Output, Phase, Request, Response, Time,
    Wire,
};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

fn contact(n: u32) -> Contact<u32> {
    Contact::new(Key::hash(n.to_be_bytes()), n)
}

#[test]
fn a_joining_node_answers_unavailable() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut node =
        Node::<Chord<u32>>::new(contact(1), &ChordConfig::default(), NodeConfig::default());
    let mut out = Vec::new();
    let mut ctx = Ctx {
        now: Time(0),
        rng: &mut rng,
        out: &mut out,
    };
    node.handle(
        &mut ctx,
        Input::Command(Command::Join {
            bootstrap: Some(contact(2)),
        }),
    )
    .expect("join starts");
    assert_eq!(node.phase(), Phase::Joining);
    ctx.out.clear();
    let ping = Wire::Request {
        id: 7,
        body: Request::Routing(ChordMsg::Ping),
    };
    node.handle(
        &mut ctx,
        Input::Message {
            from: contact(3),
            msg: ping,
        },
    )
    .expect("a ping while joining is not an error");
    let answered = ctx.out.iter().any(|o| {
        matches!(o, Output::Send { to, msg: Wire::Response { id: 7, body: Response::Unavailable } } if to.id == contact(3).id)
    });
    assert!(answered, "no Unavailable answer in {:?}", ctx.out);
}
