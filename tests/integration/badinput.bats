#!/usr/bin/env bats
# Bad bundles: create must fail with exit status 1 and an error naming
# the field (ours) or at least the value, and leave nothing behind.
#
# Each case gives our error and runc 1.1.5's, so that a run against runc
# checks the table; where runc accepts the input, the case says so and is
# skipped for runc. Our errors name the config field (process.cwd,
# mounts[0].destination...); runc's mostly do not: an intended
# difference.
load helpers

setup() { requires root; setup_bundle; }
teardown() { teardown_bundle; }

# create_fails WANT RUNC_WANT [CREATE FLAGS...]: create t1 from $BUNDLE
# fails with status 1, an error containing WANT (RUNC_WANT against runc),
# and leaves no state, process, mount or cgroup.
create_fails() {
	local want=$1 runc_want=$2 out
	shift 2
	is_sandbox || want=$runc_want
	sr_run create --bundle "$BUNDLE" "$@" t1
	[ "$status" -eq 1 ] || fail "create: status $status, want 1"
	# the text log format escapes the quotes in messages
	out=${output//\\\"/\"}
	[[ "$out" == *"$want"* ]] || fail "create: want an error with: $want"
	# One error, through the logger: no stray lines from init.
	if is_sandbox; then
		[ "$(grep -c 'level=error' <<<"$output")" = 1 ] || fail "create: want one error line"
		! grep -v '^time=' <<<"$output" || fail "create: lines not from the logger"
	fi
	assert_nothing_left
}

# runc_accepts WHY: runc does not refuse this input; skip against runc.
runc_accepts() {
	is_sandbox || skip "runc 1.1.5 accepts this: $1"
}

# A hook runs with the test's mark, so a hook left running is found.
hook() { # PATH [ARGS...] -> hook JSON
	local path=$1 args
	shift
	# (not jq --args: jq 1.6 takes a "-c" among them for its own)
	args=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	jq -nc --arg p "$path" --arg m "SR_BATS_MARK=$MARK" --argjson a "$args" '{path: $p, args: $a, env: [$m]}'
}

@test "bad input: config.json is not valid JSON" {
	echo '{"ociVersion": "1.0.0",' >"$BUNDLE/config.json"
	create_fails "$BUNDLE/config.json: invalid JSON" "unexpected EOF"
}

@test "bad input: no config.json" {
	rm "$BUNDLE/config.json"
	create_fails "bundle $BUNDLE: config.json not found" "JSON specification file config.json not found"
}

@test "bad input: unknown namespace type" {
	update_config '.linux.namespaces = [{"type": "foo"}] + .linux.namespaces'
	create_fails 'linux.namespaces[0].type: unknown namespace type "foo"' 'namespace {"foo" ""} does not exist'
}

@test "bad input: duplicate namespace" {
	update_config '.linux.namespaces += [{"type": "pid"}]'
	create_fails 'duplicate namespace "pid"' 'duplicated ns {"pid" ""}'
}

@test "bad input: namespace path that is not a namespace" {
	update_config '.linux.namespaces = [{"type": "network", "path": "/etc/hostname"}]
		+ (.linux.namespaces - [{"type": "network"}])'
	create_fails 'linux.namespaces[0].path: /etc/hostname is not a network namespace' "failed to setns into net namespace: Invalid argument"
}

@test "bad input: namespace path of the wrong type" {
	update_config '.linux.namespaces = [{"type": "network", "path": "/proc/'"$$"'/ns/uts"}]
		+ (.linux.namespaces - [{"type": "network"}])'
	create_fails "linux.namespaces[0].path: /proc/$$/ns/uts is not a network namespace" "failed to setns into net namespace: Invalid argument"
}

@test "bad input: namespace path that does not exist" {
	update_config '.linux.namespaces = [{"type": "network", "path": "/nonexistent/ns"}]
		+ (.linux.namespaces - [{"type": "network"}])'
	create_fails "linux.namespaces[0].path: open /nonexistent/ns: no such file or directory" "lstat /nonexistent/ns: no such file or directory"
}

@test "bad input: relative mount destination" {
	runc_accepts "a warning that relative destinations are deprecated"
	update_config '.mounts = [{"destination": "tmp", "type": "tmpfs", "source": "tmpfs"}] + .mounts'
	create_fails 'mounts[0].destination "tmp": must be an absolute path' -
}

@test "bad input: rootfs that does not exist" {
	update_config '.root.path = "nonexistent"'
	create_fails "root.path: stat $BUNDLE/nonexistent: no such file or directory" "invalid rootfs: stat $BUNDLE/nonexistent: no such file or directory"
}

@test "bad input: rootfs that is a file" {
	update_config '.root.path = "/etc/hostname"'
	create_fails "root.path: /etc/hostname is not a directory" "not a directory"
}

@test "bad input: ociVersion 2.0.0" {
	runc_accepts "it does not check the version"
	update_config '.ociVersion = "2.0.0"'
	create_fails 'ociVersion "2.0.0": unsupported' -
}

@test "bad input: unknown rlimit" {
	update_config '.process.rlimits = [{"type": "RLIMIT_FOO", "hard": 1, "soft": 1}]'
	create_fails 'process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"' "wrong rlimit value: RLIMIT_FOO"
}

@test "bad input: duplicate rlimit" {
	runc_accepts "it sets both, the last one wins"
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}, {"type": "RLIMIT_NOFILE", "hard": 512, "soft": 512}]'
	create_fails 'process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"' -
}

