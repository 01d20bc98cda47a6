#!/usr/bin/env bats
# checkpoint.bats - checkpoint and restore through CRIU (criu swrk).
#
# Debian 12's criu 3.17 works on Debian's 6.1 kernel but not on newer
# ones ("vdso: Unexpected rt vDSO area bounds" on 6.18): the tests that
# dump run where `criu check` passes (`make integration-criu` runs this
# file in the VM of tests/vm/run.sh), and the last ones check, where it
# fails, that the verbs fail with CRIU's own reason and leave nothing.
#
# The container's stdio are pipes, as under a shim or conmon (CRIU cannot
# dump a file the container cannot see, such as a log file of the host):
# cr_pipe opens one. The counter writes into /out, a bind mount of a host
# directory (an external mount: CRIU is told its source).
load helpers

criu_works() {
	command -v criu >/dev/null && criu check >/dev/null 2>&1
}

# requires_criu skips unless CRIU can dump and restore here.
requires_criu() {
	command -v criu >/dev/null || skip "requires criu"
	criu_works || skip "criu check fails here: $(criu check 2>&1 | grep -m 1 'Error (') (make integration-criu runs this in a VM)"
}

setup() {
	requires root
	setup_bundle
	mkdir "$BUNDLE/out"
	add_mount '{"destination": "/out", "type": "bind", "source": "'"$BUNDLE/out"'", "options": ["rbind", "rw"]}'
	update_config 'del(.linux.resources.devices)'
	# A counter, one step every 0.2 s, in /out/count.
	sh_cmd 'i=${START:-0}; while :; do i=$((i+1)); echo $i >/out/count; sleep 0.2; done'
	RECV=
}

teardown() {
	local p
	for p in $RECV; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	exec 7>&- 8>&- 2>/dev/null || true
	local f
	for f in ${UTS_PINS:-}; do
		umount "$f" 2>/dev/null || true
	done
	teardown_bundle
	for f in ${DELEG_CGS:-}; do
		[ ! -d "$f" ] || rmdir "$f"
	done
	[ -z "${STACKED:-}" ] || umount "$STACKED" 2>/dev/null || true
	if [ -n "${HIER:-}" ]; then
		umount "$HIER" 2>/dev/null || true
		rmdir "$HIER"
	fi
	[ -z "${NETNS:-}" ] || ip netns delete "$NETNS" 2>/dev/null || true
	[ -z "${NETNS2:-}" ] || ip netns delete "$NETNS2" 2>/dev/null || true
}

# cr_pipe FD opens a pipe on FD, both ends.
cr_pipe() {
	eval "exec $1<> <(:)"
}

# count prints the counter's value.
count() {
	cat "$BUNDLE/out/count" 2>/dev/null
}

# in_cgroup PID PATH: PID is in cgroup PATH in every hierarchy (v2, or
# each v1 one and the v2 one of a hybrid host).
in_cgroup() {
	[ -z "$(awk -F: -v p="$2" '$3 != p' "/proc/$1/cgroup")" ] || fail "pid $1: $(cat "/proc/$1/cgroup"), want $2"
}

# memory_limit PATH prints the memory limit of cgroup PATH.
memory_limit() {
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		cat "/sys/fs/cgroup$1/memory.max"
	else
		cat "/sys/fs/cgroup/memory$1/memory.limit_in_bytes"
	fi
}

# pids_limit PATH prints the pids limit of cgroup PATH.
pids_limit() {
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		cat "/sys/fs/cgroup$1/pids.max"
	else
		cat "/sys/fs/cgroup/pids$1/pids.max"
	fi
}

count_gt() {
	[ "$(count)" -gt "$1" ]
}

# count_above N waits until the counter is above N.
count_above() {
	wait_for 30 count_gt "$1"
}

# cr_run ID [FLAGS...] runs the container detached, its stdio a pipe (fd 7).
cr_run() {
	local id=$1
	shift
	cr_pipe 7
	sr --log "$BUNDLE/$id.log" run -d "$@" --bundle "$BUNDLE" "$id" <&7 >&7 2>&7 ||
		fail "run $id: $(cat "$BUNDLE/$id.log")"
}

# cr_checkpoint ID [FLAGS...] checkpoints into $BUNDLE/image unless the
# flags say where.
cr_checkpoint() {
	local id=$1
	shift
	sr_run --log "$BUNDLE/checkpoint.log" checkpoint --image-path "$BUNDLE/image" "$@" "$id"
	[ "$status" -eq 0 ] || fail "checkpoint $id: $(cat "$BUNDLE/checkpoint.log"; tail -n 20 "$BUNDLE/image/dump.log" 2>/dev/null)"
}

# cr_restore ID [FLAGS...] restores detached from $BUNDLE/image unless the
# flags say where, its stdio a new pipe (fd 8).
cr_restore() {
	local id=$1
	shift
	cr_pipe 8
	sr --log "$BUNDLE/restore.log" restore -d --image-path "$BUNDLE/image" "$@" --bundle "$BUNDLE" "$id" <&8 >&8 2>&8 ||
		fail "restore $id: $(cat "$BUNDLE/restore.log"; grep -h Error "$BUNDLE"/image*/restore.log 2>/dev/null | tail -n 20)"
}

