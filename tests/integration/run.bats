#!/usr/bin/env bats
load helpers

setup() { requires root; setup_bundle; }
teardown() { teardown_bundle; }

@test "run: prints the process output and exits with its status" {
	update_config '.process.args = ["sh", "-c", "echo hello; exit 3"]'
	cd "$BUNDLE"
	run sr run t1
	[ "$status" -eq 3 ]
	[[ "$output" == *hello* ]]
	# deleted afterwards (no --keep)
	run sr state t1
	[ "$status" -ne 0 ]
}

@test "run: a process killed by signal N exits 128+N" {
	# Not pid 1 of its own pid namespace, which ignores even SIGKILL
	# sent from inside.
	update_config '.process.args = ["sh", "-c", "kill -9 $$"]
		| .linux.namespaces -= [{"type": "pid"}]'
	run sr run --bundle "$BUNDLE" t1
	[ "$status" -eq 137 ]
}

@test "run --keep leaves a stopped container" {
	update_config '.process.args = ["true"]'
	run sr run --keep --bundle "$BUNDLE" t1
	[ "$status" -eq 0 ]
	[ "$(status t1)" = stopped ]
	run sr delete t1
	[ "$status" -eq 0 ]
}

@test "run --detach returns with the container running" {
	# The container keeps stdout open: do not let bats wait for it.
	sr run -d --bundle "$BUNDLE" --pid-file "$BUNDLE/pid" t1 </dev/null >/dev/null 2>&1
	[ "$(status t1)" = running ]
	[ "$(cat "$BUNDLE/pid")" = "$(sr state t1 | jq .pid)" ]
}
