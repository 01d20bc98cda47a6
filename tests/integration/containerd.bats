#!/usr/bin/env bats
# containerd.bats - containerd 1.6 and its runc v2 shim with the runtime
# under test as the shim's runc binary: `ctr run --runtime
# io.containerd.runc.v2 --runc-binary $RUNTIME`. RUNTIME=/usr/sbin/runc
# runs the same scenarios against runc.
#
# setup_file starts a containerd of our own: its config file, root, state
# and sockets in $CD (a temporary directory), no CRI plugin. The shims put
# their sockets in /run/containerd/s whatever the configuration says
# (containerd 1.6 hard-codes it), so containerd runs in a mount namespace
# of its own with a tmpfs over /run: nothing reaches the host's
# /run/containerd. The runtime's state is under $CD/runc (--runc-root),
# the cgroups under /$NS (the containerd namespace, unique to this run).
# teardown_file stops containerd and removes all of it, even after a
# failure.
load helpers
bats_require_minimum_version 1.5.0

# containerd's default locations; none may appear.
CONTAINERD_DEFAULTS=(/var/lib/containerd /run/containerd /opt/containerd)

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	command -v containerd >/dev/null && command -v ctr >/dev/null || return 0
	[ -x "$REPO/sandbox-runtime" ] && [ -x "$PAYLOAD" ] || return 0
	build_rootfs
	export CD NS CDPID
	CD=$(mktemp -d /tmp/sr-ctd.XXXXXX)
	NS="sr-test-${CD##*.}"
	mkdir -p "$CD"/{root,state,fifo,runc,opt}
	# A copy of the rootfs: the runtime makes missing mount points in it.
	cp -a "$BUILD/rootfs" "$CD/rootfs"
	cat >"$CD/config.toml" <<-EOF
		version = 2
		root = "$CD/root"
		state = "$CD/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$CD/containerd.sock"
		[ttrpc]
		  address = "$CD/containerd.sock.ttrpc"
		[debug]
		  address = ""
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$CD/opt"
	EOF
	ls -d "${CONTAINERD_DEFAULTS[@]}" >"$CD/defaults-before" 2>/dev/null || true
	# Not bats's fd 3: bats would wait for containerd to close it.
	unshare -m --propagation private sh -c \
		"mount -t tmpfs -o mode=755 sr-containerd-run /run && exec containerd --config '$CD/config.toml'" \
		</dev/null >"$CD/containerd.log" 2>&1 3>&- &
	CDPID=$!
	local i
	for i in $(seq 100); do
		[ -S "$CD/containerd.sock" ] && timeout 5 ctr --address "$CD/containerd.sock" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "containerd did not start:" >&2
	cat "$CD/containerd.log" >&2
	return 1
}

teardown_file() {
	[ -n "${CD:-}" ] && [ -d "$CD" ] || return 0
	delete_all
	if [ -n "${CDPID:-}" ]; then
		kill "$CDPID" 2>/dev/null
		for i in $(seq 50); do kill -0 "$CDPID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$CDPID" 2>/dev/null
		wait "$CDPID" 2>/dev/null
	fi
	# Shims (and whatever else) started with our address or paths.
	local p h
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$CD/"; then
			kill -9 "${p#/proc/}" 2>/dev/null
		fi
	done
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "$h$NS" ] || continue
		for p in $(cat $(find "$h$NS" -name cgroup.procs) 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		find "$h$NS" -depth -type d -exec rmdir {} + 2>/dev/null ||
			{ sleep 0.5; find "$h$NS" -depth -type d -exec rmdir {} + 2>/dev/null; }
	done
	awk -v cd="$CD/" 'index($5, cd) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r p; do umount -l "$p"; done
	local before
	before=$(cat "$CD/defaults-before")
	rm -rf "$CD"
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ ! -d "$h$NS" ] || fail "cgroup left: $h$NS"
	done
	[ "$(ls -d "${CONTAINERD_DEFAULTS[@]}" 2>/dev/null || true)" = "$before" ] ||
		fail "containerd wrote to a default location: $(ls -d "${CONTAINERD_DEFAULTS[@]}" 2>/dev/null)"
}

setup() {
	requires root containerd ctr script
	[ -n "${CD:-}" ] || fail "build first: make build payload"
	RFS="$CD/rootfs"
}

# Every test leaves no task nor container behind.
teardown() {
	[ -n "${CD:-}" ] && delete_all
	return 0
}

