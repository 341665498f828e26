"""Recordings: a run directory per `fleet trace`, written append-only while tracing and read back afterwards."""

from fleet.record.reader import HostRun, Run
from fleet.record.writer import HostWriter, RunWriter

__all__ = ["HostRun", "HostWriter", "Run", "RunWriter"]
