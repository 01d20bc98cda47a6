#!/usr/bin/env bats
# terminal.bats - process.terminal: the pty master sent over
# --console-socket (received by tests/cmd/recvtty), /dev/console, the
# errors of a terminal without a socket and a socket without a terminal,
# and a foreground `run` relaying its pty.
load helpers

# recvtty_output waits (up to 10 s) for recvtty to see the terminal close
# and puts what it received, without carriage returns, in $output and
# $lines.
recvtty_output() {
	local i
	for i in $(seq 200); do
		kill -0 "$RECV" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$RECV" 2>/dev/null && fail "recvtty still running: the terminal was not closed"
	wait "$RECV" || fail "recvtty failed: $(cat "$BUNDLE/tty.out")"
	RECV=
	output=$(tr -d '\r' <"$BUNDLE/tty.out")
	mapfile -t lines <<<"$output"
	echo "terminal output:"
	echo "$output"
}

setup() {
	requires root
	setup_bundle
	# Cgroup limits are not this file's business, and our runtime warns
	# about them on stderr, which `run` mixes into $output.
	update_config 'del(.linux.resources) | .process.terminal = true'
	RECV=
}

teardown() {
	if [ -n "$RECV" ]; then
		kill "$RECV" 2>/dev/null || true
		wait "$RECV" 2>/dev/null || true
	fi
	teardown_bundle
}

@test "terminal: the pty goes to the --console-socket and is the process's stdio" {
	start_recvtty
	sh_cmd 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-three-ttys'
	sr run -d --console-socket "$BUNDLE/tty.sock" --bundle "$BUNDLE" term-socket \
		</dev/null >"$BUNDLE/run.out" 2>&1 || fail "run: $(cat "$BUNDLE/run.out")"
	recvtty_output
	[ "${lines[0]}" = /dev/pts/0 ]
	[ "${lines[1]}" = all-three-ttys ]
}

@test "terminal: what is typed into the console reaches the process" {
	start_recvtty -input $'hello\n'
	sh_cmd 'read line; echo "got:$line"'
	sr run -d --console-socket "$BUNDLE/tty.sock" --bundle "$BUNDLE" term-input \
		</dev/null >"$BUNDLE/run.out" 2>&1 || fail "run: $(cat "$BUNDLE/run.out")"
	recvtty_output
	[[ "$output" == *got:hello* ]]
}

@test "terminal: /dev/console is the container's terminal" {
	start_recvtty
	sh_cmd 'stat -c "%F %t:%T" /dev/console "$(tty)"'
	sr run -d --console-socket "$BUNDLE/tty.sock" --bundle "$BUNDLE" term-console \
		</dev/null >"$BUNDLE/run.out" 2>&1 || fail "run: $(cat "$BUNDLE/run.out")"
	recvtty_output
	[[ "${lines[0]}" == "character special file "* ]]
	# The same device as the pty: /dev/pts/0 (major 136, 0x88).
	[ "${lines[0]}" = "${lines[1]}" ]
	[ "${lines[0]}" = "character special file 88:0" ]
}

@test "terminal: create with a terminal and no --console-socket fails" {
	sh_cmd 'echo started'
	create_fails term-nosocket
	grep -q "console socket" "$BUNDLE/create.out"
}

@test "terminal: --console-socket without a terminal is refused" {
	update_config '.process.terminal = false'
	start_recvtty
	create_fails term-notty --console-socket "$BUNDLE/tty.sock"
	grep -q "console" "$BUNDLE/create.out"
}

@test "terminal: run in the foreground relays the pty and the exit status" {
	sh_cmd 'tty; echo relayed; exit 3'
	run sr run --bundle "$BUNDLE" term-fg </dev/null
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"/dev/pts/0"* ]]
	[[ "$output" == *relayed* ]]
}

@test "terminal: run in the foreground on a real terminal (script)" {
	requires script
	sh_cmd 'tty; [ -t 0 ] && echo stdin-is-a-tty; exit 4'
	# script gives the runtime a pty of its own as stdin and stdout.
	run script -qec "$RUNTIME --root $ROOT run --bundle $BUNDLE term-script" /dev/null </dev/null
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"/dev/pts/0"* ]]
	[[ "$output" == *stdin-is-a-tty* ]]
}

@test "terminal: no \\r\\r\\n: ONLCR is off on the container's side of the pty (run and exec)" {
	requires script
	sh_cmd 'echo hi'
	# script's own pty maps the container's "\n" to "\r\n" once; with
	# ONLCR on the container's pty too, lines would end in "\r\r\n".
	# (script's terminal echoes the NUL it sends at stdin's end as "^@",
	# for runc too: dropped.)
	script -qec "$RUNTIME --root $ROOT run --bundle $BUNDLE onlcr1" /dev/null </dev/null >"$BUNDLE/run.out"
	od -c "$BUNDLE/run.out"
	[ "$(sed 's/\^@//g' "$BUNDLE/run.out" | od -An -c | tr -s ' ')" = " h i \r \n" ]
	update_config '.process.terminal = false | .process.args = ["sleep", "infinity"]'
	sr run -d --bundle "$BUNDLE" onlcr2 </dev/null >/dev/null 2>&1
	script -qec "$RUNTIME --root $ROOT exec -t onlcr2 echo hi" /dev/null </dev/null >"$BUNDLE/exec.out"
	od -c "$BUNDLE/exec.out"
	[ "$(sed 's/\^@//g' "$BUNDLE/exec.out" | od -An -c | tr -s ' ')" = " h i \r \n" ]
}

@test "terminal: the pty and piped stdio belong to the process's user (run and exec)" {
	requires script
	update_config '.process.user = {"uid": 42, "gid": 42}'
	sh_cmd 'echo "tty $(stat -c %u $(tty))"; echo to-stdout >/dev/stdout && echo reopened'
	run script -qec "$RUNTIME --root $ROOT run --bundle $BUNDLE own1" /dev/null </dev/null
	echo "$output"
	[[ "$output" == *"tty 42"* ]]
	[[ "$output" == *reopened* ]]
	update_config '.process.terminal = false | .process.args = ["sleep", "infinity"]'
	sr run -d --bundle "$BUNDLE" own2 </dev/null >/dev/null 2>&1
	run script -qec "$RUNTIME --root $ROOT exec -t --user 42:42 own2 sh -c 'echo \"tty \$(stat -c %u \$(tty))\"; echo x >/dev/stdout && echo reopened'" /dev/null </dev/null
	echo "$output"
	[[ "$output" == *"tty 42"* ]]
	[[ "$output" == *reopened* ]]
	# A pipe (a client's, conmon's say) too.
	run bash -c "$RUNTIME --root $ROOT exec --user 42:42 own2 sh -c 'echo x >/dev/stdout && echo reopened' | cat"
	echo "$output"
	[[ "$output" == *reopened* ]]
}
