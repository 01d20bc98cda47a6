#!/bin/bash
# demo.sh - one container that uses every mechanism of the sandbox: all
# seven namespaces (a user namespace mapping its root to host uid 100000,
# a cgroup namespace), capabilities that count only in its user
# namespace, a seccomp allowlist that kills, pivot_root, a memory limit.
# Shown from inside (the payload probe) and from the host (`sandbox-runtime
# report`, the table's sandbox column), with the runtime's lifecycle
# printed as you would type it.
#
# Run by `make demo` (which installs what the build and this script need,
# then builds ./sandbox-runtime and tests/build/payload). Needs root:
# namespaces, mounts, id maps and cgroups are privileged. A few seconds,
# 80 columns, and nothing left behind. tests/integration/demo.bats checks
# its output.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNTIME=$REPO/sandbox-runtime
PAYLOAD=$REPO/tests/build/payload

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (containers need namespaces, mounts and cgroups): sudo make demo"
for f in "$RUNTIME" "$PAYLOAD" /bin/busybox; do
	[ -x "$f" ] || die "$f missing: run 'make demo' (deps, then 'make build payload')"
done
command -v jq >/dev/null || die "jq missing: scripts/deps.sh demo"

# Nothing here reads stdin; in CI there may be none, and a container
# (terminal false) inherits ours, so give everything /dev/null. Fd 3 is
# our stdout, for the command lines of a command whose output goes to a
# file.
exec </dev/null 3>&1

