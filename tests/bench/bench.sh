#!/bin/bash
# bench.sh - sandbox-runtime, runc, crun and any PEERS side by side here:
# the latency of each verb, the memory each one uses, many containers at
# once, and list. Run by `make bench` (which installs the packages and
# builds ./sandbox-runtime first); docs/bench.md shows an output.
#
#   tests/bench/bench.sh          every row, on this host
#   tests/bench/bench.sh --vm     the rows of BENCH_VM_ONLY in a pure
#                                 cgroup v2 VM (tests/vm/run.sh; TCG:
#                                 ~20 min for the default groups)
#   BENCH_VM=1 tests/bench/bench.sh   both, in one table
#   tests/bench/bench.sh --pair OLD   ./sandbox-runtime against the
#                                 binary OLD, in pairs (bench_pair): for
#                                 a change smaller than a row's noise
#
# Environment (defaults in brackets):
#   BENCH_RUNS [50]       hyperfine runs per command of each timed row
#   BENCH_WARMUP [3]      hyperfine warmup runs
#   BENCH_MEM_RUNS [10]   samples of each memory row (median)
#   BENCH_MANY [100]      containers started at once
#   BENCH_MANY_RUNS [5]   hyperfine runs of the BENCH_MANY row
#   BENCH_LIST_N [1000]   containers that exist during the list row
#   BENCH_LIST_RUNS [10]  hyperfine runs of the list row
#   BENCH_ROUNDS [5]      rounds each row's runs are split into, the
#                         runtimes in turn forward and backward (see hf)
#   BENCH_JSON [unset]    a directory to keep hyperfine's JSON exports in
#   BENCH_ONLY [all]      the groups to run, of: run phases running memory
#                         many list (e.g. BENCH_ONLY="run memory")
#   BENCH_VM_ONLY [run phases running memory]  the groups run in the VM
#   BENCH_VM_RUNS [20]    BENCH_RUNS in the VM (TCG is ~13x slower)
#   BENCH_PAIR_N [100]    --pair: pairs per verb
#   BENCH_PAIR_VERBS [create run start delete state]  --pair: the verbs
#                         (exec and exec-d too: /bin/true in a running
#                         container, in the foreground or detached)
#   PEERS [none]          more runtimes, "NAME=PATH ...", after Debian's
#                         runc and crun (e.g. PEERS="runc-1.5.1=/opt/peers/
#                         bin/runc-1.5.1 crun-1.27.1=/opt/peers/bin/crun-1.27.1");
#                         the targets are checked against the last NAME
#                         starting with runc and with crun
#
# What each row measures. Every container is the same busybox bundle:
# the default config of `sandbox-runtime spec` (new pid, net, ipc, uts,
# mount and cgroup namespaces; /proc, /dev, /sys, the cgroup mount; root
# read-only) with ociVersion 1.0.2 (crun 1.8.1 refuses 1.3.0), terminal
# false, a 64 MiB memory limit (so each container has a memory cgroup of
# its own, /MARK/ID in every hierarchy) and the process /bin/true (sleep
# for the exec and state rows). Times are hyperfine medians; a row's
# --prepare (untimed) puts the container in the state the verb needs.
#   run        `run` of a fresh container to its exit; prepare: delete -f.
#   run, 50 ms apart: the same with 50 ms of sleep in the prepare. On
#              cgroup v1 the first migration into a cgroup (the write of
#              init's pid to cgroup.procs, which every runtime makes)
#              after a quiet moment waits for an RCU grace period
#              (percpu_down_write of cgroup_threadgroup_rwsem: rcu_sync_
#              enter, synchronize_rcu; 10-20 ms on this machine), and a
#              migration within about a grace period of the last one
#              does not: back to back, a runtime whose runs are shorter
#              than that never waits, a slower one often does (docs/
#              bench.md). Apart, every runtime waits once per run, as a
#              container started on its own does. Pure cgroup v2 clones
#              init into its cgroup (CLONE_INTO_CGROUP): no migration.
#   run, user namespace: `run` of the same with a user namespace of its
#              own (0 -> host 100000, 65536 ids); prepare: delete -f.
#   create     `create`; prepare: delete -f the previous one.
#   start      `start` of a created container; prepare: delete -f, create.
#   wait       wait-for-exit: from `start` having returned (the end of the
#              prepare: delete -f, create, start) until a `state` reports
#              "stopped". The timed command is a shell loop that runs
#              `state` until its output contains "stopped" (the process
#              exec'd /bin/true, exited and was reaped), so the row is at
#              least one `state` call: it is the latency a caller that
#              polls state sees. hyperfine subtracts the loop's shell.
#   delete     `delete` (no --force) of a stopped container; prepare:
#              delete -f, create, start, the wait loop above.
#   exec       `exec ID /bin/true` into a running sleep container.
#   exec, 50 ms apart: the same with 50 ms of sleep as the prepare, as
#              the execs of a health check come. On cgroup v1 a runtime
#              that moves the process into the container's cgroups (runc
#              and crun write its pid to cgroup.procs) waits for an RCU
#              grace period each time (see "run, 50 ms apart"); ours
#              makes its first child move itself (a write of "0" to
#              tasks), which does not wait.
#   state      `state` of that running container.
#   RSS CLI    peak RSS of the `create` process: /usr/bin/time -f %M
#              (ru_maxrss: create and the children it waited for).
#   RSS init   VmHWM of the container's init process while created (from
#              /proc/PID/status, before start): runc's and our `init`
#              re-exec, crun's forked child.
#   charged    what the runtime's init stage charged to the container's
#              memory cgroup by the end of create: v1
#              memory.max_usage_in_bytes here, v2 memory.peak in the VM.
#   many       create+start of BENCH_MANY containers at once (xargs -P),
#              total, then per container (total / BENCH_MANY), against the
#              same command for one container. Deleting them is the
#              prepare of the next run, untimed.
#   list       `list` while BENCH_LIST_N created containers exist.
# The memory rows take BENCH_MEM_RUNS samples, the runtimes in turn.
# hyperfine runs one command's runs, then the next's: each row runs the
# runtimes in BENCH_ROUNDS rounds, forward and backward in turn (hf), so
# that a load that comes and goes falls on all of them; the load average
# is printed before and after so that a busy machine shows.
#
# The host's cgroups are hybrid (v1 controllers, cgroup2 at
# /sys/fs/cgroup/unified) and crun 1.8.1 refuses hybrid hosts, so the
# script re-executes itself in a private mount namespace where the
# cgroup2 mount is replaced by an empty tmpfs: all the runtimes then see
# a plain v1 host and the host's mounts are untouched.
#
# Needs root. Leaves nothing behind, even on Ctrl-C: each runtime has a
# private --root under one temp dir; on exit every container is deleted
# with --force, whatever is still in our cgroups is killed, the cgroups
# are removed, and the temp dir (bundle, state) goes.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$REPO/tests/bench/bench.sh
RUNS=${BENCH_RUNS:-50}
WARMUP=${BENCH_WARMUP:-3}
MEM_RUNS=${BENCH_MEM_RUNS:-10}
MANY=${BENCH_MANY:-100}
MANY_RUNS=${BENCH_MANY_RUNS:-5}
LIST_N=${BENCH_LIST_N:-1000}
LIST_RUNS=${BENCH_LIST_RUNS:-10}
ROUNDS=${BENCH_ROUNDS:-5}
VM_ONLY=${BENCH_VM_ONLY:-run phases running memory}
VM_RUNS=${BENCH_VM_RUNS:-20}
SFX="" # appended to every row's label: " [VM]" for the VM's rows

