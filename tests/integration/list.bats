#!/usr/bin/env bats
# list: the containers under --root.
load helpers

setup() { requires root; setup_bundle; }
teardown() { teardown_bundle; }

HEADER='ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER'

@test "list: no containers: the header alone, in runc's columns" {
	sr_run list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	# tabwriter(minwidth 12, padding 3), as runc's
	[ "${lines[0]}" = "ID          PID         STATUS      BUNDLE      CREATED     OWNER" ]
}

@test "list: one line per container, sorted by ID, with pid, status, bundle, created and owner" {
	update_config '.process.args = ["true"]'
	sr_create t3
	sr start t3
	wait_status t3 stopped
	update_config '.process.args = ["sleep", "infinity"]'
	sr_create t1 --pid-file "$BUNDLE/pid1"
	sr_create t2 --pid-file "$BUNDLE/pid2"
	sr start t2
	run sr list
	[ "$status" -eq 0 ]
	echo "$output" >&2
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^$HEADER$ ]]
	read -r id pid st bundle created owner <<<"${lines[1]}"
	[ "$id $pid $st $bundle" = "t1 $(cat "$BUNDLE/pid1") created $BUNDLE" ]
	[ "$created" = "$(sr state t1 | jq -r .created)" ]
	[ "$owner" = root ]
	read -r id pid st bundle created owner <<<"${lines[2]}"
	[ "$id $pid $st $bundle" = "t2 $(cat "$BUNDLE/pid2") running $BUNDLE" ]
	read -r id pid st bundle created owner <<<"${lines[3]}"
	[ "$id $pid $st $bundle" = "t3 0 stopped $BUNDLE" ]
}

@test "list -q and --quiet: only the IDs" {
	sr_create t1
	sr_create t2
	run sr list -q
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 't1\nt2')" ]
	run sr list --quiet
	[ "$output" = "$(printf 't1\nt2')" ]
}

@test "list --format json and -f json: an array of states" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	sr_create t2
	sr start t2
	run sr list --format json
	[ "$status" -eq 0 ]
	echo "$output" >&2
	[ "$(jq length <<<"$output")" = 2 ]
	[ "$(jq -r '.[0] | "\(.id) \(.pid) \(.status) \(.bundle) \(.owner)"' <<<"$output")" = "t1 $(cat "$BUNDLE/pid") created $BUNDLE root" ]
	[ "$(jq -r '.[1] | "\(.id) \(.status)"' <<<"$output")" = "t2 running" ]
	[ "$(jq -c '.[0] | keys_unsorted' <<<"$output")" = '["ociVersion","id","pid","status","bundle","rootfs","created","owner"]' ]
	run sr list -f json
	[ "$(jq -r 'map(.id) | join(" ")' <<<"$output")" = "t1 t2" ]
}

@test "list --format json: one line, as runc's (tools read it line by line)" {
	sr_create t1
	sr_create t2
	sr list --format json >"$BUNDLE/out"
	od -c "$BUNDLE/out" | tail -n 3
	[ "$(wc -l <"$BUNDLE/out")" = 1 ]
	[ "$(tail -c 1 "$BUNDLE/out" | od -An -c | tr -d ' ')" = '\n' ]
	[ "$(jq length "$BUNDLE/out")" = 2 ]
}

@test "list --format json: no containers prints null, as runc" {
	sr list --format json >"$BUNDLE/out"
	[ "$(cat "$BUNDLE/out")" = null ]
	[ "$(wc -c <"$BUNDLE/out")" = 5 ]
}

@test "list: a --root that does not exist fails, as in runc 1.5, and is not made" {
	if ! is_sandbox && "$RUNTIME" --version | grep -q '^runc version 1\.1\.'; then
		skip "runc 1.1 makes the root and lists nothing"
	fi
	rmdir "$ROOT"
	sr_run list
	[ "$status" -eq 1 ]
	[[ "$output" == *"open $ROOT: no such file or directory"* ]]
	sr_run list --format json
	[ "$status" -eq 1 ]
	[ ! -e "$ROOT" ]
}

@test "list --format bad fails" {
	run sr list --format bad
	[ "$status" -eq 1 ]
	[[ "$output" == *format* ]]
	# runc says "invalid format option"; we name the value
	! is_sandbox || [[ "$output" == *'\"bad\"'* ]]
}
