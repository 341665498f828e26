"""The pairing rule named in `fleet latency --help`: FIFO per key, unmatched counted, uncertainty of two hosts."""

from __future__ import annotations

import math

from fleet.latency.pairing import UNKNOWN, Pairer


def test_each_from_pairs_with_the_next_unclaimed_to_of_its_key() -> None:
    p = Pairer()
    p.add_from("1", "h1", 100, 0, 100)
    p.add_from("2", "h1", 110, 0, 110)
    p.add_from("1", "h1", 120, 0, 120)
    p.add_to("1", "h2", 150, 1, 150)
    p.add_to("2", "h2", 160, 1, 160)
    p.add_to("1", "h2", 170, 1, 170)
    assert [(x.key, x.from_ts, x.to_ts, x.latency_ns) for x in p.pairs] == [
        ("1", 100, 150, 50),
        ("2", 110, 160, 50),
        ("1", 120, 170, 50),
    ]
    assert (p.unmatched_from, p.unmatched_to) == (0, 0)


def test_a_to_without_an_open_from_and_a_from_never_closed_are_unmatched() -> None:
    p = Pairer()
    p.add_to("7", "h2", 5, 0, 5)
    p.add_from("7", "h1", 10, 0, 10)
    p.add_from("8", "h1", 11, 0, 11)
    p.add_to("7", "h2", 20, 0, 20)
    assert [(x.key, x.latency_ns) for x in p.pairs] == [("7", 10)]
    assert (p.unmatched_from, p.unmatched_to) == (1, 1)


def test_cross_host_pairs_carry_the_sum_of_both_hosts_bounds_same_host_none() -> None:
    bounds = {"h1": 400.4, "h2": 700.2}
    p = Pairer(lambda host, raw: bounds[host])
    p.add_from("a", "h1", 0, 0, 0)
    p.add_to("a", "h2", 10, 0, 10)
    p.add_from("b", "h1", 0, 0, 0)
    p.add_to("b", "h1", 10, 0, 10)
    assert [x.uncertainty_ns for x in p.pairs] == [1101, 0]


def test_a_host_without_alignment_makes_the_uncertainty_unknown() -> None:
    p = Pairer(lambda host, raw: math.inf if host == "h2" else 5.0)
    p.add_from("a", "h1", 0, 0, 0)
    p.add_to("a", "h2", 10, 0, 10)
    assert p.pairs[0].uncertainty_ns == UNKNOWN
