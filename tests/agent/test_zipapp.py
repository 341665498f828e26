"""The zipapp: reproducible (content-addressed) and runnable on its own."""

from __future__ import annotations

import subprocess
import sys

from agent import protocol
from agent.build import build_zipapp
from tests.agent.agentproc import AgentProc


def test_build_is_reproducible(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert build_zipapp(tmp_path / "a") == build_zipapp(tmp_path / "b")
    assert (tmp_path / "a" / "agent.pyz").read_bytes() == (tmp_path / "b" / "agent.pyz").read_bytes()


def test_zipapp_runs_outside_the_checkout(tmp_path):
    build_zipapp(tmp_path)
    out = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "agent.pyz"), "--version"], capture_output=True, text=True, cwd="/"
    )
    assert out.stdout.strip() == f"fleet-agent 0.1.0 (protocol {protocol.PROTOCOL_VERSION})"


def test_zipapp_serves_the_protocol(tmp_path, tracefs):
    build_zipapp(tmp_path)
    agent = AgentProc(argv=[sys.executable, "-I", str(tmp_path / "agent.pyz"), "serve"])
    try:
        assert agent.hello("test-zipapp")["t"] == protocol.CAPABILITIES
        assert agent.request(protocol.SHUTDOWN)["t"] == protocol.OK
    finally:
        agent.close()
