"""A lab of N SSH hosts on this machine: network namespaces on a bridge, each with its own sshd and tracefs.

Only ever talks to addresses of its own private subnet. State lives in a directory (default /tmp/fleet-lab) so
that `fleet lab down` from another process finds and removes everything: namespaces, links, processes, sockets.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Dict, List, Optional, Sequence, Type, Union

from agent.instance import is_stale
from fleet.lab import impair as impairment
from fleet.lab import keys, naming, sshd
from fleet.lab.errors import LabError
from fleet.lab.files import LabDirectory, ssh_config_text, write_inventory
from fleet.lab.rootfs import HostRoot, mount_script
from fleet.lab.run import ip_batch, run
from fleet.lab.state import LabHost, LabState, LinkImpairment
from fleet.lab.subnet import allocation_lock, free_subnet

DEFAULT_DIR = Path("/tmp/fleet-lab")
DEFAULT_SUBNET = ipaddress.IPv4Network("198.18.0.0/24")
TRACEFS_INSTANCES = Path("/sys/kernel/tracing/instances")

HostRef = Union[str, LabHost]


class Lab(LabDirectory):
    """A running lab; create with Lab.up(...) or Lab.load(directory), end with down() (or use it as a context)."""

    def __init__(self, directory: Path, state: LabState) -> None:
        self.directory = directory
        self.state = state
        self._sshd_procs: Dict[str, subprocess.Popen[bytes]] = {}

    # --- files -------------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.state.name

    @property
    def hosts(self) -> List[LabHost]:
        return list(self.state.hosts)

    @property
    def subnet(self) -> str:
        return self.state.subnet

    @property
    def client_key(self) -> Path:
        return self.directory / "keys" / "client_ed25519"

    @property
    def run_dir(self) -> Path:
        return self.directory / "run"

    def host(self, ref: HostRef) -> LabHost:
        """The host named `ref` (h1, its namespace name or its address)."""
        if isinstance(ref, LabHost):
            return ref
        for h in self.state.hosts:
            if ref in (h.name, h.netns, h.address):
                return h
        raise LabError(f"no host {ref!r} in lab {self.name} (hosts: {', '.join(h.name for h in self.state.hosts)})")

    # --- bring-up ----------------------------------------------------------------------------------------------
    @classmethod
    def up(
        cls,
        name: str = "lab",
        hosts: int = 3,
        directory: Path = DEFAULT_DIR,
        subnet: Optional[str] = None,
        overlay: bool = False,
        overlay_seed: Sequence[Path] = (),
    ) -> Lab:
        """Bring up `hosts` namespace hosts named h1..hN; `subnet` defaults to 198.18.0.0/24 or the next free /24.

        With `overlay`, each host gets its own root: an overlay over this machine's / (writes land in
        root(host).upper only) that its sshd is chrooted to; the files of each `overlay_seed` directory appear in every
        host's root at the same relative paths (hard links; e.g. cached .debs: DIR/var/cache/apt/archives/*.deb)."""
        naming.check_name(name)
        if not 1 <= hosts <= naming.MAX_HOSTS:
            raise LabError(f"a lab has 1 to {naming.MAX_HOSTS} hosts, not {hosts}")
        if os.geteuid() != 0:
            raise LabError("the namespace lab needs root (network namespaces, veths, sshd)")
        directory = Path(directory).resolve()
        existing = LabState.load(directory)
        if existing is not None:
            raise LabError(f"a lab ({existing.name}) is already up in {directory}; `fleet lab down --dir {directory}`")
        for sub in ("keys", "run"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        host_keys = {f"h{i}": directory / "keys" / f"h{i}_ed25519" for i in range(1, hosts + 1)}
        client_key = directory / "keys" / "client_ed25519"
        keys.generate_keys([client_key, *host_keys.values()], comment=f"fleet-lab-{name}")

        with allocation_lock():
            if name in cls._names_in_use():
                raise LabError(f"a lab named {name} is already up (namespaces fleet-{name}-h*); choose another name")
            net = free_subnet(ipaddress.IPv4Network(subnet) if subnet else None)
            addrs = list(net.hosts())
            bridge = naming.bridge_name(name)
            state = LabState(
                name=name,
                subnet=str(net),
                gateway=str(addrs[0]),
                bridge=bridge,
                hosts=[
                    LabHost(f"h{i}", i, naming.netns_name(name, i), str(addrs[9 + i]), naming.veth_name(name, i))
                    for i in range(1, hosts + 1)
                ],
                overlay=overlay,
                overlay_seed=[str(Path(p).resolve()) for p in overlay_seed],
            )
            lab = cls(directory, state)
            state.save(directory)  # from here on, `fleet lab down` can clean up whatever happens
            try:
                ip_batch(
                    [
                        # A fixed address: by default a bridge takes its lowest port's MAC, so it would change each
                        # time an impairment adds or removes a port, and the hosts' ARP entries for the gateway
                        # would point nowhere until they expire (replies lost for seconds).
                        f"link add {bridge} address {local_mac()} type bridge forward_delay 0",
                        f"addr add {state.gateway}/{net.prefixlen} dev {bridge}",
                        f"link set {bridge} up",
                    ]
                )
            except BaseException:
                lab.down()
                raise
        try:
            lab._build(host_keys, net.prefixlen)
        except BaseException:
            lab.down()
            raise
        return lab

    @staticmethod
    def _names_in_use() -> List[str]:
        out = run(["ip", "netns", "list"], check=False)
        return sorted({m.group(1) for m in re.finditer(r"^fleet-([a-z0-9]+)-h\d+", out, re.M)})

    def _build(self, host_keys: Dict[str, Path], prefixlen: int) -> None:
        st = self.state
        ip_batch(
            [f"netns add {h.netns}" for h in st.hosts]
            + [f"link add {h.veth} type veth peer name eth0 netns {h.netns}" for h in st.hosts]
            + [f"link set {h.veth} master {st.bridge} up" for h in st.hosts]
        )
        empty = self.run_dir / "empty"
        empty.write_text("")
        authorized = self.directory / "keys" / "authorized_keys"
        authorized.write_text(keys.public_key(self.client_key) + " fleet-lab-client\n")

        def host_up(h: LabHost) -> None:
            ip_batch(
                [f"addr add {h.address}/{prefixlen} dev eth0", "link set eth0 up", "link set lo up"], netns=h.netns
            )
            config = self.run_dir / f"{h.name}.sshd_config"
            config.write_text(sshd.config_text(h, host_keys[h.name], authorized, self.run_dir / f"{h.name}.sshd.pid"))
            self._start_sshd_process(h)

        with ThreadPoolExecutor(max_workers=min(16, len(st.hosts))) as pool:
            list(pool.map(host_up, st.hosts))
        st.save(self.directory)
        sshd.wait_listening(st.hosts, self._sshd_procs, self.run_dir)
        self.known_hosts.write_text(keys.known_hosts_text(st.hosts, host_keys))
        self.ssh_config.write_text(ssh_config_text(st.hosts, self.client_key, self.known_hosts))
        write_inventory(self.inventory_path, st.hosts, self.client_key, self.known_hosts)

    def root(self, ref: HostRef) -> Optional[HostRoot]:
        """The host's own root directories when the lab was brought up with `overlay`, else None (shared /)."""
        if not self.state.overlay:
            return None
        return HostRoot(self.directory / "roots" / self.host(ref).name)

    def _start_sshd_process(self, h: LabHost) -> None:
        root = self.root(h)
        script = ""
        if root is not None:
            root.create([Path(p) for p in self.state.overlay_seed])
            script = mount_script(root, self.directory)
        proc = sshd.start(
            h,
            self.run_dir / f"{h.name}.sshd_config",
            self.run_dir / f"{h.name}.sshd.log",
            self.run_dir / "empty",
            root,
            script,
        )
        self._sshd_procs[h.name] = proc
        self.state.sshd_pids[h.name] = proc.pid

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> Lab:
        """The lab that is up in `directory`; LabError if there is none."""
        directory = Path(directory).resolve()
        state = LabState.load(directory)
        if state is None:
            raise LabError(f"no lab is up in {directory} (start one with `fleet lab up --dir {directory}`)")
        return cls(directory, state)

    @classmethod
    def remnants(cls, name: str, directory: Optional[Path] = None) -> Lab:
        """A lab rebuilt from the namespaces and links named after `name`, to tear down one whose state is lost."""
        naming.check_name(name)
        pattern = naming.netns_re(name)
        found = sorted(
            (int(m.group(1)), m.group(0))
            for m in (pattern.match(n) for n in run(["ip", "netns", "list"], check=False).split())
            if m
        )
        hosts = [LabHost(f"h{i}", i, ns, "", naming.veth_name(name, i)) for i, ns in found]
        state = LabState(name=name, subnet="", gateway="", bridge=naming.bridge_name(name), hosts=hosts)
        return cls(Path(directory) if directory else Path(f"/nonexistent/fleet-lab-{name}"), state)

    @staticmethod
    def running_names() -> List[str]:
        """Names of the labs that have namespaces on this machine now."""
        return Lab._names_in_use()

    # --- sshd --------------------------------------------------------------------------------------------------
    def stop_sshd(self, ref: HostRef) -> None:
        """Kill the host's sshd (established sessions keep running: sshd -D forks one process per session)."""
        h = self.host(ref)
        pid = self.state.sshd_pids.pop(h.name, None)
        if pid is not None:
            sshd.kill(pid)
            proc = self._sshd_procs.pop(h.name, None)
            if proc is not None:
                proc.wait()
        self.state.save(self.directory)

    def start_sshd(self, ref: HostRef) -> None:
        """Start the host's sshd again (no-op if it runs) and wait until it accepts connections."""
        h = self.host(ref)
        pid = self.state.sshd_pids.get(h.name)
        if pid is not None and _alive(pid):
            return
        self._start_sshd_process(h)
        self.state.save(self.directory)
        sshd.wait_listening([h], self._sshd_procs, self.run_dir)

    # --- impairment --------------------------------------------------------------------------------------------
    def impair(
        self,
        ref: HostRef,
        direction: str = "both",
        delay_ms: float = 0.0,
        jitter_ms: float = 0.0,
        loss: float = 0.0,
        partition: bool = False,
    ) -> None:
        """Set the impairment of `ref`'s link in `direction` ("in" = toward the host, "out", "both"); `loss` is %."""
        h = self.host(ref)
        if direction not in ("in", "out", "both"):
            raise LabError(f"direction must be in, out or both, not {direction!r}")
        if not 0.0 <= loss <= 100.0 or delay_ms < 0 or jitter_ms < 0:
            raise LabError("delay and jitter are >= 0 ms, loss is a percentage 0-100")
        current = self.state.impairments.setdefault(h.name, {d: LinkImpairment() for d in impairment.DIRECTIONS})
        for d in impairment.DIRECTIONS if direction == "both" else (direction,):
            current[d] = LinkImpairment(delay_ms, jitter_ms, loss, partition)
        control = self.run_dir / f"{h.name}.impair.json"
        impairment.write_control(control, current)
        pid = self.state.forwarder_pids.get(h.name)
        if pid is not None and _alive(pid):
            impairment.reload_forwarder(pid)
        else:
            log = self.run_dir / f"{h.name}.forwarder.log"
            self.state.forwarder_pids[h.name] = impairment.start_forwarder(
                self.name, self.state.bridge, h, control, log
            )
        self.state.save(self.directory)

    def clear_impairment(self, ref: HostRef) -> None:
        """Remove the host's forwarder and put its link straight on the bridge again."""
        h = self.host(ref)
        pid = self.state.forwarder_pids.pop(h.name, None)
        self.state.impairments.pop(h.name, None)
        if pid is not None:
            impairment.stop_forwarder(self.name, self.state.bridge, h, pid)
        self.state.save(self.directory)

    # --- tear-down ---------------------------------------------------------------------------------------------
    def down(self) -> List[str]:
        """Remove everything of this lab; return what is still left afterwards (empty when clean)."""
        st = self.state
        for host_name, pid in list(st.forwarder_pids.items()):
            impairment.stop_forwarder(st.name, st.bridge, self.host(host_name), pid, rewire=False)
        st.forwarder_pids.clear()
        netns_re = naming.netns_re(st.name)
        namespaces = {h.netns for h in st.hosts}
        namespaces |= {n for n in run(["ip", "netns", "list"], check=False).split() if netns_re.match(n)}
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(namespaces)))) as pool:
            list(pool.map(_empty_namespace, sorted(namespaces)))
        for proc in self._sshd_procs.values():
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        self._sshd_procs.clear()
        link_re = naming.link_re(st.name)
        links = [name for name in _link_names() if link_re.match(name)]
        ip_batch([f"link del {name}" for name in links if name != st.bridge and not name.startswith("fy-")], force=True)
        ip_batch([f"netns del {n}" for n in sorted(namespaces)], force=True)
        remaining = [name for name in _link_names() if link_re.match(name) and name != st.bridge]
        ip_batch([f"link del {name}" for name in remaining], force=True)
        if st.bridge in _link_names():
            run(["ip", "link", "del", st.bridge])
        for path in [self.directory / "state.json", self.inventory_path, self.known_hosts, self.ssh_config]:
            path.unlink(missing_ok=True)
        return self.leftovers()

    def leftovers(self) -> List[str]:
        """Namespaces and links of this lab, and agent instances whose owner is gone, that exist now (for tear-down
        reports). Instances of agents still running belong to other runs on this shared kernel, not to the lab."""
        left = [
            f"namespace {n}"
            for n in run(["ip", "netns", "list"], check=False).split()
            if naming.netns_re(self.name).match(n)
        ]
        left += [f"link {n}" for n in _link_names() if naming.link_re(self.name).match(n)]
        if TRACEFS_INSTANCES.is_dir():
            left += [f"tracefs instance {p.name}" for p in TRACEFS_INSTANCES.iterdir() if is_stale(p.name)]
        return left

    def __enter__(self) -> Lab:
        return self

    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.down()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")


def _link_names() -> List[str]:
    out = run(["ip", "-o", "link", "show"], check=False)
    return [m.group(1) for m in re.finditer(r"^\d+: ([^:@ ]+)[@:]", out, re.M)]


def _empty_namespace(netns: str) -> None:
    """Kill every process in `netns` and destroy its sockets, so `ip netns del` really frees it."""
    for _ in range(50):
        pids = [int(p) for p in run(["ip", "netns", "pids", netns], check=False).split()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.01)
    # Orphaned TCP sockets (FIN_WAIT, retransmitting across a partition) would keep the namespace alive.
    run(["ip", "netns", "exec", netns, "ss", "-K", "-a", "-t"], check=False)


def local_mac() -> str:
    """A random locally administered unicast MAC address (02:xx:xx:xx:xx:xx)."""
    return ":".join(f"{b:02x}" for b in b"\x02" + os.urandom(5))
