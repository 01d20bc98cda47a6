#!/usr/bin/env bats
# systemd.bats - the systemd cgroup driver (--systemd-cgroup): the
# container's cgroup is a transient scope of the host's systemd. Needs a
# systemd host on pure cgroup v2: `make integration-systemd` runs it in
# the systemd VM (tests/vm/run.sh --systemd); elsewhere every test skips.
#
# What is checked is what a user sees: systemctl show of the unit,
# /proc/PID/cgroup, the scope's cgroup files.
load helpers

setup() {
	requires root
	[ -d /run/systemd/system ] || skip "needs a host that runs systemd (make integration-systemd)"
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || skip "needs pure cgroup v2"
	setup_bundle
	# One scope per test: the mark is unique.
	UNIT="sr-bats-${MARK##*-}.scope"
	update_config '.linux.cgroupsPath = "system.slice:sr-bats:'"${MARK##*-}"'"
		| .linux.resources.memory = {"limit": 41943040}
		| .linux.resources.pids = {"limit": 77}'
}

teardown() {
	unlinger
	teardown_bundle
	if [ -n "${UNIT:-}" ]; then
		systemctl stop "$UNIT" 2>/dev/null
		systemctl reset-failed "$UNIT" 2>/dev/null
	fi
	return 0
}

# prop UNIT NAME prints one property of a unit.
prop() {
	systemctl show -P "$2" "$1"
}

scope_dir() {
	echo "/sys/fs/cgroup/system.slice/$UNIT"
}

# run_sd ID: create and start with --systemd-cgroup.
run_sd() {
	sr --systemd-cgroup create --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>"$BUNDLE/create.err" ||
		{ cat "$BUNDLE/create.err" >&2; return 1; }
	sr start "$1"
}

@test "systemd: create makes a scope with the limits as properties and init in it" {
	run_sd t1
	pid=$(sr state t1 | jq -r .pid)
	[ "$(prop "$UNIT" ActiveState)" = active ]
	[ "$(prop "$UNIT" MemoryMax)" = 41943040 ]
	[ "$(prop "$UNIT" TasksMax)" = 77 ]
	[ "$(prop "$UNIT" Delegate)" = yes ]
	[ "$(prop "$UNIT" DevicePolicy)" = strict ]
	[ "$(prop "$UNIT" Slice)" = system.slice ]
	[ "$(cat /proc/$pid/cgroup)" = "0::/system.slice/$UNIT" ]
	[ "$(cat "$(scope_dir)/memory.max")" = 41943040 ]
	[ "$(cat "$(scope_dir)/pids.max")" = 77 ]
	# report names the driver and reads the scope's limits.
	r=$(sr report --format json t1)
	jq -c '{resources, errors}' <<<"$r"
	jq -e '.resources.driver == "systemd" and .resources.pids.limit == 77 and .errors == []' <<<"$r"
	# The container sees its scope as its cgroup namespace's root.
	run sr exec t1 cat /proc/self/cgroup
	echo "$output"
	[ "$output" = "0::/" ]
}

@test "systemd: an exec'd process is born in the scope" {
	run_sd t1
	sr exec -d --pid-file "$BUNDLE/exec.pid" t1 sleep 100
	epid=$(cat "$BUNDLE/exec.pid")
	[ "$(cat /proc/$epid/cgroup)" = "0::/system.slice/$UNIT" ]
	run sr ps --format json t1
	echo "$output"
	[[ "$output" == *"$epid"* ]]
}

@test "systemd: update sets the unit's properties and the files; daemon-reload keeps them and the device policy" {
	run_sd t1
	sr update --memory 31457280 --pids-limit 55 --cpu-quota 25000 --cpu-period 100000 t1
	[ "$(prop "$UNIT" MemoryMax)" = 31457280 ]
	[ "$(prop "$UNIT" TasksMax)" = 55 ]
	[ "$(prop "$UNIT" CPUQuotaPerSecUSec)" = 250ms ]
	systemctl daemon-reload
	[ "$(prop "$UNIT" MemoryMax)" = 31457280 ]
	[ "$(cat "$(scope_dir)/memory.max")" = 31457280 ]
	[ "$(cat "$(scope_dir)/pids.max")" = 55 ]
	[ "$(cat "$(scope_dir)/cpu.max")" = "25000 100000" ]
	[ "$(prop "$UNIT" DevicePolicy)" = strict ]
	# /dev/kmsg (c 1:11) is not the container's: made with mknod (which
	# the default rules allow), it cannot be opened, before or after a
	# reload re-applied systemd's own device program.
	run sr exec t1 sh -c 'mknod /dev/sr-kmsg c 1 11 && head -c1 /dev/sr-kmsg'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not permitted"* ]]
	run sr exec t1 sh -c 'head -c1 /dev/urandom >/dev/null && echo ok'
	[ "$output" = ok ]
}

