#!/usr/bin/env bats
# linux.seccomp: profiles seen through what the container's process gets.
load helpers

LISTENER="$BUILD/seccomplistener"

setup() {
	requires root
	setup_bundle
	LISTENER_PID=
}

teardown() {
	# Our listener only, by its pid; it also exits on its own -timeout.
	if [ -n "$LISTENER_PID" ]; then
		kill "$LISTENER_PID" 2>/dev/null || true
		wait "$LISTENER_PID" 2>/dev/null || true
	fi
	teardown_bundle
}

# srt runs the runtime like sr, but gives up after 30 s: a profile that
# kills the wrong process can leave a runtime waiting.
srt() {
	timeout --kill-after=5 30 "$RUNTIME" --root "$ROOT" "$@"
}

sandbox_only() {
	[ "$RUNTIME" = "$REPO/sandbox-runtime" ]
}

# profile JSON sets linux.seccomp.
profile() {
	update_config ".linux.seccomp = $1"
}

# tmp gives the container a writable /tmp (the shared rootfs is read-only).
tmp() {
	update_config '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}]'
}

@test "seccomp: SCMP_ACT_ERRNO with errnoRet is the errno the process sees" {
	tmp
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
	args sh -c 'mkdir /tmp/d; echo "rc=$?"; ls -d /tmp/d'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[[ "$output" == *"can't create directory '/tmp/d': Function not implemented"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"ls: /tmp/d: No such file or directory"* ]]
	[ "$status" -eq 1 ]
}

@test "seccomp: SCMP_ACT_ERRNO without errnoRet is EPERM" {
	tmp
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	args mkdir /tmp/d
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"can't create directory '/tmp/d': Operation not permitted"* ]]
}

@test "seccomp: SCMP_ACT_KILL, KILL_THREAD and KILL_PROCESS end the process with SIGSYS (159)" {
	tmp
	args mkdir /tmp/d
	local act
	for act in SCMP_ACT_KILL SCMP_ACT_KILL_THREAD SCMP_ACT_KILL_PROCESS; do
		profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
			{"names": ["mkdir", "mkdirat"], "action": "'"$act"'"}]}'
		run srt run --bundle "$BUNDLE" t1
		echo "$act: $status $output"
		[ "$status" -eq 159 ]
	done
}

@test "seccomp: a killed process is reported by the shell that ran it" {
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	# mkdir is a forked child of the shell here: the shell lives on.
	args sh -c 'mkdir /tmp/d; echo "rc=$?"'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rc=159"* ]]
}

@test "seccomp: an argument filter denies personality(2) for one value only" {
	# busybox linux32 calls personality(PER_LINUX32 = 8), linux64
	# personality(PER_LINUX = 0).
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
		 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}'
	args sh -c 'linux64 true && echo linux64 ok; linux32 true || echo linux32 denied'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"linux64 ok"* ]]
	[[ "$output" == *"personality(0x8): Operation not permitted"* ]]
	[[ "$output" == *"linux32 denied"* ]]
}

@test "seccomp: SCMP_ACT_KILL on write(2) to fd 2 only" {
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["write"], "action": "SCMP_ACT_KILL",
		 "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}'
	# ls writes its listing to fd 1 ...
	args ls -d /bin
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = /bin ]
	# ... and its complaint to fd 2.
	args ls /nonexistent
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 159 ]
	[[ "$output" != *"No such file"* ]]
}

