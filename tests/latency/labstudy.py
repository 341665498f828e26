"""Record the namespace lab while the UDP request/response program runs from h1 to h2 (tests and bench share it)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

from fleet.cli import main

PROGRAM = Path(__file__).resolve().parent.parent / "tools" / "udp_reqresp.py"
PORT = 47000


def wait_started(run_dir: Path, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if json.loads((run_dir / "manifest.json").read_text()).get("started"):
                return
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{run_dir}: tracing did not start")


def run_program(lab: Any, run_dir: Path, out: Path, count: int, interval: float) -> None:
    """Once tracing started: the server in h2, the client in h1, to completion."""
    wait_started(run_dir)
    time.sleep(0.2)  # past the dense initial syncs
    h1, h2 = lab.host("h1"), lab.host("h2")
    server = subprocess.Popen(
        ["ip", "netns", "exec", h2.netns, sys.executable, str(PROGRAM), "server", str(PORT), str(count), str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        client = [sys.executable, str(PROGRAM), "client", h2.address, str(PORT), str(count), str(interval)]
        subprocess.run(["ip", "netns", "exec", h1.netns, *client], check=True, timeout=30)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def traced_requests(lab: Any, tmp: Path, count: int = 40, interval: float = 0.01, seconds: float = 2.0) -> Path:
    """A run of the lab's hosts during `count` requests h1 -> h2; the program's figures in tmp/oneway.jsonl."""
    run_dir = tmp / "run"
    out = tmp / "oneway.jsonl"
    errors: List[BaseException] = []

    def program() -> None:
        try:
            run_program(lab, run_dir, out, count, interval)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    worker = threading.Thread(target=program)
    worker.start()
    argv = ["trace", "-i", str(lab.inventory_path), "--hosts", "lab/*", "-e", "sched:sched_process_exit"]
    code = main(argv + ["--no-tui", "--sync-interval", "0.25", "--duration", str(seconds), "-o", str(run_dir)])
    worker.join()
    if errors:
        raise errors[0]
    assert code == 0
    return run_dir


def program_figures(tmp: Path) -> Dict[str, Dict[str, int]]:
    """Request number (as the key string) -> {oneway_ns, window_ns} as the program measured it."""
    rows = [json.loads(line) for line in (tmp / "oneway.jsonl").read_text().splitlines()]
    return {str(r["n"]): r for r in rows}