@test "checkpoint: a running counter is dumped, the container deleted, and restored it counts on" {
	requires_criu
	cr_run ct1
	count_above 2
	pid=$(sr state ct1 | jq .pid)
	cr_checkpoint ct1
	# The container is gone: its state, its processes, its cgroup.
	sr_run state ct1
	[ "$status" -ne 0 ]
	wait_gone "$pid"
	[ -z "$(test_cgroups)" ]
	n=$(count)
	sleep 1
	[ "$(count)" = "$n" ]
	cr_restore ct1 --pid-file "$BUNDLE/pid"
	count_above "$n"
	[ "$(status ct1)" = running ]
	# What runs is the container's, in a cgroup the runtime made for it.
	pid=$(sr state ct1 | jq .pid)
	[ "$(cat "$BUNDLE/pid")" = "$pid" ]
	in_cgroup "$pid" "/$MARK"
	# CRIU restores into a time namespace of its own (the clocks go on
	# from the dump's), which the spec does not list.
	[ "$(readlink /proc/$pid/ns/time)" != "$(readlink /proc/self/ns/time)" ]
	# exec joins the restored init's namespaces, the time namespace CRIU
	# may have made for it included.
	# (Not the counter's file: read while the counter rewrites it, it
	# can be empty, a line short; a CI run failed that way.)
	sr_run exec ct1 sh -c 'readlink /proc/self/ns/time; readlink /proc/1/ns/time'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "${lines[1]}" ]
	[ "${lines[0]}" = "$(readlink /proc/$pid/ns/time)" ]
	# The network namespace CRIU made on restore has its loopback device
	# up, as init had it at the dump (and as runc's restore leaves it):
	# a service on 127.0.0.1 answers after a restore as before.
	sr_run exec ct1 ip -o link show lo
	[ "$status" -eq 0 ]
	[[ "$output" == *"<LOOPBACK,UP,LOWER_UP>"* ]] || fail "lo after restore: $output"
	sr_run kill ct1 KILL
	[ "$status" -eq 0 ]
	wait_status ct1 stopped
	sr_run delete ct1
	[ "$status" -eq 0 ]
	assert_nothing_left
}

# first_drop prints the first value in /out/log lower than the one before
# it: where a restored counter started again.
first_drop() {
	awk 'NR > 1 && $1 < prev { print $1; exit } { prev = $1 }' "$BUNDLE/out/log"
}

@test "checkpoint --leave-running: the container runs on; restored after a delete, it counts from the dump" {
	requires_criu
	# The counter also appends each value to /out/log, so that where the
	# restored one started is read from the log, not caught by polling
	# (a poll in the TCG VM can take longer than the 0.2 s step).
	sh_cmd 'i=0; while :; do i=$((i+1)); echo $i >/out/count; echo $i >>/out/log; sleep 0.2; done'
	cr_run ct2
	count_above 2
	before=$(count)
	cr_checkpoint ct2 --leave-running
	[ "$(status ct2)" = running ]
	n=$(count)
	count_above $((n + 5))
	sr_run delete --force ct2
	[ "$status" -eq 0 ]
	# The same ID again: it goes on from the dump, between the values
	# read before and after it (+ 1: the step it was dumped in).
	cr_restore ct2
	wait_for 30 eval '[ -n "$(first_drop)" ]'
	drop=$(first_drop)
	[ -n "$drop" ] && [ "$drop" -ge "$before" ] && [ "$drop" -le $((n + 1)) ] ||
		fail "restored counter started at '$drop', dumped between $before and $n"
	count_above $((drop + 1))
	[ "$(status ct2)" = running ]
}

@test "restore without --detach: waits for the restored process, exits with its status, deletes the container" {
	requires_criu
	cr_run ct13
	count_above 1
	cr_checkpoint ct13
	n=$(count)
	cr_pipe 8
	sr restore --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct13 <&8 >&8 2>"$BUNDLE/fg.err" &
	fg=$!
	count_above "$n"
	# The restored process runs before the foreground restore writes
	# the container's state: running once it has.
	wait_for 30 eval '[ "$(status ct13)" = running ]'
	sr kill ct13 KILL
	rc=0
	wait "$fg" || rc=$?
	[ "$rc" -eq 137 ] || fail "restore exited $rc: $(cat "$BUNDLE/fg.err")"
	assert_nothing_left
}