@test "seccomp: SCMP_CMP_MASKED_EQ denies creating files, not reading them" {
	tmp
	# (flags & O_CREAT) == O_CREAT; O_CREAT is 0100 on x86 and arm.
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
		 "args": [{"index": 2, "value": 64, "valueTwo": 64, "op": "SCMP_CMP_MASKED_EQ"}]},
		{"names": ["open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
		 "args": [{"index": 1, "value": 64, "valueTwo": 64, "op": "SCMP_CMP_MASKED_EQ"}]}]}'
	args sh -c 'head -n1 /etc/passwd; echo x >/tmp/f; echo "rc=$?"; test -e /tmp/f && echo "f exists"; true'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"root:x:0:0:root:/root:/bin/sh"* ]]
	[[ "$output" == *"can't create /tmp/f: Permission denied"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" != *"f exists"* ]]
}

# The syscalls busybox `sh -c 'echo hi'` makes in the container, found
# with strace and checked with SCMP_ACT_LOG (the kernel logs type=1326).
# The filter is loaded right before execve, so nothing of the runtime is
# needed here but execve itself.
ECHO_HI_SYSCALLS='["arch_prctl", "brk", "execve", "exit_group", "getcwd", "getpid",
	"getppid", "getrandom", "getuid", "mprotect", "newfstatat", "prctl",
	"prlimit64", "readlink", "rseq", "rt_sigaction", "set_robust_list",
	"set_tid_address", "uname", "write"]'

@test "seccomp: a strict allowlist (default SCMP_ACT_KILL) runs exactly what it allows" {
	# runc 1.1.5's init is a Go process that still runs after loading
	# the filter: killed, it leaves runc waiting for ever.
	requires sandbox
	profile '{"defaultAction": "SCMP_ACT_KILL", "syscalls": [
		{"names": '"$ECHO_HI_SYSCALLS"', "action": "SCMP_ACT_ALLOW"}]}'
	args sh -c 'echo hi'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = hi ]

	args sh -c 'echo hi; ls /'
	run srt run --bundle "$BUNDLE" t2
	echo "$output"
	[ "$status" -eq 159 ]
	[ "$output" = hi ]
}

@test "seccomp: the strict allowlist without getcwd kills the shell" {
	requires sandbox
	profile '{"defaultAction": "SCMP_ACT_KILL", "syscalls": [
		{"names": '"$ECHO_HI_SYSCALLS"', "action": "SCMP_ACT_ALLOW"}]}'
	update_config '.linux.seccomp.syscalls[0].names -= ["getcwd"]'
	args sh -c 'echo hi'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 159 ]
	[ "$output" = "" ]
}

# large_profile writes a profile like container engines' defaults: every
# x86_64 syscall the installed kernel headers name, minus those engines
# deny, one rule each, plus names of other architectures, which are
# skipped; everything else fails with ENOSYS.
large_profile() {
	local hdr=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
	[ "$(uname -m)" = x86_64 ] && [ -r "$hdr" ] || skip "needs x86_64 and $hdr"
	local deny='acct|add_key|bpf|chroot|clock_adjtime|clock_settime|create_module|delete_module|finit_module|fsconfig|fsmount|fsopen|fspick|get_kernel_syms|init_module|ioperm|iopl|kcmp|kexec_file_load|kexec_load|keyctl|lookup_dcookie|mount|mount_setattr|move_mount|name_to_handle_at|nfsservctl|open_by_handle_at|open_tree|perf_event_open|pivot_root|process_vm_readv|process_vm_writev|ptrace|query_module|quotactl|quotactl_fd|reboot|request_key|setns|settimeofday|swapoff|swapon|_sysctl|sysfs|umount2|unshare|uselib|userfaultfd|ustat|vhangup'
	{
		sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' "$hdr" | grep -vxE "$deny"
		printf '%s\n' arm_fadvise64_64 arm_sync_file_range breakpoint cacheflush \
			s390_pci_mmio_read s390_pci_mmio_write riscv_flush_icache spu_run sync_file_range2
	} | jq -R . | jq -s '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [.[] | {"names": [.], "action": "SCMP_ACT_ALLOW"}]}' >"$BUNDLE/profile.json"
	update_config ".linux.seccomp = $(cat "$BUNDLE/profile.json")"
}

@test "seccomp: a large profile (300+ rules, default ERRNO) runs a shell normally" {
	large_profile
	local n
	n=$(jq '.linux.seccomp.syscalls | length' "$BUNDLE/config.json")
	echo "rules: $n"
	[ "$n" -ge 300 ]
	args sh -c 'echo hi; ls / | grep -c .; head -n1 /etc/passwd; grep Seccomp: /proc/self/status; chroot / true || echo chroot failed'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hi ]
	[ "${lines[1]}" -gt 5 ]
	[ "${lines[2]}" = "root:x:0:0:root:/root:/bin/sh" ]
	[[ "${lines[3]}" == "Seccomp:"*2 ]]
	# Without the filter chroot would fail with EPERM (no CAP_SYS_CHROOT).
	[[ "$output" == *"chroot: can't change root directory to '/': Function not implemented"* ]]
	[[ "$output" == *"chroot failed"* ]]
}