@test "bad input: rlimit soft above hard" {
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}]'
	create_fails "process.rlimits[0]: RLIMIT_NOFILE soft limit 2 is above the hard limit 1" "error setting rlimit type 7: invalid argument"
}

@test "bad input: empty args" {
	update_config '.process.args = []'
	create_fails "process.args: must not be empty" "args must not be empty"
}

@test "bad input: empty program name" {
	update_config '.process.args = [""]'
	create_fails "process.args[0]: must not be empty" 'exec: "": executable file not found in $PATH'
}

@test "bad input: missing binary" {
	update_config '.process.args = ["nope"]'
	create_fails 'exec: "nope": executable file not found in $PATH' 'exec: "nope": executable file not found in $PATH'
}

@test "bad input: binary that is not executable" {
	# (what is left after this failure is checked by "missing binary":
	# same place, same cleanup)
	update_config '.process.args = ["/etc/passwd"]'
	create_fails 'exec: "/etc/passwd": permission denied' 'exec: "/etc/passwd": permission denied'
}

@test "bad input: env entry without =" {
	update_config '.process.env = ["NOEQUALS"] + .process.env'
	create_fails 'process.env[0] "NOEQUALS": must be NAME=value' 'invalid environment variable: "NOEQUALS"'
}

@test "bad input: relative hook path" {
	update_config ".hooks.prestart = [$(hook true)]"
	create_fails 'hooks.prestart[0].path "true": must be an absolute path' "error running hook #0: fork/exec true: no such file or directory"
}

@test "bad input: hook path that does not exist" {
	update_config ".hooks.createRuntime = [$(hook /nonexistent/hook)]"
	create_fails "hooks.createRuntime[0].path: stat /nonexistent/hook: no such file or directory" "error running hook #0: fork/exec /nonexistent/hook: no such file or directory"
}

@test "bad input: prestart hook exits 1" {
	update_config ".hooks.prestart = [$(hook /bin/sh sh -c 'echo hook says; exit 1')]"
	create_fails "error running prestart hook #0: exit status 1, stdout: hook says" "error running hook #0: error running hook: exit status 1, stdout: hook says"
}

@test "bad input: the second prestart hook fails" {
	update_config ".hooks.prestart = [$(hook /bin/true), $(hook /bin/sh sh -c 'echo second >&2; exit 2')]"
	create_fails "error running prestart hook #1: exit status 2, stdout: , stderr: second" "error running hook #1: error running hook: exit status 2, stdout: , stderr: second"
}

@test "bad input: createRuntime hook fails" {
	update_config ".hooks.createRuntime = [$(hook /bin/false)]"
	create_fails "error running createRuntime hook #0: exit status 1" "error running hook #0: error running hook: exit status 1"
}

@test "bad input: prestart hook past its timeout is killed" {
	update_config ".hooks.prestart = [$(hook /bin/sleep sleep 30 | jq -c '.timeout = 1')]"
	create_fails "error running prestart hook #0: hook ran past specified timeout of 1.0s" "error running hook #0: hook ran past specified timeout of 1.0s"
}

@test "bad input: hostname without a UTS namespace" {
	update_config '.linux.namespaces -= [{"type": "uts"}]'
	create_fails "hostname: unable to set hostname without a private UTS namespace" "unable to set hostname without a private UTS namespace"
}

@test "bad input: negative --preserve-fds" {
	runc_accepts "it ignores a negative count"
	create_fails "--preserve-fds: -1 is negative" - --preserve-fds -1
}

