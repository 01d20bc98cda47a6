#!/usr/bin/env bats
load helpers

setup() { requires root; setup_bundle; }
teardown() {
	# a --pidfd-socket receiver (start_recvtty -pidfd) that is left
	if [ -n "${RECV:-}" ]; then
		kill "$RECV" 2>/dev/null || true
		wait "$RECV" 2>/dev/null || true
	fi
	# attach_trace's tracing instance, if a killed test left it.
	if [ -d "$BUNDLE/tracefs" ]; then
		unshare -m --propagation private sh -c 'mount -t tracefs nodev "$1" &&
			if [ -d "$1/instances/$2" ]; then
				echo 0 >"$1/instances/$2/events/cgroup/cgroup_attach_task/enable"
				rmdir "$1/instances/$2"
			fi' - "$BUNDLE/tracefs" "$MARK" || true
	fi
	teardown_bundle
	# exec --cgroup's sub-cgroups (and so the container's cgroups),
	# once teardown_bundle has killed what was in them.
	local d
	for d in ${SUB_CGROUPS:-}; do
		rmdir "$d/sub" "$d" 2>/dev/null || true
	done
}

# start_bg ID: create and start a detached container running sleep.
start_bg() {
	sr run -d --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>&1
	[ "$(status "$1")" = running ]
}

@test "exec: output and exit status of the process" {
	start_bg e1
	run sr exec e1 sh -c 'echo hello; exit 7'
	[ "$status" -eq 7 ]
	[ "$output" = hello ]
}

@test "exec: forwards the signals it gets to the process, a real-time one too" {
	start_bg e1
	forwards_signals exec e1 sh -c "$forward_cmd"
}

@test "exec: forwards every signal it can catch, SIGRTMIN (34) and the stop signals too" {
	requires sandbox
	start_bg e1
	forwards_every_signal exec e1 sh -c "$every_signal_cmd"
}

@test "exec: joins the container's namespaces and cgroup" {
	start_bg e1
	pid=$(sr state e1 | jq .pid)
	run sr exec e1 sh -c 'for n in pid net mnt ipc uts cgroup; do readlink /proc/self/ns/$n; done'
	[ "$status" -eq 0 ]
	want=$(for n in pid net mnt ipc uts cgroup; do readlink /proc/$pid/ns/$n; done)
	[ "$output" = "$want" ]
	# In the container's pid namespace: init is pid 1 there.
	run sr exec e1 cat /proc/1/comm
	[ "$output" = sleep ]
	# In the container's cgroup (checked from the host).
	sr exec -d --pid-file "$BUNDLE/exec.pid" e1 sleep 100 </dev/null >/dev/null 2>&1
	epid=$(cat "$BUNDLE/exec.pid")
	diff <(cat /proc/$pid/cgroup) <(cat /proc/$epid/cgroup)
}

@test "exec: joins a user namespace and its mount namespace, with no C" {
	requires sandbox
	own_rootfs
	chown -R 100000:100000 "$BUNDLE/rootfs"
	# The container's root (host uid 100000) must be able to reach its
	# rootfs: mktemp made the bundle directory 0700.
	chmod 755 "$BUNDLE"
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	start_bg u1
	pid=$(sr state u1 | jq .pid)
	run sr exec u1 sh -c "readlink /proc/self/ns/user; readlink /proc/self/ns/mnt; cat /proc/self/uid_map; id -u"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink /proc/$pid/ns/user)" ]
	[ "${lines[1]}" = "$(readlink /proc/$pid/ns/mnt)" ]
	[[ "${lines[2]}" == *100000*65536* ]]
	[ "${lines[3]}" = 0 ]
}