@test "systemd: pause and resume freeze the scope" {
	run_sd t1
	sr pause t1
	[ "$(status t1)" = paused ]
	grep -qx "frozen 1" "$(scope_dir)/cgroup.events"
	sr resume t1
	[ "$(status t1)" = running ]
	grep -qx "frozen 0" "$(scope_dir)/cgroup.events"
}

@test "systemd: kill --all, delete stops the unit and the scope goes" {
	run_sd t1
	sr exec -d t1 sleep 100
	sr kill --all t1 KILL
	wait_status t1 stopped
	sr delete t1
	[ "$(prop "$UNIT" ActiveState)" = inactive ]
	[ ! -d "$(scope_dir)" ]
	assert_nothing_left
}

@test "systemd: delete --force of a running container" {
	run_sd t1
	sr delete --force t1
	[ ! -d "$(scope_dir)" ]
	[ "$(prop "$UNIT" ActiveState)" = inactive ]
	assert_nothing_left
}

@test "systemd: checkpoint, then restore with --systemd-cgroup: a new scope with the limits, the restored processes in it, their pids limit set" {
	command -v criu >/dev/null && criu check >/dev/null 2>&1 || skip "criu check fails here (the systemd VM's 6.1 kernel runs it)"
	local pid
	sh_cmd 'while :; do sleep 0.2; done'
	# Pipes for stdio, as under a shim: CRIU cannot dump a host file
	# the container cannot see (checkpoint.bats).
	eval "exec 7<> <(:)"
	sr --systemd-cgroup run -d --bundle "$BUNDLE" t1 <&7 >&7 2>&7
	sr --systemd-cgroup --log "$BUNDLE/checkpoint.log" checkpoint --image-path "$BUNDLE/image" t1 ||
		fail "checkpoint: $(cat "$BUNDLE/checkpoint.log"; grep -h Error "$BUNDLE/image/dump.log" | tail -n 5)"
	[ "$(prop "$UNIT" ActiveState)" = inactive ]
	# A restore that fails once CRIU runs in the scope (a prestart hook
	# fails, with the restored processes in it) leaves no unit.
	update_config '.hooks.prestart = [{"path": "/bin/false"}]'
	eval "exec 8<> <(:)"
	! sr --systemd-cgroup --log "$BUNDLE/restore.log" restore -d --image-path "$BUNDLE/image" --bundle "$BUNDLE" t1 <&8 >&8 2>&8 ||
		fail "restore with a failing prestart hook succeeded"
	grep -q prestart "$BUNDLE/restore.log" || fail "restore did not fail on the hook: $(cat "$BUNDLE/restore.log")"
	[ "$(prop "$UNIT" LoadState)" = not-found ] || fail "the failed restore left unit $UNIT: $(prop "$UNIT" LoadState) $(prop "$UNIT" ActiveState)"
	[ ! -d "$(scope_dir)" ]
	assert_nothing_left
	update_config 'del(.hooks)'
	sr --systemd-cgroup --log "$BUNDLE/restore.log" restore -d --image-path "$BUNDLE/image" --bundle "$BUNDLE" t1 <&8 >&8 2>&8 ||
		fail "restore: $(cat "$BUNDLE/restore.log"; grep -h Error "$BUNDLE/image/restore.log" | tail -n 5)"
	pid=$(sr state t1 | jq -r .pid)
	[ "$(sr state t1 | jq -r .status)" = running ]
	[ "$(prop "$UNIT" ActiveState)" = active ] || fail "unit $UNIT: $(prop "$UNIT" ActiveState) $(prop "$UNIT" SubState); init $pid in $(cat /proc/$pid/cgroup); $(systemctl status "$UNIT" 2>&1 | head -20); $(cat "$BUNDLE/restore.log")"
	[ "$(prop "$UNIT" TasksMax)" = 77 ]
	[ "$(cat /proc/$pid/cgroup)" = "0::/system.slice/$UNIT" ]
	[ "$(cat "$(scope_dir)/memory.max")" = 41943040 ]
	[ "$(cat "$(scope_dir)/pids.max")" = 77 ] || fail "pids.max: $(cat "$(scope_dir)/pids.max")"
	grep -qx "$pid" "$(scope_dir)/cgroup.procs"
	sr delete --force t1
	[ "$(prop "$UNIT" ActiveState)" = inactive ]
	[ ! -d "$(scope_dir)" ]
	assert_nothing_left
}