@test "bad input: sysctl that is not namespaced" {
	host=$(cat /proc/sys/vm/swappiness)
	update_config '.linux.sysctl = {"vm.swappiness": "'$((host == 10 ? 11 : 10))'"}'
	create_fails 'linux.sysctl "vm.swappiness": not in a separate kernel namespace' 'sysctl "vm.swappiness" is not in a separate kernel namespace'
	# and the host's is untouched
	[ "$(cat /proc/sys/vm/swappiness)" = "$host" ]
}

@test "bad input: network sysctl without a network namespace" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces -= [{"type": "network"}]'
	create_fails 'linux.sysctl "net.ipv4.ip_forward": needs a private network namespace' 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace'
}

@test "bad input: relative cwd" {
	update_config '.process.cwd = "tmp"'
	create_fails 'process.cwd "tmp": must be an absolute path' "Cwd must be an absolute path"
}

@test "bad input: uid mappings without a user namespace" {
	runc_accepts "it ignores the mappings"
	update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	create_fails "linux.uidMappings: id mappings need a new user namespace" -
}

@test "bad input: user namespace without mappings" {
	update_config '.linux.namespaces += [{"type": "user"}]'
	create_fails "linux.uidMappings: a new user namespace needs uidMappings and gidMappings" "User namespaces enabled, but no uid mappings found."
}

@test "bad input: idmap without mappings in a container without a user namespace" {
	runc_accepts "1.1.5 predates idmapped mounts and ignores the option"
	update_config '.mounts = [{"destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind", "idmap"]}] + .mounts'
	create_fails 'mounts[0]: "idmap" without uidMappings and gidMappings uses the container'"'"'s user namespace, and the container has none' -
}

@test "bad input: an idmapped mount that is not a bind mount" {
	runc_accepts "1.1.5 predates idmapped mounts"
	update_config '.mounts = [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"],
		"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}]}] + .mounts'
	create_fails 'mounts[0]: idmapped mounts are bind mounts only' -
}

@test "bad input: mount uidMappings without gidMappings" {
	runc_accepts "1.1.5 predates idmapped mounts"
	update_config '.mounts = [{"destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind"],
		"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}]}] + .mounts'
	create_fails 'mounts[0]: uidMappings and gidMappings go together' -
}

@test "bad input: an idmapped mount of a filesystem without idmapping (procfs)" {
	runc_accepts "1.1.5 predates idmapped mounts"
	update_config '.mounts = [{"destination": "/mnt", "type": "bind", "source": "/proc", "options": ["rbind", "idmap"],
		"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}] + .mounts'
	create_fails 'mounts[0].source: idmapped mount of /proc: its filesystem (or one mounted under it, with ridmap) does not support idmapped mounts: mount_setattr MOUNT_ATTR_IDMAP: invalid argument' -
}

@test "bad input: mount option the filesystem rejects" {
	update_config '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["nosuchopt"]}]'
	create_fails "(tmpfs on /mnt): mount tmpfs: invalid argument" "data: nosuchopt: invalid argument"
}

@test "bad input: bind mount source that does not exist" {
	update_config '.mounts = [{"destination": "/mnt", "type": "bind", "source": "/nonexistent/src", "options": ["rbind"]}] + .mounts'
	# Looked for when the mount is made (an earlier mount may provide
	# it), by init.
	create_fails "mounts[0].source: open_tree /nonexistent/src: no such file or directory" "stat /nonexistent/src: no such file or directory"
}

@test "bad input: mount without a type that is not a bind" {
	update_config '.mounts = [{"destination": "/mnt", "source": "tmpfs"}] + .mounts'
	create_fails "mounts[0].type: missing (and not a bind mount)" "mount tmpfs:/mnt (via /proc/self/fd/6): no such device"
}

@test "bad input: relative masked path" {
	runc_accepts "it tries the path and ignores what is missing"
	update_config '.linux.maskedPaths = ["proc/kcore"]'
	create_fails 'linux.maskedPaths[0] "proc/kcore": must be an absolute path' -
}

@test "bad input: a masked path that is a symlink not followed: the field and runc's \"can't mask path\"" {
	own_rootfs
	ln -s loop "$BUNDLE/rootfs/loop"
	update_config '.linux.maskedPaths += ["/loop"]'
	create_fails "linux.maskedPaths: can't mask path \"/loop\": a symlink that loops or leads through a magic link" "can't mask path"
}

@test "bad input: unknown device type" {
	update_config '.linux.devices = [{"path": "/dev/foo", "type": "x", "major": 1, "minor": 3}]'
	create_fails 'linux.devices[0].type "x": must be c, b, u or p' 'invalid device type "x"'
}

@test "bad input: oomScoreAdj out of range" {
	update_config '.process.oomScoreAdj = 2000'
	create_fails "process.oomScoreAdj 2000: must be between -1000 and 1000" "failed to update /proc/self/oom_score_adj: Invalid argument"
}