@test "exec: user, groups, cwd and env from the flags" {
	start_bg e1
	run sr exec -u 1000:1000 -g 5 --cwd /tmp -e FOO=bar e1 sh -c 'id -u; id -g; id -G; pwd; echo $FOO'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	[[ "${lines[2]}" == *5* ]]
	[ "${lines[3]}" = /tmp ]
	[ "${lines[4]}" = bar ]
	# A comma is part of the value, as in runc (cli v1 splits nothing).
	run sr exec -e LIST=a,b e1 sh -c 'echo $LIST'
	[ "$status" -eq 0 ]
	[ "$output" = a,b ]
}

@test "exec --process: a runtime-spec process JSON" {
	start_bg e1
	cat >"$BUNDLE/process.json" <<-'JSON'
	{"args": ["sh", "-c", "echo $A; id -u; grep NoNewPrivs /proc/self/status"],
	 "env": ["A=from-json", "PATH=/bin"], "cwd": "/", "user": {"uid": 65534, "gid": 65534},
	 "noNewPrivileges": true}
	JSON
	run sr exec --process "$BUNDLE/process.json" e1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-json ]
	[ "${lines[1]}" = 65534 ]
	[[ "${lines[2]}" == *1 ]]
}

@test "exec: the process's user.umask and oomScoreAdj apply, umask 0022 without one, whatever the caller's" {
	start_bg e1
	cat >"$BUNDLE/process.json" <<-'JSON'
	{"args": ["sh", "-c", "umask; cat /proc/self/oom_score_adj"], "env": ["PATH=/bin"], "cwd": "/",
	 "user": {"uid": 0, "gid": 0, "umask": 23}, "oomScoreAdj": 321}
	JSON
	run sh -c "umask 077 && $RUNTIME --root $ROOT exec --process $BUNDLE/process.json e1"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '0027\n321')" ]
	run sh -c "umask 077 && $RUNTIME --root $ROOT exec e1 sh -c umask"
	[ "$status" -eq 0 ]
	[ "$output" = 0022 ]
}

@test "oomScoreAdj below the runtime's own: init gets it, with and without a user namespace, and so does exec's process" {
	# Lowering a process's oom_score_adj below its oom_score_adj_min (here
	# 0, the runtime's) needs the writer's CAP_SYS_RESOURCE in the host's
	# user namespace (fs/proc/base.c, __set_oom_adj). The runtime writes
	# init's from the host (startInit) and exec's child writes its own
	# before it joins anything: a write from inside a user namespace
	# would be refused.
	local eff
	eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
	(((0x$eff >> 24) & 1)) || skip "lowering oom_score_adj needs CAP_SYS_RESOURCE, which root lacks on this machine (CapEff $eff); make integration-v2 runs this test in its VM"
	chmod 755 "$BUNDLE"
	update_config '.process.oomScoreAdj = -300'
	start_bg e1
	[ "$(cat "/proc/$(sr state e1 | jq .pid)/oom_score_adj")" = -300 ]
	cat >"$BUNDLE/process.json" <<-'JSON'
	{"args": ["cat", "/proc/self/oom_score_adj"], "env": ["PATH=/bin"], "cwd": "/", "oomScoreAdj": -400}
	JSON
	sr_run exec --process "$BUNDLE/process.json" e1
	[ "$status" -eq 0 ]
	[ "$output" = -400 ]
	sr delete -f e1 # its cgroup is the bundle's
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = .linux.uidMappings'
	start_bg e2
	[ "$(cat "/proc/$(sr state e2 | jq .pid)/oom_score_adj")" = -300 ]
	sr_run exec --process "$BUNDLE/process.json" e2
	[ "$status" -eq 0 ]
	[ "$output" = -400 ]
}

@test "exec --process <(...): a process JSON from a pipe, /dev/fd/N, which the process does not get" {
	start_bg e1
	sr_run exec --process <(echo '{"args": ["ls", "/proc/self/fd"], "cwd": "/", "env": ["PATH=/bin"]}') e1
	[ "$status" -eq 0 ]
	# stdio and the directory ls reads: not the pipe.
	[ "$(echo $output)" = "0 1 2 3" ]
	sr_run exec -p <(echo '{"args": ["echo", "from-pipe"], "cwd": "/", "env": ["PATH=/bin"]}') e1
	[ "$status" -eq 0 ]
	[ "$output" = from-pipe ]
}

