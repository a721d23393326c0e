#!/usr/bin/env bash
# LAN test: three `p2p node`s, each in its own network namespace joined by veth pairs to one
# bridge, find each other by mDNS alone (no --bootstrap), form one overlay and serve
# put/get to each other. Needs root (ip netns). Usage: tests/lan-netns.sh PATH/TO/p2p [OVERLAY]
set -euo pipefail

BIN=$(realpath "${1:?usage: $0 PATH/TO/p2p [OVERLAY]}")
OVERLAY=${2:-chord}
N=3
PREFIX=p2plan$$
BRIDGE=${PREFIX}br
WORK=$(mktemp -d)

loud_skip() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!!! LAN TEST SKIPPED: $1" >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  exit 0
}

command -v ip >/dev/null || loud_skip "the ip command (iproute2) is missing"
ip netns add "${PREFIX}probe" 2>/dev/null || loud_skip "network namespaces cannot be created here (not root, or no CAP_SYS_ADMIN)"
ip netns del "${PREFIX}probe"

cleanup() {
  for i in $(seq 1 $N); do
    ip netns pids "${PREFIX}$i" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "${PREFIX}$i" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ip link add "$BRIDGE" type bridge
ip link set "$BRIDGE" up
for i in $(seq 1 $N); do
  ns=${PREFIX}$i
  ip netns add "$ns"
  ip link add "${PREFIX}v$i" type veth peer name "${PREFIX}b$i"
  ip link set "${PREFIX}b$i" master "$BRIDGE" up
  ip link set "${PREFIX}v$i" netns "$ns"
  ip -n "$ns" addr add "10.77.0.$i/24" dev "${PREFIX}v$i"
  ip -n "$ns" link set "${PREFIX}v$i" up
  ip -n "$ns" link set lo up
  # mDNS sends to 224.0.0.251; a namespace without a default route needs a multicast route.
  ip -n "$ns" route add 224.0.0.0/4 dev "${PREFIX}v$i"
done

in_ns() { local i=$1; shift; ip netns exec "${PREFIX}$i" "$@"; }

for i in $(seq 1 $N); do
  RUST_LOG=info in_ns "$i" "$BIN" node --overlay "$OVERLAY" --listen /ip4/0.0.0.0/tcp/4001 \
    --api 127.0.0.1:4080 --data-dir "$WORK/node$i" --maintenance 1 --discovery-wait 3 \
    >"$WORK/node$i.log" 2>&1 &
done

fail() {
  echo "LAN TEST FAILED: $1" >&2
  for i in $(seq 1 $N); do echo "--- node $i log:" >&2; tail -20 "$WORK/node$i.log" >&2; done
  exit 1
}

status_field() { in_ns "$1" "$BIN" status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }

for i in $(seq 1 $N); do
  for _ in $(seq 1 60); do
    [ "$(status_field "$i" phase 2>/dev/null || true)" = Joined ] && break
    sleep 0.5
  done
  [ "$(status_field "$i" phase 2>/dev/null || true)" = Joined ] || fail "node $i did not join"
done

# One overlay, not three: every node finds the same root for the same keys (polled for up
# to 30 s while the routing tables settle; separate overlays never agree).
roots_agree() {
  for k in alpha beta gamma; do
    roots=$(for i in $(seq 1 $N); do
      in_ns "$i" "$BIN" lookup "$k" --json 2>/dev/null \
        | python3 -c "import json,sys; print(json.load(sys.stdin)['replicas'][0][0])" 2>/dev/null \
        || echo "no-root-$i"
    done | sort -u | wc -l)
    [ "$roots" = 1 ] || return 1
  done
}
agreed=no
for _ in $(seq 1 60); do
  if roots_agree; then agreed=yes; break; fi
  sleep 0.5
done
[ "$agreed" = yes ] || fail "the nodes disagree on the roots of alpha, beta, gamma: they formed separate overlays"

for i in $(seq 1 $N); do
  in_ns "$i" "$BIN" put "from-node-$i" "written through node $i" || fail "put through node $i"
done
for i in $(seq 1 $N); do
  for j in $(seq 1 $N); do
    got=$(in_ns "$i" "$BIN" get "from-node-$j") || fail "get from-node-$j through node $i"
    [ "$got" = "written through node $j" ] || fail "node $i read '$got' for from-node-$j"
  done
done
for i in $(seq 1 $N); do
  grep -q "bootstrap" "$WORK/node$i.log" && grep -q "joining through the bootstrap" "$WORK/node$i.log" \
    && fail "node $i used a bootstrap address"
done
echo "LAN test passed: $N nodes in separate network namespaces found each other by mDNS ($OVERLAY) and served put/get"
