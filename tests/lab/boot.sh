#!/bin/bash
# k8slab-boot: PID 1 of a lab node. Runs inside the node's fresh mount, UTS and PID namespaces
# (and its network namespace); builds the node's private view of the machine, then becomes sshd.
# Usage: boot.sh NODE_DIR HOSTNAME CGROUP(1|2)
set -euo pipefail
NODE_DIR=$1 NODE_HOSTNAME=$2 CGROUP=$3
S=/var/lib/lab

mount --make-rprivate /
hostname "$NODE_HOSTNAME"

# Private copies of everything a recipe may change; the host's directories are only the lower layers.
# /root, /home and /opt start empty instead: the host's dotfiles and tools have no place in a node.
mkdir -p "$NODE_DIR/empty"
for d in etc var usr opt root home; do
  lower=/$d
  case $d in root | home | opt) lower=$NODE_DIR/empty ;; esac
  mount -t overlay "k8slab-$d" -o "lowerdir=$lower,upperdir=$NODE_DIR/upper/$d,workdir=$NODE_DIR/work/$d" "/$d"
done
# Everything else of the host is read-only in here (this flag belongs to this namespace's mount only).
mount -o remount,bind,ro none /

# Users live in the node's private /etc; root logs in by key only.
usermod -p '*' root
useradd -M -d /home/ops -s /bin/bash -u 30001 -U -p '*' ops
useradd -M -d /home/ops2 -s /bin/bash -u 30002 -U -p "$(cat "$NODE_DIR/ops2.hash")" ops2

# The models set up their state (package database, units, kernel views) before the views are mounted.
/usr/local/sbin/k8slab init

# Fresh /run, /tmp, /dev/shm: the host's /run/systemd and /run/dbus are not reachable from a node.
mount -t tmpfs -o mode=755,size=64m k8slab-run /run
mkdir -p /run/sshd /run/lock /run/user && chmod 755 /run/sshd
mount -t tmpfs -o mode=1777,size=256m k8slab-tmp /tmp
# A private /dev with the harmless devices only: a recipe can never reach the host's disks.
mount -t tmpfs -o mode=755,size=1m,nosuid,noexec k8slab-dev /dev
mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 && mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8 && mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/tty c 5 0
ln -s /proc/self/fd /dev/fd && ln -s fd/0 /dev/stdin && ln -s fd/1 /dev/stdout && ln -s fd/2 /dev/stderr
mkdir /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec k8slab-pts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev k8slab-shm /dev/shm

# /proc of the node's PID namespace; its /proc/sys is read-only except the per-netns net/ subtree.
mount -t proc -o nosuid,nodev,noexec proc /proc
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro none /proc/sys
mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw none /proc/sys/net
for f in sysrq-trigger irq bus fs; do  # host-global knobs (sysrq-trigger could reboot the host)
  [ -e "/proc/$f" ] && mount --bind "/proc/$f" "/proc/$f" && mount -o remount,bind,ro none "/proc/$f"
done
[ -d /proc/sys/net/bridge ] && mount --bind "$S/proc/net-bridge" /proc/sys/net/bridge
mount --bind "$S/proc/swaps" /proc/swaps
mount --bind "$S/proc/meminfo" /proc/meminfo
[ -e /proc/modules ] && mount --bind "$S/proc/modules" /proc/modules

# /sys of the node's netns (its own /sys/class/net), read-only.
mount -t sysfs -o ro,nosuid,nodev,noexec k8slab-sys /sys
if [ "$CGROUP" = 2 ]; then
  mount -t cgroup2 -o nosuid,nodev,noexec k8slab-cgroup /sys/fs/cgroup
  mount -o remount,bind,ro none /sys/fs/cgroup
else
  # cgroup v1 layout: per-controller directories, no cgroup.controllers at the top.
  mount -t tmpfs -o mode=755,size=1m k8slab-cgroup /sys/fs/cgroup
  mkdir -p /sys/fs/cgroup/{cpu,cpuacct,cpuset,memory,devices,freezer,blkio,pids,systemd}
  mount -o remount,ro none /sys/fs/cgroup
fi
if [ -d /sys/class/dmi/id ]; then
  mount --bind "$S/sys/product_uuid" /sys/class/dmi/id/product_uuid
else
  # No DMI on this kernel: rebuild /sys/class on a tmpfs with the real classes bound back in.
  mkdir -p /run/k8slab-class && mount --bind /sys/class /run/k8slab-class
  mount -t tmpfs -o mode=755,size=1m k8slab-class /sys/class
  for entry in /run/k8slab-class/*; do
    mkdir "/sys/class/${entry##*/}" && mount --bind "$entry" "/sys/class/${entry##*/}"
  done
  mkdir -p /sys/class/dmi/id
  for f in product_uuid product_name sys_vendor; do
    touch "/sys/class/dmi/id/$f" && mount --bind "$S/sys/$f" "/sys/class/dmi/id/$f"
  done
  mount -o remount,ro none /sys/class
  umount /run/k8slab-class && rmdir /run/k8slab-class
fi

echo "k8slab: node $NODE_HOSTNAME ready"
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config
