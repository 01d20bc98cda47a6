#!/usr/bin/env bats
# rootless-clients.bats - rootless podman and containerd's rootless mode
# (containerd in rootlesskit's user namespace) with the runtime under
# test, run by the unprivileged test user ($RL_USER, helpers.bash). Both
# run the runtime as root of a user namespace they made with
# newuidmap: uid 0 is the user, 1-65536 its subordinate ids. On a v1 or
# hybrid host neither gives the container a cgroup (podman passes none;
# ctr is told to: --cgroup "").
#
# Everything the clients, their helpers and the runtime write lives under
# $PM (a temporary directory of the user's): storage, XDG_RUNTIME_DIR
# (the runtime's default state root is $PM/xdg/sandbox-runtime), HOME.
# teardown kills every process with that XDG_RUNTIME_DIR (podman's pause
# process, conmon, slirp4netns, rootlesskit and containerd) and removes it.
load helpers
bats_require_minimum_version 1.5.0

setup() {
	rootless_user
	[ -x "$REPO/sandbox-runtime" ] || fail "build first: make build payload"
	build_rootfs
	PM=$(mktemp -d /tmp/sr-rlc.XXXXXX)
	chmod 755 "$PM"
	mkdir -p "$PM"/{xdg,home,root,runroot,tmp,fifo,runc,cd}
	# The user's own copy of the rootfs: its root is the user.
	RFS=$PM/rootfs
	cp -a "$BUILD/rootfs" "$RFS"
	chown -R "$RL_UID:$RL_GID" "$PM"
	chmod 700 "$PM/xdg"
	RL_XDG=$PM/xdg
	RL_HOME=$PM/home
	# The runtime's default root, and what must be empty after each test.
	ROOT=$PM/xdg/sandbox-runtime
}

teardown() {
	[ -n "${PM:-}" ] && [ -d "$PM" ] || return 0
	local p
	[ -n "${PODMAN:-}" ] && pm rm -af -t 0 >/dev/null 2>&1
	for p in $(grep -lsaxzF "XDG_RUNTIME_DIR=$PM/xdg" /proc/[0-9]*/environ | cut -d/ -f3); do
		kill -9 "$p" 2>/dev/null
	done
	awk -v pm="$PM/" 'index($5, pm) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r p; do umount -l "$p"; done
	rm -rf "$PM"
}

# user_pids prints the pids of processes with our XDG_RUNTIME_DIR: what
# the clients and the runtime started.
user_pids() {
	grep -lsaxzF "XDG_RUNTIME_DIR=$PM/xdg" /proc/[0-9]*/environ | cut -d/ -f3 | sort -n
}

# --- podman ---

