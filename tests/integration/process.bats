#!/usr/bin/env bats
# process.bats - the container process as it sees itself: args and PATH,
# env, cwd, user and groups, umask, capabilities, rlimits,
# noNewPrivileges, oomScoreAdj, hostname, sysctls, and the errors of a
# program that cannot be run or a cwd that leads outside.
load helpers

setup() {
	requires root
	setup_bundle
	# Cgroup limits are not this file's business, and our runtime warns
	# about them on stderr, which `run` mixes into $output.
	update_config 'del(.linux.resources)'
}

teardown() {
	teardown_bundle
}

@test "process: args[0] is found in the process's PATH" {
	update_config '.process.env = ["PATH=/no/such/dir:/bin"]'
	args payload cwd
	ctr proc-path
	[ "$status" -eq 0 ]
	[ "$output" = / ]
}

@test "process: the process gets exactly its env, plus HOME" {
	update_config '.process.env = ["PATH=/bin", "FOO=bar baz", "EMPTY="]'
	args env
	ctr proc-env
	[ "$status" -eq 0 ]
	run sort <<<"$output"
	[ "${lines[0]}" = "EMPTY=" ]
	[ "${lines[1]}" = "FOO=bar baz" ]
	# Not in the env: the home of the user in the image's /etc/passwd.
	[ "${lines[2]}" = "HOME=/root" ]
	[ "${lines[3]}" = "PATH=/bin" ]
	[ "${#lines[@]}" -eq 4 ]
}

@test "process: a HOME in the env is kept" {
	update_config '.process.env = ["PATH=/bin", "HOME=/tmp"]'
	sh_cmd 'echo $HOME'
	ctr proc-home
	[ "$status" -eq 0 ]
	[ "$output" = /tmp ]
}

@test "process: cwd is used and made when missing" {
	own_rootfs
	update_config '.process.cwd = "/work/deep/dir"'
	args payload cwd
	ctr proc-cwd
	[ "$status" -eq 0 ]
	[ "$output" = /work/deep/dir ]
	[ -d "$BUNDLE/rootfs/work/deep/dir" ]
}

# Fails with sandbox-runtime as of this commit, as does every non-root
# process.user: the exec fifo is made with mode 0622 under the runtime's
# umask (libsandbox/container.go Create, unix.Mkfifo), so it is 0600 and
# init, already the container user, cannot open it ("open exec fifo:
# permission denied"). runc clears the umask around mkfifo.
@test "process: user uid, gid and additionalGids, and the user's HOME" {
	update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 100]}'
	sh_cmd 'grep -E "^(Uid|Gid|Groups):" /proc/self/status; echo "HOME=$HOME"'
	ctr proc-user
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'Uid:\t1000\t1000\t1000\t1000')" ]
	[ "${lines[1]}" = "$(printf 'Gid:\t1000\t1000\t1000\t1000')" ]
	[ "${lines[2]}" = "$(printf 'Groups:\t5 100 ')" ]
	[ "${lines[3]}" = HOME=/home/user ]
}

@test "process: additionalGids of root" {
	update_config '.process.user = {"uid": 0, "gid": 0, "additionalGids": [5, 1000]}'
	sh_cmd 'grep -E "^(Uid|Gid|Groups):" /proc/self/status'
	ctr proc-root-groups
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'Uid:\t0\t0\t0\t0')" ]
	[ "${lines[1]}" = "$(printf 'Gid:\t0\t0\t0\t0')" ]
	[ "${lines[2]}" = "$(printf 'Groups:\t5 1000 ')" ]
}

@test "process: user.umask applies, 0022 without it" {
	add_tmp='.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]'
	update_config "$add_tmp"
	sh_cmd 'umask; touch /tmp/f; stat -c %a /tmp/f'
	update_config '.process.user.umask = 63'
	ctr proc-umask
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0077 ]
	[ "${lines[1]}" = 600 ]

	update_config 'del(.process.user.umask)'
	ctr proc-umask
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0022 ]
	[ "${lines[1]}" = 644 ]
}

# Capability masks: CHOWN 0x1, KILL 0x20, NET_BIND_SERVICE 0x400,
# AUDIT_WRITE 0x20000000.

@test "process: root gets the spec's capabilities" {
	# The spec's default: AUDIT_WRITE, KILL, NET_BIND_SERVICE.
	args payload caps
	ctr proc-caps-default
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "CapInh: 0000000000000000" ]
	[ "${lines[1]}" = "CapPrm: 0000000020000420" ]
	[ "${lines[2]}" = "CapEff: 0000000020000420" ]
	[ "${lines[3]}" = "CapBnd: 0000000020000420" ]
	[ "${lines[4]}" = "CapAmb: 0000000000000000" ]
}