@test "seccomp: works with noNewPrivileges false and true, and leaves no CAP_SYS_ADMIN" {
	tmp
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
	args sh -c 'grep -E "^(NoNewPrivs|Seccomp|CapEff|CapPrm):" /proc/self/status; mkdir /tmp/d'
	local nnp want
	for nnp in false true; do
		update_config ".process.noNewPrivileges = $nnp"
		run srt run --bundle "$BUNDLE" t1
		echo "noNewPrivileges $nnp: $output"
		[ "$status" -eq 1 ]
		want=0
		[ $nnp = true ] && want=1
		[[ "$output" == *"NoNewPrivs:"*"$want"* ]]
		[[ "$output" == *"Seccomp:"*2* ]]
		[[ "$output" == *"Function not implemented"* ]]
		# The spec's CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE:
		# without no_new_privs init keeps CAP_SYS_ADMIN to load the
		# filter, and execve must not pass it on.
		[[ "$output" == *"CapEff:"*"0000000020000420"* ]]
		[[ "$output" == *"CapPrm:"*"0000000020000420"* ]]
	done
}

@test "seccomp: SECCOMP_FILTER_FLAG_LOG is accepted" {
	# runc 1.1.5: "seccomp flags are not yet supported by runc".
	requires sandbox
	tmp
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"], "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
	args mkdir /tmp/d
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Function not implemented"* ]]
}

# start_listener starts the notify agent on $BUNDLE/listener.sock and
# waits until it listens.
start_listener() {
	[ -x "$LISTENER" ] || fail "build first: make payload"
	"$LISTENER" -log "$BUNDLE/listener.log" -ready "$BUNDLE/listener.ready" -timeout 60s "$@" \
		"$BUNDLE/listener.sock" </dev/null >/dev/null 2>&1 3>&- &
	LISTENER_PID=$!
	local i
	for i in $(seq 100); do
		[ -e "$BUNDLE/listener.ready" ] && return 0
		sleep 0.05
	done
	fail "listener not ready: $(cat "$BUNDLE/listener.log" 2>/dev/null)"
}

@test "seccomp: SCMP_ACT_NOTIFY: the listener decides, and gets the container's state" {
	tmp
	start_listener -id t1 -metadata "bats notify"
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$BUNDLE/listener.sock"'",
		"listenerMetadata": "bats notify", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	args sh -c 'mkdir /tmp/allowed-x && echo made; mkdir /tmp/denied; ls /tmp'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *made* ]]
	[[ "$output" == *"can't create directory '/tmp/denied': Operation not permitted"* ]]
	[[ "$output" == *allowed-x* ]]
	# The listener exits once the container's processes are gone.
	local i
	for i in $(seq 100); do
		kill -0 "$LISTENER_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$LISTENER_PID"
	LISTENER_PID=
	cat "$BUNDLE/listener.log"
	grep -q "^state ociVersion=1\..* fds=seccompFd pid=[1-9][0-9]* id=t1 .*metadata=bats notify$" "$BUNDLE/listener.log"
	grep -qx "state ok" "$BUNDLE/listener.log"
	grep -qx "mkdir /tmp/allowed-x continue" "$BUNDLE/listener.log"
	grep -qx "mkdir /tmp/denied EPERM" "$BUNDLE/listener.log"
	grep -qx "closed" "$BUNDLE/listener.log"
	[ ! -e "$BUNDLE/listener.sock" ]
}

