#!/bin/bash
# tests/vm/run.sh - run a command inside a throw-away QEMU VM whose cgroups
# are pure v2 (booted with cgroup_no_v1=all, every controller enabled),
# for testing the v2 driver on hosts that are v1 or hybrid.
#
#   tests/vm/run.sh [--systemd] [--mem MB] [--cpus N] [--timeout SEC] [--cgroups hybrid] -- CMD [ARGS...]
#
# --cgroups hybrid boots it with the v1 controllers instead, each on its
# own hierarchy, and an empty cgroup2 one at /sys/fs/cgroup/unified, as a
# systemd host in hybrid mode has them (checkpoint.bats's v1 runs).
#
# --systemd boots a systemd host instead: systemd as pid 1 (with
# systemd.unified_cgroup_hierarchy=1, so pure v2 as well), the system
# D-Bus, and CMD run by a oneshot unit (Wants/After basic.target and
# dbus.socket) that powers the VM off when it ends; what the systemd
# cgroup driver and clients in their default configuration need
# (--systemd-cgroup, podman's cgroup_manager=systemd, containerd's
# SystemdCgroup). It costs the boot: ~30-40 s under TCG on the project's
# machines for the boot, a small job and the power-off, against ~10 s for
# the plain VM, whose job runs from a shell as pid 1.
#
# The guest's / is the host's / (9p, read-only) under a tmpfs overlay, so
# the host's binaries and packages are there and nothing the guest writes
# reaches the host, except the current directory, which is shared
# read-write at the same path. CMD runs as root in that directory with
# stdin from /dev/null; its output comes back on our stdout/stderr and
# its exit status is ours (124: timeout, 125: the VM itself failed, or
# its kernel locked up twice: see the end of this script).
#
# QEMU runs under TCG (no KVM on the project's machines): the CPU is ~13x
# slower, so build on the host and run only tests inside.
# Packages (installed with apt-get when missing): qemu-system-x86,
# linux-image-amd64, busybox-static, kmod; with --systemd also systemd and
# dbus (the guest's / is the host's, so they are installed on the host).
set -euo pipefail
die() { echo "vm: $*" >&2; exit 125; }

mem=2048 cpus=$(nproc) timeout_s=2400 cgroups=v2 systemd=
while (($#)); do
	case $1 in
	--systemd) systemd=1; shift ;;
	--mem) mem=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--cgroups) cgroups=$2; shift 2 ;;
	--) shift; break ;;
	*) die "unknown option $1 (put -- before the command)" ;;
	esac
done
(($#)) || die "no command"
[ -z "$systemd" ] || [ "$cgroups" = v2 ] || die "--systemd boots pure cgroup v2 only"
# How stage2 mounts the cgroups, and the kernel's cgroup option.
case $cgroups in
v2)
	cgcmdline=cgroup_no_v1=all
	cgmount='mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo +$c >/sys/fs/cgroup/cgroup.subtree_control; done' ;;
hybrid)
	cgcmdline=
	cgmount='mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
for c in cpuset cpu,cpuacct blkio memory devices freezer net_cls,net_prio perf_event hugetlb pids rdma misc; do
	mkdir /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c 2>/dev/null || rmdir /sys/fs/cgroup/$c
done
mkdir /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified' ;;
*) die "--cgroups: v2 or hybrid, not $cgroups" ;;
esac
((cpus > 8)) && cpus=8
[ "$(id -u)" = 0 ] || die "must run as root (9p passthrough keeps file ownership)"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v modprobe >/dev/null || need+=(kmod)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ -n "$systemd" ]; then
	[ -x /lib/systemd/systemd ] || need+=(systemd)
	[ -x /usr/bin/dbus-daemon ] || need+=(dbus)
fi
kernel() { ls -1 /boot/vmlinuz-* 2>/dev/null | sort -rV | while read -r k; do
	[ -d "/lib/modules/${k#/boot/vmlinuz-}/kernel/fs/9p" ] && { echo "$k"; break; }; done; }
