"""Two agents at once: each has its own instance and sees only its own events and markers."""

from __future__ import annotations

from agent import protocol
from tests.agent.pages import decode, events, markers


def test_two_agents_get_their_own_instances_and_events(spawn):
    a, b = spawn(), spawn()
    a.hello("test-iso-a")
    b.hello("test-iso-b")
    ra = a.request(protocol.CONFIGURE, config={"events": ["sched:sched_switch"], "copy_trace_marker": False})
    rb = b.request(
        protocol.CONFIGURE, config={"events": ["sched:sched_wakeup", "sched:sched_waking"], "copy_trace_marker": False}
    )
    assert ra["instance"] != rb["instance"]
    assert a.stream[0]["events"] == ["sched:sched_switch"]
    assert sorted(b.stream[0]["events"]) == ["sched:sched_wakeup", "sched:sched_waking"]
    for agent in (a, b):
        agent.request(protocol.START)
    for agent, name in ((a, "a"), (b, "b")):
        agent.request(protocol.MARKER, text=f"only {name}")
    for agent in (a, b):
        agent.request(protocol.STOP)
    for agent, name, own in ((a, "a", {"sched_switch"}), (b, "b", {"sched_wakeup", "sched_waking"})):
        items = decode(agent.stream[0], agent.data())
        assert {e.name for e in events(items)} <= own | {"print"}
        assert [text for _, text in markers(items)] == [f"only {name}"]
