"""Link impairment through the user-space forwarder: delay as configured, partition blocks, clear restores."""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
from labtools import lab_traces, ssh

from fleet.lab import Lab, LabError
from fleet.lab.ping import ping
from tests.conftest import have_lab, need


@pytest.fixture
def h2(lab: Lab) -> Iterator[str]:
    """Host h2 of the session lab, its link cleared again after the test."""
    try:
        yield "h2"
    finally:
        lab.clear_impairment("h2")


def rtts_ms(lab: Lab, host: str, count: int = 10) -> List[Optional[float]]:
    return [None if r is None else r * 1000 for r in ping(lab.host(host).address, count, timeout=0.5)]


def bridge_mac(lab: Lab) -> str:
    return Path(f"/sys/class/net/{lab.state.bridge}/address").read_text().strip()


def test_unimpaired_forwarder_passes_every_frame(lab: Lab, h2: str) -> None:
    lab.impair(h2, "both")
    assert None not in rtts_ms(lab, h2)
    assert ssh(lab, h2, "head -c 20000000 /dev/zero | wc -c").stdout == "20000000\n"  # GSO frames pass


def test_delay_out_adds_at_least_the_configured_delay(lab: Lab, h2: str) -> None:
    lab.impair(h2, "out", delay_ms=5)
    rtts = rtts_ms(lab, h2)
    assert None not in rtts
    assert min(rtts) >= 5.0  # type: ignore[type-var]
    assert statistics.median(rtts) < 5.0 + 20.0  # type: ignore[type-var]


def test_delay_both_ways_counts_twice(lab: Lab, h2: str) -> None:
    lab.impair(h2, "both", delay_ms=5)
    rtts = rtts_ms(lab, h2)
    assert min(rtts) >= 10.0  # type: ignore[type-var]


def test_jitter_stays_within_its_bounds(lab: Lab, h2: str) -> None:
    lab.impair(h2, "in", delay_ms=6, jitter_ms=4)
    rtts = rtts_ms(lab, h2, 20)
    assert min(rtts) >= 2.0  # type: ignore[type-var]


def test_partition_blocks_and_clear_restores(lab: Lab, h2: str) -> None:
    lab.impair(h2, "both", partition=True)
    assert rtts_ms(lab, h2, 3) == [None, None, None]
    result = subprocess.run(
        ["ssh", "-F", str(lab.ssh_config), "-o", "ConnectTimeout=1", h2, "true"], capture_output=True, text=True
    )
    assert result.returncode == 255
    lab.clear_impairment(h2)
    assert None not in rtts_ms(lab, h2, 3)
    assert ssh(lab, h2, "echo back").stdout == "back\n"


def test_partition_in_one_direction_blocks_round_trips(lab: Lab, h2: str) -> None:
    lab.impair(h2, "in", partition=True)
    assert rtts_ms(lab, h2, 2) == [None, None]
    lab.impair(h2, "in")
    assert None not in rtts_ms(lab, h2, 2)


def test_every_reload_takes_effect(lab: Lab, h2: str) -> None:
    for _ in range(5):
        lab.impair(h2, "out", partition=True)
        assert rtts_ms(lab, h2, 1) == [None]
        lab.impair(h2, "out")
        assert None not in rtts_ms(lab, h2, 1)


def test_the_gateway_keeps_its_address_while_links_change(lab: Lab, h2: str) -> None:
    # The hosts' ARP entries for the gateway must stay right when a forwarder adds or removes a bridge port.
    before = bridge_mac(lab)
    lab.impair(h2, "both", partition=True)
    assert bridge_mac(lab) == before
    lab.clear_impairment(h2)
    assert bridge_mac(lab) == before


def test_total_loss_drops_everything(lab: Lab, h2: str) -> None:
    lab.impair(h2, "out", loss=100)
    assert rtts_ms(lab, h2, 3) == [None, None, None]


def test_settings_are_checked(lab: Lab) -> None:
    with pytest.raises(LabError, match="loss is a percentage"):
        lab.impair("h1", "both", loss=150)
    with pytest.raises(LabError, match="direction must be in, out or both"):
        lab.impair("h1", "sideways")


def test_other_hosts_are_unaffected(lab: Lab, h2: str) -> None:
    lab.impair(h2, "both", partition=True)
    assert None not in rtts_ms(lab, "h1", 3)
    assert ssh(lab, "h3", "echo ok").stdout == "ok\n"


def test_down_after_partition_with_open_session_leaves_nothing(tmp_path: Path) -> None:
    need(have_lab(), "needs root, iproute2 and OpenSSH (sshd) for the namespace lab")
    name = "p" + str(abs(hash(tmp_path)) % 10**6)
    lab = Lab.up(name, 2, tmp_path)
    session = subprocess.Popen(
        ["ssh", "-F", str(lab.ssh_config), "h1", "while :; do echo tick; sleep 0.01; done"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert ssh(lab, "h1", "echo up").stdout == "up\n"
        lab.impair("h1", "both", partition=True)  # the session's frames now retransmit into the void
        left = lab.down()
    finally:
        session.kill()
        session.wait()
    assert [item for item in left if not item.startswith("tracefs")] == []
    assert lab_traces(name, tmp_path) == []


def test_ping_refuses_an_address_outside_the_labs() -> None:
    from fleet.lab.errors import LabError

    with pytest.raises(LabError, match="10.1.2.3 is not a lab address"):
        ping("10.1.2.3")
