"""The agent as a real subprocess speaking the real protocol over pipes, for tests and the benchmark."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import zlib
from typing import Any, Dict, List, Optional

import msgpack
import zstandard

from agent import protocol

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class AgentProc:
    """Spawn `python3 -m agent serve`; send requests; collect replies and stream frames in arrival order."""

    def __init__(self, env: Optional[Dict[str, str]] = None, auto_credit: bool = True, argv: Optional[list] = None):
        self.proc = subprocess.Popen(
            argv or [sys.executable, "-m", "agent", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        self.frames: queue.Queue[Any] = queue.Queue()
        self.stream: List[Dict[str, Any]] = []  # every frame without an id, in order
        self.next_id = 1
        self.auto_credit = auto_credit
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=1 << 30)
        while True:
            chunk = self.proc.stdout.read1(1 << 16)  # type: ignore[attr-defined]
            if not chunk:
                self.frames.put(None)
                return
            unpacker.feed(chunk)
            for frame in unpacker:
                if frame["t"] == protocol.DATA and self.auto_credit:
                    self.send(protocol.CREDIT, frames=1)
                self.frames.put(frame)

    def send(self, kind: str, **fields: Any) -> int:
        with self.lock:
            req_id = self.next_id
            self.next_id += 1
            assert self.proc.stdin is not None
            self.proc.stdin.write(msgpack.packb(protocol.frame(kind, id=req_id, **fields), use_bin_type=True))
            self.proc.stdin.flush()
        return req_id

    def request(self, kind: str, timeout: float = 30.0, **fields: Any) -> Dict[str, Any]:
        """Send a request and return its reply; stream frames seen meanwhile go to self.stream."""
        req_id = self.send(kind, **fields)
        deadline = time.monotonic() + timeout
        while True:
            frame = self.frames.get(timeout=max(0.01, deadline - time.monotonic()))
            if frame is None:
                raise EOFError(f"agent exited waiting for {kind}: {self.stderr()}")
            if frame.get("id") == req_id:
                return frame
            self.stream.append(frame)

    def hello(self, session: str) -> Dict[str, Any]:
        return self.request(protocol.HELLO, version=protocol.PROTOCOL_VERSION, session=session)

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> int:
        """Close stdin (EOF) and wait for the agent to exit."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def data(self, kind: str = protocol.DATA) -> List[Dict[str, Any]]:
        return [f for f in self.stream if f["t"] == kind]


def payload_pages(frame: Dict[str, Any]) -> bytes:
    """The concatenated truncated pages of a data frame."""
    if frame["codec"] == protocol.CODEC_ZSTD:
        return zstandard.ZstdDecompressor().decompress(frame["payload"], max_output_size=frame["raw_bytes"])
    return zlib.decompress(frame["payload"])
