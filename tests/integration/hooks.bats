#!/usr/bin/env bats
# hooks.bats - lifecycle hooks as they see the container: which run, in
# what order, with what state on stdin, args and env; a hook that hangs
# past its timeout; and which failures are fatal.
load helpers

# Hooks write into $OUT, a host directory also mounted on the
# container's /tmp: the startContainer hook runs inside the container,
# after the pivot, where only the container's paths exist.
HOOK_SH='#!/bin/sh
# hook.sh NAME DIR: record that hook NAME ran, with the state on stdin.
cat >"$2/$1.json"
echo "$1" >>"$2/order"
'

# hook NAME [DIR [PATH]] is the JSON of one hook running hook.sh.
hook() {
	local dir=${2:-$OUT} path=${3:-$OUT/hook.sh}
	jq -nc --arg p "$path" --arg n "$1" --arg d "$dir" \
		'{path: $p, args: ["hook.sh", $n, $d], env: ["PATH=/usr/bin:/bin"]}'
}

# set_hooks KIND JSON... sets the hooks of one kind.
set_hooks() {
	local kind=$1
	shift
	update_config ".hooks.$kind = [$(
		IFS=,
		echo "$*"
	)]"
}

setup() {
	requires root
	setup_bundle
	# Cgroup limits are not this file's business, and our runtime warns
	# about them on stderr, which `run` mixes into $output.
	update_config 'del(.linux.resources)
		| .process.args = ["true"]'
	OUT="$BUNDLE/out"
	mkdir -m 755 "$OUT"
	printf '%s' "$HOOK_SH" >"$OUT/hook.sh"
	chmod 755 "$OUT/hook.sh"
	update_config '.mounts += [{"destination": "/tmp", "type": "bind", "source": "'"$OUT"'", "options": ["rbind"]}]'
}

teardown() {
	if [ -s "${OUT:-}/hook.pid" ]; then
		kill -9 "$(cat "$OUT/hook.pid")" 2>/dev/null || true
	fi
	teardown_bundle
}

@test "hooks: all six kinds run in order with the state on stdin" {
	local k
	for k in prestart createRuntime createContainer poststart poststop; do
		set_hooks "$k" "$(hook "$k")"
	done
	set_hooks startContainer "$(hook startContainer /tmp /tmp/hook.sh)"
	ctr hooks-order
	[ "$status" -eq 0 ]
	echo "order: $(cat "$OUT/order")"
	[ "$(cat "$OUT/order" | tr '\n' ' ')" = "prestart createRuntime createContainer startContainer poststart poststop " ]
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		echo "$k: $(cat "$OUT/$k.json")"
		[ "$(jq -r .id "$OUT/$k.json")" = hooks-order ]
		[ "$(jq -r .bundle "$OUT/$k.json")" = "$BUNDLE" ]
		[ -n "$(jq -r .ociVersion "$OUT/$k.json")" ]
	done
	for k in prestart createRuntime createContainer startContainer poststart; do
		[ "$(jq -r '.pid // 0' "$OUT/$k.json")" -gt 0 ]
	done
	[ "$(jq -r .status "$OUT/prestart.json")" = creating ]
	[ "$(jq -r .status "$OUT/createRuntime.json")" = creating ]
	[ "$(jq -r .status "$OUT/createContainer.json")" = creating ]
	[ "$(jq -r .status "$OUT/poststart.json")" = running ]
	[ "$(jq -r .status "$OUT/poststop.json")" = stopped ]
}

# fds_hook NAME DIR PATHDIRS is the JSON of a hook that lists its open
# fds (payload fds) into DIR/NAME.fds.
fds_hook() {
	jq -nc --arg n "$1" --arg d "$2" --arg p "$3" \
		'{path: "/bin/sh", args: ["sh", "-c", "exec payload fds >\"$0/$1.fds\"", $d, $n], env: ["PATH=" + $p]}'
}

@test "hooks: every kind sees its stdio and no other fd, while the process gets the preserved ones (issue 11.9)" {
	local k
	for k in prestart createRuntime createContainer poststart poststop; do
		set_hooks "$k" "$(fds_hook "$k" "$OUT" "$BUILD:/usr/bin:/bin")"
	done
	set_hooks startContainer "$(fds_hook startContainer /tmp /bin)"
	update_config '.process.args = ["sh", "-c", "exec payload fds >/tmp/process.fds"]'
	# The caller gives create one fd to preserve and leaves another open;
	# init holds its sync socket, log pipe and the exec fifo meanwhile.
	sr create --preserve-fds 1 --bundle "$BUNDLE" h1 3<"$BUNDLE/config.json" 4<"$BUNDLE/config.json" </dev/null >/dev/null 2>"$BUNDLE/create.err" ||
		fail "create: $(cat "$BUNDLE/create.err")"
	sr start h1
	wait_status h1 stopped
	sr delete h1
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		echo "$k: $(tr '\n' ';' <"$OUT/$k.fds")"
		[ "$(cut -d' ' -f1 "$OUT/$k.fds" | tr '\n' ' ')" = "0 1 2 " ] || fail "$k hook has other fds"
	done
	echo "process: $(tr '\n' ';' <"$OUT/process.fds")"
	[ "$(cut -d' ' -f1 "$OUT/process.fds" | tr '\n' ' ')" = "0 1 2 3 " ]
	grep -q "^3 $BUNDLE/config.json" "$OUT/process.fds"
}

