#!/usr/bin/env bats
# create: makes a container whose init waits for start.
load helpers

setup() { requires root; setup_bundle; }
teardown() {
	# a --pidfd-socket receiver (start_recvtty -pidfd) that is left
	if [ -n "${RECV:-}" ]; then
		kill "$RECV" 2>/dev/null || true
		wait "$RECV" 2>/dev/null || true
	fi
	teardown_bundle
}

@test "create: state says created, with the pid written to --pid-file" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	# Complete as soon as create returns: no waiting for it.
	pid=$(cat "$BUNDLE/pid")
	[[ "$pid" =~ ^[1-9][0-9]*$ ]]
	alive "$pid"
	st=$(sr state t1)
	[ "$(jq -r .status <<<"$st")" = created ]
	[ "$(jq .pid <<<"$st")" = "$pid" ]
	# Created: the user process has not run yet.
	[ ! -s "$BUNDLE/t1.out" ]
}

@test "create --pid-file: written atomically, by rename, with nothing else left" {
	# A reader (containerd) must never see a partial file: the runtime
	# writes a temporary file and renames it, so an existing file is
	# replaced by a new inode, not truncated and rewritten.
	mkdir "$BUNDLE/piddir"
	echo stale >"$BUNDLE/piddir/pid"
	old=$(stat -c %i "$BUNDLE/piddir/pid")
	sr_create t1 --pid-file "$BUNDLE/piddir/pid"
	[ "$(stat -c %i "$BUNDLE/piddir/pid")" != "$old" ]
	[ "$(cat "$BUNDLE/piddir/pid")" = "$(sr state t1 | jq .pid)" ]
	[ "$(ls -A "$BUNDLE/piddir")" = pid ]
}

@test "create --pid-file: a relative path is relative to the working directory" {
	mkdir "$BUNDLE/wd"
	cd "$BUNDLE/wd"
	sr_create t1 --pid-file pid
	[ "$(cat "$BUNDLE/wd/pid")" = "$(sr state t1 | jq .pid)" ]
}

@test "create: --bundle X, --bundle=X, -b X and the working directory" {
	# (each in its own cgroup)
	cd /
	update_config '.linux.cgroupsPath = "/'"$MARK"'-t1"'
	sr create --bundle "$BUNDLE" t1 </dev/null >/dev/null 2>&1
	update_config '.linux.cgroupsPath = "/'"$MARK"'-t2"'
	sr create --bundle="$BUNDLE" t2 </dev/null >/dev/null 2>&1
	update_config '.linux.cgroupsPath = "/'"$MARK"'-t3"'
	sr create -b "$BUNDLE" t3 </dev/null >/dev/null 2>&1
	cd "$BUNDLE"
	update_config '.linux.cgroupsPath = "/'"$MARK"'-t4"'
	sr create t4 </dev/null >/dev/null 2>&1
	for id in t1 t2 t3 t4; do
		st=$(sr state "$id")
		[ "$(jq -r .bundle <<<"$st")" = "$BUNDLE" ]
		[ "$(jq -r .status <<<"$st")" = created ]
	done
}

@test "create: a bundle without config.json fails, naming it, and leaves nothing" {
	mkdir "$BUNDLE/empty"
	sr_run create --bundle "$BUNDLE/empty" t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"config.json"* ]]
	assert_nothing_left
}

@test "create: a second create of the same ID fails and leaves the first intact" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	pid=$(cat "$BUNDLE/pid")
	sr_run create --bundle "$BUNDLE" --pid-file "$BUNDLE/pid2" t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"container with given ID already exists"* ]]
	[ ! -e "$BUNDLE/pid2" ]
	st=$(sr state t1)
	[ "$(jq -r .status <<<"$st")" = created ]
	[ "$(jq .pid <<<"$st")" = "$pid" ]
	alive "$pid"
	# and it still starts
	sr start t1
	[ "$(status t1)" = running ]
}

@test "create: invalid IDs fail and leave nothing" {
	long=$(printf 'a%.0s' $(seq 1025))
	sr_run create --bundle "$BUNDLE" ""
	[ "$status" -eq 1 ]
	[[ "${output,,}" == *"container id cannot be empty"* ]]
	for id in .. a/b "../$MARK-escape"; do
		sr_run create --bundle "$BUNDLE" "$id"
		[ "$status" -eq 1 ]
		[[ "$output" == *"invalid container ID format"* ]]
	done
	# runc 1.1.5 has no length limit: it fails with ENAMETOOLONG.
	sr_run create --bundle "$BUNDLE" "$long"
	[ "$status" -eq 1 ]
	! is_sandbox || [[ "$output" == *"invalid container ID format"*"1024"* ]]
	[ ! -e "/tmp/$MARK-escape" ]
	assert_nothing_left
}