@test "systemd: events --stats reads the scope" {
	run_sd t1
	run sr events --stats t1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .data.pids.limit)" = 77 ]
	[ "$(echo "$output" | jq -r .data.memory.usage.limit)" = 41943040 ]
}

@test "systemd: an empty cgroupsPath is runc-ID.scope in system.slice" {
	update_config '.linux.cgroupsPath = ""'
	id="sr-bats-default-${MARK##*-}"
	UNIT="runc-$id.scope"
	run_sd "$id"
	pid=$(sr state "$id" | jq -r .pid)
	[ "$(cat /proc/$pid/cgroup)" = "0::/system.slice/$UNIT" ]
	sr delete --force "$id"
}

@test "systemd: a sub-slice is nested as systemd nests it" {
	update_config '.linux.cgroupsPath = "sr-bats-a.slice:sr-bats:'"${MARK##*-}"'"'
	run_sd t1
	pid=$(sr state t1 | jq -r .pid)
	[ "$(cat /proc/$pid/cgroup)" = "0::/sr.slice/sr-bats.slice/sr-bats-a.slice/$UNIT" ]
	sr delete --force t1
	systemctl stop sr-bats-a.slice sr-bats.slice sr.slice
}

@test "systemd: org.systemd.property annotations set unit properties" {
	update_config '.annotations["org.systemd.property.TimeoutStopSec"] = "uint64 7"
		| .annotations["org.systemd.property.CollectMode"] = "'"'inactive-or-failed'"'"'
	run_sd t1
	[ "$(prop "$UNIT" TimeoutStopUSec)" = 7s ]
	[ "$(prop "$UNIT" CollectMode)" = inactive-or-failed ]
}

@test "systemd: a cgroupsPath that is not slice:prefix:name is refused, naming the field" {
	update_config '.linux.cgroupsPath = "/not/systemd"'
	run sr --systemd-cgroup run -d --bundle "$BUNDLE" t1 </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *linux.cgroupsPath* ]]
	[[ "$output" == *slice:prefix:name* ]]
	assert_nothing_left
}

@test "systemd: a scope that already exists is refused and left running" {
	systemd-run --quiet --unit "${UNIT%.scope}" --scope sleep 300 </dev/null >/dev/null 2>&1 &
	wait_for 30 systemctl is-active --quiet "$UNIT"
	run sr --systemd-cgroup run -d --bundle "$BUNDLE" t1 </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	# The scope's cgroup is found taken before systemd is asked.
	[[ "$output" == *linux.cgroupsPath* ]]
	[[ "$output" == *"not empty"* || "$output" == *"already exists"* ]]
	[ "$(prop "$UNIT" ActiveState)" = active ]
	[ -z "$(ls -A "$ROOT")" ]
}

@test "systemd: what D-Bus costs create (printed, not checked)" {
	local i t0 t1 t2 n=5
	update_config '.process.args = ["true"]'
	t0=$(date +%s%N)
	for i in $(seq $n); do sr create --bundle "$BUNDLE" "c$i" </dev/null >/dev/null; sr delete --force "c$i"; done
	t1=$(date +%s%N)
	for i in $(seq $n); do
		update_config '.linux.cgroupsPath = "system.slice:sr-bats:'"${MARK##*-}-$i"'"'
		sr --systemd-cgroup create --bundle "$BUNDLE" "s$i" </dev/null >/dev/null
		sr delete --force "s$i"
	done
	t2=$(date +%s%N)
	echo "# create+delete, mean of $n: cgroupfs $(( (t1 - t0) / n / 1000000 )) ms, systemd $(( (t2 - t1) / n / 1000000 )) ms" >&3
	# The log to a file: the created container keeps create's stdio.
	sr --debug --log "$BUNDLE/debug.log" --systemd-cgroup create --bundle "$BUNDLE" s0 </dev/null >/dev/null 2>&1
	sr --debug --log "$BUNDLE/debug.log" delete --force s0
	grep -o 'systemd: .* in [0-9.]*[mµ]*s' "$BUNDLE/debug.log" | sed 's/^/# /' >&3 || true
}

# --- without root: the user's own systemd instance (issue 13) ---

# sd_user CMD... runs CMD as the test user inside a transient service of
# the user's systemd (systemd-run --user), as rootless podman runs the
# runtime below user@UID.service: a process may only be moved between
# cgroups below a common ancestor its user may write, so the runtime
# must already be in the user's delegated subtree. stdin is /dev/null:
# --pipe forwards it, and waits for its end.
sd_user() {
	RL_XDG=/run/user/$RL_UID as_user systemd-run --user --quiet --wait --pipe --collect \
		--working-directory="$BUNDLE" -- "$@" </dev/null
}

