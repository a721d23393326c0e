"""A libtorrent peer for the interoperability tests.

usage: libtorrent_peer.py seed|download TORRENT|MAGNET DIR PORT [HOST:PORT ...]

Listens on 127.0.0.1:PORT, dials the peers given, and, downloading, exits 0 once the
torrent is complete (libtorrent has verified every piece) or 1 after 150 seconds. Seeding,
it prints "seeding" once it has checked the files, and runs until killed. DHT, local discovery and port mapping are off: the only peers are the
ones given and the torrent's trackers'.
"""

import os
import sys
import time

import libtorrent as lt


def main():
    mode, torrent, folder, port = sys.argv[1:5]
    peers = sys.argv[5:]
    session = lt.session(
        {
            "listen_interfaces": f"127.0.0.1:{port}",
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "allow_multiple_connections_per_ip": True,
            "alert_mask": 0,
            # Our peer speaks plain BitTorrent over TCP: neither uTP (BEP 29) nor
            # message stream encryption, which libtorrent would try first, falling back
            # only after a failed connection.
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "out_enc_policy": 2,
            "in_enc_policy": 2,
        }
    )
    if torrent.startswith("magnet:"):
        params = lt.parse_magnet_uri(torrent)
        params.save_path = folder
    else:
        params = {"ti": lt.torrent_info(torrent), "save_path": folder}
    handle = session.add_torrent(params)
    deadline = time.time() + float(os.environ.get("LIBTORRENT_PEER_LIMIT", "150"))
    dialed = 0.0
    ready = False
    while mode == "seed" or time.time() < deadline:
        status = handle.status()
        if mode == "download" and status.is_seeding:
            print("complete", flush=True)
            return 0
        if mode == "seed" and status.is_seeding and not ready:
            print("seeding", flush=True)
            ready = True
        # Dial once the torrent is ready (libtorrent ignores peers while it checks its
        # files), and again each second until connected: the other side may start later.
        checking = status.state in (
            lt.torrent_status.checking_resume_data,
            lt.torrent_status.checking_files,
        )
        if status.num_peers == 0 and not checking and time.time() - dialed > 1:
            for peer in peers:
                host, p = peer.rsplit(":", 1)
                handle.connect_peer((host, int(p)))
            dialed = time.time()
        time.sleep(0.05)
    print(f"incomplete: {handle.status().progress:.3f}", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