@test "create: an ID that looks like a flag is refused" {
	# runc 1.1.5 accepts "-x" (its pattern is ^[\w+-\.]+$); we want IDs
	# that cannot be taken for an option by the tools that pass them on.
	requires sandbox
	sr_run create --bundle "$BUNDLE" -- -x
	[ "$status" -eq 1 ]
	[[ "$output" == *'invalid container ID format: \"-x\"'* ]]
	assert_nothing_left
}

@test "create --preserve-fds N: the container gets fds 3 to 3+N-1, and no more" {
	update_config '.process.args = ["payload", "fds"]'
	echo in3 >"$BUNDLE/in3"
	echo in5 >"$BUNDLE/in5"
	sr create --bundle "$BUNDLE" --preserve-fds 2 t1 \
		</dev/null >"$BUNDLE/out" 2>"$BUNDLE/err" \
		3<"$BUNDLE/in3" 4>"$BUNDLE/out4" 5<"$BUNDLE/in5"
	sr start t1
	wait_status t1 stopped
	cat "$BUNDLE/out" >&2
	[ "$(awk '{print $1}' "$BUNDLE/out" | tr '\n' ' ')" = "0 1 2 3 4 " ]
	grep -qx "3 $BUNDLE/in3" "$BUNDLE/out"
	grep -qx "4 $BUNDLE/out4" "$BUNDLE/out"
}

@test "create: no fd of the caller or the runtime leaks into the container process" {
	update_config '.process.args = ["payload", "fds"]'
	echo x >"$BUNDLE/in"
	sr create --bundle "$BUNDLE" t1 \
		</dev/null >"$BUNDLE/out" 2>"$BUNDLE/err" \
		3<"$BUNDLE/in" 4>"$BUNDLE/out4" 7<"$BUNDLE/in" 9<"$BUNDLE/in"
	sr start t1
	wait_status t1 stopped
	cat "$BUNDLE/out" >&2
	[ "$(awk '{print $1}' "$BUNDLE/out" | tr '\n' ' ')" = "0 1 2 " ]
	grep -qx "1 $BUNDLE/out" "$BUNDLE/out"
}

@test "create, run --pidfd-socket: the socket receives a pidfd of init, as runc sends it" {
	start_recvtty -pidfd
	sr_create t1 --pidfd-socket "$BUNDLE/tty.sock"
	pid=$(sr state t1 | jq .pid)
	wait_for 5 grep -q . "$BUNDLE/tty.out"
	# One SCM_RIGHTS message, "standard" (runc's name for init), the fd
	# a pidfd of init: it turns readable when init exits.
	[ "$(head -n 1 "$BUNDLE/tty.out")" = "standard $pid" ]
	sr kill t1 KILL
	wait "$RECV"
	RECV=
	[ "$(tail -n 1 "$BUNDLE/tty.out")" = exited ]
	# run -d too; a socket nobody listens on fails create.
	rm -f "$BUNDLE/tty.ready" "$BUNDLE/tty.sock"
	start_recvtty -pidfd
	update_config '.linux.cgroupsPath = "/'"$MARK-t2"'"'
	sr run -d --bundle "$BUNDLE" --pidfd-socket "$BUNDLE/tty.sock" t2 </dev/null >/dev/null 2>&1
	wait_for 5 grep -q . "$BUNDLE/tty.out"
	[ "$(head -n 1 "$BUNDLE/tty.out")" = "standard $(sr state t2 | jq .pid)" ]
	sr delete --force t2
	sr delete --force t1
	sr_run create --bundle "$BUNDLE" --pidfd-socket "$BUNDLE/nobody.sock" t3
	[ "$status" -eq 1 ]
	[[ "$output" == *"$BUNDLE/nobody.sock"* ]]
	# (runc 1.5 leaves a state directory for t3)
	! is_sandbox || assert_nothing_left
}

@test "create: fails without an ID, with runc's usage error" {
	sr_run create --bundle "$BUNDLE"
	[ "$status" -eq 1 ]
	# (the text log format escapes the quotes around create)
	[[ "$output" == *'create\" requires exactly 1 argument(s)'* ]]
	assert_nothing_left
}

@test "init: the init stage starts before the initialisers it does not need" {
	# GODEBUG=inittrace=1 makes a Go start list its packages' initialisers
	# as they run. The init stage runs from package initstage's
	# initialiser (nsexec/initstage): started by hand, without the fds
	# the runtime gives it, it fails at once, and what was initialised
	# before then is what a create's init pays before reading its config.
	# urfave/cli, D-Bus, netlink and net are the runtime's, not init's: not
	# one of them may have run (before, init ran from package main's
	# initialiser, after every package's).
	run env GODEBUG=inittrace=1 "$RUNTIME" init
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"missing --sync-fd"* ]]
	grep -q '^init github.com/opencontainers/runtime-spec/specs-go ' <<<"$output"
	for pkg in github.com/urfave/cli/v2 github.com/godbus/dbus/v5 github.com/vishvananda/netlink net; do
		if grep -q "^init $pkg " <<<"$output"; then
			echo "$pkg was initialised before the init stage ran"
			return 1
		fi
	done
}