@test "exec --cap: never adds inheritable capabilities (CVE-2022-29162)" {
	start_bg e1
	run sr exec --cap CAP_SYS_ADMIN e1 sh -c 'grep -E "CapInh|CapEff" /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *0000000000000000 ]]
	# CAP_SYS_ADMIN (21) is effective: bit 0x200000.
	eff=$(echo "${lines[1]}" | awk '{print $2}')
	(( (0x$eff >> 21) & 1 ))
}

@test "exec --cgroup: the process joins an existing sub-cgroup of the container, and never leaves its cgroup" {
	start_bg e1
	pid=$(sr state e1 | jq .pid)
	dirs=$(test_cgroups)
	SUB_CGROUPS=$dirs
	for d in $dirs; do
		mkdir "$d/sub"
		# A v1 cpuset cgroup takes a process once it has CPUs and memory.
		if [ -e "$d/sub/cpuset.cpus" ] && [ -z "$(cat "$d/sub/cpuset.cpus")" ]; then
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	# cgroup paths of the container (those that are /$MARK) and the rest
	# of its /proc/PID/cgroup, with "/sub" added to the first.
	want=$(sed "s|/$MARK\$|/$MARK/sub|" /proc/$pid/cgroup)
	sr exec -d --pid-file "$BUNDLE/e.pid" --cgroup sub e1 sleep 100 </dev/null >/dev/null 2>&1
	epid=$(cat "$BUNDLE/e.pid")
	diff <(echo "$want") /proc/$epid/cgroup
	grep -q "/$MARK/sub\$" /proc/$epid/cgroup
	kill -9 "$epid"
	# One v1 controller only (a v2 host has none).
	if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
		want=$(sed "/:memory:/s|/$MARK\$|/$MARK/sub|" /proc/$pid/cgroup)
		sr exec -d --pid-file "$BUNDLE/e.pid" --cgroup memory:sub e1 sleep 100 </dev/null >/dev/null 2>&1
		epid2=$(cat "$BUNDLE/e.pid")
		diff <(echo "$want") /proc/$epid2/cgroup
		kill -9 "$epid2"
		sr_run exec --cgroup nosuch:sub e1 true
		[ "$status" -eq 255 ]
		[[ "$output" == *"nosuch"* ]]
	fi
	# Out of the container's cgroup, or missing: refused, nothing runs.
	for bad in ../x sub/../../x /../x; do
		sr_run exec --cgroup "$bad" e1 true
		[ "$status" -eq 255 ]
		# (runc 1.1: "../x is not a sub cgroup path")
		[[ "$output" == *"bad sub cgroup path"* ]] || [[ "$output" == *"not a sub cgroup path"* ]]
	done
	sr_run exec --cgroup nosuch e1 true
	[ "$status" -eq 255 ]
	sr_run exec --cgroup ":sub" e1 true
	[ "$status" -eq 255 ]
	[[ "$output" == *"invalid --cgroup argument: :sub (empty <controller> prefix)"* ]]
	wait_gone "$epid" ${epid2:-}
}