@test "hooks: a hook gets its args and env, and only its env" {
	set_hooks createRuntime "$(jq -nc --arg d "$OUT" '{path: "/bin/sh",
		args: ["sh", "-c", "echo \"$0|$1|$2\" >\"$0/args\"; env >\"$0/env\"", $d, "one", "two words"],
		env: ["HOOKVAR=hello world", "PATH=/bin"]}')"
	SR_BATS_CALLER_VAR=leaked ctr hooks-args
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/args")" = "$OUT|one|two words" ]
	cat "$OUT/env"
	grep -qx "HOOKVAR=hello world" "$OUT/env"
	grep -qx "PATH=/bin" "$OUT/env"
	! grep -q SR_BATS_CALLER_VAR "$OUT/env"
}

@test "hooks: a hook past its timeout is killed and create fails, leaving nothing" {
	set_hooks createRuntime "$(jq -nc --arg d "$OUT" '{path: "/bin/sh",
		args: ["sh", "-c", "echo $$ >\"$0/hook.pid\"; exec sleep 60", $d], timeout: 1}')"
	local start=$SECONDS
	create_fails hooks-timeout
	[ $((SECONDS - start)) -lt 20 ]
	grep -qi timeout "$BUNDLE/create.out"
	# The hook itself is gone too.
	local pid
	pid=$(cat "$OUT/hook.pid")
	[ -n "$pid" ]
	! kill -0 "$pid" 2>/dev/null || fail "hook process $pid still alive"
}

@test "hooks: a failing prestart, createRuntime or createContainer hook fails create" {
	local k
	for k in prestart createRuntime createContainer; do
		update_config 'del(.hooks)'
		set_hooks "$k" '{"path": "/bin/false"}'
		create_fails "hooks-fail-$k"
		grep -q "$k" "$BUNDLE/create.out" || fail "error does not name the $k hook"
	done
}

# runtime.md "Lifecycle" step 9 (runtime-spec v1.3.0): a failing poststart
# hook is an error; the container is stopped, the hooks after it do not
# run, and delete cleans up as usual.
@test "hooks: a failing poststart hook fails start and stops the container" {
	set_hooks poststart '{"path": "/bin/false"}' "$(hook poststart)"
	update_config '.process.args = ["sleep", "30"]'
	sr create --bundle "$BUNDLE" hooks-poststart </dev/null >"$BUNDLE/create.out" 2>&1 || fail "$(cat "$BUNDLE/create.out")"
	run sr start hooks-poststart
	echo "start: status $status: $output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"poststart hook #0"* ]]
	run sr state hooks-poststart
	[ "$(echo "$output" | jq -r .status)" = stopped ]
	[ ! -e "$OUT/poststart.json" ]
	sr delete hooks-poststart
}

# runtime.md "Lifecycle" step 13: the remaining poststop hooks run too.
@test "hooks: a failing poststop hook is only a warning and the next one runs" {
	set_hooks poststop '{"path": "/bin/false"}' "$(hook poststop)"
	sr create --bundle "$BUNDLE" hooks-poststop </dev/null >"$BUNDLE/create.out" 2>&1 || fail "$(cat "$BUNDLE/create.out")"
	sr start hooks-poststop
	wait_status hooks-poststop stopped
	run sr delete hooks-poststop
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *poststop* ]]
	[ "$(jq -r .id "$OUT/poststop.json")" = hooks-poststop ]
	run sr state hooks-poststop
	[ "$status" -ne 0 ]
}

# runtime-spec: a failing startContainer hook is an error; the container
# is stopped and its process never runs.
@test "hooks: a failing startContainer hook fails start and the process never runs" {
	# /bin/false of the container: startContainer runs inside it.
	set_hooks startContainer '{"path": "/bin/false"}'
	update_config '.process.args = ["sh", "-c", "echo ran >/tmp/process-ran"]'
	sr create --bundle "$BUNDLE" hooks-startcontainer </dev/null >"$BUNDLE/create.out" 2>&1 || fail "$(cat "$BUNDLE/create.out")"
	run sr start hooks-startcontainer
	echo "start: status $status: $output"
	cat "$BUNDLE/create.out"
	[ "$status" -ne 0 ]
	wait_status hooks-startcontainer stopped
	[ ! -e "$OUT/process-ran" ]
	grep -q startContainer "$BUNDLE/create.out"
}

