"""Refusals and bad requests come back as one-line errors naming the file, the value and the kernel's answer."""

from __future__ import annotations

from agent import protocol
from tests.conftest import need


def configure_error(spawn, config):
    agent = spawn()
    caps = agent.hello("test-errors")
    reply = agent.request(protocol.CONFIGURE, config=config)
    assert reply["t"] == protocol.ERROR, reply
    assert "\n" not in reply["message"]
    return caps, reply


def test_function_tracer_refused_names_current_tracer_and_eperm(spawn):
    caps, reply = configure_error(spawn, {"tracer": "function"})
    need("tracer:function" in caps["refusals"], "this kernel allows the function tracer")
    assert reply["code"] == protocol.E_PERMISSION
    assert reply["message"].startswith("write 'function' to /")
    assert reply["message"].endswith("/current_tracer: Operation not permitted")


def test_set_ftrace_filter_refused_names_the_file_and_eperm(spawn):
    caps, reply = configure_error(spawn, {"ftrace_filter": ["schedule*"]})
    need("set_ftrace_filter" in caps["refusals"], "this kernel allows set_ftrace_filter")
    assert reply["code"] == protocol.E_PERMISSION
    assert reply["message"].endswith("/set_ftrace_filter: Operation not permitted")


def test_bad_trace_clock_names_file_value_and_answer(spawn):
    _, reply = configure_error(spawn, {"trace_clock": "sundial"})
    assert reply["code"] == protocol.E_INVALID
    assert reply["message"].startswith("write 'sundial' to /")
    assert reply["message"].endswith("/trace_clock: Invalid argument")


def test_unknown_event_names_set_event(spawn):
    _, reply = configure_error(spawn, {"events": ["nosuch:event"]})
    assert reply["code"] == protocol.E_INVALID
    assert reply["message"].endswith("/set_event: Invalid argument")
    assert "'nosuch:event'" in reply["message"]


def test_bad_filter_names_the_filter_file(spawn):
    _, reply = configure_error(spawn, {"events": ["sched:sched_switch"], "filters": {"sched:sched_switch": "nofield"}})
    assert reply["code"] == protocol.E_INVALID
    assert "/events/sched/sched_switch/filter: Invalid argument" in reply["message"]


def test_unknown_config_key_is_a_bad_request(spawn):
    _, reply = configure_error(spawn, {"evnets": ["sched"]})
    assert reply["code"] == protocol.E_BAD_REQUEST
    assert "evnets" in reply["message"]


def test_version_mismatch(spawn):
    reply = spawn().request(protocol.HELLO, version=protocol.PROTOCOL_VERSION + 1, session="test-v")
    assert (reply["t"], reply["code"]) == (protocol.ERROR, protocol.E_VERSION)


def test_unknown_request_and_wrong_state(spawn):
    agent = spawn()
    assert agent.request("dance")["code"] == protocol.E_BAD_REQUEST
    reply = agent.request(protocol.START)
    assert (reply["code"], reply["message"]) == (protocol.E_BAD_REQUEST, "start is not allowed in state 'new'")


def test_capabilities_describe_this_kernel(spawn, tracefs):
    caps = spawn().hello("test-caps")
    assert set(protocol.CAPABILITY_KEYS) <= set(caps)
    assert caps["tracefs"] == tracefs
    assert caps["cpus"] >= 1 and caps["subbuf_size"] >= 4096
    assert "nop" in caps["tracers"] and "local" in caps["clocks"]
    assert caps["codec"] == protocol.CODEC_ZSTD
