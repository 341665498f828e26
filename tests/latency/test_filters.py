"""Field conditions of --from-filter/--to-filter, in the kernel's filter syntax."""

from __future__ import annotations

import pytest

from fleet.errors import UsageError
from fleet.latency.filters import compile_filter


def test_comparisons_globs_and_bits_joined_by_and_or() -> None:
    f = compile_filter('next_pid == 42 && next_comm ~ "ker*" || prev_state & 0x2')
    assert f({"next_pid": 42, "next_comm": "kernel", "prev_state": 0})
    assert not f({"next_pid": 42, "next_comm": "user", "prev_state": 0})
    assert f({"next_pid": 1, "next_comm": "user", "prev_state": 2})
    assert not f({"next_pid": 1})


def test_an_unreadable_condition_is_refused_with_the_expected_form() -> None:
    with pytest.raises(UsageError, match="write FIELD OP VALUE"):
        compile_filter("next_pid 42")