# attach_trace SCRIPT: runs the bash SCRIPT with the kernel's
# cgroup_attach_task event on, in a tracing instance of its own on a
# tracefs mounted in a private mount namespace, and sets ev to the
# events, one a line: "MOVER MOVED DST_PATH", MOVER the task that wrote
# to the cgroup file, MOVED the one it moved. The instance goes with the
# script.
attach_trace() {
	local t=$BUNDLE/tracefs inst=$MARK
	mkdir -p "$t"
	unshare -m --propagation private bash -c '
		t=$1 inst=$2
		mount -t tracefs nodev "$t" || exit 3
		i=$t/instances/$inst
		mkdir "$i" || exit 3
		trap "echo 0 >$i/events/cgroup/cgroup_attach_task/enable; rmdir $i" EXIT
		echo 1 >"$i/events/cgroup/cgroup_attach_task/enable" || exit 3
		bash -c "$3" || exit 4
		cat "$i/trace" >"$t.out"
	' - "$t" "$inst" "$1"
	local rc=$?
	[ "$rc" -ne 3 ] || skip "needs tracefs and its cgroup_attach_task event"
	[ "$rc" -eq 0 ] || fail "attach_trace: the script failed ($rc)"
	# "  comm-TID  [CPU] flags  TIME: cgroup_attach_task: ... dst_path=P pid=N comm=C"
	ev=$(sed -nE 's/^ *.*-([0-9]+) +\[[0-9]+\].* cgroup_attach_task: .*dst_path=([^ ]*) pid=([0-9]+) .*$/\1 \3 \2/p' "$t.out")
	echo "$ev"
}

@test "exec (cgroup v1): the process is born in the container's cgroups, where its runtime's first child moved itself, by itself" {
	[ ! -e /sys/fs/cgroup/cgroup.controllers ] || skip "v1 and hybrid hosts: on v2 exec's first child is cloned into the cgroup (CLONE_INTO_CGROUP)"
	# Moving another process (our write of its pid to cgroup.procs)
	# waits for an RCU grace period unless a migration just happened:
	# 5-20 ms of an exec made on its own, such as a health check's. A
	# thread that moves itself ("0" to tasks) does not wait.
	start_bg e1
	pid=$(sr state e1 | jq .pid)
	SUB_CGROUPS=$(test_cgroups)
	attach_trace "$(printf '%q ' "$RUNTIME" --root "$ROOT" exec -d --pid-file "$BUNDLE/e.pid" e1 sleep 100) </dev/null >/dev/null"
	epid=$(cat "$BUNDLE/e.pid")
	# In every cgroup of init.
	diff /proc/$pid/cgroup /proc/$epid/cgroup
	n=$(echo "$ev" | grep -c " /$MARK\$" || true)
	[ "$n" -gt 0 ] || fail "no move into the container's cgroups was seen"
	if echo "$ev" | awk -v m="/$MARK" '$3 == m && $1 != $2 { bad = 1 } END { exit !bad }'; then
		fail "a process was moved into the container's cgroups by another"
	fi
	kill -9 "$epid"

	# exec --cgroup, into a sub-cgroup of every hierarchy: the same.
	for d in $SUB_CGROUPS; do
		mkdir "$d/sub"
		if [ -e "$d/sub/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	attach_trace "$(printf '%q ' "$RUNTIME" --root "$ROOT" exec -d --pid-file "$BUNDLE/e.pid" --cgroup sub e1 sleep 100) </dev/null >/dev/null"
	epid2=$(cat "$BUNDLE/e.pid")
	diff <(sed "s|/$MARK\$|/$MARK/sub|" /proc/$pid/cgroup) /proc/$epid2/cgroup
	echo "$ev" | grep -q " /$MARK/sub\$" || fail "no move into the sub-cgroups was seen"
	if echo "$ev" | awk -v m="/$MARK/sub" '$3 == m && $1 != $2 { bad = 1 } END { exit !bad }'; then
		fail "a process was moved into the sub-cgroups by another"
	fi
	kill -9 "$epid2"

	# A v1 cpuset cgroup without CPUs takes no process: the error says
	# which and why, and nothing runs.
	d=$(echo "$SUB_CGROUPS" | grep "/cpuset/" || true)
	if [ -n "$d" ]; then
		mkdir "$d/sub/nocpus"
		sr_run exec --cgroup cpuset:sub/nocpus e1 true
		rmdir "$d/sub/nocpus"
		[ "$status" -eq 255 ]
		[[ "$output" == *"$d/sub/nocpus"*"cpuset.cpus and cpuset.mems are set"* ]]
		[ "$(cat "$d/cgroup.procs")" = "$pid" ]
	fi
	wait_gone "$epid" "$epid2"
}

@test "exec: the container's seccomp filter applies" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
	start_bg e1
	run sr exec e1 mkdir /tmp/x
	[ "$status" -ne 0 ]
	[[ "$output" == *"Function not implemented"* ]]
}

