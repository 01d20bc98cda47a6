#!/usr/bin/env bats
# docker.bats - Docker (Debian's docker.io 20.10: dockerd, its managed
# containerd and the runc v2 shim) with the runtime under test registered
# as a runtime of dockerd's (daemon.json "runtimes"). Every test runs its
# scenario twice in the same dockerd: with `--runtime runc` (Debian's
# runc) and with `--runtime sr` ($RUNTIME), and says which one failed:
# each must behave as runc does.
#
# setup_file starts a dockerd of our own: data root, exec root (where its
# containerd and the runtimes' --root live), socket, pidfile and
# daemon.json in $DK (a temporary directory); --iptables=false,
# --bridge=none and every container --network none, all in a network
# namespace of its own (unshare -n); a mount namespace with a tmpfs over
# /run, because containerd 1.6 puts its shims' sockets in /run/containerd
# whatever its configuration says. Containers' cgroups are under
# /$DKNAME (daemon.json "cgroup-parent"). The image is `docker import` of
# the shared busybox rootfs. teardown_file stops dockerd and removes all
# of it, even after a failure.
load helpers
bats_require_minimum_version 1.5.0

DOCKER=/usr/bin/docker # Debian's client, of dockerd's version
IMG=sr-busybox:bats

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	command -v dockerd >/dev/null && [ -x "$DOCKER" ] || return 0
	[ -x "$REPO/sandbox-runtime" ] && [ -x "$PAYLOAD" ] || return 0
	build_rootfs
	export DK DKNAME DKPID
	DK=$(mktemp -d /tmp/sr-docker.XXXXXX)
	DKNAME="sr-docker-${DK##*.}"
	jq -n --arg rt "$RUNTIME" --arg cg "/$DKNAME" \
		'{runtimes: {sr: {path: $rt}}, "cgroup-parent": $cg}' >"$DK/daemon.json"
	# Not bats's fd 3: bats would wait for dockerd to close it.
	unshare -n -m --propagation private sh -c \
		"mount -t tmpfs -o mode=755 sr-docker-run /run && ip link set lo up &&
		exec dockerd --config-file '$DK/daemon.json' --data-root '$DK/root' \
			--exec-root '$DK/exec' -H 'unix://$DK/docker.sock' -p '$DK/docker.pid' \
			--iptables=false --ip6tables=false --bridge=none" \
		</dev/null >"$DK/dockerd.log" 2>&1 3>&- &
	DKPID=$!
	local i
	for i in $(seq 300); do
		[ -S "$DK/docker.sock" ] && timeout 5 "$DOCKER" -H "unix://$DK/docker.sock" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! timeout 5 "$DOCKER" -H "unix://$DK/docker.sock" version >/dev/null 2>&1; then
		echo "dockerd did not start:" >&2
		cat "$DK/dockerd.log" >&2
		return 1
	fi
	tar -C "$BUILD/rootfs" -c . | d import -c 'ENV PATH=/bin' - "$IMG" >/dev/null
}

teardown_file() {
	[ -n "${DK:-}" ] && [ -d "$DK" ] || return 0
	d rm -f $(d ps -aq) >/dev/null 2>&1
	if [ -n "${DKPID:-}" ]; then
		kill "$DKPID" 2>/dev/null
		for i in $(seq 100); do kill -0 "$DKPID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$DKPID" 2>/dev/null
		wait "$DKPID" 2>/dev/null
	fi
	# containerd, shims and whatever else started with our paths.
	local p h
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$DK/"; then
			kill -9 "${p#/proc/}" 2>/dev/null
		fi
	done
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "$h$DKNAME" ] || continue
		for p in $(cat $(find "$h$DKNAME" -name cgroup.procs) 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		find "$h$DKNAME" -depth -type d -exec rmdir {} + 2>/dev/null ||
			{ sleep 0.5; find "$h$DKNAME" -depth -type d -exec rmdir {} + 2>/dev/null; }
	done
	awk -v dk="$DK/" 'index($5, dk) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r p; do umount -l "$p"; done
	rm -rf "$DK"
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ ! -d "$h$DKNAME" ] || fail "cgroup left: $h$DKNAME"
	done
}

setup() {
	requires root dockerd script
	[ -x "$DOCKER" ] || skip "requires Debian's docker.io"
	[ -n "${DK:-}" ] || fail "build first: make build payload"
}

teardown() {
	[ -n "${DK:-}" ] && d rm -f $(d ps -aq) >/dev/null 2>&1
	return 0
}

# d runs the docker client against our dockerd.
d() {
	timeout 60 "$DOCKER" -H "unix://$DK/docker.sock" "$@"
}

