"""Find (or mount) tracefs and read/write its files with errors naming the file, the value and the kernel's answer."""

from __future__ import annotations

import errno
import os
import subprocess
from typing import List, Optional

from agent import protocol
from agent.errors import AgentError, code_for_errno

DEFAULT_MOUNT = "/sys/kernel/tracing"


def find_tracefs(mount_if_absent: bool = True) -> str:
    """The tracefs mount point: from /proc/mounts, else debugfs/tracing, else mount it at /sys/kernel/tracing."""
    debugfs = None
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] == "tracefs":
                    return parts[1]
                if len(parts) >= 3 and parts[2] == "debugfs":
                    debugfs = parts[1]
    except OSError:
        pass
    if debugfs and os.path.exists(os.path.join(debugfs, "tracing", "trace")):
        return os.path.join(debugfs, "tracing")
    if mount_if_absent and os.path.isdir(DEFAULT_MOUNT):
        proc = subprocess.run(["mount", "-t", "tracefs", "nodev", DEFAULT_MOUNT], capture_output=True)
        if proc.returncode == 0 and os.path.exists(os.path.join(DEFAULT_MOUNT, "trace")):
            return DEFAULT_MOUNT
        raise AgentError(
            protocol.E_UNSUPPORTED,
            f"tracefs is not mounted and `mount -t tracefs nodev {DEFAULT_MOUNT}` failed: "
            f"{proc.stderr.decode(errors='replace').strip() or proc.returncode}",
        )
    raise AgentError(protocol.E_UNSUPPORTED, "tracefs is not mounted (no tracefs in /proc/mounts)")


def os_error(action: str, path: str, exc: OSError, value: Optional[str] = None) -> AgentError:
    """An AgentError for a failed tracefs access: `write 'VALUE' to PATH: ANSWER`."""
    answer = exc.strerror or os.strerror(exc.errno or 0)
    what = f"{action} {value!r} to {path}" if value is not None else f"{action} {path}"
    return AgentError(code_for_errno(exc.errno or errno.EIO), f"{what}: {answer}")


class Tracefs:
    """One tracefs directory (the mount point or an instance under it); paths are relative to it."""

    def __init__(self, root: str) -> None:
        self.root = root

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.path(rel))

    def read(self, rel: str) -> str:
        path = self.path(rel)
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError as exc:
            raise os_error("read", path, exc) from None

    def read_bytes(self, path: str) -> bytes:
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise os_error("read", path, exc) from None

    def write(self, rel: str, value: str, append: bool = False) -> None:
        """Write `value` in one write(2), so the kernel sees it whole; O_TRUNC unless appending."""
        path = self.path(rel)
        flags = os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise os_error("write", path, exc, value) from None
        try:
            os.write(fd, value.encode())
        except OSError as exc:
            raise os_error("write", path, exc, value) from None
        finally:
            os.close(fd)

    def selected(self, rel: str) -> str:
        """The bracketed choice of a file like trace_clock ('[local] global ...' -> 'local')."""
        text = self.read(rel)
        for word in text.split():
            if word.startswith("[") and word.endswith("]"):
                return word[1:-1]
        return text.strip()

    def words(self, rel: str) -> List[str]:
        return [w.strip("[]") for w in self.read(rel).split()]

    def lines(self, rel: str) -> List[str]:
        """Non-comment, non-empty lines of a file such as set_ftrace_filter or an event trigger."""
        return [ln for ln in self.read(rel).splitlines() if ln.strip() and not ln.startswith("#")]

    def instance(self, name: str) -> Tracefs:
        return Tracefs(os.path.join(self.root, "instances", name))

    def mkdir_instance(self, name: str) -> Tracefs:
        path = os.path.join(self.root, "instances", name)
        try:
            os.mkdir(path)
        except OSError as exc:
            raise os_error("mkdir", path, exc) from None
        return Tracefs(path)

    def instances(self) -> List[str]:
        try:
            return sorted(os.listdir(os.path.join(self.root, "instances")))
        except OSError:
            return []

    def cpus(self) -> List[int]:
        """CPU numbers that have a per_cpu directory (the kernel's tracing CPUs)."""
        out = []
        for name in os.listdir(self.path("per_cpu")):
            if name.startswith("cpu") and name[3:].isdigit():
                out.append(int(name[3:]))
        return sorted(out)