@test "exec: no host fd reaches the process" {
	start_bg e1
	exec 7</etc/hostname
	# busybox ls, not the Go payload: a Go 1.25+ program keeps its own
	# cgroup files open.
	run sr exec e1 ls /proc/self/fd
	exec 7<&-
	[ "$status" -eq 0 ]
	# stdio, and the directory ls opened to list them.
	[ "$(echo $output)" = "0 1 2 3" ]
}

@test "exec: the first process re-executes from the sealed copy before the heavy package initialisers" {
	start_bg e1
	# GODEBUG=inittrace=1 makes each Go start list its packages'
	# initialisers. exec's first process only re-executes itself (from
	# the sealed copy, CVE-2019-5736): package early does it from its own
	# initialiser, so only the second process initialises urfave/cli,
	# unicode and net (before, both did), and the early package's
	# initialiser completes once, in the second.
	GODEBUG=inittrace=1 sr exec e1 true 2>"$BUNDLE/inittrace"
	grep -c "^init " "$BUNDLE/inittrace"
	[ "$(grep -c '^init github.com/urfave/cli/v2 ' "$BUNDLE/inittrace")" -eq 1 ]
	[ "$(grep -c '^init unicode ' "$BUNDLE/inittrace")" -eq 1 ]
	[ "$(grep -c '^init .*/libsandbox/exeseal/early ' "$BUNDLE/inittrace")" -eq 1 ]
	# The other verbs start once.
	GODEBUG=inittrace=1 sr state e1 2>"$BUNDLE/inittrace" >/dev/null
	[ "$(grep -c '^init runtime ' "$BUNDLE/inittrace")" -eq 1 ]
	# Flags it cannot read with certainty leave the re-execution to main,
	# which does it after the initialisers, as before.
	run sr exec --nosuch e1 true
	[ "$status" -ne 0 ]
}

@test "exec: a cwd through /proc/self/fd cannot escape (CVE-2024-21626)" {
	start_bg e1
	for fd in 3 4 5 6 7 8 9; do
		run sr exec --cwd /proc/self/fd/$fd e1 pwd
		if [ "$status" -eq 0 ]; then
			# Whatever it resolved to, it is inside the container.
			[[ "$output" != *"(unreachable)"* ]]
			[[ "$output" != *sr-bats* ]]
		fi
	done
}

@test "exec: many at once" {
	start_bg e1
	for i in $(seq 10); do
		sr exec e1 sh -c "echo $i" >"$BUNDLE/out.$i" 2>&1 &
	done
	wait
	for i in $(seq 10); do
		[ "$(cat "$BUNDLE/out.$i")" = "$i" ] || fail "exec $i printed: $(cat "$BUNDLE/out.$i")"
	done
}

@test "exec: a stopped container: container not running" {
	update_config '.process.args = ["true"]'
	sr run --keep --bundle "$BUNDLE" e1 </dev/null >/dev/null 2>&1
	run sr exec e1 true
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	run sr exec nope true
	[ "$status" -ne 0 ]
	[[ "$output" == *"container does not exist"* ]]
}

@test "exec: a paused container is refused and left paused" {
	start_bg e1
	sr pause e1
	run sr exec e1 true
	[ "$status" -ne 0 ]
	[[ "$output" == *paused* ]]
	[ "$(status e1)" = paused ]
	sr resume e1
}