@test "checkpoint --pre-dump, then a dump with --parent-path: restored from both" {
	requires_criu
	cr_run ct3
	count_above 2
	cr_checkpoint ct3 --pre-dump --image-path "$BUNDLE/pre"
	# A pre-dump leaves the container running, and is no checkpoint to
	# restore from.
	[ "$(status ct3)" = running ]
	n=$(count)
	count_above "$n"
	[ ! -e "$BUNDLE/pre/descriptors.json" ]
	cr_checkpoint ct3 --image-path "$BUNDLE/image" --parent-path ../pre
	[ "$(readlink "$BUNDLE/image/parent")" = ../pre ]
	sr_run state ct3
	[ "$status" -ne 0 ]
	n=$(count)
	cr_restore ct3
	count_above "$n"
	[ "$(status ct3)" = running ]
}

@test "checkpoint: a container with a terminal is restored with a new pty, sent to --console-socket" {
	requires_criu
	update_config '.process.terminal = true'
	sh_cmd 'i=0; while :; do i=$((i+1)); echo $i >/out/count; echo "tick $i"; sleep 0.2; done'
	start_recvtty
	sr run -d --console-socket "$BUNDLE/tty.sock" --bundle "$BUNDLE" ct4 </dev/null >"$BUNDLE/run.out" 2>&1 ||
		fail "run: $(cat "$BUNDLE/run.out")"
	count_above 2
	cr_checkpoint ct4
	n=$(count)
	# The old console is closed with the processes.
	wait "$RECV" || true
	RECV=
	"$RECVTTY" -ready "$BUNDLE/tty2.ready" "$BUNDLE/tty2.sock" </dev/null >"$BUNDLE/tty2.out" 2>&1 3>&- &
	RECV=$!
	wait_for 10 test -e "$BUNDLE/tty2.ready"
	cr_restore ct4 --console-socket "$BUNDLE/tty2.sock"
	count_above $((n + 1))
	# What the restored process writes to its terminal reaches the new
	# master: ticks after the dump's.
	wait_for 10 grep -q "tick $((n + 1))" "$BUNDLE/tty2.out"
	pid=$(sr state ct4 | jq .pid)
	[ "$(readlink /proc/$pid/fd/1)" = /dev/pts/0 ]
}

@test "checkpoint: a memory-limited container restored under a new ID gets a new cgroup with the same limits" {
	requires_criu
	update_config '.linux.resources.memory = {"limit": 134217728} | .linux.resources.pids = {"limit": 64}'
	cr_run ct5
	count_above 2
	cr_checkpoint ct5
	[ -z "$(test_cgroups)" ]
	n=$(count)
	update_config '.linux.cgroupsPath = "/'"$MARK"'-new"'
	cr_restore ct5-new
	count_above "$n"
	[ "$(status ct5-new)" = running ]
	sr_run state ct5
	[ "$status" -ne 0 ]
	pid=$(sr state ct5-new | jq .pid)
	in_cgroup "$pid" "/$MARK-new"
	[ "$(memory_limit "/$MARK-new")" = 134217728 ]
	[ "$(pids_limit "/$MARK-new")" = 64 ] || fail "pids limit of the restored container: $(pids_limit "/$MARK-new")"
	# Every restored process is there (they have the test's mark in
	# their environment), none elsewhere.
	for p in $(test_pids); do
		[ ! -e "/proc/$p" ] || in_cgroup "$p" "/$MARK-new"
	done
	sr_run delete --force ct5-new
	[ "$status" -eq 0 ]
	assert_nothing_left
}

# pids_hier prints the v1 pids hierarchy's mount point, or nothing.
pids_hier() {
	findmnt -rn -t cgroup -o TARGET,OPTIONS | awk '{ if (index("," $2 ",", ",pids,")) { print $1; exit } }'
}

# deleg_top REL: make cgroup REL (from each hierarchy's root) in every
# hierarchy and give it to $RL_USER as a parent is delegated (its
# directory and cgroup.procs, cgroups(7)); DELEG_CGS lists what teardown
# removes, deepest first.
deleg_top() {
	local n hier p d
	while IFS=: read -r n hier p; do
		if [ "$n" = 0 ]; then
			d=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1)$1
		else
			d=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk -v c="${hier%%,*}" '{ if (index("," $2 ",", "," c ",")) { print $1; exit } }')$1
		fi
		mkdir "$d"
		if [ -e "$d/cpuset.cpus" ] && [ ! -e "$d/cgroup.controllers" ]; then
			cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"
			cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems"
		fi
		chown "$RL_UID" "$d" "$d/cgroup.procs"
		DELEG_CGS="$d/a $d/b $d/away $d ${DELEG_CGS:-}"
	done </proc/self/cgroup
}