caps_config() {
	update_config '.process.capabilities = {
		"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		"permitted": ["CAP_CHOWN", "CAP_KILL"],
		"effective": ["CAP_KILL"],
		"inheritable": ["CAP_CHOWN", "CAP_KILL"],
		"ambient": ["CAP_KILL"]}'
}

@test "process: capability sets with ambient, as root" {
	caps_config
	update_config '.process.noNewPrivileges = true'
	args payload caps
	ctr proc-caps-root
	[ "$status" -eq 0 ]
	# execve as root would make permitted and effective inheritable |
	# bounding (capabilities(7), "root"), but no_new_privs keeps
	# permitted to what it was: the spec's set. Ambient is kept.
	[ "${lines[0]}" = "CapInh: 0000000000000021" ]
	[ "${lines[1]}" = "CapPrm: 0000000000000021" ]
	[ "${lines[2]}" = "CapEff: 0000000000000021" ]
	[ "${lines[3]}" = "CapBnd: 0000000000000421" ]
	[ "${lines[4]}" = "CapAmb: 0000000000000020" ]
}

# Fails with sandbox-runtime as of this commit: a non-root user cannot
# open the exec fifo (see "user uid, gid and additionalGids" above).
@test "process: capability sets with ambient, as a user" {
	caps_config
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	args payload caps
	ctr proc-caps-user
	[ "$status" -eq 0 ]
	# execve as non-root of a file without capabilities: only the
	# ambient set survives into permitted and effective.
	[ "${lines[0]}" = "CapInh: 0000000000000021" ]
	[ "${lines[1]}" = "CapPrm: 0000000000000020" ]
	[ "${lines[2]}" = "CapEff: 0000000000000020" ]
	[ "${lines[3]}" = "CapBnd: 0000000000000421" ]
	[ "${lines[4]}" = "CapAmb: 0000000000000020" ]
}

@test "process: no capabilities at all without process.capabilities" {
	update_config 'del(.process.capabilities)'
	args payload caps
	ctr proc-caps-none
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "CapInh: 0000000000000000" ]
	[ "${lines[1]}" = "CapPrm: 0000000000000000" ]
	[ "${lines[2]}" = "CapEff: 0000000000000000" ]
	[ "${lines[3]}" = "CapBnd: 0000000000000000" ]
	[ "${lines[4]}" = "CapAmb: 0000000000000000" ]
}

@test "process: rlimits are set exactly" {
	update_config '.process.rlimits = [
		{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
		{"type": "RLIMIT_CORE", "soft": 4096, "hard": 8192}]'
	# Not `payload rlimit`: a Go program raises its own soft
	# RLIMIT_NOFILE at start-up. busybox's awk does not.
	sh_cmd 'awk "/^Max core file size/ { print \$5, \$6 } /^Max open files/ { print \$4, \$5 }" /proc/self/limits'
	ctr proc-rlimits
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "4096 8192" ]
	[ "${lines[1]}" = "123 456" ]
}

@test "process: without RLIMIT_NOFILE the process gets its caller's limit" {
	update_config 'del(.process.rlimits)'
	sh_cmd 'echo $(ulimit -Sn) $(ulimit -Hn)'
	# Limits of our own, below the machine's, so that a runtime which
	# leaked its own raised limit (Go raises the soft one at start-up)
	# or made one up would show.
	run bash -c 'ulimit -Sn 777 && ulimit -Hn 5000 && exec "$0" --root "$1" run --bundle "$2" proc-nofile' \
		"$RUNTIME" "$ROOT" "$BUNDLE"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "777 5000" ]
}

@test "process: noNewPrivileges sets no_new_privs, and only then" {
	sh_cmd 'grep NoNewPrivs /proc/self/status'
	update_config '.process.noNewPrivileges = true'
	ctr proc-nnp
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'NoNewPrivs:\t1')" ]

	update_config '.process.noNewPrivileges = false'
	ctr proc-nnp
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'NoNewPrivs:\t0')" ]
}

@test "process: oomScoreAdj is set" {
	update_config '.process.oomScoreAdj = 512'
	sh_cmd 'cat /proc/self/oom_score_adj'
	ctr proc-oom
	[ "$status" -eq 0 ]
	[ "$output" = 512 ]
}

@test "process: oomScoreAdj is set in a container with a user namespace" {
	# init runs there non-dumpable (an exec-only copy of the runtime):
	# its own /proc files are not its to write, and it failed to.
	chmod 755 "$BUNDLE"
	update_config '.process.oomScoreAdj = 512
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = .linux.uidMappings'
	sh_cmd 'cat /proc/self/oom_score_adj'
	ctr proc-oom-userns
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 512 ]
}