setup_podman() {
	requires podman conmon
	PODMAN=1
	cat >"$PM/containers.conf" <<-EOF
		[containers]
		log_driver = "k8s-file"
		default_ulimits = ["nofile=1024:1024"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$PM/events.log"
		tmp_dir = "$PM/tmp"
		lock_type = "file"
		conmon_path = ["$(command -v conmon)"]
		runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "sandbox-runtime"]
	EOF
	cat >"$PM/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		runroot = "$PM/runroot"
		graphroot = "$PM/root"
	EOF
	echo 'unqualified-search-registries = []' >"$PM/registries.conf"
	chown "$RL_UID:$RL_GID" "$PM"/*.conf

	# podman as the user, with our runtime and configuration; usable by
	# script(1) too.
	cat >"$PM/podman" <<-EOF
		#!/bin/sh
		exec setpriv --reuid=$RL_UID --regid=$RL_GID --init-groups env -i \\
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
			HOME=$PM/home USER=$RL_USER LOGNAME=$RL_USER XDG_RUNTIME_DIR=$PM/xdg \\
			CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf \\
			CONTAINERS_REGISTRIES_CONF=$PM/registries.conf \\
			XDG_CONFIG_HOME=$PM/home/.config XDG_DATA_HOME=$PM/home/.local/share \\
			podman --runtime "$RUNTIME" --root $PM/root --runroot $PM/runroot --tmpdir $PM/tmp \\
			--cgroup-manager cgroupfs --events-backend file --storage-driver vfs "\$@"
	EOF
	chmod 755 "$PM/podman"
}

# pm runs podman as the user; nothing may hang a test.
pm() {
	timeout 60 "$PM/podman" "$@"
}

# podman_done checks that the runtime kept nothing of the containers.
podman_done() {
	[ -z "$(root_state "$ROOT")" ] || fail "runtime state left: $(root_state "$ROOT")"
	run pm ps -aq
	[ -z "$output" ] || fail "containers left: $output"
}

@test "rootless podman run --network none: output, exit status, podman's user namespace" {
	setup_podman
	# (podman warns on stderr that / is not a shared mount)
	run --separate-stderr pm run --rm --network none --rootfs "$RFS" sh -c 'id -u; cat /proc/self/uid_map; exit 3'
	echo "$output $stderr"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = 0 ]
	[ "$(echo "${lines[1]}" | awk '{ print $1, $2, $3 }')" = "0 $RL_UID 1" ]
	[ "$(echo "${lines[2]}" | awk '{ print $1, $2, $3 }')" = "1 $RL_SUBUID 65536" ]
	podman_done
}

@test "rootless podman exec: output, exit status, a tty; rm -f leaves nothing" {
	requires script
	setup_podman
	run pm run -d --name c1 --network none --rootfs "$RFS" sleep infinity
	echo "$output"
	[ "$status" -eq 0 ]
	run --separate-stderr pm exec c1 sh -c 'echo exec-ok; cat /proc/1/cmdline; exit 5'
	echo "$output $stderr"
	[ "$status" -eq 5 ]
	[ "${lines[0]}" = exec-ok ]
	[[ "${lines[1]}" == sleep* ]]
	run -127 pm exec c1 /no/such/binary
	[ "$status" -eq 127 ]
	run timeout 60 script -qec "$PM/podman exec -t c1 sh -c 'tty; exit 4'" /dev/null
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"/dev/pts/"* ]]
	pid=$(pm inspect -f '{{.State.Pid}}' c1)
	[ "$(stat -c %u /proc/$pid)" = "$RL_UID" ]
	run pm rm -f -t 0 c1
	[ "$status" -eq 0 ]
	! kill -0 "$pid" 2>/dev/null
	podman_done
}

@test "rootless podman run with its default network: slirp4netns" {
	requires slirp4netns
	setup_podman
	# slirp4netns opens /dev/net/tun as the user. A host with udev has
	# it 0666 (Debian's rule); without udev the kernel leaves it 0600,
	# and no rootless network can be made: not ours to change.
	as_user sh -c ': <>/dev/net/tun' 2>/dev/null ||
		skip "requires /dev/net/tun usable by $RL_USER (mode $(stat -c %a /dev/net/tun) here: no udev)"
	run --separate-stderr pm run --rm --rootfs "$RFS" sh -c 'ip -o -4 addr show; ip route'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"tap0"*"inet 10.0.2.100/24"* ]]
	[[ "$output" == *"default via 10.0.2.2 dev tap0"* ]]
	podman_done
}

# --- containerd in rootlesskit ---

@test "rootless containerd (rootlesskit): ctr run, exec, ps, kill, delete" {
	requires containerd ctr rootlesskit
	cat >"$PM/cd/config.toml" <<-EOF
		version = 2
		root = "$PM/cd/root"
		state = "$PM/cd/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$PM/cd/containerd.sock"
		[ttrpc]
		  address = "$PM/cd/containerd.sock.ttrpc"
		[debug]
		  address = ""
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$PM/cd/opt"
	EOF
	chown -R "$RL_UID:$RL_GID" "$PM/cd"
	# As containerd-rootless.sh does: containerd as root of rootlesskit's
	# user namespace, with a private /run (where containerd 1.6 puts the
	# shims' sockets whatever its configuration says). The host's
	# network: the containers get network namespaces of their own.
	as_user rootlesskit --net=host --copy-up=/etc --copy-up=/run --state-dir="$PM/cd/rk" \
		sh -c 'rm -rf /run/containerd && mkdir /run/containerd && exec containerd --config "$1"' - "$PM/cd/config.toml" \
		</dev/null >"$PM/cd/log" 2>&1 3>&- &
	wait_for 10 as_user ctr --address "$PM/cd/containerd.sock" version ||
		{ cat "$PM/cd/log"; false; }
	c() { as_user timeout 60 ctr --address "$PM/cd/containerd.sock" -n rl "$@"; }
	# No cgroup: ctr's default cpu shares (1024) are a limit too, which
	# without a cgroup is refused, as runc does.
	local run=(run --runtime io.containerd.runc.v2 --runc-binary "$RUNTIME" --runc-root "$PM/runc"
		--fifo-dir "$PM/fifo" --cgroup "" --cpu-shares 0)
	run c "${run[@]}" --rootfs "$RFS" r1 sh -c 'cat /proc/self/uid_map; exit 6'
	echo "$output"
	[ "$status" -eq 6 ]
	[ "$(echo "${lines[0]}" | awk '{ print $1, $2, $3 }')" = "0 $RL_UID 1" ]
	run c "${run[@]}" -d --rootfs "$RFS" r2 sleep infinity
	[ "$status" -eq 0 ]
	run c task exec --fifo-dir "$PM/fifo" --exec-id e1 r2 sh -c 'echo exec-ok; exit 3'
	echo "$output"
	[ "$status" -eq 3 ]
	[ "$output" = exec-ok ]
	run c task ps r2
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	run c task kill -s SIGKILL r2
	[ "$status" -eq 0 ]
	wait_for 10 eval 'c task ls | grep -q "r2 .*STOPPED"'
	run c task delete r2
	[ "$status" -eq 0 ]
	c container delete r1 r2
	[ -z "$(ls -A "$PM/runc/rl" 2>/dev/null)" ] || fail "runtime state left: $(ls -A "$PM/runc/rl")"
}