say() { echo "bench: $*" >&2; }
die() {
	echo "bench: $*" >&2
	[ -s "${TMP:-/nonexistent}/log" ] && { echo "bench: last lines of the runtimes' output:" >&2; tail -n 20 "$TMP/log" >&2; }
	exit 1
}

RTS=(sr runc crun)
declare -A NAME=([sr]=sandbox-runtime [runc]=runc [crun]=crun)
declare -A BIN=([sr]=$REPO/sandbox-runtime [runc]=$(command -v runc || true) [crun]=$(command -v crun || true))
# PEERS="NAME=PATH ..." adds runtimes after Debian's (docs/bench.md says
# how to build runc 1.5.1 and crun 1.27.1 from their sources), or an
# older build of ours to compare with in the same run. The targets are
# checked against the last runc... and the last crun... of the list
# (REF_RUNC, REF_CRUN), so against the peers when there are some.
for p in ${PEERS:-}; do
	case $p in
	?*=/*) ;;
	*) die "PEERS: $p is not NAME=/ABSOLUTE/PATH" ;;
	esac
	k=${p%%=*}
	[[ $k =~ ^[A-Za-z0-9._-]+$ ]] || die "PEERS: $k: letters, digits, . _ - only"
	[ -z "${NAME[$k]:-}" ] || die "PEERS: $k named twice"
	RTS+=("$k")
	NAME[$k]=$k
	BIN[$k]=${p#*=}
done
REF_RUNC=runc REF_CRUN=crun
for r in "${RTS[@]}"; do
	case $r in runc*) REF_RUNC=$r ;; crun*) REF_CRUN=$r ;; esac
done

preflight() {
	[ "$(id -u)" = 0 ] || die "must run as root (containers need namespaces, mounts and cgroups): sudo make bench"
	case $REPO in *[[:space:]]*) die "the repository path has a space; the hyperfine commands do not quote paths" ;; esac
	[ -x "${BIN[sr]}" ] || die "${BIN[sr]} missing: make build"
	local t
	for t in runc crun hyperfine jq unshare /usr/bin/time /bin/busybox; do
		command -v "$t" >/dev/null || die "$t missing: scripts/deps.sh bench"
	done
	for r in "${RTS[@]}"; do
		[ -x "${BIN[$r]}" ] || die "${NAME[$r]}: ${BIN[$r]} is not an executable"
	done
}

# --- setup in the namespace: temp dir, bundle, cleanup -----------------

# cgroup_fs_type DIR prints cgroupfs, cgroup2fs or something else.
cgroup_fs_type() { stat -fc %T "$1" 2>/dev/null || true; }

# hide_unified replaces the cgroup2 mount of a hybrid host by an empty
# tmpfs, in our private mount namespace only. crun then sees a v1 host,
# but still makes directories under /sys/fs/cgroup/unified (the
# process's "0::" line in /proc/self/cgroup); without the tmpfs they
# would land in the host's /sys/fs/cgroup tmpfs under its cgroup2 mount.
# crun writes a file or two in each (a page each): 1000 containers of the
# list row need a few MB; the size is a cap, nothing is reserved.
hide_unified() {
	[ "$(cgroup_fs_type /sys/fs/cgroup/unified)" = cgroup2fs ] || return 0
	umount /sys/fs/cgroup/unified
	mount -t tmpfs -o size=256m,mode=755 bench-unified /sys/fs/cgroup/unified
}

# state_tmpfs mounts a tmpfs on $TMP/state, where every runtime's --root
# is, in our private mount namespace (or the VM's) only. On the hosts
# runtimes run on, their state lives in /run, a tmpfs (/run/runc,
# /run/crun, /run/containerd/runc, /run/sandbox-runtime); here /tmp and
# /run are on the disk's ext4, where removing a file whose blocks were
# written costs a journal update: ~0.35 ms a file in `delete` (strace -T
# of unlinkat), for every runtime, a cost no host has and one that comes
# and goes with ext4's 5 s journal commits.
state_tmpfs() {
	mount -t tmpfs -o size=512m,mode=700 bench-state "$TMP/state"
}

setup() {
	exec </dev/null # a container inherits create's stdin
	TMP=$(mktemp -d /tmp/sr-bench.XXXXXX)
	MARK=${TMP##*/} # every container's cgroup is /$MARK/ID
	# bash runs the EXIT trap when SIGINT or SIGTERM kills it too. No INT
	# trap of our own: a command substitution's child can run an inherited
	# one before it resets its signals, and bash 5.2 then fails to parse it
	# ("interrupt trap: unexpected EOF"); the default disposition has no
	# such window.
	trap cleanup EXIT
	mkdir -p "$TMP"/{state,c,json,mem,bin}
	: >"$TMP/log"

	# Each runtime runs from a copy: the peak RSS of a process follows
	# how the page cache holds its binary, and a binary the Go linker
	# has just written (through a mapping) showed 0.9 MB more RssFile
	# than the same bytes written by cp or read back from disk. Copies
	# put every runtime on the footing of an installed binary.
	local r
	for r in "${RTS[@]}"; do
		cp "${BIN[$r]}" "$TMP/bin/$r"
		BIN[$r]=$TMP/bin/$r
	done

	# The rootfs: busybox-static and its applets, nothing else.
	local rfs=$TMP/rootfs a
	mkdir -p "$rfs"/{bin,dev,etc,proc,sys,tmp}
	cp /bin/busybox "$rfs/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$rfs/bin/$a"
	done
	echo 'root:x:0:0:root:/:/bin/sh' >"$rfs/etc/passwd"

	# One config per container (bundle dir $TMP/c/ID): they differ only
	# in the cgroup path, which the runtimes need distinct.
	"${BIN[sr]}" spec --bundle "$TMP"
	# shellcheck disable=SC2016 # $rfs and $cg are jq's
	local base='.ociVersion = "1.0.2"
		| .root = {path: $rfs, readonly: true}
		| .process.terminal = false
		| .linux.resources.memory.limit = 67108864
		| .linux.cgroupsPath = $cg'
	TMPL_TRUE=$(jq --arg rfs "$rfs" --arg cg "/$MARK/@ID@" "$base | .process.args = [\"/bin/true\"]" "$TMP/config.json")
	TMPL_SLEEP=$(jq --arg rfs "$rfs" --arg cg "/$MARK/@ID@" "$base | .process.args = [\"sleep\", \"1000000\"]" "$TMP/config.json")
	# The user-namespace row's: container root is host uid and gid
	# 100000 (65536 ids), which must get through $TMP to the rootfs.
	TMPL_USERNS=$(jq --arg rfs "$rfs" --arg cg "/$MARK/@ID@" "$base | .process.args = [\"/bin/true\"]
		| .linux.namespaces += [{type: \"user\"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = .linux.uidMappings" "$TMP/config.json")
	chmod 711 "$TMP"
	rm "$TMP/config.json"
}

# bundle ID [TEMPLATE] makes $TMP/c/ID/config.json (the /bin/true
# template by default).
bundle() {
	mkdir -p "$TMP/c/$1"
	local t=${2:-$TMPL_TRUE}
	printf '%s\n' "${t//@ID@/$1}" >"$TMP/c/$1/config.json"
}

# rt R ARGS... runs runtime R with its private root, output to the log.
rt() {
	local r=$1
	shift
	"${BIN[$r]}" --root "$TMP/state/$r" "$@" </dev/null >>"$TMP/log" 2>&1
}
cmd() { echo "${BIN[$1]} --root $TMP/state/$1"; }

cleanup() {
	local rc=$? r d i left
	trap '' INT TERM # a second Ctrl-C must not interrupt the cleanup
	say "cleaning up"
	for r in "${RTS[@]}"; do
		[ -d "$TMP/state/$r" ] || continue
		"${BIN[$r]}" --root "$TMP/state/$r" list -q 2>/dev/null |
			xargs -r -n 1 -P 4 "${BIN[$r]}" --root "$TMP/state/$r" delete -f >/dev/null 2>&1 || true
	done
	# A create interrupted half-way can leave an init that no state dir
	# names: kill what is still in our cgroups, then remove them.
	for d in /sys/fs/cgroup/"$MARK" /sys/fs/cgroup/*/"$MARK"; do
		case $(cgroup_fs_type "$d") in cgroupfs | cgroup2fs) ;; *) continue ;; esac
		for i in 1 2 3 4 5 6 7 8 9 10; do
			left=$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
			[ -z "$left" ] && break
			# shellcheck disable=SC2086 # one pid per word
			kill -9 $left 2>/dev/null || true
			sleep 0.1
		done
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ ! -d "$d" ] || echo "bench: could not remove cgroup $d" >&2
	done
	if [ -n "${BENCH_JSON:-}" ]; then
		mkdir -p "$BENCH_JSON"; cp "$TMP"/json/*.json "$BENCH_JSON"/ 2>/dev/null || true
	fi
	# Lazily if busy (a runtime still finishing after Ctrl-C): under set
	# -e a failed umount would end the trap before the rm.
	if mountpoint -q "$TMP/state"; then umount "$TMP/state" 2>/dev/null || umount -l "$TMP/state" || true; fi
	rm -rf "$TMP"
	exit "$rc"
}

# --- measuring -----------------------------------------------------------

# hf KEY RUNS [-N] GROUP... runs hyperfine over the runtimes' commands,
# each GROUP being -n NAME [--prepare CMD] CMD; the merged JSON goes to
# $TMP/json/KEY.json. hyperfine runs all of one command's runs before
# the next command's, so on a machine whose load moves (other jobs come
# and go) the runtimes would be measured at different times: the runs
# are split into BENCH_ROUNDS rounds, one hyperfine each, the commands
# in turn forward and backward, and each median is over all the rounds'
# runs.
hf() {
	local key=$1 runs=$2 n=() names=() preps=() cmds=() i k r per order
	shift 2
	if [ "${1:-}" = -N ]; then
		n=(-N)
		shift
	fi
	while (($#)); do
		[ "$1" = -n ] || die "hf $key: want -n NAME, got $1"
		names+=("$2")
		shift 2
		if [ "$1" = --prepare ]; then
			preps+=("$2")
			shift 2
		else
			preps+=("")
		fi
		cmds+=("$1")
		shift
	done
	per=$(((runs + ROUNDS - 1) / ROUNDS))
	say "$key: hyperfine, $runs runs each in $ROUNDS rounds (load $(cut -d' ' -f1-3 /proc/loadavg))"
	for ((r = 0; r < ROUNDS; r++)); do
		order=()
		for i in "${!names[@]}"; do
			if ((r % 2)); then order=("$i" "${order[@]}"); else order+=("$i"); fi
		done
		local a=()
		for k in "${order[@]}"; do
			a+=(-n "${names[k]}")
			[ -z "${preps[k]}" ] || a+=(--prepare "${preps[k]}")
			a+=("${cmds[k]}")
		done
		# Its warnings (outliers, a slow first run) go to the log with
		# the runtimes' output; die shows the end of it. Warm-up runs
		# in the first round only.
		hyperfine --style none --runs "$per" --warmup "$((r == 0 ? WARMUP : 0))" "${n[@]}" \
			--export-json "$TMP/json/$key.r$r.json" "${a[@]}" >/dev/null 2>>"$TMP/log" ||
			die "hyperfine $key failed"
	done
	jq -s '{results: [map(.results[]) | group_by(.command)[] |
		{command: .[0].command, times: (map(.times[]) | sort)} |
		.median = (.times | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end)]}' \
		"$TMP"/json/"$key".r*.json >"$TMP/json/$key.json" || die "merging the rounds of $key failed"
	rm -f "$TMP"/json/"$key".r*.json
}

# median_ms KEY R prints the median of runtime R in row KEY, in ms.
median_ms() {
	jq -r --arg n "${NAME[$2]}" '.results[] | select(.command == $n) | .median * 1000' "$TMP/json/$1.json"
}

# median FILE prints the median of the numbers in FILE, one per line.
median() {
	sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# row LABEL UNIT TARGET CHECK VALUE...: one table row, a value per
# runtime in the order of RTS. Rows are TSV in $TMP/rows: label, unit,
# target text, check (see print_table), the values.
row() {
	local IFS=$'\t' label=$1$SFX
	shift
	echo "$label	$*" >>"$TMP/rows"
}

# row_hf LABEL UNIT TARGET CHECK KEY: a row whose values come from
# hyperfine's JSON ($TMP/json/KEY.json).
row_hf() {
	local r v=()
	for r in "${RTS[@]}"; do v+=("$(median_ms "$5" "$r")"); done
	row "$1" "$2" "$3" "$4" "${v[@]}"
}

# wait_loop R ID prints a shell loop that polls `state` of ID until it
# says stopped (exit 0), or state fails (exit 1).
wait_loop() {
	echo "while s=\$($(cmd "$1") state $2); do case \$s in *\\\"stopped\\\"*) exit 0;; esac; done; exit 1"
}

bench_run() {
	local a=() r id
	for r in "${RTS[@]}"; do
		id=$r-run
		bundle "$id"
		a+=(-n "${NAME[$r]}" --prepare "$(cmd "$r") delete -f $id" "$(cmd "$r") run --bundle $TMP/c/$id $id")
	done
	hf run "$RUNS" -N "${a[@]}"
	row_hf "run /bin/true" ms "<=1.0x crun, <=0.4x runc" "crun:1.0 runc:0.4" run
	a=()
	for r in "${RTS[@]}"; do
		id=$r-run
		a+=(-n "${NAME[$r]}" --prepare "sh -c '$(cmd "$r") delete -f $id; sleep 0.05'" "$(cmd "$r") run --bundle $TMP/c/$id $id")
	done
	hf run-apart "$RUNS" -N "${a[@]}"
	row_hf "run /bin/true, 50 ms apart (v1: see above)" ms "-" - run-apart
	a=()
	for r in "${RTS[@]}"; do
		id=$r-runu
		bundle "$id" "$TMPL_USERNS"
		a+=(-n "${NAME[$r]}" --prepare "$(cmd "$r") delete -f $id" "$(cmd "$r") run --bundle $TMP/c/$id $id")
	done
	hf run-userns "$RUNS" -N "${a[@]}"
	row_hf "run /bin/true, user namespace" ms "-" - run-userns
}

bench_phases() {
	local r id c a
	for r in "${RTS[@]}"; do bundle "$r-ph"; done
	a=()
	for r in "${RTS[@]}"; do
		id=$r-ph c=$(cmd "$r")
		a+=(-n "${NAME[$r]}" --prepare "$c delete -f $id" "$c create --bundle $TMP/c/$id $id")
	done
	hf create "$RUNS" -N "${a[@]}"
	a=()
	for r in "${RTS[@]}"; do
		id=$r-ph c=$(cmd "$r")
		a+=(-n "${NAME[$r]}" --prepare "sh -c '$c delete -f $id && $c create --bundle $TMP/c/$id $id'" "$c start $id")
	done
	hf start "$RUNS" -N "${a[@]}"
	# wait and delete need a shell (the loop); hyperfine subtracts its cost.
	a=()
	for r in "${RTS[@]}"; do
		id=$r-ph c=$(cmd "$r")
		a+=(-n "${NAME[$r]}" --prepare "$c delete -f $id && $c create --bundle $TMP/c/$id $id && $c start $id" "$(wait_loop "$r" "$id")")
	done
	hf wait "$RUNS" "${a[@]}"
	a=()
	for r in "${RTS[@]}"; do
		id=$r-ph c=$(cmd "$r")
		a+=(-n "${NAME[$r]}" --prepare "$c delete -f $id && $c create --bundle $TMP/c/$id $id && $c start $id && ($(wait_loop "$r" "$id"))" "$c delete $id")
	done
	hf delete "$RUNS" "${a[@]}"
	for r in "${RTS[@]}"; do rt "$r" delete -f "$r-ph"; done
	row_hf "create" ms "<=1.0x crun, <=0.4x runc" "crun:1.0 runc:0.4" create
	row_hf "start" ms "<=1.0x crun, <=0.4x runc" "crun:1.0 runc:0.4" start
	row_hf "wait (start returned -> state stopped)" ms "<=1.0x crun, <=0.4x runc" "crun:1.0 runc:0.4" wait
	row_hf "delete (stopped)" ms "<=1.0x crun, <=0.4x runc" "crun:1.0 runc:0.4" delete
}

bench_running() {
	local r a=()
	for r in "${RTS[@]}"; do
		bundle "$r-sleep" "$TMPL_SLEEP"
		rt "$r" create --bundle "$TMP/c/$r-sleep" "$r-sleep" || die "create $r-sleep failed"
		rt "$r" start "$r-sleep" || die "start $r-sleep failed"
	done
	for r in "${RTS[@]}"; do
		a+=(-n "${NAME[$r]}" "$(cmd "$r") exec $r-sleep /bin/true")
	done
	hf exec "$RUNS" -N "${a[@]}"
	a=()
	for r in "${RTS[@]}"; do
		a+=(-n "${NAME[$r]}" --prepare "sleep 0.05" "$(cmd "$r") exec $r-sleep /bin/true")
	done
	hf exec-apart "$RUNS" -N "${a[@]}"
	a=()
	for r in "${RTS[@]}"; do
		a+=(-n "${NAME[$r]}" "$(cmd "$r") state $r-sleep")
	done
	hf state "$RUNS" -N "${a[@]}"
	for r in "${RTS[@]}"; do rt "$r" delete -f "$r-sleep"; done
	row_hf "exec /bin/true (running container)" ms "<=1.3x crun, <=0.4x runc" "crun:1.3 runc:0.4" exec
	row_hf "exec /bin/true, 50 ms apart (v1: see above)" ms "-" - exec-apart
	row_hf "state (running container)" ms "<=0.4x runc" "runc:0.4" state
}

# memcg_file PID prints the file that holds the peak memory charge of
# PID's memory cgroup: memory.peak on v2, memory.max_usage_in_bytes on v1.
memcg_file() {
	local p
	if [ "$(cgroup_fs_type /sys/fs/cgroup)" = cgroup2fs ]; then
		p=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
		echo "/sys/fs/cgroup$p/memory.peak"
	else
		p=$(sed -n 's/^[0-9]*:memory://p' "/proc/$1/cgroup")
		echo "/sys/fs/cgroup/memory$p/memory.max_usage_in_bytes"
	fi
}

# bench_memory: the memory rows.
bench_memory() {
	local i r id pid f charge="v1 max_usage_in_bytes"
	[ "$(cgroup_fs_type /sys/fs/cgroup)" = cgroup2fs ] && charge="v2 memory.peak"
	say "memory: $MEM_RUNS samples of create, VmHWM, $charge"
	for r in "${RTS[@]}"; do bundle "$r-mem"; done
	for ((i = 0; i < MEM_RUNS; i++)); do
		for r in "${RTS[@]}"; do
			id=$r-mem
			/usr/bin/time -f %M -o "$TMP/time" "${BIN[$r]}" --root "$TMP/state/$r" \
				create --bundle "$TMP/c/$id" "$id" </dev/null >>"$TMP/log" 2>&1 || die "create $id failed"
			tail -n 1 "$TMP/time" >>"$TMP/mem/$r.cli" # KiB (ru_maxrss)
			pid=$("${BIN[$r]}" --root "$TMP/state/$r" state "$id" | jq -r .pid)
			awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" >>"$TMP/mem/$r.init" # KiB
			f=$(memcg_file "$pid")
			[ -r "$f" ] || die "$id: no $f (the config's memory limit should make the cgroup)"
			cat "$f" >>"$TMP/mem/$r.charge" # bytes
			rt "$r" delete -f "$id"
		done
	done
	# MB = 10^6 bytes, as in the issue's targets.
	local cli=() init=() chg=()
	for r in "${RTS[@]}"; do
		cli+=("$(median "$TMP/mem/$r.cli" | awk '{print $1 * 1024 / 1e6}')")
		init+=("$(median "$TMP/mem/$r.init" | awk '{print $1 * 1024 / 1e6}')")
		chg+=("$(median "$TMP/mem/$r.charge" | awk '{print $1 / 1e6}')")
	done
	row "peak RSS: CLI (create)" MB "<= 4 MB" max:4 "${cli[@]}"
	row "peak RSS: init, created" MB "<= 4 MB" max:4 "${init[@]}"
	row "cgroup charge ($charge)" MB "<= 0.5 MB" max:0.5 "${chg[@]}"
}

bench_many() {
	local r i c a1=() an=()
	for r in "${RTS[@]}"; do
		for ((i = 1; i <= MANY; i++)); do bundle "$r-many-$i"; done
	done
	# many N R: create+start containers 1..N of R, all at once.
	many() {
		c=$(cmd "$2")
		echo "seq 1 $1 | xargs -P $1 -I@ sh -c '$c create --bundle $TMP/c/$2-many-@ $2-many-@ && $c start $2-many-@'"
	}
	unmany() { echo "seq 1 $1 | xargs -P 8 -I@ $(cmd "$2") delete -f $2-many-@"; }
	for r in "${RTS[@]}"; do
		a1+=(-n "${NAME[$r]}" --prepare "$(unmany 1 "$r")" "$(many 1 "$r")")
		an+=(-n "${NAME[$r]}" --prepare "$(unmany "$MANY" "$r")" "$(many "$MANY" "$r")")
	done
	hf many-1 "$RUNS" "${a1[@]}"
	hf "many-$MANY" "$MANY_RUNS" "${an[@]}"
	for r in "${RTS[@]}"; do eval "$(unmany "$MANY" "$r")" >>"$TMP/log" 2>&1; done
	row_hf "create+start x1 (xargs, sh)" ms "-" - many-1
	row_hf "create+start x$MANY at once: total" ms "-" - "many-$MANY"
	local one=() per=() ratio=()
	for r in "${RTS[@]}"; do
		one+=("$(median_ms many-1 "$r")")
		per+=("$(median_ms "many-$MANY" "$r" | awk -v n="$MANY" '{print $1 / n}')")
	done
	for i in "${!RTS[@]}"; do ratio+=("$(awk -v a="${per[i]}" -v b="${one[i]}" 'BEGIN {print a / b}')"); done
	row "  per container (total / $MANY)" ms - - "${per[@]}"
	row "  per container x$MANY / x1" x "<= 1.0 (flat)" max:1 "${ratio[@]}"
}

bench_list() {
	local r i a=() n
	say "list: creating $LIST_N containers per runtime (not started)"
	for r in "${RTS[@]}"; do
		for ((i = 1; i <= LIST_N; i++)); do bundle "$r-list-$i"; done
		seq 1 "$LIST_N" | xargs -P 4 -I@ "${BIN[$r]}" --root "$TMP/state/$r" \
			create --bundle "$TMP/c/$r-list-@" "$r-list-@" >>"$TMP/log" 2>&1 ||
			die "creating the list containers of ${NAME[$r]} failed"
		n=$("${BIN[$r]}" --root "$TMP/state/$r" list -q | wc -l)
		[ "$n" = "$LIST_N" ] || die "${NAME[$r]} list -q shows $n containers, want $LIST_N"
		a+=(-n "${NAME[$r]}" "$(cmd "$r") list")
	done
	hf list "$LIST_RUNS" -N "${a[@]}"
	say "list: deleting them"
	for r in "${RTS[@]}"; do
		seq 1 "$LIST_N" | xargs -P 4 -I@ "${BIN[$r]}" --root "$TMP/state/$r" \
			delete -f "$r-list-@" >>"$TMP/log" 2>&1 || die "deleting the list containers of ${NAME[$r]} failed"
		rm -rf "$TMP/c/$r-list-"*
	done
	row_hf "list ($LIST_N created containers)" ms "-" - list
}

# bench_vm runs the groups of BENCH_VM_ONLY in a pure cgroup v2 VM and
# appends their rows. Its times are TCG's (every instruction of the
# guest, its kernel's too, emulated): the ratios between runtimes are
# what they tell, not the milliseconds.
bench_vm() {
	say "vm: booting a pure cgroup v2 VM for: $VM_ONLY (TCG: minutes)"
	# The VM's command does not inherit our environment: pass the settings.
	(cd "$REPO" && tests/vm/run.sh -- env BENCH_ONLY="$VM_ONLY" BENCH_RUNS="$VM_RUNS" BENCH_ROUNDS="$ROUNDS" \
		BENCH_WARMUP="$WARMUP" BENCH_MEM_RUNS="$MEM_RUNS" PEERS="${PEERS:-}" "$SELF" --vm-rows) >>"$TMP/rows" ||
		die "the VM part failed"
}

# --- the table -------------------------------------------------------------

# print_table prints $TMP/rows: a column per runtime, then ours divided
# by each other runtime's. CHECK says when our value meets the target:
# space-separated terms, all of which must hold: crun:F (<= F times
# REF_CRUN's value), runc:F (likewise, REF_RUNC), max:N (<= N in the
# row's unit); - for no target.
print_table() {
	local names
	names=$(printf '%s\n' "${RTS[@]}" | while read -r r; do echo "${NAME[$r]}"; done | paste -sd' ')
	awk -F'\t' -v names="$names" -v rcrun="${NAME[$REF_CRUN]}" -v rrunc="${NAME[$REF_RUNC]}" '
	function fmt(v, u) {
		if (u == "ms") return sprintf("%.1f ms", v)
		if (u == "MB") return sprintf("%.2f MB", v)
		return sprintf("%.2fx", v)
	}
	BEGIN {
		n = split(names, name, " ")
		for (i = 1; i <= n; i++) {
			if (name[i] == rcrun) icrun = i
			if (name[i] == rrunc) irunc = i
		}
		printf "%-40s", ""
		printf " %11s", "sandbox-rt"
		for (i = 2; i <= n; i++) printf " %11s", name[i]
		for (i = 2; i <= n; i++) {
			w[i] = length(name[i]) + 1
			if (w[i] < 6) w[i] = 6
			printf " %*s", w[i], "/" name[i]
		}
		printf "  %-24s\n", "target"
	}
	{
		printf "%-40s", $1
		for (i = 1; i <= n; i++) printf " %11s", fmt($(4 + i), $2)
		for (i = 2; i <= n; i++) printf " %*s", w[i], ($2 == "x") ? "" : sprintf("%.2fx", $5 / $(4 + i))
		ok = ""
		if ($4 != "-") {
			ok = "met"
			m = split($4, term, " ")
			for (k = 1; k <= m; k++) {
				split(term[k], t, ":")
				lim = (t[1] == "crun") ? t[2] * $(4 + icrun) : (t[1] == "runc") ? t[2] * $(4 + irunc) : t[2]
				if ($5 > lim) ok = "MISSED"
			}
		}
		printf "  %-24s %s\n", ($3 == "-" ? "" : $3), ok
	}' "$TMP/rows"
}

header() {
	local v r
	v=$("${BIN[sr]}" --version | sed -n 1p)
	echo "sandbox-runtime bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel $(uname -r), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $1"
	echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
	v="${v#sandbox-runtime version } (sandbox-runtime)"
	for r in "${RTS[@]:1}"; do v+=" | ${NAME[$r]}: $("${BIN[$r]}" --version | sed -n 1p)"; done
	echo "$v | $(hyperfine --version)"
	local vm=""
	[ -n "${BENCH_VM:-}" ] && vm=" ($VM_RUNS for the [VM] rows)"
	echo "times: hyperfine medians of $RUNS runs$vm ($MANY_RUNS for x$MANY, $LIST_RUNS for list) in $ROUNDS interleaved rounds, $WARMUP warmup; memory: median of $MEM_RUNS samples; state (--root) in a tmpfs, as /run is"
	echo "/NAME: ours divided by NAME's; targets against ${NAME[$REF_CRUN]} and ${NAME[$REF_RUNC]}"
	echo
}

# bench_pair compares ./sandbox-runtime ("ours") with an older binary
# ("old") and with a copy of itself ("copy", the control), verb by verb.
# A table's row moves by ±10% between two binaries of the same code (the
# rounds' order, the machine's load coming and going), more than most
# single changes: here each pair runs the three, in an order drawn at
# random, one after the other, and the result is the median of the
# pairs' differences. The control's median difference says how far
# from 0 the same code reads; a change is what lies beyond it. Each
# verb's prepare (untimed) is the bench's; the time is bash's
# EPOCHREALTIME around the command (its fork and exec included, the
# same for the three); a command that fails stops the comparison (a
# failing command is fast, and would read as a gain).
bench_pair() {
	local n=${BENCH_PAIR_N:-100} verb i r t0 t1 order
	say "pair: $n pairs per verb of ours, old and copy, the order drawn in each"
	for r in sr old copy; do
		bundle "$r-p"
		bundle "$r-ps" "$TMPL_SLEEP"
	done
	printf "%-8s %9s %9s %11s %11s\n" verb ours old ours-old "ours-copy"
	for verb in ${BENCH_PAIR_VERBS:-create run start delete state}; do
		: >"$TMP/pair.$verb"
		for ((i = 0; i < n; i++)); do
			order=$(printf '%s\n' sr old copy | shuf)
			for r in $order; do
				pair_prepare "$verb" "$r"
				t0=$EPOCHREALTIME
				pair_timed "$verb" "$r" || die "pair: $verb of ${NAME[$r]} failed"
				t1=$EPOCHREALTIME
				echo "$i $r $t0 $t1" >>"$TMP/pair.$verb"
			done
		done
		for r in sr old copy; do
			rt "$r" delete -f "$r-p"
			rt "$r" delete -f "$r-ps"
		done
		pair_summary "$verb" "$TMP/pair.$verb"
	done
}

# pair_prepare VERB R puts R's container in the state VERB needs.
pair_prepare() {
	local id=$2-p
	[[ $1 == exec* ]] || rt "$2" delete -f "$id" || true
	case $1 in
	start | state) rt "$2" create --bundle "$TMP/c/$id" "$id" || die "pair: create of ${NAME[$2]} failed" ;;
	delete) rt "$2" run --keep --bundle "$TMP/c/$id" "$id" || die "pair: run --keep of ${NAME[$2]} failed" ;;
	exec | exec-d) # a running container (sleep), made once
		rt "$2" state "${id}s" || rt "$2" run -d --bundle "$TMP/c/${id}s" "${id}s" ||
			die "pair: run -d of ${NAME[$2]} failed" ;;
	create | run) ;;
	*) die "BENCH_PAIR_VERBS: unknown verb $1" ;;
	esac
}

# pair_timed VERB R runs the command measured.
pair_timed() {
	local id=$2-p
	case $1 in
	create | run) rt "$2" "$1" --bundle "$TMP/c/$id" "$id" ;;
	start | state | delete) rt "$2" "$1" "$id" ;;
	exec) rt "$2" exec "${id}s" /bin/true ;;
	exec-d) rt "$2" exec -d "${id}s" /bin/true ;;
	esac
}

# pair_summary VERB FILE prints VERB's medians (ms) and the medians of
# the paired differences, from FILE's lines "PAIR R T0 T1".
pair_summary() {
	awk -v verb="$1" '
	function median(a, k,   i, j, t) {
		for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	{ ms[$1, $2] = ($4 - $3) * 1000; pairs[$1] = 1 }
	END {
		for (p in pairs) {
			k++; o[k] = ms[p, "sr"]; d[k] = ms[p, "old"]
			x[k] = ms[p, "sr"] - ms[p, "old"]; c[k] = ms[p, "sr"] - ms[p, "copy"]
		}
		printf "%-8s %9.2f %9.2f %+11.2f %+11.2f\n", verb, median(o, k), median(d, k), median(x, k), median(c, k)
	}' "$2"
}

# --- main ----------------------------------------------------------------

case ${1:-} in
"")
	preflight
	exec unshare --mount --propagation private -- "$SELF" --in-ns
	;;
--in-ns)
	hide_unified
	setup
	state_tmpfs
	header "cgroup v1 (hybrid host; its cgroup2 mount hidden in a private mount namespace)" >"$TMP/header"
	for g in run phases running memory many list; do
		case " ${BENCH_ONLY:-run phases running memory many list} " in
		*" $g "*) "bench_$g" ;;
		esac
	done
	if [ -n "${BENCH_VM:-}" ]; then bench_vm; fi
	cat "$TMP/header"
	print_table
	echo
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	;;
--vm)
	preflight
	setup
	RUNS=$VM_RUNS # for the header: every timed row is the VM's
	header "rows from a pure cgroup v2 VM (tests/vm/run.sh, TCG): $VM_ONLY" >"$TMP/header"
	bench_vm
	cat "$TMP/header"
	print_table
	;;
--vm-rows) # in the VM: the rows of BENCH_ONLY as TSV on stdout
	preflight
	hide_unified
	setup
	state_tmpfs
	SFX=" [VM]"
	for g in $BENCH_ONLY; do
		case $g in
		run | phases | running | memory | many | list) "bench_$g" >&2 ;;
		*) die "BENCH_VM_ONLY: unknown group $g" ;;
		esac
	done
	cat "$TMP/rows"
	;;
--pair | --pair-in-ns) # ours against the binary $2, in pairs
	case ${2:-} in
	/*) [ -x "$2" ] || die "--pair: $2 is not an executable" ;;
	*) die "usage: bench.sh --pair /ABSOLUTE/PATH/OF/THE/OLD/BINARY" ;;
	esac
	RTS=(sr old copy)
	NAME[old]="old ($2)" NAME[copy]="copy of ours" BIN[old]=$2 BIN[copy]=${BIN[sr]}
	if [ "$1" = --pair ]; then
		preflight
		exec unshare --mount --propagation private -- "$SELF" --pair-in-ns "$2"
	fi
	hide_unified
	setup
	state_tmpfs
	echo "sandbox-runtime bench --pair, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "ours: $("${BIN[sr]}" --version | sed -n 1p); old: $("${BIN[old]}" --version | sed -n 1p) ($2)"
	echo "ms, medians over ${BENCH_PAIR_N:-100} pairs; ours-old and ours-copy: medians of the pairs' differences"
	bench_pair
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	;;
*) die "usage: bench.sh [--vm | --pair OLD]" ;;
esac
