"""A private root file system per lab host: an overlay over this machine's / whose writes land in the host's own
upper directory, so deployments (dpkg, users, sudoers, /etc) to several namespace hosts do not collide or leak.

The overlay and the mounts inside it exist only in the host's mount namespace (the one its sshd runs in): proc,
a sysfs of the host's network namespace with tracefs, /dev, and fresh tmpfs for /run and /tmp. The lab directory
is bind-mounted at its own path so sshd's config, keys, pid file and log keep their paths inside the chroot.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence


@dataclass(frozen=True)
class HostRoot:
    """Directories of one host's root: `upper` receives every write, `merged` is the root sshd is chrooted to."""

    base: Path

    @property
    def upper(self) -> Path:
        return self.base / "upper"

    @property
    def work(self) -> Path:
        return self.base / "work"

    @property
    def merged(self) -> Path:
        return self.base / "merged"

    def create(self, seed: Sequence[Path] = ()) -> None:
        """Make the directories; put the files of each `seed` directory into the upper one at the same relative
        paths (hard links when possible), before the overlay is mounted, so they appear in the host's root."""
        for d in (self.upper, self.work, self.merged):
            d.mkdir(parents=True, exist_ok=True)
        for top in seed:
            for dirpath, _, files in os.walk(top):
                rel = Path(dirpath).relative_to(top)
                (self.upper / rel).mkdir(parents=True, exist_ok=True)
                for name in files:
                    dest = self.upper / rel / name
                    if not dest.exists():
                        _link_or_copy(Path(dirpath) / name, dest)


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:  # another file system
        shutil.copy2(src, dest)


def mount_script(root: HostRoot, lab_dir: Path) -> str:
    """sh commands (run inside the host's namespaces, before exec'ing sshd) that mount the root."""
    q = shlex.quote
    m = str(root.merged)
    # A second lower layer would lie inside / (one file system here): overlayfs refuses overlapping layers (ELOOP),
    # hence seeding by hard links into the upper directory instead.
    lower = "/"
    lines: List[str] = [
        f"mount -t overlay overlay -o {q(f'lowerdir={lower},upperdir={root.upper},workdir={root.work}')} {q(m)}",
        f"mount -t proc proc {q(m + '/proc')}",
        # A new sysfs shows this network namespace's interfaces; tracefs goes on top of it as on a real host.
        f"mount -t sysfs sysfs {q(m + '/sys')}",
        f"mount -t tracefs nodev {q(m + '/sys/kernel/tracing')}",
        f"mount --rbind /dev {q(m + '/dev')}",
        f"mount -t tmpfs -o mode=0755 tmpfs {q(m + '/run')}",
        f"mkdir -p {q(m + '/run/sshd')}",
        f"mount -t tmpfs -o mode=1777 tmpfs {q(m + '/tmp')}",
        f"mkdir -p {q(m + str(lab_dir))}",
        f"mount --bind {q(str(lab_dir))} {q(m + str(lab_dir))}",
    ]
    return "".join(f"{line} || exit 1; " for line in lines)