@test "process: hostname and domainname are the container's own" {
	local host_name host_domain
	host_name=$(hostname)
	host_domain=$(cat /proc/sys/kernel/domainname)
	update_config '.hostname = "box.test" | .domainname = "example.org"'
	sh_cmd 'hostname; cat /proc/sys/kernel/domainname'
	ctr proc-uts
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box.test ]
	[ "${lines[1]}" = example.org ]
	[ "$(hostname)" = "$host_name" ]
	[ "$(cat /proc/sys/kernel/domainname)" = "$host_domain" ]
}

@test "process: sysctls are set in the container's network and IPC namespaces" {
	local host_fwd host_shmmax
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_shmmax=$(cat /proc/sys/kernel/shmmax)
	# A new network namespace starts with ip_forward 0, a new IPC
	# namespace with a huge shmmax: both values below show.
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}'
	sh_cmd 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
	ctr proc-sysctl
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 123456789 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
	[ "$(cat /proc/sys/kernel/shmmax)" = "$host_shmmax" ]
}

@test "process: a network sysctl without a network namespace is refused" {
	local host_fwd
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "'"$((1 - host_fwd))"'"}
		| .linux.namespaces -= [{"type": "network"}]'
	create_fails proc-sysctl-host
	grep -q net.ipv4.ip_forward "$BUNDLE/create.out"
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
}

@test "process: a program not in PATH fails create" {
	args no-such-program
	create_fails proc-missing
	grep -q "executable file not found" "$BUNDLE/create.out"
}

@test "process: a file that is not executable fails create" {
	own_rootfs
	printf '#!/bin/sh\necho ran\n' >"$BUNDLE/rootfs/bin/not-executable"
	chmod 644 "$BUNDLE/rootfs/bin/not-executable"
	args /bin/not-executable
	create_fails proc-noexec
	grep -qi "permission denied" "$BUNDLE/create.out"
}

# CVE-2024-21626: runc leaked an fd of a host directory into init, and a
# cwd of /proc/self/fd/N started the process with its cwd on the host.
# Whatever fds the runtime has open, no such cwd may work.
@test "process: a cwd through /proc/self/fd/N is refused" {
	local fd
	args true
	for fd in $(seq 3 12); do
		update_config '.process.cwd = "/proc/self/fd/'"$fd"'"'
		run sr run --bundle "$BUNDLE" proc-fdcwd
		echo "cwd /proc/self/fd/$fd: status $status: $output"
		[ "$status" -ne 0 ] || fail "the process ran with cwd /proc/self/fd/$fd"
		[[ "$output" == *"/proc/self/fd/$fd"* ]]
	done
}

# thp_enabled PID prints the THP_enabled line of PID's status: 0 when
# PR_SET_THP_DISABLE is in force. needs_thp skips where the kernel has no
# such line or the test itself runs with THP off.
thp_enabled() { sed -n 's/^THP_enabled:[[:space:]]*//p' "/proc/$1/status"; }
needs_thp() {
	grep -q '^THP_enabled:' /proc/self/status ||
		skip "this kernel's /proc/PID/status has no THP_enabled line (before Linux 6.x)"
	[ "$(thp_enabled self)" = 1 ] || skip "THP is disabled for the test's own process already"
}

@test "process: init runs without transparent huge pages; the process gets the host's setting" {
	needs_thp
	# The runtime turns THP off for init (a huge page would be charged
	# whole to the container), and init turns it back on before execve.
	args sleep 60
	sr_create thp
	pid=$(sr state thp | jq .pid)
	[ "$(thp_enabled "$pid")" = 0 ]
	sr start thp
	wait_for 5 grep -qx sleep "/proc/$pid/comm"
	[ "$(thp_enabled "$pid")" = 1 ]
	# exec re-executes itself from the sealed copy first; its process
	# gets the host's setting too.
	[ "$(sr exec thp payload status THP_enabled)" = "THP_enabled: 1" ]
	sr delete --force thp
}

@test "process: a caller with transparent huge pages off: the process keeps them off, after create and exec" {
	needs_thp
	# As under runc, which never touches the setting: the caller's is
	# inherited.
	printf '#!/bin/sh\nexec %q nothp %q "$@"\n' "$PAYLOAD" "$RUNTIME" >"$BUNDLE/nothp-runtime"
	chmod +x "$BUNDLE/nothp-runtime"
	local real=$RUNTIME
	RUNTIME=$BUNDLE/nothp-runtime
	args sleep 60
	sr_create thp
	pid=$(sr state thp | jq .pid)
	sr start thp
	wait_for 5 grep -qx sleep "/proc/$pid/comm"
	[ "$(thp_enabled "$pid")" = 0 ]
	[ "$(sr exec thp payload status THP_enabled)" = "THP_enabled: 0" ]
	RUNTIME=$real
	[ "$(sr exec thp payload status THP_enabled)" = "THP_enabled: 1" ]
	sr delete --force thp
}