# both SCENARIO runs the function SCENARIO with $rt set to runc, then to
# sr (the runtime under test), and fails naming those it failed with.
both() {
	local failed=() rt
	for rt in runc sr; do
		echo "--- $1 with --runtime $rt"
		"$1" || failed+=("$rt")
	done
	[ ${#failed[@]} -eq 0 ] || fail "$1 failed with: ${failed[*]}"
}

# dr runs `docker run` with the runtime $rt, no network, the image.
dr() {
	local flags=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	shift
	d run --runtime "$rt" --network none "${flags[@]}" "$IMG" "$@"
}

# up [FLAGS...]: a detached `sleep` container of $rt; its id in $id.
up() {
	id=$(dr -d "$@" -- sleep 1000) && [ "$(d inspect -f '{{.State.Status}}' "$id")" = running ]
}

# expect WHAT GOT WANT
expect() {
	[ "$2" = "$3" ] || {
		echo "$1: got '$2', want '$3'"
		return 1
	}
}

# cg PID CONTROLLER FILE prints the file of PID's cgroup, read on the
# host: the v1 hierarchy of CONTROLLER, or the v2 one.
cg() {
	local path
	path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
	if [ -n "$path" ]; then
		cat "/sys/fs/cgroup/$2$path/$3"
	else
		path=$(awk -F: '$1 == 0 { print $3 }' "/proc/$1/cgroup")
		cat "/sys/fs/cgroup$path/$3"
	fi
}

@test "docker run: output and exit status" {
	s_run() {
		local out st
		# Two streams: their order in one file would be a race.
		out=$(dr --rm -- sh -c 'echo hello from docker; echo to stderr >&2; exit 3' 2>"$DK/stderr")
		st=$?
		expect status $st 3 && expect stdout "$out" "hello from docker" &&
			expect stderr "$(cat "$DK/stderr")" "to stderr"
	}
	both s_run
}

@test "docker run -t and -i" {
	s_tty() {
		local out
		# script(1) gives the client a terminal.
		out=$(timeout 60 script -qec "$DOCKER -H unix://$DK/docker.sock run --rm -t --runtime $rt --network none $IMG sh -c 'tty; echo \$TERM'" /dev/null </dev/null | tr -d '\r')
		expect -t "$out" $'/dev/pts/0\nxterm' || return 1
		out=$(printf 'line one\nline two\n' | dr --rm -i -- sh -c 'cat; tty')
		expect -i "$out" $'line one\nline two\nnot a tty'
	}
	both s_tty
}

@test "docker exec: output, exit status, -u, -e, a second process" {
	s_exec() {
		local id out
		up || return 1
		out=$(d exec "$id" sh -c 'echo in exec; exit 5')
		expect status $? 5 && expect output "$out" "in exec" || return 1
		out=$(d exec -u 1000:1000 -e FOO=bar "$id" sh -c 'id -u; id -g; echo $FOO')
		expect -u "$out" $'1000\n1000\nbar' || return 1
		out=$(echo piped | d exec -i "$id" cat)
		expect -i "$out" piped
	}
	both s_exec
}

@test "docker stop (SIGTERM handled) and docker kill" {
	s_stop() {
		local id
		id=$(dr -d -- sh -c 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done') || return 1
		# The trap is set once it has said so (before, TERM would be
		# lost on pid 1 and stop would kill it after 20 s).
		wait_for 30 sh -c "$DOCKER -H unix://$DK/docker.sock logs $id | grep -q ready" || return 1
		d stop -t 20 "$id" >/dev/null || return 1
		expect stop "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id")" "exited 7" || return 1
		up || return 1
		d kill "$id" >/dev/null || return 1
		wait_for 10 sh -c "[ \"\$($DOCKER -H unix://$DK/docker.sock inspect -f '{{.State.Status}}' $id)\" = exited ]" || return 1
		expect kill "$(d inspect -f '{{.State.ExitCode}}' "$id")" 137
	}
	both s_stop
}

@test "docker pause and unpause" {
	s_pause() {
		local id pid
		up || return 1
		pid=$(d inspect -f '{{.State.Pid}}' "$id")
		d pause "$id" >/dev/null || return 1
		expect status "$(d inspect -f '{{.State.Status}}' "$id")" paused || return 1
		# Frozen: the process sleeps in the freezer (state D or S, never R),
		# and the cgroup says so.
		local frozen
		frozen=$(cg "$pid" freezer freezer.state 2>/dev/null || cg "$pid" none cgroup.freeze)
		[[ "$frozen" == FROZEN || "$frozen" == 1 ]] || { echo "freezer: $frozen"; return 1; }
		d unpause "$id" >/dev/null || return 1
		expect status "$(d inspect -f '{{.State.Status}}' "$id")" running || return 1
		expect exec "$(d exec "$id" echo alive)" alive
	}
	both s_pause
}

@test "docker run --memory --cpus --pids-limit: in the container's cgroup" {
	s_limits() {
		local id pid
		up --memory 64m --cpus 0.5 --pids-limit 50 || return 1
		pid=$(d inspect -f '{{.State.Pid}}' "$id")
		if [ -n "$(awk -F: '$2 ~ /memory/' "/proc/$pid/cgroup")" ]; then
			expect memory "$(cg "$pid" memory memory.limit_in_bytes)" 67108864 &&
				expect cpu "$(cg "$pid" cpu cpu.cfs_quota_us)/$(cg "$pid" cpu cpu.cfs_period_us)" 50000/100000 &&
				expect pids "$(cg "$pid" pids pids.max)" 50
		else
			expect memory "$(cg "$pid" none memory.max)" 67108864 &&
				expect cpu "$(cg "$pid" none cpu.max)" "50000 100000" &&
				expect pids "$(cg "$pid" none pids.max)" 50
		fi || return 1
		# What docker reads back (stats: the memory limit).
		expect stats "$(d stats --no-stream --format '{{.MemUsage}}' "$id" | sed 's|.* / ||')" 64MiB
	}
	both s_limits
}

@test "docker run --read-only, --cap-drop ALL, --user" {
	s_sec() {
		local out
		out=$(dr --rm --read-only -- sh -c 'touch /x 2>&1; echo $?; touch /tmp/x 2>&1; echo $?')
		expect --read-only "$out" $'touch: /x: Read-only file system\n1\ntouch: /tmp/x: Read-only file system\n1' || return 1
		out=$(dr --rm --read-only --tmpfs /tmp -- sh -c 'touch /tmp/x && echo ok')
		expect "--read-only --tmpfs" "$out" ok || return 1
		out=$(dr --rm --cap-drop ALL -- sh -c 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status; chown 1000 /tmp 2>&1')
		expect "--cap-drop ALL" "$(echo "$out" | tr -s '\t ' ' ')" \
			$'CapPrm: 0000000000000000\nCapEff: 0000000000000000\nCapBnd: 0000000000000000\nchown: /tmp: Operation not permitted' || return 1
		out=$(dr --rm --user 1000:1000 -- sh -c 'id -u; id -g; grep CapEff /proc/self/status | tr -d "\t"')
		expect --user "$out" $'1000\n1000\nCapEff:0000000000000000' || return 1
		out=$(dr --rm --user nobody -- id -u)
		expect "--user nobody" "$out" 65534
	}
	both s_sec
}

@test "docker run --restart on-failure:2" {
	s_restart() {
		local id
		id=$(dr -d --restart on-failure:2 -- sh -c 'exit 1') || return 1
		# Two restarts, then it stays exited (docker's back-off: 100 ms, 200 ms).
		wait_for 30 sh -c "[ \"\$($DOCKER -H unix://$DK/docker.sock inspect -f '{{.RestartCount}} {{.State.Status}}' $id)\" = '2 exited' ]" || {
			echo "restart: $(d inspect -f '{{.RestartCount}} {{.State.Status}}' "$id")"
			return 1
		}
		expect "exit code" "$(d inspect -f '{{.State.ExitCode}}' "$id")" 1
	}
	both s_restart
}

@test "docker top and docker stats --no-stream" {
	s_top() {
		local id out
		id=$(dr -d -- sh -c 'sleep 1000 & sleep 999 & wait') || return 1
		# Both sleeps, once sh has started them.
		wait_for 30 sh -c "$DOCKER -H unix://$DK/docker.sock top $id -o pid,args | grep -q 'sleep 1000' &&
			$DOCKER -H unix://$DK/docker.sock top $id -o pid,args | grep -q 'sleep 999'" || return 1
		out=$(d top "$id" -o pid,args)
		echo "$out"
		[[ "$out" == *"sleep 1000"* && "$out" == *"sleep 999"* ]] || return 1
		# PIDS counts the container's three processes; MEM USAGE is read.
		out=$(d stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' "$id")
		echo "$out"
		[[ "$out" =~ ^[a-z_]+\ 3\ [0-9.]+[KMG]iB\ /\  ]]
	}
	both s_top
}

# Docker 20.10 gives every runtime of the runc shim one --root,
# <exec-root>/runtime-runc/moby: runc's containers and ours keep their
# state side by side, and neither runtime may take the other's for its
# own (a delete of it would remove runc's state of a running container).
@test "docker: runc's and sr's containers share one --root; each runtime sees only its own" {
	local rid sid root=$DK/exec/runtime-runc/moby
	rt=runc
	up || return 1
	rid=$id
	rt=sr
	up || return 1
	sid=$id
	[ -f "$root/$rid/state.json" ] && [ -f "$root/$sid/state.json" ]
	run "$RUNTIME" --root "$root" list -q
	echo "$output"
	[ "$status" -eq 0 ]
	if is_sandbox; then
		[ "$output" = "$sid" ]
		run "$RUNTIME" --root "$root" delete "$rid"
		echo "$output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"container does not exist"* ]]
		# --force: nothing to do, as for any unknown id (runc too).
		run "$RUNTIME" --root "$root" delete --force "$rid"
		[ "$status" -eq 0 ]
		[ -f "$root/$rid/state.json" ]
		[ "$(runc --root "$root" state "$rid" | jq -r .status)" = running ]
	else
		[ "$output" = "$(printf '%s\n' "$rid" "$sid" | sort)" ]
	fi
	[ "$(d inspect -f '{{.State.Status}}' "$rid")" = running ]
	d stop -t 1 "$rid" "$sid" >/dev/null
}