# deleg_dumped ID [JQ]: the attacker's setting. TOP (deleg_top) belongs
# to $RL_USER; container ID (its config changed by JQ first) ran in
# TOP/a and is dumped into $BUNDLE/image; B, another container, runs in
# TOP/b (B_PID, its init). PIDS is the v1 pids hierarchy (the test skips
# without one: cgroup2 has no rename, and its delegation lets the
# parent's owner move processes anyway). The config names TOP/a again,
# for the restore.
deleg_dumped() {
	PIDS=$(pids_hier)
	[ -n "$PIDS" ] || skip "needs a cgroup v1 hierarchy (pids): cgroup2 has no rename (and its delegation lets the parent's owner move processes anyway)"
	rootless_user
	TOP=$MARK-deleg
	deleg_top "/$TOP"
	update_config "${2:-.}"' | .linux.cgroupsPath = "/'"$TOP"'/a"'
	cr_run "$1"
	count_above 1
	cr_checkpoint "$1"
	update_config '.linux.cgroupsPath = "/'"$TOP"'/b" | .process.args = ["sleep", "1000"]'
	sr run -d --bundle "$BUNDLE" "$1-b" </dev/null >/dev/null 2>&1
	B_PID=$(sr state "$1-b" | jq .pid)
	update_config '.linux.cgroupsPath = "/'"$TOP"'/a"'
}

# restored_own ID AWAY: the restored container ID runs in its own pids
# cgroup, now at AWAY (the attacker renamed it there): every restored
# process (the test's mark is in their environment) is in AWAY or below
# it in the pids hierarchy, and the counter counts.
restored_own() {
	local pid n p cg
	[ "$(status "$1")" = running ] || fail "$1 is $(status "$1")"
	pid=$(sr state "$1" | jq .pid)
	for p in $(test_pids); do
		[ "$p" != "$B_PID" ] || continue
		cg=$(grep :pids: "/proc/$p/cgroup" 2>/dev/null) || continue # gone since
		[[ $cg == *":pids:$2" || $cg == *":pids:$2/"* ]] || fail "restored process $p is not in its own pids cgroup ($2): $cg"
	done
	n=$(count)
	count_above "$n"
	echo "$pid"
}

# b_alone PIDS_DIR: B runs on, alone in the pids cgroup renamed to A's
# path (PIDS_DIR).
b_alone() {
	alive "$B_PID" || fail "B's init was killed"
	[ "$(cat "$1/cgroup.procs")" = "$B_PID" ] || fail "B's pids cgroup holds: $(cat "$1/cgroup.procs" | tr '\n' ' ')(B's init: $B_PID)"
}

@test "restore: the owner of a delegated parent renames another container's cgroup to the new one's path before CRIU starts; the restored container gets its own cgroup, and mounted, the other left alone" {
	requires_criu
	local st=0 ino own attacker pid
	deleg_dumped ct9
	local pids=$PIDS top=$TOP
	ino=$(stat -c %i "$pids/$top/b")
	# The attacker, the owner of the parent, waits until restore has
	# made and checked its new cgroup (it then makes criu-root, which
	# strace holds for 1 s: the window, made wide) and renames B's
	# pids cgroup to its path, which CRIU is then told.
	(
		end=$((SECONDS + 60))
		until [ -d "$ROOT/ct9/criu-root" ]; do [ "$SECONDS" -lt "$end" ] || exit 1; done
		as_user sh -ec 'mv "$1/a" "$1/away"; mv "$1/b" "$1/a"' sh "$pids/$top"
	) &
	attacker=$!
	cr_pipe 8
	timeout 120 strace -f -qq -b execve -P "$ROOT/ct9/criu-root" -e trace=mkdirat -e inject=mkdirat:delay_exit=1000000 -o /dev/null \
		"$RUNTIME" --root "$ROOT" --log "$BUNDLE/restore.log" restore -d --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct9 <&8 >&8 2>&8 || st=$?
	wait "$attacker" || fail "the attacker's rename failed"
	cat "$BUNDLE/restore.log"
	[ "$(stat -c %i "$pids/$top/a")" = "$ino" ] || fail "the rename did not happen"
	# Before the yard, CRIU bound B's cgroup by its new path (caught,
	# the restore failed).
	[ "$st" -eq 0 ] || fail "restore failed ($st)"
	pid=$(restored_own ct9 "/$top/away")
	own=$(stat -c %i "$pids/$top/away")
	[ "$(stat -c %i "/proc/$pid/root/sys/fs/cgroup/pids")" = "$own" ] ||
		fail "the restored container's /sys/fs/cgroup/pids is inode $(stat -c %i "/proc/$pid/root/sys/fs/cgroup/pids"), its own cgroup $own (B's: $ino)"
	b_alone "$pids/$top/a"
	# Its own cgroup moved: delete warns about the path, and kills
	# what is its own, not B.
	sr_run delete --force ct9
	[ "$status" -eq 0 ]
	wait_gone "$pid"
	b_alone "$pids/$top/a"
	[ "$(status ct9-b)" = running ]
	sr_run delete --force ct9-b
	wait_gone "$B_PID"
}