@test "seccomp: SCMP_ACT_NOTIFY with create and start" {
	tmp
	start_listener -id t1
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$BUNDLE/listener.sock"'", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	args sh -c 'mkdir /tmp/allowed-1 /tmp/no; ls /tmp > /dev/null; sleep 30'
	srt create --bundle "$BUNDLE" t1 </dev/null >/dev/null 2>&1
	# The fd goes to the listener at start, when the filter is loaded
	# (runc sends it at create).
	if sandbox_only && grep -q "^state" "$BUNDLE/listener.log" 2>/dev/null; then
		fail "the listener got the state before start: $(cat "$BUNDLE/listener.log")"
	fi
	srt start t1
	# Asserted below, once the log is shown.
	wait_for 5 grep -q "mkdir /tmp/no EPERM" "$BUNDLE/listener.log" || :
	cat "$BUNDLE/listener.log"
	grep -qx "mkdir /tmp/allowed-1 continue" "$BUNDLE/listener.log"
	grep -qx "mkdir /tmp/no EPERM" "$BUNDLE/listener.log"
	srt kill t1 KILL
	wait_status t1 stopped
	wait_for 5 grep -qx closed "$BUNDLE/listener.log"
}

@test "seccomp: SCMP_ACT_NOTIFY under a strict allowlist needs only sendmsg more" {
	# init loads the filter, sends the fd with sendmsg and execs: the
	# profile needs nothing else of the runtime. (runc: see above.)
	requires sandbox
	tmp
	start_listener -id t1
	profile '{"defaultAction": "SCMP_ACT_KILL", "listenerPath": "'"$BUNDLE/listener.sock"'", "syscalls": [
		{"names": '"$ECHO_HI_SYSCALLS"', "action": "SCMP_ACT_ALLOW"},
		{"names": ["sendmsg"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	# The last command of sh -c runs in the shell's process: no fork.
	args sh -c 'echo hi; mkdir /tmp/allowed-a /tmp/no'
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == hi* ]]
	[[ "$output" == *"can't create directory '/tmp/no': Operation not permitted"* ]]
	# Asserted below, once the log is shown.
	wait_for 5 grep -qx closed "$BUNDLE/listener.log" || :
	cat "$BUNDLE/listener.log"
	grep -qx "mkdir /tmp/allowed-a continue" "$BUNDLE/listener.log"
	grep -qx "mkdir /tmp/no EPERM" "$BUNDLE/listener.log"
}

@test "seccomp: a listener gone before start: the process does not run" {
	# The fd is sent at start, after the filter is loaded; runc sends
	# it at create and would start the process.
	requires sandbox
	start_listener
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$BUNDLE/listener.sock"'", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	args sh -c 'echo ran'
	srt create --bundle "$BUNDLE" t1 </dev/null >"$BUNDLE/out" 2>&1
	kill "$LISTENER_PID"
	wait "$LISTENER_PID" || true
	LISTENER_PID=
	srt start t1
	wait_status t1 stopped
	cat "$BUNDLE/out"
	grep -q "send seccomp listener fd: broken pipe" "$BUNDLE/out"
	run grep -c ran "$BUNDLE/out"
	[ "$output" = 0 ]
}

# bad_profile JSON FIELD: create fails naming FIELD, and leaves nothing.
bad_profile() {
	profile "$1"
	run srt create --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -ne 0 ]
	# runc's messages name no field: the failure itself is compared.
	if sandbox_only; then
		[[ "$output" == *"$2"* ]]
	fi
	assert_nothing_left
}

@test "seccomp: an unknown action fails create, naming the field" {
	bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
		{"names": ["getppid"], "action": "SCMP_ACT_BOGUS"}]}' 'linux.seccomp.syscalls[1].action: unknown action'
}

@test "seccomp: an unknown default action fails create" {
	bad_profile '{"defaultAction": "SCMP_ACT_BOGUS"}' 'linux.seccomp.defaultAction'
}

@test "seccomp: an unknown architecture fails create, naming the field" {
	bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"]}' \
		'linux.seccomp.architectures[1]: unknown architecture'
}

@test "seccomp: an unknown operator fails create, naming the field" {
	bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
		 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_ALMOST"}]}]}' \
		'linux.seccomp.syscalls[0].args[0].op: unknown operator'
}

@test "seccomp: an unknown flag fails create, naming the field" {
	bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]}' \
		'linux.seccomp.flags: unknown flag'
}

