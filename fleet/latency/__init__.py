"""Latency studies across hosts: pair a `from` event with a `to` event by key, in aligned time, and summarize."""

from fleet.latency.pairing import Pair, Pairer
from fleet.latency.study import Side, StudyResult, StudySpec, run_study

__all__ = ["Pair", "Pairer", "Side", "StudyResult", "StudySpec", "run_study"]
