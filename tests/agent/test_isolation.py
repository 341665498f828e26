"""Two agents at once: each has its own instance and sees only its own events and markers."""

from __future__ import annotations

import struct

from agent import protocol
from tests.agent.pages import prints, records
from tests.agent.test_stream import event_id, print_id, stream_pages


def ids(pages):
    return {struct.unpack_from("<H", p)[0] for page in pages for _, p in records(page)}


def test_two_agents_get_their_own_instances_and_events(spawn):
    a, b = spawn(), spawn()
    a.hello("test-iso-a")
    b.hello("test-iso-b")
    ra = a.request(protocol.CONFIGURE, config={"events": ["sched:sched_switch"]})
    rb = b.request(protocol.CONFIGURE, config={"events": ["sched:sched_wakeup", "sched:sched_waking"]})
    assert ra["instance"] != rb["instance"]
    assert a.stream[0]["events"] == ["sched:sched_switch"]
    assert sorted(b.stream[0]["events"]) == ["sched:sched_wakeup", "sched:sched_waking"]
    for agent in (a, b):
        agent.request(protocol.START)
    for agent, name in ((a, "a"), (b, "b")):
        agent.request(protocol.MARKER, text=f"only {name}")
    for agent in (a, b):
        agent.request(protocol.STOP)
    for agent, name in ((a, "a"), (b, "b")):
        meta = agent.stream[0]
        pages = stream_pages(agent.data())
        allowed = {print_id(meta)} | {event_id(t) for texts in meta["event_formats"].values() for t in texts}
        assert ids(pages) <= allowed
        assert [text for _, text in prints(pages, print_id(meta))] == [f"only {name}"]