@test "hooks: a startContainer hook gets its own env, in the container (issue 21: reported empty)" {
	set_hooks startContainer '{"path": "/bin/sh", "args": ["sh", "-c", "env >/tmp/start.env"], "env": ["HOOKVAR=from the spec", "PATH=/bin"]}'
	SR_BATS_CALLER_VAR=leaked ctr hooks-startenv
	[ "$status" -eq 0 ]
	cat "$OUT/start.env"
	grep -qx "HOOKVAR=from the spec" "$OUT/start.env"
	grep -qx "PATH=/bin" "$OUT/start.env"
	! grep -q SR_BATS_CALLER_VAR "$OUT/start.env"
}

@test "hooks: createContainer hooks run in the container's root filesystem (runc)" {
	update_config '.root.path = "'"$BUILD/rootfs"'"'
	set_hooks createContainer "$(jq -nc --arg d "$OUT" '{path: "/bin/sh", args: ["sh", "-c", "pwd >\"$0/cwd\"", $d], env: ["PATH=/bin"]}')"
	ctr hooks-cwd
	[ "$status" -eq 0 ]
	[ "$(cat "$OUT/cwd")" = "$BUILD/rootfs" ]
}

@test "hooks: with a terminal, start reports a failing startContainer hook's error" {
	set_hooks startContainer '{"path": "/bin/sh", "args": ["sh", "-c", "echo hook-said-no >&2; exit 3"]}'
	update_config '.process.terminal = true'
	start_recvtty
	sr create --console-socket "$BUNDLE/tty.sock" --bundle "$BUNDLE" hooks-tty </dev/null >/dev/null 2>"$BUNDLE/create.err" ||
		fail "create: $(cat "$BUNDLE/create.err")"
	run sr start hooks-tty
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"error running startContainer hook #0"* ]]
	[[ "$output" == *hook-said-no* ]]
	kill "$RECV" 2>/dev/null || true
	wait "$RECV" 2>/dev/null || true
}

@test "hooks: createContainer hooks run under the container's pids limit, which is set before them (as runc)" {
	# The hook is init's fork in the container's cgroup; with init's own
	# threads the cgroup is at a limit of 2 already, so the hook's
	# forks fail and create fails with it.
	set_hooks createContainer "$(jq -nc --arg d "$OUT" '{path: "/bin/sh", args: ["sh", "-c", "/bin/true && echo forked >\"$0/forked\"", $d], env: ["PATH=/bin"]}')"
	update_config '.linux.resources.pids = {"limit": 2}'
	ctr hooks-pids
	[ "$status" -ne 0 ]
	[[ "$output" == *createContainer* ]]
	[ ! -e "$OUT/forked" ]
	# Under a limit it can reach, the same hook forks.
	update_config '.linux.resources.pids = {"limit": 64}'
	ctr hooks-pids2
	[ "$status" -eq 0 ]
	[ -e "$OUT/forked" ]
}