@test "restore: the owner of a delegated parent renames another container's cgroup to the new one's path while CRIU restores the cgroups; the image's limits and the processes go to their own, the other left alone (--manage-cgroups-mode full)" {
	requires_criu
	local st=0 n attacker pid
	# No cgroup mount: what the container sees is checked apart (the
	# test before); this one is about where its processes and its
	# limits go.
	deleg_dumped ct10 'del(.mounts[] | select(.type == "cgroup")) | .linux.resources.pids = {"limit": 64}'
	local pids=$PIDS top=$TOP
	# B's limit differs from the image's, which full mode restores; the
	# spec restored with has none (restore would set it after CRIU).
	echo 32 >"$pids/$top/b/pids.max"
	update_config 'del(.linux.resources.pids)'
	# CRIU's first read of the image waits on a FIFO until the attacker
	# is done: the window between restore entering CRIU into its new
	# cgroup and CRIU's use of it (it reads the image first), made
	# wide.
	mv "$BUNDLE/image/inventory.img" "$BUNDLE/inventory.img"
	mkfifo "$BUNDLE/image/inventory.img"
	(
		end=$((SECONDS + 60)) st=0
		until grep -qs . "$pids/$top/a/cgroup.procs"; do [ "$SECONDS" -lt "$end" ] || { st=1; break; }; done
		if [ "$st" -eq 0 ]; then
			sleep 0.5
			as_user sh -ec 'mv "$1/a" "$1/away"; mv "$1/b" "$1/a"' sh "$pids/$top" || st=1
		fi
		# (Released whatever happened: CRIU would wait forever.)
		cat "$BUNDLE/inventory.img" >"$BUNDLE/image/inventory.img"
		exit "$st"
	) &
	attacker=$!
	cr_pipe 8
	timeout 120 "$RUNTIME" --root "$ROOT" --log "$BUNDLE/restore.log" restore -d --manage-cgroups-mode full --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct10 <&8 >&8 2>&8 || st=$?
	wait "$attacker" || fail "the attacker's rename failed"
	cat "$BUNDLE/restore.log"
	grep -q ":pids:/$top/a\$" "/proc/$B_PID/cgroup" || fail "the rename did not happen: $(cat "/proc/$B_PID/cgroup")"
	# Before the yard, CRIU wrote the image's limit on B's cgroup, then
	# placed the processes there (caught, the restore failed).
	[ "$(cat "$pids/$top/a/pids.max")" = 32 ] || fail "CRIU wrote the image's limit on B's pids cgroup: $(cat "$pids/$top/a/pids.max")"
	[ "$st" -eq 0 ] || fail "restore failed ($st)"
	pid=$(restored_own ct10 "/$top/away")
	[ "$(cat "$pids/$top/away/pids.max")" = 64 ] || fail "the restored container's pids limit (the image's, restored by CRIU): $(cat "$pids/$top/away/pids.max")"
	b_alone "$pids/$top/a"
	sr_run delete --force ct10
	[ "$status" -eq 0 ]
	wait_gone "$pid"
	b_alone "$pids/$top/a"
	sr_run delete --force ct10-b
	wait_gone "$B_PID"
}

@test "restore: a cgroup hierarchy the container has no cgroup in (a named v1 one mounted elsewhere) is restored as before the cgroup yard" {
	requires_criu
	local n
	HIER=$(mktemp -d /tmp/sr-bats-hier.XXXXXX)
	mount -t cgroup -o "none,name=srbats$$" cgroup "$HIER" || skip "cannot mount a named v1 cgroup hierarchy here"
	cr_run ct13
	count_above 1
	grep -q ":name=srbats$$:/\$" "/proc/$(sr state ct13 | jq .pid)/cgroup"
	cr_checkpoint ct13
	n=$(count)
	cr_restore ct13
	count_above "$n"
	grep -q ":name=srbats$$:/\$" "/proc/$(sr state ct13 | jq .pid)/cgroup"
	sr_run delete --force ct13
	[ "$status" -eq 0 ]
	assert_nothing_left
}

@test "restore: a spec with a cgroup namespace that CRIU does not make (--manage-cgroups-mode ignore) fails, naming it; restored as usual, init has its own" {
	requires_criu
	local pid st=0
	update_config '.linux.namespaces |= map(select(.type != "cgroup")) + [{"type": "cgroup"}]'
	cr_run ct12
	count_above 1
	cr_checkpoint ct12
	cr_pipe 8
	sr --log "$BUNDLE/restore.log" restore -d --manage-cgroups-mode ignore --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct12 <&8 >&8 2>&8 || st=$?
	cat "$BUNDLE/restore.log"
	if [ "$st" -eq 0 ]; then
		pid=$(sr state ct12 | jq .pid)
		fail "restored; init's cgroup namespace: $(readlink "/proc/$pid/ns/cgroup"), ours: $(readlink /proc/self/ns/cgroup)"
	fi
	grep -q "linux.namespaces: cgroup: the restored init is in the runtime's cgroup namespace" "$BUNDLE/restore.log" || fail "restore did not say why"
	assert_nothing_left
	cr_restore ct12
	pid=$(sr state ct12 | jq .pid)
	[ "$(readlink "/proc/$pid/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ] || fail "init is in our cgroup namespace"
	sr_run delete --force ct12
	[ "$status" -eq 0 ]
	assert_nothing_left
}