# --- runc compatibility (issues 20, 21) ---

@test "process: a bundle made by \`runc spec\` runs unchanged (its ambient capabilities are warnings)" {
	requires script
	command -v runc >/dev/null || skip "no runc (Debian's runc, a test dependency)"
	own_rootfs
	# runc 1.1's spec, unchanged: a terminal, `sh`, ambient capabilities
	# without inheritable ones, which the kernel will not raise.
	(cd "$BUNDLE" && rm config.json && runc spec)
	run script -qec "cd $BUNDLE && $RUNTIME --root $ROOT run rs1" /dev/null <<<'echo hello-from-a-runc-spec; exit 3'
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *hello-from-a-runc-spec* ]]
	[[ "$output" == *"can't raise ambient capability CAP_KILL"* ]]
}

@test "process: an unknown capability name is a warning, as the runtime spec asks (runc's words)" {
	update_config '.process.capabilities.bounding += ["CAP_FOO"] | .process.capabilities.effective += ["CAP_BAR"]'
	args true
	ctr unknown-cap
	[ "$status" -eq 0 ]
	[[ "$output" == *"ignoring unknown or unavailable capabilities: [CAP_BAR CAP_FOO]"* ]]
}

@test "process: a cwd only root may enter is still the cwd of a user (create and exec)" {
	update_config '.process.cwd = "/root" | .process.user = {"uid": 42, "gid": 42}'
	# The rootfs's /root is 0700 root's (build_rootfs).
	[ "$(stat -c %a "$BUILD/rootfs/root")" = 700 ] || chmod 700 "$BUILD/rootfs/root"
	args payload cwd
	ctr cwd-root
	[ "$status" -eq 0 ]
	[ "$output" = /root ]
	args sleep infinity
	sr run -d --bundle "$BUNDLE" cwd-root2 </dev/null >/dev/null 2>&1
	run sr exec --user 42:42 --cwd /root cwd-root2 payload cwd
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = /root ]
}

@test "process: duplicate env names: the last value wins; an empty HOME is filled (create and exec)" {
	update_config '.process.env = ["HOME=", "ONE=two", "ONE=", "PATH=/bin"]'
	args env
	ctr env-dup
	[ "$status" -eq 0 ]
	# runc 1.5: ONE= PATH=/bin HOME=/root, in that order.
	[ "$(echo "$output" | tr '\n' ' ')" = "ONE= PATH=/bin HOME=/root " ]
	args sleep infinity
	sr run -d --bundle "$BUNDLE" env-dup2 </dev/null >/dev/null 2>&1
	run sr exec --env ONE=three --env HOME= env-dup2 env
	echo "$output"
	# --env appends, as runc's does: the last ONE is the flag's.
	[ "$(echo "$output" | tr '\n' ' ')" = "PATH=/bin ONE=three HOME=/root " ]
}

@test "process: the caller's CPU affinity does not reach the container (create and exec)" {
	requires taskset
	[ "$(nproc --all)" -gt 1 ] || skip "one CPU: no affinity to lose"
	want=$(cat /sys/devices/system/cpu/online)
	args sh -c 'grep Cpus_allowed_list /proc/self/status'
	run taskset -c 0 "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" aff1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Cpus_allowed_list:	$want"* ]]
	args sleep infinity
	sr run -d --bundle "$BUNDLE" aff2 </dev/null >/dev/null 2>&1
	run taskset -c 0 "$RUNTIME" --root "$ROOT" exec aff2 sh -c 'grep Cpus_allowed_list /proc/self/status'
	echo "$output"
	[[ "$output" == *"Cpus_allowed_list:	$want"* ]]
}

@test "process: a created container's init holds no fd but stdio, the exec fifo and its own procfs" {
	sr_create fds1
	pid=$(sr state fds1 | jq .pid)
	ls -l "/proc/$pid/fd"
	for fd in /proc/$pid/fd/*; do
		n=${fd##*/}
		[ "$n" -le 2 ] && continue
		t=$(readlink "$fd")
		case $t in
		*/exec.fifo | / | anon_inode:*) ;;
		*) fail "init holds fd $n -> $t" ;;
		esac
		# The procfs is one of the container's pid namespace (its / is
		# a procfs), never a device or a directory of the host.
		if [ "$t" = / ]; then [ "$(stat -f -L -c %T "$fd")" = proc ] || fail "fd $n: / of a $(stat -f -L -c %T "$fd")"; fi
	done
}