@test "bad input: no process" {
	update_config 'del(.process)'
	create_fails "process: missing" "process property must not be empty"
}

@test "bad input: --console-socket without a terminal" {
	create_fails "--console-socket: only allowed when process.terminal is true" "cannot use console socket if runc will not detach or allocate tty" --console-socket "$BUNDLE/nosock"
}

@test "bad input: a terminal without --console-socket" {
	update_config '.process.terminal = true'
	create_fails "cannot allocate tty if runc will detach without setting console socket" "cannot allocate tty if runc will detach without setting console socket"
}

# runtime-spec 1.3's per-process attributes (issue 14): runc 1.1.5
# predates them and ignores them.

@test "bad input: unknown process.scheduler policy" {
	runc_accepts "1.1.5 predates process.scheduler"
	update_config '.process.scheduler = {"policy": "SCHED_FOO"}'
	create_fails 'process.scheduler.policy: unknown policy "SCHED_FOO"' -
}

@test "bad input: SCHED_FIFO without a priority" {
	runc_accepts "1.1.5 predates process.scheduler"
	update_config '.process.scheduler = {"policy": "SCHED_FIFO"}'
	create_fails 'process.scheduler.priority 0: must be between 1 and 99 for SCHED_FIFO' -
}

@test "bad input: process.ioPriority level 8" {
	runc_accepts "1.1.5 predates process.ioPriority"
	update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}'
	create_fails 'process.ioPriority.priority 8: must be between 0 and 7' -
}

@test "bad input: unknown linux.personality domain" {
	runc_accepts "1.1.5 predates linux.personality"
	update_config '.linux.personality = {"domain": "BSD"}'
	create_fails 'linux.personality.domain: unknown domain "BSD"' -
}

@test "bad input: linux.memoryPolicy on a node the host does not have" {
	runc_accepts "1.1.5 predates linux.memoryPolicy"
	n=$(($(sed 's/.*-//' /sys/devices/system/node/possible) + 1))
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "'$n'"}'
	create_fails "linux.memoryPolicy.nodes: node $n does not exist on this host" -
}

@test "bad input: linux.memoryPolicy MPOL_BIND without nodes" {
	runc_accepts "1.1.5 predates linux.memoryPolicy"
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND"}'
	create_fails 'linux.memoryPolicy.nodes: MPOL_BIND needs at least one node' -
}

@test "bad input: process.execCPUAffinity that is not a CPU list" {
	runc_accepts "1.1.5 predates process.execCPUAffinity"
	update_config '.process.execCPUAffinity = {"final": "3-1"}'
	create_fails 'process.execCPUAffinity.final "3-1": range "3-1" goes backwards' -
}

@test "bad input: linux.netDevices naming an interface the host does not have" {
	runc_accepts "1.1.5 predates linux.netDevices"
	update_config '.linux.netDevices = {"srnosuch0": {}}'
	create_fails 'linux.netDevices["srnosuch0"]: no such interface in the runtime'"'"'s network namespace: Link not found' -
}

@test "bad input: linux.netDevices without a network namespace" {
	runc_accepts "1.1.5 predates linux.netDevices"
	update_config '.linux.netDevices = {"lo": {}} | .linux.namespaces -= [{"type": "network"}]'
	create_fails 'linux.netDevices: needs a network namespace to move the devices into' -
}

@test "bad input: linux.netDevices renaming to an invalid name" {
	runc_accepts "1.1.5 predates linux.netDevices"
	update_config '.linux.netDevices = {"lo": {"name": "a/b"}}'
	create_fails 'linux.netDevices["lo"].name: "a/b" is not a valid interface name' -
}

@test "bad input: linux.intelRdt on a host without resctrl" {
	runc_accepts "1.1.5 with no resctrl says: intel RDT is not supported"
	[ "$(stat -fc %T /sys/fs/resctrl 2>/dev/null)" != resctrl ] || skip "this host has resctrl"
	update_config '.linux.intelRdt = {"closID": "gold", "schemata": ["L3:0=f"]}'
	create_fails 'linux.intelRdt: this host has no resctrl filesystem mounted at /sys/fs/resctrl' -
}

@test "bad input: linux.intelRdt.memBwSchema that is not an MB line" {
	runc_accepts "1.1.5 checks no schema"
	update_config '.linux.intelRdt = {"memBwSchema": "L3:0=f"}'
	create_fails 'linux.intelRdt.memBwSchema "L3:0=f": must be one line starting with MB:' -
}