@test "checkpoint: restore runs the prestart and createRuntime hooks with the restored pid, as runc" {
	requires_criu
	printf '#!/bin/sh\ncat >"$2/$1.json"; echo "$1" >>"$2/order"\n' >"$BUNDLE/hook.sh"
	chmod 755 "$BUNDLE/hook.sh"
	local k hooks=
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		hooks+=" | .hooks.$k = [{\"path\": \"$BUNDLE/hook.sh\", \"args\": [\"hook.sh\", \"$k\", \"$BUNDLE\"]}]"
	done
	# createContainer and startContainer run in the container: /out.
	update_config ". $hooks | .hooks.startContainer[0].path = \"/out/hook.sh\" | .hooks.startContainer[0].args[2] = \"/out\"
		| .hooks.createContainer[0].args[2] = \"$BUNDLE/out\""
	cp "$BUNDLE/hook.sh" "$BUNDLE/out/hook.sh"
	cr_run ct6
	count_above 1
	cr_checkpoint ct6
	rm -f "$BUNDLE/order"
	cr_restore ct6
	pid=$(sr state ct6 | jq .pid)
	# Nothing is started: no startContainer or poststart hook.
	[ "$(cat "$BUNDLE/order" | tr '\n' ' ')" = "prestart createRuntime " ]
	[ "$(jq .pid "$BUNDLE/prestart.json")" = "$pid" ]
	[ "$(jq .pid "$BUNDLE/createRuntime.json")" = "$pid" ]
	sr_run delete --force ct6
	[ "$(tail -n 1 "$BUNDLE/order")" = poststop ]
}

@test "checkpoint: a network namespace joined by path is left out of the dump, even if its path names another by then, and joined again" {
	requires_criu
	NETNS=$MARK
	NETNS2=${MARK}-other
	ip netns add "$NETNS"
	ip netns add "$NETNS2"
	update_config '(.linux.namespaces[] | select(.type == "network")) .path = "/run/netns/'"$NETNS"'"'
	cr_run ct7
	count_above 1
	# By the checkpoint the path names another namespace (mounted over
	# it): what CRIU must leave out is the one init is in.
	mount --bind "/run/netns/$NETNS2" "/run/netns/$NETNS"
	STACKED=/run/netns/$NETNS
	cr_checkpoint ct7
	umount "/run/netns/$NETNS"
	STACKED=
	# Still there: someone else's.
	[ -e "/run/netns/$NETNS" ]
	n=$(count)
	cr_restore ct7
	count_above "$n"
	pid=$(sr state ct7 | jq .pid)
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$NETNS")" ]
	# Its loopback device is as its owner left it (down: `ip netns add`
	# does not bring it up): restore brings up only one CRIU made.
	run ip -n "$NETNS" -o link show lo
	[ "$status" -eq 0 ]
	[[ "$output" != *"UP"* ]] || fail "lo of a joined namespace brought up: $output"
}

@test "restore: an image without a network namespace, restored with a spec that asks for one, fails and leaves the runtime's alone" {
	requires_criu
	# The runtime runs in a network namespace of the test's, whose lo is
	# down (the host's is up already): a change to the runtime's own shows.
	NETNS=$MARK
	ip netns add "$NETNS"
	local real=$RUNTIME
	RUNTIME=$BUNDLE/sr-in-netns
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$NETNS" "$real" >"$RUNTIME"
	chmod +x "$RUNTIME"
	# Dumped in the runtime's network namespace: the image has none.
	update_config 'del(.linux.namespaces[] | select(.type == "network"))'
	cr_run ct8
	count_above 1
	cr_checkpoint ct8
	# CRIU makes a network namespace only if the image has one: init
	# would be restored into the runtime's, where restore brought lo up.
	update_config '.linux.namespaces += [{"type": "network"}]'
	cr_pipe 8
	status=0
	sr --log "$BUNDLE/restore.log" restore -d --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct8 <&8 >&8 2>&8 || status=$?
	[ "$status" -ne 0 ] || fail "restore into the runtime's network namespace succeeded"
	grep -q "linux.namespaces: network: the image has no network namespace.*init's network namespace: it is the runtime's own" "$BUNDLE/restore.log" || fail "restore: $(cat "$BUNDLE/restore.log")"
	run ip -n "$NETNS" -o link show lo
	[ "$status" -eq 0 ]
	[[ "$output" != *"UP"* ]] || fail "the runtime's lo was brought up: $output"
	sr_run state ct8
	[ "$status" -ne 0 ]
	assert_nothing_left
}