@test "exec --ignore-paused: the process waits in the frozen container and runs once it is resumed, as under runc" {
	start_bg e1
	sr pause e1
	sr_run exec e1 true
	[ "$status" -eq 255 ]
	[[ "$output" == *"cannot exec in a paused container (use --ignore-paused to override)"* ]]
	(
		rc=0
		sr exec --ignore-paused e1 sh -c 'echo ran; exit 4' </dev/null >"$BUNDLE/ip.out" 2>&1 || rc=$?
		echo "status=$rc" >>"$BUNDLE/ip.out"
	) &
	# Frozen: nothing has run, and the container stays paused.
	sleep 2
	cat "$BUNDLE/ip.out" >&2
	[ ! -s "$BUNDLE/ip.out" ]
	[ "$(status e1)" = paused ]
	sr resume e1
	wait
	cat "$BUNDLE/ip.out" >&2
	[ "$(cat "$BUNDLE/ip.out")" = "$(printf 'ran\nstatus=4')" ]
	[ "$(status e1)" = running ]
}

@test "exec --preserve-fds: a number the caller left empty is refused, never filled with a file of the runtime's" {
	start_bg e1
	# The caller holds fds 0-2 only and asks for 20 more: a file the
	# runtime opens takes the lowest free number, and was handed on (a
	# review saw cgroup v1 tasks files opened by host root there, which
	# let the process move any process it can name into the cgroup).
	run bash -c 'for i in $(seq 3 40); do eval "exec $i>&-"; done; exec "$@"' - \
		"$RUNTIME" --root "$ROOT" exec --preserve-fds 20 e1 sh -c 'for f in /proc/$$/fd/*; do readlink "$f"; done'
	echo "$output"
	[ "$status" -eq 255 ]
	[[ "$output" == *"--preserve-fds 20: fd 3 is not open"* ]]
	! echo "$output" | grep -q '/tasks$'
	# Nor the runtime's log file, which it opens before it looks.
	run bash -c 'for i in $(seq 3 40); do eval "exec $i>&-"; done; exec "$@"' - \
		"$RUNTIME" --root "$ROOT" --log "$BUNDLE/rt.log" exec --preserve-fds 1 e1 sh -c 'readlink /proc/$$/fd/3; echo INJECTED >&3'
	echo "$output"
	[ "$status" -eq 255 ]
	[[ "$(cat "$BUNDLE/rt.log")" == *"--preserve-fds 1: fd 3 is not open"* ]]
	! grep -q INJECTED "$BUNDLE/rt.log"
	# Held, they are passed on.
	run bash -c 'for i in $(seq 3 22); do eval "exec $i</dev/null"; done; exec "$@"' - \
		"$RUNTIME" --root "$ROOT" exec --preserve-fds 20 e1 sh -c 'ls /proc/$$/fd | wc -l'
	[ "$status" -eq 0 ]
	# 0-22, and ls's own directory fd.
	[ "$output" -ge 23 ]
}

