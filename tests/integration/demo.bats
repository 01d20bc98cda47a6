#!/usr/bin/env bats
# demo: tests/demo.sh, what `make demo` shows, run as a user would see it:
# under a real terminal of 80 columns (script(1)), every section there
# and each mechanism seen working (the user namespace's mapping, the
# seccomp kill, the OOM kill, the lifecycle), nothing left behind, and a
# clear message when not root.
load helpers

setup() {
	requires root sandbox script setpriv
	[ -x /bin/busybox ] || skip "requires busybox-static"
	[ -x "$REPO/sandbox-runtime" ] && [ -x "$PAYLOAD" ] || fail "build first: make build payload"
}

# demo_cgroups lists the cgroup directories demos make (/sandbox-demo-*).
demo_cgroups() {
	find /sys/fs/cgroup -maxdepth 3 -type d -name 'sandbox-demo-*' 2>/dev/null | sort || true
}

@test "demo: each section, each mechanism at work, in an 80-column terminal, nothing left" {
	local tmp_before cg_before out
	tmp_before=$(ls -d /tmp/sandbox-demo.* 2>/dev/null || true)
	cg_before=$(demo_cgroups)
	# A pty of 80 columns, as a terminal would give it.
	run script -qec "stty cols 80 rows 60; $REPO/tests/demo.sh" /dev/null
	out=$(tr -d '\r' <<<"$output")
	echo "$out"
	[ "$status" -eq 0 ]
	# Every line fits: none reaches the 80th column, where some
	# terminals wrap.
	awk 'length > 79 { print "too wide (" length "): " $0; bad = 1 } END { exit bad }' <<<"$out"

	local want
	while IFS= read -r want; do
		grep -qxE -- "$want" <<<"$out" || fail "no line matching: $want"
	done <<'EOF'
== lifecycle: create, state, start, state =*
\$ sandbox-runtime --root state create --bundle bundle demo
created
running
== host and sandbox, side by side =*
namespaces +\| the host's +\| own: cgroup ipc mnt net pid user uts
uid on host +\| 0 +\| 100000 \(0 inside, map 0 100000 65536\)
capabilities +\| [0-9]+ over the host +\| [0-9]+ over its user namespace only
seccomp +\| mode 0 +\| mode 2: filter, 1 filter\(s\)
memory limit +\| - +\| 12 MiB \([0-9.]+ MiB used\)
findings +\| +\| none
== user namespace: root inside, uid 100000 outside =*
inside +id +uid=0\(root\) gid=0\(root\)
inside +cat /proc/self/uid_map +0 100000 65536
outside +stat -c %u /proc/[0-9]+ +100000  \(the owner of its process\)
inside +cat /proc/self/cgroup +/  \(a cgroup namespace of its own\)
== capabilities: only over what its user namespace owns =*
inside +its own uts namespace +sethostname box2: ok, hostname now box2
inside +the host's uts namespace +sethostname pwned: operation not permitted
inside +load a kernel module +(EPERM: modules are the host's|ENOSYS: this kernel has no modules at all)
== seccomp: an allowlist of [0-9]+ system calls, any other kills =*
inside +/proc/self/status +Seccomp: 2, Seccomp_filters: 1
\$ sandbox-runtime --root state run --bundle mount mount
  exit 159 = 128 \+ 31 \(SIGSYS\): mount\(2\) is not in the allowlist; the
  exit 0: mount tmpfs on /tmp: ok, with CAP_SYS_ADMIN in its user namespace
== pivot_root: a root of its own =*
inside +ls / +7 entries: bin dev etc proc root sys tmp
inside +cd /\.\. +/\.\. is / \(same device and inode\)
outside +report +(pivot_root, 0 mounts outside its root|unknown: this kernel cannot list .*)
== memory: 16 MiB and 8 MiB under a 12 MiB limit =*
  exit 137 = 128 \+ 9 \(SIGKILL\): the OOM killer, at the 12 MiB limit
  exit 0: 8 MiB allocated, it fits
== lifecycle: kill, state, delete =*
\$ sandbox-runtime --root state kill demo TERM
stopped
\$ sandbox-runtime --root state delete demo
\(nothing: every container is gone\)
EOF
	# The host's hostname is the host's still.
	grep -qxE "outside +hostname +$(hostname)  \(unchanged\)" <<<"$out"

	# Nothing left: its directory, its cgroups, its processes.
	[ "$(ls -d /tmp/sandbox-demo.* 2>/dev/null || true)" = "$tmp_before" ] || fail "left in /tmp: $(ls -d /tmp/sandbox-demo.*)"
	[ "$(demo_cgroups)" = "$cg_before" ] || fail "cgroups left: $(demo_cgroups)"
	local tmp
	tmp=$(sed -n 's/.*Working directory: //p' <<<"$out")
	[ -n "$tmp" ] && [ ! -e "$tmp" ]
	[ -z "$(procs_using "$tmp")" ] || fail "processes left: $(procs_using "$tmp")"
}

@test "demo: not root, a clear message and nothing done" {
	local tmp_before
	tmp_before=$(ls -d /tmp/sandbox-demo.* 2>/dev/null || true)
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$REPO/tests/demo.sh"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "demo: must run as root (containers need namespaces, mounts and cgroups): sudo make demo" ]
	[ "$(ls -d /tmp/sandbox-demo.* 2>/dev/null || true)" = "$tmp_before" ]
}