# linger starts the test user's systemd (user@UID.service) and waits for
# its session bus.
linger() {
	rootless_user
	loginctl enable-linger "$RL_USER"
	LINGER=1
	wait_for 60 test -S "/run/user/$RL_UID/bus" || fail "the user's systemd did not start its bus"
}

unlinger() {
	[ -n "${LINGER:-}" ] || return 0
	sd_user "$RUNTIME" delete --force u1 >/dev/null 2>&1
	loginctl disable-linger "$RL_USER"
	loginctl terminate-user "$RL_USER" 2>/dev/null
	LINGER=
}

@test "systemd: without root, the scope is the user's systemd's (user.slice below user@UID.service), with its limits; exec, pause, delete" {
	UNIT=
	linger
	chown "$RL_UID:$RL_GID" "$BUNDLE"
	rm "$BUNDLE/config.json"
	sd_user "$RUNTIME" spec --rootless
	jq '.process.terminal = false | .process.args = ["sleep", "infinity"]
		| .root.path = "'"$BUILD/rootfs"'"
		| .linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 40}}' \
		"$BUNDLE/config.json" >"$BUNDLE/c.json"
	chown "$RL_UID:$RL_GID" "$BUNDLE/c.json"
	mv "$BUNDLE/c.json" "$BUNDLE/config.json"
	# systemd-run --pipe hands the service its own stdio, which the
	# detached container keeps: a file, not a pipe that bats would read
	# to its end.
	sd_user "$RUNTIME" --systemd-cgroup run -d --bundle "$BUNDLE" u1 >"$BUNDLE/run.out" 2>&1 ||
		{ cat "$BUNDLE/run.out"; fail "run -d failed"; }
	local scope=/user.slice/user-$RL_UID.slice/user@$RL_UID.service/user.slice/runc-u1.scope
	pid=$(sd_user "$RUNTIME" state u1 | jq -r .pid)
	[ "$(cat /proc/$pid/cgroup)" = "0::$scope" ]
	[ "$(cat "/sys/fs/cgroup$scope/memory.max")" = 33554432 ]
	[ "$(cat "/sys/fs/cgroup$scope/pids.max")" = 40 ]
	[ "$(RL_XDG=/run/user/$RL_UID as_user systemctl --user show -P MemoryMax runc-u1.scope)" = 33554432 ]
	# The system's systemd has no such unit.
	[ "$(systemctl show -P LoadState runc-u1.scope)" = not-found ]
	run sd_user "$RUNTIME" exec u1 echo hi
	[ "$output" = hi ]
	sd_user "$RUNTIME" pause u1
	[ "$(cat "/sys/fs/cgroup$scope/cgroup.freeze")" = 1 ]
	sd_user "$RUNTIME" resume u1
	sd_user "$RUNTIME" update --memory 50331648 u1
	[ "$(RL_XDG=/run/user/$RL_UID as_user systemctl --user show -P MemoryMax runc-u1.scope)" = 50331648 ]
	sd_user "$RUNTIME" delete --force u1
	[ ! -e "/sys/fs/cgroup$scope" ]
	[ "$(RL_XDG=/run/user/$RL_UID as_user systemctl --user show -P ActiveState runc-u1.scope)" != active ]
	[ -z "$(ls -A "/run/user/$RL_UID/sandbox-runtime")" ]
}

@test "systemd: without root and without a user bus, --systemd-cgroup fails naming it, nothing left" {
	rootless_user
	chown "$RL_UID:$RL_GID" "$BUNDLE"
	RL_XDG=$(mktemp -d)
	chown "$RL_UID:$RL_GID" "$RL_XDG"
	rm "$BUNDLE/config.json"
	as_user "$RUNTIME" spec --rootless --bundle "$BUNDLE"
	jq '.process.terminal = false | .root.path = "'"$BUILD/rootfs"'"' "$BUNDLE/config.json" >"$BUNDLE/c.json"
	chown "$RL_UID:$RL_GID" "$BUNDLE/c.json"
	mv "$BUNDLE/c.json" "$BUNDLE/config.json"
	run as_user "$RUNTIME" --systemd-cgroup create --bundle "$BUNDLE" u2
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--systemd-cgroup: the runtime runs without root, and finds no user D-Bus session bus"* ]]
	[ -z "$(ls -A "$RL_XDG/sandbox-runtime" 2>/dev/null)" ]
	rm -rf "$RL_XDG"
}