# interrupted_while_paused [-d]: exec --ignore-paused into a paused
# container, then SIGTERM to the runtime: it fails at once (detached too,
# where it catches only the signals that would end or stop it).
interrupted_while_paused() {
	start_bg e1
	pid=$(sr state e1 | jq .pid)
	sr pause e1
	"$RUNTIME" --root "$ROOT" exec --ignore-paused "$@" e1 sh -c 'echo ran' </dev/null >"$BUNDLE/ip.out" 2>&1 &
	rpid=$!
	# Once the runtime's child is in the container's cgroups, frozen
	# with them (a v1 frozen task ignores even SIGKILL until thawed),
	# and the runtime catches signals (it began to before the child).
	local d found=
	for _ in $(seq $((${SR_TIMEOUT:-20} * 10))); do
		for d in $(test_cgroups); do
			grep -qvx "$pid" "$d/cgroup.procs" && found=1
		done
		[ -z "$found" ] || break
		sleep 0.1
	done
	[ -n "$found" ] || fail "the runtime's child never appeared in the container's cgroups"
	sleep 1
	kill -TERM "$rpid"
	# Half the tests' time-out (10 s here; longer in the TCG VM).
	for _ in $(seq $((${SR_TIMEOUT:-20} * 5))); do
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$rpid" 2>/dev/null; then
		sr resume e1
		wait "$rpid" || true
		fail "exec was still there $((${SR_TIMEOUT:-20} / 2)) s after SIGTERM, until the container was resumed"
	fi
	rc=0
	wait "$rpid" || rc=$?
	cat "$BUNDLE/ip.out"
	[ "$rc" -eq 255 ]
	grep -q "interrupted by terminated" "$BUNDLE/ip.out"
	# Only init in the container's cgroups; resumed, nothing runs.
	for d in $(test_cgroups); do
		[ "$(cat "$d/cgroup.procs")" = "$pid" ] || fail "$d holds $(cat "$d/cgroup.procs" | tr '\n' ' '), want init ($pid) alone"
	done
	sr resume e1
	sleep 0.5
	! grep -q ran "$BUNDLE/ip.out"
	[ "$(status e1)" = running ]
}

@test "exec --ignore-paused: interrupted while the container is paused, it fails at once and leaves nothing behind" {
	interrupted_while_paused
}

@test "exec --ignore-paused -d: interrupted while the container is paused, it fails at once and leaves nothing behind" {
	interrupted_while_paused -d
}

@test "exec --cgroup (cgroup v1): a frozen sub-cgroup fails the exec at once, and leaves nothing behind" {
	[ -d /sys/fs/cgroup/freezer ] || skip "needs the v1 freezer hierarchy"
	start_bg e1
	SUB_CGROUPS=$(test_cgroups)
	fz=$(echo "$SUB_CGROUPS" | grep "/freezer/")
	mkdir "$fz/sub"
	# What the container may do with a writable cgroupfs: freeze a
	# sub-cgroup of its own. Its own freezer.state still says THAWED.
	echo FROZEN >"$fz/sub/freezer.state"
	SECONDS=0
	sr_run exec --cgroup freezer:sub e1 sh -c 'echo ran'
	echo "took ${SECONDS}s"
	echo THAWED >"$fz/sub/freezer.state"
	[ "$status" -eq 255 ]
	[[ "$output" == *"sub-cgroup's freezer was frozen"* ]]
	[ "$SECONDS" -lt 10 ]
	sleep 0.5
	[ -z "$(cat "$fz/sub/cgroup.procs")" ]
	[[ "$output" != *ran* ]]
}

@test "exec: a missing binary and a bad user are clear errors" {
	start_bg e1
	run sr exec e1 /nope
	[ "$status" -ne 0 ]
	[[ "$output" == *"no such file or directory"* ]]
	run sr exec e1 nope
	[[ "$output" == *"executable file not found"* ]]
	run sr exec -u bad e1 true
	[ "$status" -ne 0 ]
	[[ "$output" == *"--user"* ]]
	[ "$(status e1)" = running ]
}

@test "exec: a process that could not be started exits 255, as runc; one that ran exits with its own status" {
	start_bg e1
	sr_run exec e1 /nope
	[ "$status" -eq 255 ]
	[[ "$output" == *'exec failed: unable to start container process: exec: \"/nope\": stat /nope: no such file or directory'* ]]
	sr_run exec nosuch true
	[ "$status" -eq 255 ]
	[[ "$output" == *"exec failed: container does not exist"* ]]
	sr_run exec e1 sh -c 'exit 254'
	[ "$status" -eq 254 ]
	sr_run exec e1 sh -c 'exit 0'
	[ "$status" -eq 0 ]
	# A usage error is not an exec that failed: 1, as runc.
	sr_run exec
	[ "$status" -eq 1 ]
}