# The runtime runs createContainer hooks itself, in init's namespaces
# but its pid namespace, when the container has a user namespace and
# no pid namespace of its own (security.bats says why): here a pod's,
# whose user and pid namespaces the container joins. The hooks must see
# what a hook run by init sees, and act as init's would.
@test "hooks: createContainer hooks run by the runtime (a pod's user and pid namespaces) get what init gives them" {
	chmod 755 "$BUNDLE"
	chmod 1777 "$OUT" # the container's root writes there
	update_config '.root.path = "'"$BUILD/rootfs"'"'
	userns_pod hpod
	update_config '.process.oomScoreAdj = 300'
	set_hooks createContainer "$(hook createContainer)" "$(fds_hook cc "$OUT" "$BUILD:/usr/bin:/bin")" \
		"$(jq -nc --arg d "$OUT" '{path: "/bin/sh", args: ["sh", "-c", "echo \"$0|$1|$2\" >\"$0/args\"; env >\"$0/env\"; pwd >\"$0/cwd\"; readlink /proc/self/ns/mnt >\"$0/mnt\"; readlink /proc/self/ns/user >\"$0/user\"; readlink /proc/self/ns/pid >\"$0/pid\"; umask >\"$0/umask\"; cat /proc/self/oom_score_adj >\"$0/oom\"; echo made >\"$0/made\"", $d, "one", "two words"],
		env: ["HOOKVAR=hello world", "PATH=/bin"]}')"
	(umask 077 && sr create --bundle "$BUNDLE" hout </dev/null >/dev/null 2>"$BUNDLE/create.err") || fail "create: $(cat "$BUNDLE/create.err")"
	local pid
	pid=$(sr state hout | jq .pid)
	# init's mount and user namespaces, our pid namespace; what it
	# makes is the container root's, with init's umask (the caller's
	# is 077 here)
	[ "$(cat "$OUT/mnt")" = "$(readlink "/proc/$pid/ns/mnt")" ]
	[ "$(cat "$OUT/user")" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "$(cat "$OUT/pid")" = "$(readlink /proc/self/ns/pid)" ]
	[ "$(cat "$OUT/pid")" != "$(readlink "/proc/$pid/ns/pid")" ]
	[ "$(cat "$OUT/umask")" = 0022 ]
	[ "$(cat "$OUT/oom")" = 300 ] # init's, as a hook init runs inherits
	[ "$(stat -c '%u %g %a' "$OUT/made")" = "100000 100000 644" ]
	sr start hout
	wait_status hout stopped
	sr delete hout
	[ "$(jq -r .id "$OUT/createContainer.json")" = hout ]
	[ "$(jq -r .status "$OUT/createContainer.json")" = creating ]
	[ "$(jq -r .pid "$OUT/createContainer.json")" = "$pid" ]
	echo "fds: $(tr '\n' ';' <"$OUT/cc.fds")"
	[ "$(cut -d' ' -f1 "$OUT/cc.fds" | tr '\n' ' ')" = "0 1 2 " ]
	[ "$(cat "$OUT/args")" = "$OUT|one|two words" ]
	grep -qx "HOOKVAR=hello world" "$OUT/env"
	[ "$(grep -cv '^PWD=\|^SHLVL=\|^_=' "$OUT/env")" = 2 ] || fail "env: $(cat "$OUT/env")"
	[ "$(cat "$OUT/cwd")" = "$BUILD/rootfs" ]

	# Failures, with runc's words, and a timeout: nothing left behind
	# but the pod.
	local k
	for k in fail noexec timeout; do
		case $k in
		fail) set_hooks createContainer '{"path": "/bin/sh", "args": ["sh", "-c", "echo hook-said-no >&2; exit 3"]}' ;;
		noexec) printf '\\0\\0\\0\\0' >"$OUT/garbage" && chmod 755 "$OUT/garbage" && set_hooks createContainer '{"path": "'"$OUT/garbage"'"}' ;;
		timeout) set_hooks createContainer "$(jq -nc --arg d "$OUT" '{path: "/bin/sh",
			args: ["sh", "-c", "echo $$ >\"$0/hook.pid\"; exec sleep 60", $d], timeout: 1}')" ;;
		esac
		run timeout 30 "$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" "hout-$k" </dev/null
		echo "$k: $output"
		[ "$status" -ne 0 ] && [ "$status" -ne 124 ]
		[ "$(sr list -q)" = hpod ]
		case $k in
		fail) [[ "$output" == *"error running createContainer hook #0: exit status 3, stdout: , stderr: hook-said-no"* ]] ;;
		noexec) [[ "$output" == *"error running createContainer hook #0: fork/exec $OUT/garbage: exec format error"* ]] ;;
		timeout) [[ "$output" == *"error running createContainer hook #0: hook ran past specified timeout of 1.0s"* ]] ;;
		esac
	done
	# (in our pid namespace: its pid is ours)
	! kill -0 "$(cat "$OUT/hook.pid")" 2>/dev/null || fail "the hook is still alive"

	# A runtime killed while the hook runs takes the hook with it, as
	# it takes init: becoming the user namespace's root cleared the
	# hook's parent-death signal until the runtime set it again.
	rm -f "$OUT/hook.pid"
	set_hooks createContainer "$(jq -nc --arg d "$OUT" '{path: "/bin/sh", args: ["sh", "-c", "echo $$ >\"$0/hook.pid\"; exec sleep 60", $d]}')"
	"$RUNTIME" --root "$ROOT" create --bundle "$BUNDLE" hout-killed </dev/null >/dev/null 2>&1 &
	local rt=$!
	wait_for 10 test -s "$OUT/hook.pid"
	kill -9 "$rt"
	wait "$rt" || true
	wait_gone "$(cat "$OUT/hook.pid")" || fail "the hook outlived the runtime: $(ps -o pid,ppid,cmd -p "$(cat "$OUT/hook.pid")")"
	sr delete --force hout-killed 2>/dev/null || true
	sr delete --force hpod
}