delete_all() {
	local id
	for id in $(c task ls -q 2>/dev/null); do
		c task kill -a -s SIGKILL "$id" >/dev/null 2>&1
		c task delete --force "$id" >/dev/null 2>&1
	done
	for id in $(c container ls -q 2>/dev/null); do
		c task delete --force "$id" >/dev/null 2>&1
		c container delete "$id" >/dev/null 2>&1
	done
	for id in $("$RUNTIME" --root "$CD/runc/$NS" list -q 2>/dev/null); do
		"$RUNTIME" --root "$CD/runc/$NS" delete --force "$id" >/dev/null 2>&1
	done
}

# c runs ctr against our containerd, in our namespace.
c() {
	timeout 60 ctr --address "$CD/containerd.sock" --namespace "$NS" "$@"
}

# c_run ID [ctr run flags...] -- ARGS... runs `ctr run` with the runtime
# under test, the container in cgroup /$NS/ID, the shared rootfs.
c_run() {
	local id=$1 flags=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	shift
	c run --runtime io.containerd.runc.v2 --runc-binary "$RUNTIME" --runc-root "$CD/runc" \
		--fifo-dir "$CD/fifo" --cgroup "/$NS/$id" "${flags[@]}" --rootfs "$RFS" "$id" "$@"
}

# c_start ID ARGS... starts a detached task.
c_start() {
	local id=$1
	shift
	c_run "$id" -d -- "$@" </dev/null >/dev/null 2>&1
	[ "$(task_status "$id")" = RUNNING ]
}

c_tty() {
	local cmd="ctr --address $CD/containerd.sock --namespace $NS" a
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	timeout 60 script -qec "$cmd" /dev/null
}

c_exec() {
	c task exec --fifo-dir "$CD/fifo" "$@"
}

# task_status ID prints ctr's STATUS column for the task.
task_status() {
	c task ls | awk -v id="$1" '$1 == id { print $3 }'
}

# wait_task ID STATUS waits up to SR_TIMEOUT seconds (default 20).
wait_task() {
	local i
	for i in $(seq $((${SR_TIMEOUT:-20} * 10))); do
		[ "$(task_status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "task $1: $(task_status "$1"), want $2"
}

# rt runs the runtime on the shim's state directory for our namespace.
rt() {
	"$RUNTIME" --root "$CD/runc/$NS" "$@"
}

@test "ctr run: the process's output and exit status; nothing left after --rm" {
	run c_run t1 --rm -- /bin/sh -c 'echo hello from containerd; exit 3'
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"hello from containerd"* ]]
	run c container ls -q
	[ -z "$output" ]
	run rt state t1
	[ "$status" -ne 0 ]
	[ ! -d "/sys/fs/cgroup/memory/$NS/t1" ]
	[ ! -d "/sys/fs/cgroup/$NS/t1" ]
}

@test "ctr run: a create error reaches ctr from the runtime's log.json" {
	run c_run t1 --rm -- /no/such/binary
	echo "$output"
	[ "$status" -ne 0 ]
	# containerd quotes the last "level":"error" line of --log.
	[[ "$output" == *"OCI runtime create failed"*"/no/such/binary"*"no such file or directory"* ]]
	run c container ls -q
	[ -z "$output" ]
}

@test "ctr task exec: output, exit status, a failing exec; task ps" {
	c_start t1 /bin/sleep 300
	run c_exec --exec-id e1 t1 /bin/sh -c 'echo exec-ok; exit 4'
	echo "$output"
	[ "$status" -eq 4 ]
	[ "$output" = exec-ok ]
	# The exec'd process sees init as pid 1. (ctr 1.6 now and then
	# loses the output of a process that exits at once, with runc too:
	# a few tries.)
	for i in 1 2 3; do
		run c_exec --exec-id "e2-$i" t1 /bin/sh -c 'tr "\0" " " </proc/1/cmdline; echo'
		[[ "$output" == "/bin/sleep 300"* ]] && break
	done
	echo "$output"
	[[ "$output" == "/bin/sleep 300"* ]]
	run c_exec --exec-id e3 t1 /no/such/binary
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"OCI runtime exec failed"*"/no/such/binary"* ]]

	# task ps lists init and a running exec (runtime ps --format json).
	c_exec --exec-id e4 -d t1 /bin/sleep 300 </dev/null >/dev/null 2>&1
	initpid=$(c task ls | awk '$1 == "t1" { print $2 }')
	run c task ps t1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | awk 'NR > 1' | wc -l)" -eq 2 ]
	echo "$output" | awk 'NR > 1 { print $1 }' | grep -qx "$initpid"
	run rt ps --format json t1
	[ "$(echo "$output" | jq length)" -eq 2 ]
	# The shim finds the cgroups from init's /proc/PID/cgroup.
	run c task metrics t1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *pids* ]]
}