@test "exec --debug --log FILE: the steps of exec are logged at debug level" {
	start_bg e1
	log=$BUNDLE/debug.log
	run sr --debug --log "$log" exec e1 sh -c 'exit 3'
	[ "$status" -eq 3 ]
	cat "$log" >&2
	[ "$(grep -c 'level=debug' "$log")" -ge 2 ]
	if is_sandbox; then
		grep -q 'level=debug msg="exec e1 sh -c exit 3"' "$log"
		grep -q 'level=debug msg="exec e1: .*namespaces of init' "$log"
		grep -q 'level=debug msg="exec e1: process [0-9]* has exec.d' "$log"
		grep -q 'level=debug msg="exec e1: process [0-9]* exited with status 3"' "$log"
	fi
	# Without --debug, nothing at debug level.
	rm "$log"
	sr --log "$log" exec e1 true
	! grep -q 'level=debug' "$log"
}

@test "exec --pidfd-socket: the socket receives a pidfd of the exec'd process, as runc sends it" {
	start_bg e1
	start_recvtty -pidfd
	sr exec -d --pid-file "$BUNDLE/e.pid" --pidfd-socket "$BUNDLE/tty.sock" e1 sleep 100 </dev/null >/dev/null 2>&1
	wait_for 5 grep -q . "$BUNDLE/tty.out"
	# "setns": runc's name for an exec'd process.
	[ "$(head -n 1 "$BUNDLE/tty.out")" = "setns $(cat "$BUNDLE/e.pid")" ]
	kill -9 "$(cat "$BUNDLE/e.pid")"
	wait "$RECV"
	RECV=
	[ "$(tail -n 1 "$BUNDLE/tty.out")" = exited ]
}

@test "exec -t with a console socket" {
	requires sandbox
	start_bg e1
	sock="$BUNDLE/console.sock"
	"$RECVTTY" -ready "$BUNDLE/ready" "$sock" >"$BUNDLE/tty.out" &
	rpid=$!
	for i in $(seq 50); do [ -e "$BUNDLE/ready" ] && break; sleep 0.1; done
	sr exec -d -t --console-socket "$sock" e1 sh -c 'tty; echo on-tty' </dev/null >/dev/null 2>&1
	timeout 10 tail --pid=$rpid -f /dev/null || kill $rpid
	grep -q '^/dev/pts/' "$BUNDLE/tty.out"
	grep -q on-tty "$BUNDLE/tty.out"
}

@test "exec --cap: added to ambient too when the process has inheritable capabilities (runc 1.5), so a user keeps it" {
	update_config '.process.capabilities.inheritable = ["CAP_NET_RAW"] | .process.capabilities.bounding += ["CAP_NET_RAW"]'
	start_bg capamb
	run sr exec --user 1000:1000 --cap CAP_NET_RAW capamb payload status CapAmb CapEff
	echo "$output"
	[ "$status" -eq 0 ]
	# CAP_NET_RAW is 13: 0x2000.
	[[ "$output" == *"CapAmb: 0000000000002000"* ]]
	[[ "$output" == *"CapEff: 0000000000002000"* ]]
}

@test "exec --process: a process without rlimits, AppArmor profile or SELinux label takes the container's (issue 11.10)" {
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 123, "soft": 123}]'
	start_bg lim1
	cat >"$BUNDLE/process.json" <<-'JSON'
	{"args": ["payload", "rlimit", "nofile"], "env": ["PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}}
	JSON
	run sr exec --process "$BUNDLE/process.json" lim1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"123 123"* ]]
	# Its own, when it has them (soft = hard: the Go payload raises its
	# soft limit to hard-1 at start-up otherwise).
	jq '.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 77, "soft": 77}]' "$BUNDLE/process.json" >"$BUNDLE/p2.json"
	run sr exec --process "$BUNDLE/p2.json" lim1
	echo "$output"
	[[ "$output" == *"77 77"* ]]
}
