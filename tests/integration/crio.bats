#!/usr/bin/env bats
# crio.bats - the runtime calls CRI-O makes that podman and containerd
# do not, made directly (CRI-O is not in Debian 12; docs/clients.md has its
# configuration). CRI-O runs every verb with `--root <runtime_root>`,
# starts processes through conmon as podman does, and then:
#   - decodes `state` into its own struct (specs.State plus created),
#     whenever it refreshes a status, and takes a failure for "stopped";
#   - stops with `kill ID <signum>` then `kill -a ID 9`, and ignores
#     "container not running" from a container that is already gone;
#   - reads `features` (ociVersionMin/Max, mount options, namespaces);
#   - execs with `exec --pid-file F --process P --detach [--tty
#     --console-socket S] ID` and conmon reads the pid from F;
#   - updates resources with `update --resources - ID`, the JSON on stdin.
# RUNTIME=/usr/sbin/runc runs the same calls against runc.
load helpers

setup() {
	requires root
	setup_bundle
	# A cgroup of this test's own (CRI-O's cgroupfs paths look like
	# /kubepods/.../crio-ID) and the annotations CRI-O sets.
	CG="/sr-crio-${BUNDLE##*.}"
	update_config '.linux.cgroupsPath = "'"$CG"'"
		| .annotations = {"io.kubernetes.cri-o.ContainerType": "container",
			"io.kubernetes.pod.name": "p1", "io.kubernetes.container.name": "c1"}'
	ID="crio-${BUNDLE##*.}"
}

teardown() {
	[ -n "${RECV:-}" ] && kill "$RECV" 2>/dev/null
	teardown_bundle
	local h
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -n "${CG:-}" ] && [ -d "$h${CG#/}" ] && rmdir "$h${CG#/}" 2>/dev/null
	done
	return 0
}

# create_detached ID creates the container as conmon does: stdio not a
# terminal, a pid file.
create_detached() {
	sr create --bundle "$BUNDLE" --pid-file "$BUNDLE/pidfile" "$1" </dev/null >/dev/null 2>&1
}

start_detached() {
	create_detached "$1" && sr start "$1"
}

# cgroup_file FILE prints the container's v1 memory or v2 cgroup file.
cgroup_file() {
	if [ -d /sys/fs/cgroup/memory ]; then
		cat "/sys/fs/cgroup/memory$CG/$1"
	else
		cat "/sys/fs/cgroup$CG/$2"
	fi
}

@test "crio: state has the fields CRI-O decodes, through the lifecycle" {
	create_detached "$ID"
	run sr state "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	# Every field of specs.State plus runc's rootfs, created, owner.
	echo "$output" | jq -e --arg id "$ID" --arg b "$BUNDLE" '
		(.ociVersion | type == "string" and length > 0)
		and .id == $id and .status == "created" and .pid > 0
		and .bundle == $b and (.rootfs | length > 0)
		and (.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))
		and has("owner")
		and .annotations["io.kubernetes.cri-o.ContainerType"] == "container"'
	[ "$(echo "$output" | jq .pid)" = "$(cat "$BUNDLE/pidfile")" ]

	sr start "$ID"
	[ "$(sr state "$ID" | jq -r .status)" = running ]
	sr pause "$ID"
	[ "$(sr state "$ID" | jq -r .status)" = paused ]
	sr resume "$ID"
	[ "$(sr state "$ID" | jq -r .status)" = running ]

	sr kill "$ID" 9
	wait_status "$ID" stopped
	run sr state "$ID"
	# A stopped container reports pid 0.
	[ "$(echo "$output" | jq .pid)" = 0 ]
	[ "$(echo "$output" | jq -r .status)" = stopped ]
	sr delete "$ID"
	# A container that is gone: an error that names it as such.
	run sr state "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "crio: kill ID SIGNUM, kill -a, and kill of a stopped container" {
	update_config '.process.args = ["sh", "-c", "trap \"echo term >/dev/shm/got-term\" TERM; touch /dev/shm/ready; sleep 300 & while :; do sleep 0.1; done"]'
	start_detached "$ID"
	# pid 1 ignores a signal it has no handler for yet.
	for i in $(seq 100); do sr exec "$ID" test -e /dev/shm/ready && break; sleep 0.1; done
	# The stop signal, as a number.
	run sr kill "$ID" 15
	[ "$status" -eq 0 ]
	for i in $(seq 50); do sr exec "$ID" cat /dev/shm/got-term >/dev/null 2>&1 && break; sleep 0.1; done
	run sr exec "$ID" cat /dev/shm/got-term
	[ "$output" = term ]
	# Several processes; kill -a reaches all of them.
	[ "$(sr ps --format json "$ID" | jq length)" -ge 2 ]
	run sr kill -a "$ID" 9
	[ "$status" -eq 0 ]
	wait_status "$ID" stopped
	run sr ps --format json "$ID"
	[ "$(echo "$output" | jq length)" -eq 0 ]
	# CRI-O's stop loop may signal a container that has just exited.
	run sr kill "$ID" 9
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	run sr kill --all "$ID" 9
	[ "$status" -eq 0 ]
	run sr delete --force "$ID"
	[ "$status" -eq 0 ]
	# kill of a container that does not exist.
	run sr kill "$ID" 9
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "crio: features has ociVersionMin and ociVersionMax" {
	run "$RUNTIME" features
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '
		(.ociVersionMin | test("^1\\.[0-9]+\\.[0-9]+"))
		and (.ociVersionMax | test("^1\\.[0-9]+\\.[0-9]+"))
		and (.hooks | index("prestart") != null)
		and (.mountOptions | index("bind") != null)
		and ([.linux.namespaces[]] | contains(["pid", "network", "mount", "ipc", "uts", "user", "cgroup"]))
		and (.linux.cgroup | has("v1") and has("v2"))
		and (.linux.seccomp.enabled | type == "boolean")'
	# Max is at least the spec version CRI-O writes (1.0.2-dev and up).
	max=$(echo "$output" | jq -r .ociVersionMax)
	[ "$(printf '%s\n' 1.0.2 "${max%%-*}" | sort -V | head -1)" = 1.0.2 ]
}

