"""Fixtures for transport tests: running fleet's async pieces from plain test functions."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

import pytest

from agent import protocol
from fleet.record.writer import RunWriter
from fleet.transport import deploy
from fleet.transport.fanout import Fanout, FanoutOptions
from fleet.transport.session import SessionSettings
from fleet.transport.ssh import SshOptions
from fleet.transport.target import Target


@pytest.fixture
def trace_run(tmp_path: Path) -> Callable[..., Path]:
    """trace_run(targets, config, markers=[], duration=0.5, ssh=SshOptions()) -> run directory (recorded)."""
    counter = [0]

    def run(
        targets: List[Target],
        config: Any,
        markers: Optional[List[str]] = None,
        duration: float = 0.5,
        ssh: Optional[SshOptions] = None,
        build: Optional[deploy.AgentBuild] = None,
    ) -> Path:
        counter[0] += 1
        path = tmp_path / f"run{counter[0]}"
        session = f"test-tr-{tmp_path.name[-20:]}-{counter[0]}".replace("_", "-")
        writer = RunWriter.create(path, config, markers or [], sys.argv, session, protocol.PROTOCOL_VERSION)
        settings = SessionSettings(session, config, markers or [], sync_interval=0.2)
        fanout = Fanout(targets, writer, settings, FanoutOptions(ssh or SshOptions()), lambda *a: None, build)
        try:
            asyncio.run(fanout.run_all(duration))
        finally:
            writer.close()
        return path

    return run
