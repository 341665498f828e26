"""Where things live in a run directory and the frame types the coordinator adds to an agent's stream.

    RUN/manifest.json             the run: config, hosts, versions, states, errors (atomically replaced)
    RUN/hosts/<dir>/frames.msgpack    msgpack maps appended as they happen (see below)
    RUN/hosts/<dir>/metadata.msgpack  the agent's "metadata" frame as received (written once, atomically)

A frames file holds the agent's frames as received ("capabilities", "data" with an added "rx", "metadata_end",
"event", "error", "stats") plus the coordinator's own records, whose types start with "fleet.".
"""

from __future__ import annotations

import re

MANIFEST = "manifest.json"
HOSTS_DIR = "hosts"
FRAMES = "frames.msgpack"
METADATA = "metadata.msgpack"

FORMAT = "fleet-run"
FORMAT_VERSION = 1

# Coordinator records in a frames file.
REC_SYNC = "fleet.sync"  # a SyncSample as a map (fleet.clocksync.samples)
REC_MARKER = "fleet.marker"  # {text, coord_send, coord_recv}: a -m marker written on the host
REC_STATE = "fleet.state"  # {state, detail, mono, realtime}: the host's session changed state
REC_ERROR = "fleet.error"  # {message}: the coordinator's account of why this host failed

# Key added to each data frame: coordinator CLOCK_MONOTONIC (ns) when it arrived.
RX = "rx"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+-]")


def host_dir_name(host: str) -> str:
    """A directory name for `host` (inventory names may hold '/' or other characters a path cannot)."""
    safe = _UNSAFE.sub("_", host).lstrip(".")
    return safe or "_"
