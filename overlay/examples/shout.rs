//! A complete application in a few dozen lines: `Shout` routes a text to a key's root,
//! the root echoes it straight back to the sender, and the sender gives up on an echo
//! after five seconds. It runs unchanged over any overlay, in the simulator (1,000 Chord
//! nodes) and on real libp2p nodes (8 Pastry nodes on 127.0.0.1).
//!
//! `cargo run --release -p overlay --features net --example shout`

use std::collections::BTreeMap;
use std::time::Duration;

use overlay::net::{NetConfig, PeerAddr, spawn_with};
use overlay::sim::{SimConfig, Simulator};
use overlay::{Address, Application, Command, Contact, CtxOf, Key, ProtocolError, ReqId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Msg {
    Shout { text: String },
    Echo { text: String },
    Thanks,
}

impl overlay::Message for Msg {
    fn validate(&self, limits: &overlay::Limits) -> Result<(), overlay::InvalidMessage> {
        match self {
            Msg::Shout { text } | Msg::Echo { text } => limits.value("text", text.len()),
            Msg::Thanks => Ok(()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Heard {
    /// At the root: a shout arrived.
    Shout { text: String, hops: u32 },
    /// At the sender: the root echoed it.
    Echo { text: String },
    /// At the sender: no echo in time.
    Silence { text: String },
}

#[derive(Debug, Default)]
struct Shouter {
    /// Texts waiting for their echo, with their give-up timer.
    waiting: BTreeMap<String, overlay::TimerId>,
}

impl<A: Address> Application<A> for Shouter {
    type Msg = Msg;
    type Timer = String;
    type Command = (Key, String);
    type Event = Heard;
    const NAME: &'static str = "shout";

    fn on_command(&mut self, ctx: &mut CtxOf<'_, A, Self>, (key, text): (Key, String)) {
        let timer = ctx.set_timer(Duration::from_secs(5), text.clone());
        self.waiting.insert(text.clone(), timer);
        ctx.route(key, Msg::Shout { text }, None);
    }

    fn deliver(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        _: &Key,
        msg: Msg,
        origin: &Contact<A>,
        hops: u32,
    ) {
        if let Msg::Shout { text } = msg {
            ctx.emit(Heard::Shout {
                text: text.clone(),
                hops,
            });
            ctx.request(origin.clone(), Msg::Echo { text });
        }
    }

    fn on_request(
        &mut self,
        ctx: &mut CtxOf<'_, A, Self>,
        from: &Contact<A>,
        id: ReqId,
        msg: Msg,
    ) -> Result<(), ProtocolError> {
        let Msg::Echo { text } = msg else {
            return Err(ProtocolError::Unexpected("only echoes are requests".into()));
        };
        if let Some(timer) = self.waiting.remove(&text) {
            ctx.cancel_timer(timer);
            ctx.emit(Heard::Echo { text });
        }
        ctx.respond(from.clone(), id, Msg::Thanks);
        Ok(())
    }

    fn on_timer(&mut self, ctx: &mut CtxOf<'_, A, Self>, text: String) {
        if self.waiting.remove(&text).is_some() {
            ctx.emit(Heard::Silence { text });
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In the simulator: 1,000 Chord nodes, a shout from each of 5 nodes.
    type Apps = overlay::apps![Shouter];
    let mut sim =
        Simulator::<dht_chord::Chord<u32>, Apps>::new(Default::default(), SimConfig::default(), 7);
    sim.build_oracle(1000);
    for i in 0..5 {
        let from = sim.random_joined().expect("nodes");
        sim.command(
            from,
            Command::app((Key::hash(format!("room-{i}")), format!("hello {i}"))),
        );
    }
    sim.run_until(sim.now() + Duration::from_secs(10));
    for e in &sim.events {
        if let Some(heard) = e.event.app::<Heard, _>() {
            println!("simulator  node {:>4}: {heard:?}", e.node);
        }
    }

    // On real nodes: 8 Pastry nodes on loopback, hosting the DHT and the shouter.
    tokio::runtime::Runtime::new()?.block_on(async {
        let mut nodes: Vec<overlay::net::NetHandle<overlay::apps![Shouter]>> = Vec::new();
        for _ in 0..8 {
            let cfg = NetConfig {
                listen: vec!["/ip4/127.0.0.1/tcp/0".parse()?],
                bootstrap: nodes
                    .first()
                    .map(|n| n.listen_addrs()[..1].to_vec())
                    .unwrap_or_default(),
                mdns: false,
                ..NetConfig::<dht_pastry::PastryConfig>::default()
            };
            let node = spawn_with::<dht_pastry::Pastry<PeerAddr>, _>(cfg, (Shouter::default(), ()))
                .await?;
            node.joined().await?;
            nodes.push(node);
        }
        let mut heard: Vec<_> = nodes.iter().map(|n| n.events()).collect();
        nodes[3]
            .command((Key::hash("room-0"), "hello over libp2p".to_string()))
            .await?;
        for (i, rx) in heard.iter_mut().enumerate() {
            while let Ok(Ok(overlay::Layer::Head(e))) =
                tokio::time::timeout(Duration::from_secs(2), rx.recv()).await
            {
                println!("real node {i}: {e:?}");
            }
        }
        Ok(())
    })
}