@test "seccomp: errnoRet on an SCMP_ACT_ALLOW rule fails create" {
	# runc 1.1.5 ignores errnoRet on actions it does not apply to.
	requires sandbox
	bad_profile '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}' 'linux.seccomp.syscalls[0].errnoRet'
}

@test "seccomp: SCMP_ACT_NOTIFY without listenerPath fails create" {
	bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' 'linux.seccomp.listenerPath: seccomp listenerPath is not set'
}

@test "seccomp: a listenerPath with nothing listening fails create" {
	bad_profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$BUNDLE/nobody.sock"'", "syscalls": [
		{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' "linux.seccomp.listenerPath: dial unix $BUNDLE/nobody.sock"
}

@test "seccomp: SCMP_ACT_NOTIFY in a profile that denies sendmsg fails create" {
	requires sandbox
	start_listener
	bad_profile '{"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "'"$BUNDLE/listener.sock"'", "syscalls": [
		{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' 'must allow sendmsg'
}

@test "seccomp: the runtime is static and links no C (its own seccomp compiler, no libseccomp)" {
	requires sandbox ldd go
	run ldd "$RUNTIME"
	echo "$output"
	[[ "$output" == *"not a dynamic executable"* ]]
	# The Go toolchain records how the binary was built.
	run go version -m "$RUNTIME"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"CGO_ENABLED=0"* ]]
}

@test "seccomp: features reports seccomp with its actions, operators and architectures" {
	run sr features
	[ "$status" -eq 0 ]
	local sc
	sc=$(echo "$output" | jq -c .linux.seccomp)
	echo "$sc"
	[ "$(echo "$sc" | jq .enabled)" = true ]
	[ "$(echo "$sc" | jq -c '.actions | sort')" = '["SCMP_ACT_ALLOW","SCMP_ACT_ERRNO","SCMP_ACT_KILL","SCMP_ACT_KILL_PROCESS","SCMP_ACT_KILL_THREAD","SCMP_ACT_LOG","SCMP_ACT_NOTIFY","SCMP_ACT_TRACE","SCMP_ACT_TRAP"]' ]
	[ "$(echo "$sc" | jq -c '.operators | sort')" = '["SCMP_CMP_EQ","SCMP_CMP_GE","SCMP_CMP_GT","SCMP_CMP_LE","SCMP_CMP_LT","SCMP_CMP_MASKED_EQ","SCMP_CMP_NE"]' ]
	# Spec names (SCMP_ARCH_AARCH64, not ARM64).
	[ "$(echo "$sc" | jq '.archs | index("SCMP_ARCH_X86_64") != null and index("SCMP_ARCH_AARCH64") != null and index("SCMP_ARCH_ARM64") == null')" = true ]
	if sandbox_only; then
		[ "$(echo "$sc" | jq '.supportedFlags | index("SECCOMP_FILTER_FLAG_LOG") != null')" = true ]
	fi
}

@test "seccomp: every architecture features reports is accepted by create" {
	requires sandbox
	local a
	# Those this kernel cannot run get no section: their syscalls can
	# never reach the filter (libsandbox/seccomp/program.go).
	for a in $(sr features | jq -r '.linux.seccomp.archs[]'); do
		profile '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["'"$a"'"]}'
		args true
		run srt run --bundle "$BUNDLE" t1
		echo "$a: $status $output"
		[ "$status" -eq 0 ]
	done
}

@test "seccomp: a syscall newer than every one the profile names answers ENOSYS, not the default action (runc's stub)" {
	# A default-deny profile that knows nothing of openat2 and clone3:
	# software that probes for them must see ENOSYS and fall back.
	profile '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "mmap", "munmap",
		"mprotect", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "clone", "futex",
		"exit_group", "exit", "getpid", "gettid", "tgkill", "sched_getaffinity", "openat", "close", "fcntl",
		"madvise", "nanosleep", "arch_prctl", "set_tid_address", "prlimit64", "execve", "brk", "readlinkat",
		"newfstatat", "fstat", "uname", "sched_yield", "epoll_create1", "epoll_ctl", "epoll_pwait",
		"eventfd2", "pipe2", "getrandom", "rseq", "set_robust_list"], "action": "SCMP_ACT_ALLOW"}]}'
	args payload nosys
	run srt run --bundle "$BUNDLE" t1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"openat2: ENOSYS clone3: ENOSYS"* ]]
	# A syscall older than the newest the profile names keeps the
	# default (EPERM): the stub is no allow-all.
	profile '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22}, {"names": ["read", "write", "mmap", "munmap",
		"mprotect", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "clone", "futex",
		"exit_group", "exit", "getpid", "gettid", "tgkill", "sched_getaffinity", "openat", "close", "fcntl",
		"madvise", "nanosleep", "arch_prctl", "set_tid_address", "prlimit64", "execve", "brk", "readlinkat",
		"newfstatat", "fstat", "uname", "sched_yield", "epoll_create1", "epoll_ctl", "epoll_pwait",
		"eventfd2", "pipe2", "getrandom", "rseq", "set_robust_list", "openat2"], "action": "SCMP_ACT_ALLOW"}]}'
	run srt run --bundle "$BUNDLE" t2
	echo "$output"
	[[ "$output" == *"openat2: EINVAL clone3: EINVAL"* ]]
}

