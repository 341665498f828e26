"""The two tiny init programs of a lab VM: the initrd's (load modules, mount the root disk) and the guest's PID 1."""

INITRD_INIT = r"""#!/bin/busybox sh
# fleet VM initrd: the stock Debian kernel has virtio and ext4 as modules; load them, then boot the root disk.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod "/modules/$m" 2>/dev/null || echo "fleet-initrd: insmod $m failed"; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "fleet-initrd: cannot mount /dev/vda"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/fleet-init
"""

# PID 1 of the guest (minbase has no init): mounts, a static address for QEMU user networking, sshd, then a
# Python loop that reaps orphans (a shell's `wait` only reaps its own children).
GUEST_INIT = r"""#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run && mkdir -p /run/sshd
mount -t tmpfs tmpfs /tmp
mount -t tracefs nodev /sys/kernel/tracing
mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
host=$(sed -n 's/.*fleet\.host=\([A-Za-z0-9_-]*\).*/\1/p' /proc/cmdline)
hostname "${host:-fleetvm}"
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
/usr/sbin/sshd -E /run/sshd.log
echo "fleet-vm: ready $(hostname)" > /dev/console
exec python3 -c '
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(1)
'
"""

SSHD_CONFIG = """\
# fleet VM lab: key-only root logins, no DNS lookups (QEMU user networking has no reverse DNS for 10.0.2.2)
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
HostKey /etc/ssh/ssh_host_ed25519_key
"""