# Everything we make lives under one temp dir, and the commands run
# there: the bundles, and a private state root ("state") so that we never
# see or touch containers that are not ours.
TMP=$(mktemp -d /tmp/sandbox-demo.XXXXXX)
# The container's root is host uid 100000: it must reach its rootfs.
chmod 755 "$TMP"
cd "$TMP"
CG=sandbox-demo-${TMP##*.} # our cgroups: /$CG-ID

cleanup() {
	local rc=$? id
	trap '' INT TERM # a second Ctrl-C must not interrupt the cleanup
	# `run` deletes its container when it returns, and the demo deletes
	# its own; this catches what an interrupt or a failure left behind.
	# --force kills it first.
	for id in $("$RUNTIME" --root "$TMP/state" list -q 2>/dev/null); do
		"$RUNTIME" --root "$TMP/state" delete --force "$id" >/dev/null 2>&1 || true
	done
	cd /
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT # the EXIT trap then cleans up
trap 'exit 143' TERM

# --- the bundle ---------------------------------------------------------
# The rootfs: busybox-static and sh, the payload, /etc/passwd and
# /etc/group, owned by the uid and gid its root is on the host. Only the
# payload runs: no link per busybox applet (400 ln's took 2 s).
rfs=$TMP/bundle/rootfs
mkdir -p "$rfs"/{bin,dev,etc,proc,sys,tmp,root}
cp /bin/busybox "$rfs/bin/busybox" # static: the rootfs has no libc
ln -s busybox "$rfs/bin/sh"
cp "$PAYLOAD" "$rfs/bin/payload"
echo 'root:x:0:0:root:/root:/bin/sh' >"$rfs/etc/passwd"
echo 'root:x:0:' >"$rfs/etc/group"
chown -R 100000:100000 "$rfs"

# The seccomp allowlist: what the payload's commands call (strace -f of
# `payload probe wait`, `payload try ...` and `payload alloc`), the calls
# of the Go runtime that depend on timing (a thread's exit, munmap,
# clone3...), and execve, the runtime's last call before the payload
# runs. Any other system call kills the process (SCMP_ACT_KILL_PROCESS):
# mount(2) among them, which CAP_SYS_ADMIN in its user namespace would
# otherwise allow.
ALLOW='arch_prctl bind clone clone3 close epoll_create1 epoll_ctl epoll_pwait
	eventfd2 execve exit exit_group fcntl fstat futex getdents64 getgid getpid
	getppid getrandom getsockname gettid getuid init_module madvise mmap
	mprotect munmap nanosleep newfstatat openat pipe2 prctl pread64 prlimit64
	read readlinkat recvfrom rt_sigaction rt_sigprocmask rt_sigreturn
	sched_getaffinity sched_yield sendto sethostname sigaltstack socket tgkill
	uname write'
SECCOMP=$(printf '%s\n' $ALLOW | jq -R . | jq -sc '{"defaultAction": "SCMP_ACT_KILL_PROCESS",
	"syscalls": [{"names": ., "action": "SCMP_ACT_ALLOW"}]}')

# The spec's defaults already ask for new pid, network, ipc, uts and
# mount namespaces (and cgroup, on a cgroup v2 host), no_new_privs and the
# masked and read-only paths; a cgroup namespace (where the spec has none)
# and a user namespace are added, with root mapped to 100000, CAP_SYS_ADMIN
# and CAP_SYS_MODULE (both only over what that namespace owns), the
# allowlist, a memory limit of 12 MiB (the payload's 8 MiB and its Go
# runtime peak at 11.1 MB on cgroup v2, which counts kernel memory too)
# and a pids limit.
"$RUNTIME" spec --bundle bundle
jq --argjson seccomp "$SECCOMP" '.process.terminal = false
	| .process.args = ["/bin/payload", "probe", "wait"]
	| .hostname = "sandbox"
	| .linux.namespaces += [{"type": "user"}]
	| .linux.namespaces |= (if any(.[]; .type == "cgroup") then . else . + [{"type": "cgroup"}] end)
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = .linux.uidMappings
	| .process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN", "CAP_SYS_MODULE"])
	| .linux.seccomp = $seccomp
	| .linux.resources.memory.limit = 12582912
	| .linux.resources.pids.limit = 32
	| .linux.cgroupsPath = "/'"$CG"'-demo"' bundle/config.json >config.tmp
mv config.tmp bundle/config.json

# --- output helpers -----------------------------------------------------
W=79 # at most, so that an 80-column terminal never wraps a line
section() {
	local t="== $* "
	echo
	printf '%s%s\n' "$t" "$(printf '=%.0s' $(seq $((W - ${#t}))))"
}
# rt ARGS... prints the runtime command as typed, then runs it.
rt() {
	echo "\$ sandbox-runtime --root state $*" >&3
	"$RUNTIME" --root state "$@"
}
# status ID prints the container's status as `state | jq` would.
status() {
	echo "\$ sandbox-runtime --root state state $1 | jq -r .status"
	"$RUNTIME" --root state state "$1" | jq -r .status
}
# run NAME JQ makes bundle NAME, the demo's config changed by JQ, on the
# same rootfs and in cgroup /$CG-NAME; then prints and runs `run` of it,
# as container NAME: its output in out, the runtime's stderr in err, its
# exit status in $rc (128+N when killed by signal N).
run() {
	mkdir -p "$1"
	jq --arg rootfs "$rfs" --arg cg "/$CG-$1" '.root.path = $rootfs | .linux.cgroupsPath = $cg | '"$2" \
		bundle/config.json >"$1/config.json"
	echo "\$ sandbox-runtime --root state run --bundle $1 $1"
	rc=0
	"$RUNTIME" --root state run --bundle "$1" "$1" >out 2>err || rc=$?
}
# runtime_said prints the runtime's warnings and errors, indented.
runtime_said() { sed -n 's/.*msg="\(.*\)".*/    runtime: \1/p' err; }
# kv FILE KEY prints the value of "KEY: value" in FILE.
kv() { sed -n "s|^$2: ||p" "$1"; }
# cut2 S N prints S cut to N columns.
cut2() { local s=$1; ((${#s} <= $2)) || s="${s:0:$(($2 - 3))}..."; echo "$s"; }
# io WHERE WHAT VALUE prints one observation: where it was made (inside
# the container, by the payload, or outside, on the host), of what, and
# what it showed.
io() { printf '%-7s %-24s %s\n' "$1" "$2" "$(cut2 "$3" $((W - 33)))"; }
# bits HEX counts the bits set in a capability mask.
bits() {
	local v=$1 n=0 i d
	for ((i = 0; i < ${#v}; i++)); do
		d=$((16#${v:i:1}))
		while ((d)); do n=$((n + (d & 1))); d=$((d >> 1)); done
	done
	echo "$n"
}

echo "sandbox-runtime demo: one container, every layer of its sandbox, seen"
echo "from inside it and from the host. Working directory: $TMP"

# --- lifecycle, first half ----------------------------------------------
section "lifecycle: create, state, start, state"
# create returns once init waits for start; the container's stdout is
# create's, a file here (the probe writes there once it runs).
rt create --bundle bundle demo >probe.out 2>create.err || { cat create.err >&2; die "create failed"; }
sed 's/^/  /' create.err
status demo
rt start demo
status demo
for i in $(seq 100); do
	grep -q '^dotdot:' probe.out && break
	sleep 0.05
done
grep -q '^dotdot:' probe.out || die "the probe printed nothing: $(cat probe.out)"
PID=$("$RUNTIME" --root state state demo | jq .pid)
report=$("$RUNTIME" --root state report --format json demo)

# --- side by side -------------------------------------------------------
section "host and sandbox, side by side"
echo "host: this shell (the payload probe). sandbox: read from the host by"
echo "  \$ sandbox-runtime --root state report --format json demo"
"$PAYLOAD" probe >host.out
row() { printf '%-12s | %-22s | %s\n' "$1" "$(cut2 "$2" 22)" "$(cut2 "$3" $((W - 40)))"; }
row property host sandbox
printf -- '-------------+------------------------+%s\n' "$(printf -- '-%.0s' $(seq $((W - 39))))"
# The report's values the demo shows, read in one go: R[key].
declare -A R
while IFS=$'\t' read -r k v; do R[$k]=$v; done < <(jq -r '
	["ns", ([.namespaces[] | select(.new) | .type | sub("mount"; "mnt") | sub("network"; "net")] | join(" "))],
	["uid", "\(.user.uid.host[1]) (\(.user.uid.container[1]) inside, map \(.user.uidMap[0] | "\(.containerID) \(.hostID) \(.size)"))"],
	["caps", "\(.capabilities.effective | length) over its user namespace only"],
	["nnp", (if .security.noNewPrivs then "1" else "0" end)],
	["seccomp", "\(.security.seccomp.mode), \(.security.seccomp.filters) filter(s)"],
	["root", "\(.filesystem.root.method), \(if .filesystem.root.readonly then "read-only" else "writable" end)"],
	["hidden", (.filesystem.root | if .hiddenMounts >= 0 then "\(.method), \(.hiddenMounts) mounts outside its root"
		else "\(.method): this kernel cannot list a namespace'"'"'s mounts" end)],
	["memory", "\(.resources.memory.limit / 1048576 | round) MiB (\(.resources.memory.usage / 104857.6 | round / 10) MiB used)"],
	["pids", "\(.resources.pids.limit) (\(.resources.pids.usage) tasks now)"],
	["cgroup", .resources.cgroup],
	["findings", (if .findings == [] then "none" else [.findings[].what] | join("; ") end)]
	| @tsv' <<<"$report")
row namespaces "the host's" "own: ${R[ns]}"
row "uid on host" "$(kv host.out uid/gid | cut -d/ -f1)" \
	"${R[uid]}"
row capabilities "$(bits "$(kv host.out 'effective caps')") over the host" \
	"${R[caps]}"
row no_new_privs "$(kv host.out no_new_privs)" "${R[nnp]}"
row seccomp "mode $(kv host.out seccomp)" "mode 2: ${R[seccomp]}"
row root "/" "${R[root]}"
row "memory limit" "-" "${R[memory]}"
row "pids limit" "-" "${R[pids]}"
row hostname "$(kv host.out hostname)" "$(kv probe.out hostname)"
row processes "$(kv host.out processes)" "$(kv probe.out processes)"
row interfaces "$(kv host.out interfaces)" "$(kv probe.out interfaces)"
row findings "" "${R[findings]}"

# --- user namespace -----------------------------------------------------
section "user namespace: root inside, uid 100000 outside"
echo "inside: what the payload sees; outside: what the host sees of it."
io inside "id" "$(kv probe.out id)"
io inside "cat /proc/self/uid_map" "$(kv probe.out uid_map)"
io outside "stat -c %u /proc/$PID" "$(stat -c %u "/proc/$PID")  (the owner of its process)"
io inside "cat /proc/self/cgroup" "$(kv probe.out cgroup)  (a cgroup namespace of its own)"
io outside "cat /proc/$PID/cgroup" "${R[cgroup]}"

# --- capabilities ---------------------------------------------------------
section "capabilities: only over what its user namespace owns"
echo "It holds CAP_SYS_ADMIN and CAP_SYS_MODULE, in its user namespace."
rt exec demo payload try hostname:box2 module >try.out 2>err || true
io inside "its own uts namespace" "$(grep ^sethostname try.out)"
run hostuts 'del(.hostname) | .linux.namespaces -= [{"type": "uts"}] | .process.args = ["/bin/payload", "try", "hostname:pwned"]'
io inside "the host's uts namespace" "$(grep ^sethostname out)"
io outside "hostname" "$(hostname)  (unchanged)"
im=$(sed -n 's/^init_module: //p' try.out)
case $im in
"operation not permitted") im="EPERM: modules are the host's" ;;
"function not implemented") im="ENOSYS: this kernel has no modules at all" ;;
esac
io inside "load a kernel module" "$im"

# --- seccomp ------------------------------------------------------------
section "seccomp: an allowlist of $(wc -w <<<"$ALLOW") system calls, any other kills"
echo "Default action SCMP_ACT_KILL_PROCESS; the list is what the payload calls."
io inside "/proc/self/status" "Seccomp: $(kv probe.out seccomp), Seccomp_filters: $(kv probe.out 'seccomp filters')"
io outside "report" "${R[seccomp]}"
run mount '.process.args = ["/bin/payload", "try", "mount:/tmp"]'
if [ "$rc" = 159 ]; then
	echo "  exit 159 = 128 + 31 (SIGSYS): mount(2) is not in the allowlist; the"
	echo "  kernel killed the process at the call, before it could print a word"
else
	echo "  exit $rc: NOT killed by the seccomp filter ($(cat out))"
	runtime_said
fi
run nosec 'del(.linux.seccomp) | .process.args = ["/bin/payload", "try", "mount:/tmp"]'
echo "  exit $rc: $(cat out), with CAP_SYS_ADMIN in its user namespace"

# --- pivot_root ---------------------------------------------------------
section "pivot_root: a root of its own"
io outside "ls /" "$(kv host.out 'root dir')"
io outside "ls bundle/rootfs" "$(ls bundle/rootfs | wc -l) entries: $(ls bundle/rootfs | xargs)"
io inside "ls /" "$(kv probe.out 'root dir')"
io inside "cd /.." "$(kv probe.out dotdot)"
io outside "report" "${R[hidden]}"

# --- memory -------------------------------------------------------------
section "memory: 16 MiB and 8 MiB under a 12 MiB limit"
for mb in 16 8; do
	run "alloc$mb" '.process.args = ["/bin/payload", "alloc", "'"$mb"'"]'
	case $mb:$rc in
	16:137) echo "  exit 137 = 128 + 9 (SIGKILL): the OOM killer, at the 12 MiB limit" ;;
	8:0) echo "  exit 0: 8 MiB allocated, it fits" ;;
	*) echo "  exit $rc: unexpected ($(cat out))"; runtime_said ;;
	esac
done

# --- lifecycle, second half ---------------------------------------------
section "lifecycle: kill, state, delete"
rt kill demo TERM
for i in $(seq 100); do
	[ "$("$RUNTIME" --root state state demo | jq -r .status)" = stopped ] && break
	sleep 0.05
done
status demo
rt delete demo
echo "\$ sandbox-runtime --root state list -q"
"$RUNTIME" --root state list -q
echo "(nothing: every container is gone)"