@test "seccomp: SCMP_ACT_NOTIFY: an exec'd process gets the filter, and the agent its listener" {
	tmp
	start_listener -id t1 -conns 2
	profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$BUNDLE/listener.sock"'", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	args sleep infinity
	srt run -d --bundle "$BUNDLE" t1 </dev/null >/dev/null 2>&1
	run srt exec t1 sh -c 'mkdir /tmp/allowed-exec && echo made; mkdir /tmp/denied-exec'
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *made* ]]
	[[ "$output" == *"can't create directory '/tmp/denied-exec': Operation not permitted"* ]]
	wait_for 5 grep -qx "mkdir /tmp/denied-exec EPERM" "$BUNDLE/listener.log" || :
	cat "$BUNDLE/listener.log"
	[ "$(grep -c '^state ok$' "$BUNDLE/listener.log")" -eq 2 ]
	grep -qx "mkdir /tmp/allowed-exec continue" "$BUNDLE/listener.log"
	grep -qx "mkdir /tmp/denied-exec EPERM" "$BUNDLE/listener.log"
	# The exec'd process never holds the listener (it could answer its
	# own notifications).
	run srt exec t1 sh -c 'ls -l /proc/self/fd'
	[[ "$output" != *seccomp* ]]
}

@test "seccomp: a profile is compiled once: the next container with it gets the filter kept in the root's .cache" {
	sandbox_only || skip "the cache is sandbox-runtime's"
	tmp
	args sh -c 'mkdir /tmp/d; echo "rc=$?"'
	local a='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
	local b='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	profile "$a"
	run srt run --bundle "$BUNDLE" c1
	echo "$output"
	[[ "$output" == *"Function not implemented"* ]]
	# One filter kept, 0600 in a 0700 directory; not a container.
	local fa fb
	fa=$(ls "$ROOT/.cache/seccomp")
	[ "$(echo "$fa" | wc -l)" -eq 1 ]
	[ "$(stat -c %a "$ROOT/.cache/seccomp/$fa")" = 600 ]
	[ "$(stat -c %a "$ROOT/.cache/seccomp")" = 700 ]
	[ -z "$(srt list -q)" ]
	# Another profile, another filter.
	profile "$b"
	run srt run --bundle "$BUNDLE" c2
	[[ "$output" == *"Operation not permitted"* ]]
	fb=$(ls "$ROOT/.cache/seccomp" | grep -vx "$fa")
	[ -n "$fb" ]
	# The cache is what the next container with a kept profile gets:
	# b's filter under a's name makes a's container see EPERM, not
	# ENOSYS (the directory is root's alone: see seccompcache.go).
	cp "$ROOT/.cache/seccomp/$fb" "$ROOT/.cache/seccomp/$fa"
	profile "$a"
	run srt run --bundle "$BUNDLE" c3
	echo "$output"
	[[ "$output" == *"Operation not permitted"* ]]
}
