"""Fixtures for agent tests: agents as real subprocesses on the real tracefs, always reaped."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, List

import pytest

from agent import protocol
from tests.agent.agentproc import AgentProc


def session_name(request: Any) -> str:
    """A session name unique to the test (instances of concurrent tests never collide)."""
    return f"test-{request.node.name[:40]}".replace("[", "-").replace("]", "").replace("_", "-")


@pytest.fixture
def spawn(tracefs: str) -> Iterator[Callable[..., AgentProc]]:
    """spawn(**AgentProc kwargs) -> a running agent; every agent is closed (stdin EOF) at the end of the test."""
    procs: List[AgentProc] = []

    def make(**kwargs: Any) -> AgentProc:
        proc = AgentProc(**kwargs)
        procs.append(proc)
        return proc

    yield make
    for proc in procs:
        proc.close()


@pytest.fixture
def configured(spawn: Callable[..., AgentProc], request: Any) -> Callable[..., AgentProc]:
    """configured(config, **spawn kwargs) -> an agent after hello and a successful configure."""

    def make(config: Dict[str, Any], **kwargs: Any) -> AgentProc:
        agent = spawn(**kwargs)
        caps = agent.hello(session_name(request))
        assert caps["t"] == protocol.CAPABILITIES, caps
        agent.caps = caps  # type: ignore[attr-defined]
        reply = agent.request(protocol.CONFIGURE, config=config)
        assert reply["t"] == protocol.OK, reply
        agent.instance = reply["instance"]  # type: ignore[attr-defined]
        return agent

    return make


def instance_exists(tracefs: str, name: str) -> bool:
    return os.path.isdir(os.path.join(tracefs, "instances", name))