@test "crio: exec --process F --detach --pid-file, then the pid file" {
	start_detached "$ID"
	initpid=$(sr state "$ID" | jq .pid)
	# The process JSON as CRI-O writes it for ExecSync: the container's
	# process with new args.
	jq '.process | .args = ["sleep", "301"] | .terminal = false' "$BUNDLE/config.json" >"$BUNDLE/exec.json"
	sr exec --pid-file "$BUNDLE/exec.pid" --process "$BUNDLE/exec.json" --detach "$ID" </dev/null >/dev/null 2>&1
	# conmon reads a bare decimal pid.
	grep -Eqx '[0-9]+' "$BUNDLE/exec.pid"
	pid=$(cat "$BUNDLE/exec.pid")
	# It is the exec'd process, running, in the container's namespaces.
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 301 " ]
	for ns in pid mnt net ipc uts; do
		[ "$(readlink "/proc/$pid/ns/$ns")" = "$(readlink "/proc/$initpid/ns/$ns")" ]
	done
	sr ps --format json "$ID" | jq -e --argjson p "$pid" 'index($p) != null'
	# An exec that fails: no pid file, an error, a non-zero status.
	jq '.args = ["/no/such/binary"]' "$BUNDLE/exec.json" >"$BUNDLE/bad.json"
	run sr exec --pid-file "$BUNDLE/bad.pid" --process "$BUNDLE/bad.json" --detach "$ID"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"/no/such/binary"* ]]
	[ ! -e "$BUNDLE/bad.pid" ]
}

@test "crio: exec --tty --console-socket sends the pty master" {
	start_detached "$ID"
	"$RECVTTY" -ready "$BUNDLE/tty.ready" "$BUNDLE/tty.sock" </dev/null >"$BUNDLE/tty.out" 2>&1 3>&- &
	RECV=$!
	for i in $(seq 100); do [ -e "$BUNDLE/tty.ready" ] && break; sleep 0.05; done
	jq '.process | .args = ["sh", "-c", "tty; echo exec-tty-ok"] | .terminal = true' "$BUNDLE/config.json" >"$BUNDLE/exec.json"
	sr exec --pid-file "$BUNDLE/exec.pid" --process "$BUNDLE/exec.json" --detach --tty \
		--console-socket "$BUNDLE/tty.sock" "$ID" </dev/null >/dev/null 2>&1
	grep -Eqx '[0-9]+' "$BUNDLE/exec.pid"
	for i in $(seq 100); do kill -0 "$RECV" 2>/dev/null || break; sleep 0.05; done
	wait "$RECV"
	RECV=
	cat "$BUNDLE/tty.out"
	grep -q '^/dev/pts/' "$BUNDLE/tty.out"
	grep -q exec-tty-ok "$BUNDLE/tty.out"
}

@test "crio: update --resources - reads linux.resources from stdin" {
	start_detached "$ID"
	run sr update --resources - "$ID" <<<'{"memory": {"limit": 67108864}, "pids": {"limit": 100}}'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cgroup_file memory.limit_in_bytes memory.max)" = 67108864 ]
	echo '{"memory": {"limit": 33554432}}' >"$BUNDLE/res.json"
	run sr update --resources "$BUNDLE/res.json" "$ID"
	[ "$status" -eq 0 ]
	[ "$(cgroup_file memory.limit_in_bytes memory.max)" = 33554432 ]
}

@test "crio: delete --force of created, running, stopped and missing containers" {
	create_detached "$ID"
	sr delete --force "$ID"
	run sr state "$ID"
	[ "$status" -ne 0 ]
	start_detached "$ID"
	sr delete --force "$ID"
	run sr state "$ID"
	[ "$status" -ne 0 ]
	start_detached "$ID"
	sr kill "$ID" 9
	wait_status "$ID" stopped
	sr delete --force "$ID"
	run sr delete --force "$ID"
	[ "$status" -eq 0 ]
	for h in /sys/fs/cgroup/memory /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ ! -e "$h$CG/cgroup.procs" ]
	done
}