@test "ctr task kill: a signal reaches init, which goes on; SIGKILL stops it" {
	c_start t1 /bin/sh -c 'trap "echo usr1 >/run/got-usr1" USR1; touch /run/ready; while :; do sleep 0.1; done'
	# pid 1 ignores a signal it has no handler for yet.
	for i in $(seq 100); do c_exec --exec-id r$i t1 /bin/test -e /run/ready >/dev/null 2>&1 && break; sleep 0.1; done
	run c task kill -s SIGUSR1 t1
	[ "$status" -eq 0 ]
	for i in $(seq 50); do c_exec --exec-id e1 t1 /bin/cat /run/got-usr1 >/dev/null 2>&1 && break; sleep 0.1; done
	run c_exec --exec-id e2 t1 /bin/cat /run/got-usr1
	[ "$output" = usr1 ]
	[ "$(task_status t1)" = RUNNING ]
	run c task kill -s SIGKILL t1
	[ "$status" -eq 0 ]
	wait_task t1 STOPPED
	[ "$(rt state t1 | jq -r .status)" = stopped ]
	# ctr task ps of a stopped task: the shim runs `ps --format json`,
	# which lists no process.
	run c task ps t1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | awk 'NR > 1' | wc -l)" -eq 0 ]
	run c task delete t1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit code 137"* ]]
	run rt state t1
	[ "$status" -ne 0 ]
	c container delete t1
}

@test "ctr task kill --all: every process of the container" {
	c_start t1 /bin/sleep 300
	c_exec --exec-id e1 -d t1 /bin/sleep 301 </dev/null >/dev/null 2>&1
	[ "$(rt ps --format json t1 | jq length)" -eq 2 ]
	run c task kill -a -s SIGKILL t1
	[ "$status" -eq 0 ]
	wait_task t1 STOPPED
	run c task delete t1
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit code 137"* ]]
	c container delete t1
	[ ! -d "/sys/fs/cgroup/memory/$NS/t1" ]
}

@test "ctr task pause and resume" {
	c_start t1 /bin/sleep 300
	run c task pause t1
	[ "$status" -eq 0 ]
	[ "$(task_status t1)" = PAUSED ]
	[ "$(rt state t1 | jq -r .status)" = paused ]
	run c task resume t1
	[ "$status" -eq 0 ]
	[ "$(task_status t1)" = RUNNING ]
	[ "$(rt state t1 | jq -r .status)" = running ]
	run c_exec --exec-id e1 t1 /bin/echo after-resume
	[ "$output" = after-resume ]
}

@test "ctr task kill -s SIGKILL of a paused task stops it" {
	c_start t1 /bin/sleep 300
	c task pause t1
	[ "$(task_status t1)" = PAUSED ]
	run c task kill -s SIGKILL t1
	[ "$status" -eq 0 ]
	wait_task t1 STOPPED
	run c task delete t1
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit code 137"* ]]
	c container delete t1
}

@test "ctr task delete: refused while running, --force kills" {
	c_start t1 /bin/sleep 300
	run c task delete t1
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(task_status t1)" = RUNNING ]
	run c task delete --force t1
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit code 137"* ]]
	run c task ls -q
	[ -z "$output" ]
	run rt state t1
	[ "$status" -ne 0 ]
	c container delete t1
}

@test "ctr run -t: the process has a tty" {
	run c_tty run --runtime io.containerd.runc.v2 --runc-binary "$RUNTIME" --runc-root "$CD/runc" \
		--fifo-dir "$CD/fifo" --cgroup "/$NS/t1" --rm -t --rootfs "$RFS" t1 /bin/sh -c 'tty; exit 6'
	echo "$output"
	[ "$status" -eq 6 ]
	[[ "$output" == *"/dev/pts/0"* ]]
}

@test "ctr task exec -t in a container with a tty" {
	c_tty run --runtime io.containerd.runc.v2 --runc-binary "$RUNTIME" --runc-root "$CD/runc" \
		--fifo-dir "$CD/fifo" --cgroup "/$NS/t1" -d -t --rootfs "$RFS" t1 /bin/sleep 300 >/dev/null
	wait_task t1 RUNNING
	run c_tty task exec --fifo-dir "$CD/fifo" --exec-id e1 -t t1 /bin/sh -c 'tty; exit 7'
	echo "$output"
	[ "$status" -eq 7 ]
	[[ "$output" == *"/dev/pts/"* ]]
}

@test "ctr run --memory-limit: a process that needs 16 MB of 12 is OOM-killed" {
	run c_run t1 --rm --memory-limit 12582912 -- /bin/payload alloc 16
	echo "$output"
	[ "$status" -eq 137 ]
	[[ "$output" != *allocated* ]]
}