@test "restore: a UTS namespace joined by path is joined as checked, even if its path names another by then" {
	requires_criu
	# Two UTS namespaces pinned by bind mounts: the container's, and
	# another an attacker would have the path name once it is checked.
	mkdir "$BUNDLE/ns"
	touch "$BUNDLE/ns/uts" "$BUNDLE/ns/other"
	UTS_PINS="$BUNDLE/ns/uts $BUNDLE/ns/other"
	unshare --uts="$BUNDLE/ns/uts" hostname alpha
	unshare --uts="$BUNDLE/ns/other" hostname omega
	local want
	want=$(stat -L -c %i "$BUNDLE/ns/uts")
	update_config 'del(.hostname) | (.linux.namespaces[] | select(.type == "uts")) .path = "'"$BUNDLE/ns/uts"'"'
	cr_run ct9
	count_above 1
	cr_checkpoint ct9
	# The path changes after the runtime opened and checked it, before
	# CRIU runs: a criu that, run for the restore (in a mount namespace
	# of its own, not ours as the version probe is), first mounts the
	# other namespace over the path (only CRIU sees the change).
	cat >"$BUNDLE/criu" <<-EOF
		#!/bin/sh
		if [ "\$1" = swrk ] && [ "\$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]; then
			mount --bind "$BUNDLE/ns/other" "$BUNDLE/ns/uts" || exit 1
		fi
		exec criu "\$@"
	EOF
	chmod +x "$BUNDLE/criu"
	n=$(count)
	cr_pipe 8
	sr --criu "$BUNDLE/criu" --log "$BUNDLE/restore.log" restore -d --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct9 <&8 >&8 2>&8 ||
		fail "restore ct9: $(cat "$BUNDLE/restore.log"; grep -h Error "$BUNDLE"/image*/restore.log 2>/dev/null | tail -n 20)"
	count_above "$n"
	pid=$(sr state ct9 | jq .pid)
	[ "$(stat -L -c %i "/proc/$pid/ns/uts")" = "$want" ] ||
		fail "restored into UTS namespace $(stat -L -c %i "/proc/$pid/ns/uts"), want $want (the other is $(stat -L -c %i "$BUNDLE/ns/other"))"
	[ "$(nsenter -t "$pid" -u hostname)" = alpha ]
	# CRIU writes the dumped hostname where it joined: not into the other.
	[ "$(nsenter --uts="$BUNDLE/ns/other" hostname)" = omega ]
}

@test "create: stdio that is the host's /dev/null is the container's /dev/null, which CRIU can dump" {
	# As runc's reOpenDevNull: conmon gives a container without stdin
	# /dev/null, a file of the host's /dev mount, outside the
	# container's mount namespace.
	sh_cmd 'for fd in 0 2; do m=$(sed -n "s/^mnt_id:\t*//p" /proc/self/fdinfo/$fd); awk -v m="$m" "\$1 == m { print \$5 }" /proc/self/mountinfo; done >/out/fds'
	sr run --bundle "$BUNDLE" ct12 </dev/null 2>/dev/null
	# Both are found among the container's own mounts: its /dev.
	[ "$(cat "$BUNDLE/out/fds")" = "$(printf '/dev\n/dev')" ]
}

# --- bad input: a clear error, nothing made or changed ---

@test "checkpoint: a stopped or created container cannot be checkpointed" {
	requires criu
	sh_cmd true
	cr_pipe 7
	sr run -d --bundle "$BUNDLE" ct8 <&7 >&7 2>&7
	wait_status ct8 stopped
	sr_run checkpoint --image-path "$BUNDLE/image" ct8
	[ "$status" -ne 0 ]
	[[ "$output" == *"Container cannot be checkpointed in stopped state"* ]]
	[ "$(status ct8)" = stopped ]
	sr_run delete ct8
	update_config '.process.args = ["sleep", "100"]'
	sr_create ct9
	sr_run checkpoint --image-path "$BUNDLE/image" ct9
	[ "$status" -ne 0 ]
	[[ "$output" == *"Container cannot be checkpointed in created state"* ]]
	[ "$(status ct9)" = created ]
	sr_run checkpoint --image-path "$BUNDLE/image" nosuch
	[ "$status" -ne 0 ]
	[[ "$output" == *"container does not exist"* ]]
}

@test "restore: a missing or foreign image directory, a bad flag: a clear error and nothing left" {
	requires criu
	sr_run restore -d --image-path "$BUNDLE/nosuch" --bundle "$BUNDLE" r1
	[ "$status" -ne 0 ]
	[[ "$output" == *"--image-path: open $BUNDLE/nosuch: no such file or directory"* ]]
	assert_nothing_left
	mkdir "$BUNDLE/empty"
	sr_run restore -d --image-path "$BUNDLE/empty" --bundle "$BUNDLE" r1
	[ "$status" -ne 0 ]
	[[ "$output" == *"--image-path $BUNDLE/empty: not a checkpoint"* ]]
	assert_nothing_left
	echo '["pipe:[1]", "pipe:[1]", "pipe:[1]"]' >"$BUNDLE/empty/descriptors.json"
	sr_run restore -d --image-path "$BUNDLE/empty" --manage-cgroups-mode hard --bundle "$BUNDLE" r1
	[ "$status" -ne 0 ]
	[[ "$output" == *"--manage-cgroups-mode: invalid value "*hard* ]]
	assert_nothing_left
	sr_run restore -d --image-path "$BUNDLE/empty" --empty-ns ipc --bundle "$BUNDLE" r1
	[ "$status" -ne 0 ]
	[[ "$output" == *"--empty-ns: namespace "*ipc*" is not supported"* ]]
	assert_nothing_left
	update_config '.process.args = ["sleep", "100"]'
	sr_create ct
	sr_run checkpoint --page-server nohost ct
	[ "$status" -ne 0 ]
	[[ "$output" == *"--page-server "*nohost*": want ADDRESS:PORT"* ]]
}

@test "restore: a container's mount namespace is never joined: CRIU would restore its mounts there" {
	requires_criu
	# a1: a container with the default capabilities. CRIU, as root,
	# would make the restored container's mounts in its tree, where a1's
	# processes can reach them (create refuses it too: security.bats).
	mkdir "$BUNDLE/a1"
	jq '.process.args = ["sleep", "1000"] | .linux.cgroupsPath = "/'"$MARK"'-a1" | .mounts |= map(select(.destination != "/out"))' \
		"$BUNDLE/config.json" >"$BUNDLE/a1/config.json"
	sr run -d --bundle "$BUNDLE/a1" a1 </dev/null >"$BUNDLE/a1.out" 2>&1 || fail "a1: $(cat "$BUNDLE/a1.out")"
	local apid
	apid=$(sr state a1 | jq .pid)
	update_config '(.linux.namespaces[] | select(.type == "mount")) |= {"type": "mount", "path": "/proc/'"$apid"'/ns/mnt"}'
	mkdir "$BUNDLE/images"
	echo '["/dev/null", "/dev/null", "/dev/null"]' >"$BUNDLE/images/descriptors.json"
	sr_run restore -d --image-path "$BUNDLE/images" --bundle "$BUNDLE" r2
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.namespaces: mount namespace /proc/$apid/ns/mnt: process $apid is in it and it lacks capabilities we hold"* ]]
	run sr state r2
	[ "$status" -ne 0 ]
	sr delete --force a1
}

@test "restore: into an ID that exists: refused, the container untouched" {
	requires criu
	mkdir "$BUNDLE/image"
	echo '["pipe:[1]", "pipe:[1]", "pipe:[1]"]' >"$BUNDLE/image/descriptors.json"
	update_config '.process.args = ["sleep", "100"]'
	sr_create ct10
	pid=$(sr state ct10 | jq .pid)
	sr_run restore -d --manage-cgroups-mode full --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct10
	[ "$status" -ne 0 ]
	[[ "$output" == *"container with given ID already exists: ct10"* ]]
	[ "$(status ct10)" = created ]
	[ "$(sr state ct10 | jq .pid)" = "$pid" ]
	[ "$(test_cgroups)" = "/sys/fs/cgroup/$MARK-ct10" ] || [ "$(test_cgroups | grep -vc -- "-ct10$")" = 0 ]
	sr_run delete --force ct10
	assert_nothing_left
}

# --- where CRIU cannot work ---

@test "checkpoint, restore: where CRIU cannot work, they fail with CRIU's reason and change nothing" {
	requires criu
	! criu_works || skip "criu works here"
	reason=$(criu check 2>&1 | grep -m 1 'Error (' | sed 's/^.*\(Error (\)/\1/')
	[ -n "$reason" ]
	cr_run ct11
	count_above 1
	sr_run --log "$BUNDLE/checkpoint.log" checkpoint --image-path "$BUNDLE/image" ct11
	[ "$status" -ne 0 ]
	grep -qF "$reason" "$BUNDLE/checkpoint.log"
	[ "$(status ct11)" = running ]
	n=$(count)
	count_above "$n"
	# The image directory has what a dump writes first: restore gets
	# as far as CRIU, which fails the same way.
	[ -e "$BUNDLE/image/descriptors.json" ]
	sr_run delete --force ct11
	[ "$status" -eq 0 ]
	sr_run --log "$BUNDLE/restore.log" restore -d --image-path "$BUNDLE/image" --bundle "$BUNDLE" ct11
	[ "$status" -ne 0 ]
	grep -qF "$reason" "$BUNDLE/restore.log"
	assert_nothing_left
	# features and --version say so.
	run "$RUNTIME" features
	[ "$(jq -r '.annotations["io.github.sandbox-runtime.checkpoint.enabled"]' <<<"$output")" = false ]
	[[ "$(jq -r '.annotations["io.github.sandbox-runtime.checkpoint.reason"]' <<<"$output")" == *"$reason"* ]]
	"$RUNTIME" --version | grep -F "not usable here" | grep -qF "$reason"
}

@test "features, --version: checkpoint and restore work here, with this criu" {
	requires_criu
	run "$RUNTIME" features
	[ "$(jq -r '.annotations["io.github.sandbox-runtime.checkpoint.enabled"]' <<<"$output")" = true ]
	v=$(criu --version | awk '/^Version:/ { print $2 }')
	[ "$(jq -r '.annotations["io.github.sandbox-runtime.checkpoint.criu"]' <<<"$output")" = "$v" ]
	"$RUNTIME" --version | grep -qx "criu: $v, checkpoint and restore work here"
}