[ -n "$(kernel)" ] || need+=(linux-image-amd64)
if ((${#need[@]})); then
	echo "vm: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; } ||
		die "apt-get install ${need[*]} failed"
fi
vmlinuz=$(kernel)
[ -n "$vmlinuz" ] || die "no kernel with 9p modules in /boot"
kver=${vmlinuz#/boot/vmlinuz-}

# The initramfs is cached per kernel: busybox, the modules that mount the
# 9p root, and a two-stage init (mount root, then run the job).
cache=${SANDBOX_VM_CACHE:-/var/cache/sandbox-runtime-vm}
mkdir -p "$cache"
initrd=$cache/initrd-$kver-$(sha256sum "$0" | cut -c1-12).gz
if [ ! -s "$initrd" ]; then
	b=$(mktemp -d)
	mkdir -p "$b"/{bin,dev,proc,sys,mods,lower,rw,newroot,job}
	cp /bin/busybox "$b/bin/busybox"
	for m in virtio_pci 9pnet_virtio 9p overlay virtio_console; do
		modprobe -S "$kver" --show-depends "$m" 2>/dev/null
	done | awk '$1 == "insmod" {print $2}' | awk '!seen[$0]++' | while read -r ko; do
		n=$(basename "${ko%.xz}"); n=${n%.zst}
		case $ko in
		*.xz) xz -dc "$ko" >"$b/mods/$n" ;;
		*.zst) zstd -dcq "$ko" >"$b/mods/$n" ;;
		*) cp "$ko" "$b/mods/$n" ;;
		esac
		echo "$n" >>"$b/mods/order"
	done
	[ -s "$b/mods/order" ] || die "could not resolve the 9p modules of $kver"
	cat >"$b/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t devtmpfs dev /dev; mount -t sysfs sys /sys
exec </dev/null >/dev/console 2>&1
for m in $(cat /mods/order); do insmod /mods/$m; done
o=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $o,ro,cache=loose host /lower || { echo "vm: mount host failed"; poweroff -f; }
mount -t 9p -o $o job /job
mount -t tmpfs -o mode=755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work root /newroot
mount -t tmpfs -o mode=755 run /newroot/run
mkdir -p /newroot/run/job; mount --move /job /newroot/run/job
# stage2 mounts /proc, /sys and /dev afresh on the real root
umount /sys; umount /proc
exec switch_root /newroot /bin/bash /run/job/stage2
INIT
	chmod 755 "$b/init"
	(cd "$b" && find . | cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$b"
fi

run=$(mktemp -d /tmp/sandbox-vm.XXXXXX)
qpid=
cleanup() {
	local rc=$?
	[ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$run"
	# initramfs images of older versions of this script
	find "$cache" -name "initrd-*" ! -name "${initrd##*/}" -delete 2>/dev/null
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$run/job"
: >"$run/stdout"
: >"$run/stderr"
cwd=$(pwd -P)
# The job: CMD in the shared directory, its output on the virtio ports
# (not the console, which the kernel and systemd write to), its status in
# /run/job/rc.
cat >"$run/job/job" <<EOF
#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin
out=/dev/null err=/dev/null
for p in /sys/class/virtio-ports/*; do
	case \$(cat \$p/name) in
	vm.stdout) out=/dev/\${p##*/} ;;
	vm.stderr) err=/dev/\${p##*/} ;;
	esac
done
cd $(printf %q "$cwd")
$(printf ' %q' "$@") </dev/null >\$out 2>\$err
echo \$? >/run/job/rc
sync
EOF
chmod +x "$run/job/job"
# quiet keeps systemd's status off the console; loglevel=5 after it
# still lets the kernel's stack dumps (KERN_DEFAULT) through, so that a
# lockup or an oops leaves its stacks in the console (lockup_report).
cmdline="console=ttyS0 quiet loglevel=5 softlockup_all_cpu_backtrace=1 panic=-1 pci=noacpi $cgcmdline mitigations=off tsc=reliable no_timer_check"
if [ -n "$systemd" ]; then
	cmdline+=" systemd.unified_cgroup_hierarchy=1"
	# stage2 hands the real root to systemd, which mounts /proc, /sys,
	# /dev and the cgroup2 hierarchy itself and starts only the job's
	# unit and what it needs. The unit is in /run/systemd/system, whose
	# presence is also what tells a systemd host (sd_booted).
	cat >"$run/job/stage2" <<EOF
mount -t proc proc /proc
mkdir -p /run/systemd/system
printf '%s\n' '[Unit]' 'Description=sandbox-runtime VM job' \
	'Wants=basic.target dbus.socket' 'After=basic.target dbus.socket' \
	'[Service]' 'Type=oneshot' 'TimeoutStartSec=infinity' 'ExecStart=/run/job/job' \
	'ExecStopPost=/bin/systemctl poweroff -ff' >/run/systemd/system/sr-job.service
umount /proc
mkdir -p $(printf %q "$cwd")
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=mmap cwd $(printf %q "$cwd")
exec /lib/systemd/systemd --unit=sr-job.service --log-target=console --show-status=0
EOF
else
	# stage2: pid 1 on the real root. A pure v2 hierarchy with every
	# controller delegated from the root, what a systemd host gives.
	cat >"$run/job/stage2" <<EOF
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/null >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
ln -sf /proc/self/fd /dev/fd
mount -t tmpfs tmp /tmp -o mode=1777
$cgmount
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
ip link set lo up 2>/dev/null
# A small RAM disk: the guest has no block device otherwise, and the
# blockIO tests need one.
modprobe brd rd_nr=1 rd_size=8192 max_part=0 2>/dev/null
hostname sandbox-vm
mkdir -p $(printf %q "$cwd")
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=mmap cwd $(printf %q "$cwd")
/run/job/job
poweroff -f
EOF
fi

# multidevs=remap: the host / spans several filesystems whose inode
# numbers collide (/proc and /sys are both inode 1); remap keeps them apart.
fs() { echo "-fsdev local,id=$1,path=$2,security_model=$3,multidevs=remap$4 -device virtio-9p-pci,fsdev=$1,mount_tag=$1"; }

# The guest kernel's own reports of a CPU that stopped making progress
# (soft lockups, RCU stalls), with the stacks loglevel=5 lets through,
# from the first one on: what a hang leaves to read.
lockup_report() {
	local first
	first=$(grep -a -n -m1 -E 'soft lockup|rcu: INFO|kthread starved|self-detected stall' "$run/console" | cut -d: -f1)
	[ -n "$first" ] || return 1
	tail -n "+$first" "$run/console" | head -n 300 >&2
}

# A guest CPU that has been stuck in the kernel for lockup_s: the kernel
# reports a soft lockup every ~25 s while one lasts (watchdog_thresh 10,
# reported at twice that), so a report of >= lockup_s seconds means the
# same CPU made no progress all that time. Seen once in the project's CI
# (stop 35, Debian's 6.1 guest kernel under multi-threaded TCG): CPU 1
# stuck for 2098 s in a sandbox-runtime process until the 2400 s timeout,
# with no stack printed (the guest booted with quiet). Rather than wait
# for the timeout, end the VM and say so.
lockup_s=${VM_LOCKUP_SECONDS:-240}
watch_lockup() {
	local s
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 2
		s=$(grep -a -o -E 'soft lockup - CPU#[0-9]+ stuck for [0-9]+s' "$run/console" | tail -n 1 | grep -o -E '[0-9]+s$' | tr -d s) || true
		if [ -n "$s" ] && ((s >= lockup_s)); then
			echo "$s" >"$run/lockup"
			kill "$qpid" 2>/dev/null
			return
		fi
	done
}

# One boot of the VM running the job; its status is left in qrc.
boot() {
	: >"$run/stdout"
	: >"$run/stderr"
	: >"$run/console"
	rm -f "$run/job/rc" "$run/lockup"
	# shellcheck disable=SC2046
	timeout -k 5 "$timeout_s" qemu-system-x86_64 -M pc -accel tcg,thread=multi -cpu max \
		-m "$mem" -smp "$cpus" -nodefaults -no-user-config -display none -no-reboot \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "$cmdline" \
		-serial "file:$run/console" \
		$(fs host / none ,readonly=on) $(fs job "$run/job" passthrough "") $(fs cwd "$cwd" passthrough "") \
		-device virtio-serial-pci \
		-chardev "file,id=o,path=$run/stdout" -device virtserialport,chardev=o,name=vm.stdout \
		-chardev "file,id=e,path=$run/stderr" -device virtserialport,chardev=e,name=vm.stderr \
		</dev/null >"$run/qemu.log" 2>&1 &
	qpid=$!
	# Stream the guest's output while it runs (a long test run shows its
	# progress, and a timeout still shows how far it got).
	tail -q -s 0.2 -c +1 -f --pid="$qpid" "$run/stdout" &
	tpids=$!
	tail -q -s 0.2 -c +1 -f --pid="$qpid" "$run/stderr" >&2 &
	tpids="$tpids $!"
	watch_lockup &
	wpid=$!
	qrc=0
	wait "$qpid" || qrc=$?
	qpid=
	kill "$wpid" 2>/dev/null || true
	# shellcheck disable=SC2086
	wait $tpids 2>/dev/null
	[ -n "${VM_DEBUG:-}" ] && cat "$run/console" >&2
	return 0
}

# A guest kernel that locks up is the emulator's or the guest kernel's
# failure, not the command's: boot a fresh VM and run the command once
# more (VM_LOCKUP_RETRIES), saying so and printing the kernel's report,
# so that a runtime that really hangs the kernel still shows, and fails
# again. A command that fails or times out is never run again.
retries=${VM_LOCKUP_RETRIES:-1}
for ((attempt = 0; ; attempt++)); do
	boot
	# A command that had ended (its status written) is never run again,
	# even if the kernel locked up after it: its status stands.
	[ -s "$run/lockup" ] && [ ! -s "$run/job/rc" ] || break
	echo "vm: the guest kernel locked up: a CPU made no progress for $(cat "$run/lockup")s; its report:" >&2
	lockup_report || tail -n 20 "$run/console" >&2
	((attempt < retries)) || exit 125
	echo "vm: booting a fresh VM to run the command again (after a guest kernel lockup, not a failure of the command)" >&2
done
if [ -s "$run/job/rc" ]; then
	exit "$(cat "$run/job/rc")"
fi
if ((qrc == 124)); then
	echo "vm: timed out after ${timeout_s}s" >&2
	lockup_report || tail -n 5 "$run/console" >&2
	exit 124
fi
echo "vm: the VM ended without an exit status (qemu $qrc)" >&2
tail -n 20 "$run/console" "$run/qemu.log" >&2
exit 125
