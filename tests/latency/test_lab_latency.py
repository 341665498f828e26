"""Issue 8 acceptance on the namespace lab: a UDP request/response program marks `req N sent` on h1 and
`req N recv` on h2 through the top-level trace_marker, and measures its own one-way delay (CLOCK_MONOTONIC is
shared by all lab hosts). `fleet latency` must find every pair and agree with the program within the reported
uncertainty; 5 ms of delay added on the link moves p50 by 5 ms ± 0.2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from fleet.cli import main
from fleet.lab.ping import ping
from tests.latency.labstudy import program_figures, traced_requests

COUNT = 40
STUDY = [
    "--from", "print", "--from-hosts", "lab/h1", "--from-match", r"req (\d+) sent",
    "--to", "print", "--to-hosts", "lab/h2", "--to-match", r"req (\d+) recv",
]  # fmt: skip


@pytest.fixture(scope="module")
def runs(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Tuple[Path, Path]]:
    """Two recordings through the lab's impairment forwarder on h2's link (its own path costs about 0.2 ms, so
    the baseline goes through it too): no delay, then 5 ms added toward h2 (the requests' direction)."""
    plain = tmp_path_factory.mktemp("plain")
    delayed = tmp_path_factory.mktemp("delayed")
    try:
        lab.impair("h2", "in", delay_ms=0)
        settle(lab)
        traced_requests(lab, plain, COUNT)
        lab.impair("h2", "in", delay_ms=5)
        settle(lab)
        traced_requests(lab, delayed, COUNT)
    finally:
        lab.clear_impairment("h2")
    return {"plain": (plain / "run", plain), "delayed": (delayed / "run", delayed)}


def settle(lab: Any) -> None:
    """Wait until h2 answers again: starting the forwarder re-wires its link."""
    assert any(r is not None for r in ping(lab.host("h2").address, 10, timeout=0.5))


def study(run: Path, capsys: Any, *extra: str) -> str:
    capsys.readouterr()
    assert main(["latency", str(run), *STUDY, *extra]) == 0
    return str(capsys.readouterr().out)


@pytest.mark.lab
def test_every_request_is_paired_and_matches_the_programs_own_figure(runs: Dict, capsys: Any) -> None:
    run, tmp = runs["plain"]
    result = json.loads(study(run, capsys, "--format", "json"))
    own = program_figures(tmp)
    assert (result["count"], result["unmatched"]) == (COUNT, 0)
    assert sorted(p["key"] for p in result["pairs"]) == sorted(own)
    for p in result["pairs"]:
        assert (p["from_host"], p["to_host"]) == ("h1", "h2")
        figure = own[p["key"]]
        # the program's figure is itself only good to its clock reads around each marker write (window_ns)
        assert abs(p["latency_ns"] - figure["oneway_ns"]) <= p["uncertainty_ns"] + figure["window_ns"], (p, figure)


@pytest.mark.lab
def test_json_has_exactly_the_documented_keys(runs: Dict, capsys: Any) -> None:
    result = json.loads(study(runs["plain"][0], capsys, "--format", "json"))
    assert result["count"] == COUNT, result
    assert list(result) == ["count", "unmatched", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "pairs"]
    assert list(result["pairs"][0]) == [
        "key", "from_host", "to_host", "from_ts", "to_ts", "latency_ns", "uncertainty_ns"
    ]  # fmt: skip
    values = sorted(p["latency_ns"] for p in result["pairs"])
    assert (result["min_ns"], result["p50_ns"], result["max_ns"]) == (values[0], values[COUNT // 2 - 1], values[-1])


@pytest.mark.lab
def test_csv_prints_one_row_per_pair(runs: Dict, capsys: Any) -> None:
    lines = study(runs["plain"][0], capsys, "--format", "csv").splitlines()
    assert lines[0] == "key,from_host,to_host,from_ts,to_ts,latency_ns,uncertainty_ns"
    assert len(lines) == COUNT + 1
    assert all(line.split(",")[1:3] == ["h1", "h2"] for line in lines[1:])


@pytest.mark.lab
def test_text_shows_stats_histogram_worst_pairs_with_context_and_host_pairs(runs: Dict, capsys: Any) -> None:
    out = study(runs["plain"][0], capsys, "--worst", "2")
    lines = out.splitlines()
    assert lines[:3] == [
        r"from: print ~ /req (\d+) sent/ on h1",
        r"to:   print ~ /req (\d+) recv/ on h2",
        f"pairs: {COUNT}   unmatched: 0 (from without to: 0, to without from: 0)",
    ]
    assert lines[4].split() == ["min", "p50", "p90", "p99", "p99.9", "max"]
    assert "histogram (log scale, count per power-of-two bucket):" in lines
    worst = lines.index("worst 2 pair(s):")
    assert " ± " in lines[worst + 1] and "h1 " in lines[worst + 1] and "-> h2 " in lines[worst + 1]
    marked = [ln for ln in lines if ln.lstrip().startswith("> ")]
    assert len(marked) == 4 and "req" in marked[0] and "sent" in marked[0] and "recv" in marked[1]
    table = lines[lines.index("per host pair:") + 2].split()
    assert table[:3] == ["h1", "h2", str(COUNT)]


@pytest.mark.lab
def test_five_ms_added_on_the_link_moves_p50_by_five_ms(runs: Dict, capsys: Any) -> None:
    plain = json.loads(study(runs["plain"][0], capsys, "--format", "json"))
    delayed = json.loads(study(runs["delayed"][0], capsys, "--format", "json"))
    assert delayed["count"] == COUNT
    assert abs((delayed["p50_ns"] - plain["p50_ns"]) - 5_000_000) <= 200_000, (plain["p50_ns"], delayed["p50_ns"])


@pytest.mark.lab
def test_a_live_study_fed_from_the_merged_stream_finds_the_same_pairs(runs: Dict, capsys: Any) -> None:
    from fleet.ftrace.events import Decoder, Event
    from fleet.latency.live import LiveStudy
    from fleet.latency.sides import Side
    from fleet.latency.study import StudySpec
    from fleet.latency.timeline import clock_models
    from fleet.merge import merge_hosts
    from fleet.record.reader import Run

    run_dir = runs["plain"][0]
    offline = json.loads(study(run_dir, capsys, "--format", "json"))
    run = Run.open(run_dir)
    models = clock_models(run)
    live = LiveStudy(
        StudySpec(Side("print", ["h1"], match=r"req (\d+) sent"), Side("print", ["h2"], match=r"req (\d+) recv"))
    )
    streams = {}
    for name in ("h1", "h2"):
        host = run.host(name)
        decoder = Decoder(host.meta)
        streams[name] = [decoder.decode_pages(cpu, host.pages(cpu)) for cpu in host.cpus]
    for name, ts, item in merge_hosts(streams, models):
        if isinstance(item, Event):
            live.feed(name, ts, item)
    assert [(p.key, p.latency_ns) for p in live.pairs] == [(p["key"], p["latency_ns"]) for p in offline["pairs"]]
    assert live.summary().p50_ns == offline["p50_ns"]
