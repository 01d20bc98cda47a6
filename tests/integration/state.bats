#!/usr/bin/env bats
# state: the container's state as JSON.
load helpers

setup() { requires root; setup_bundle; }
teardown() {
	[ -n "${STANDIN:-}" ] && kill -9 "$STANDIN" 2>/dev/null
	teardown_bundle
}

@test "state: runc's fields in runc's order" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	st=$(sr state t1)
	[ "$(jq -c keys_unsorted <<<"$st")" = '["ociVersion","id","pid","status","bundle","rootfs","created","owner"]' ]
	[ "$(jq -r .id <<<"$st")" = t1 ]
	[ "$(jq .pid <<<"$st")" = "$(cat "$BUNDLE/pid")" ]
	[ "$(jq -r .status <<<"$st")" = created ]
	[ "$(jq -r .bundle <<<"$st")" = "$BUNDLE" ]
	[ "$(jq -r .rootfs <<<"$st")" = "$(realpath "$BUILD/rootfs")" ]
	# runc prints the spec version it implements (1.0.2-dev); we print
	# the config's.
	[[ "$(jq -r .ociVersion <<<"$st")" == 1.* ]]
	# state leaves owner empty, as runc's does (list names the owner).
	[ "$(jq -r '.owner | type' <<<"$st")" = string ]
	[ "$(jq -r .owner <<<"$st")" = "" ]
}

@test "state: annotations from the config, between created and owner" {
	update_config '.annotations = {"org.example.a": "1", "b": "two words"}'
	sr_create t1
	st=$(sr state t1)
	[ "$(jq -c keys_unsorted <<<"$st")" = '["ociVersion","id","pid","status","bundle","rootfs","created","annotations","owner"]' ]
	[ "$(jq -c .annotations <<<"$st")" = '{"b":"two words","org.example.a":"1"}' ]
}

@test "state: created is RFC 3339 in UTC with nanoseconds, the time of create" {
	before=$(date +%s)
	sr_create t1
	after=$(date +%s)
	created=$(sr state t1 | jq -r .created)
	[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9}Z$ ]]
	t=$(date -d "$created" +%s)
	[ "$t" -ge "$before" ] && [ "$t" -le "$after" ]
	# and it does not change
	sr start t1
	[ "$(sr state t1 | jq -r .created)" = "$created" ]
}

@test "state: running after start, then stopped with pid 0 once the process exits" {
	update_config '.process.args = ["sh", "-c", "read x"]'
	mkfifo "$BUNDLE/in"
	sr create --bundle "$BUNDLE" t1 <"$BUNDLE/in" >/dev/null 2>&1 &
	exec 5>"$BUNDLE/in"
	wait $!
	sr start t1
	st=$(sr state t1)
	[ "$(jq -r .status <<<"$st")" = running ]
	pid=$(jq .pid <<<"$st")
	alive "$pid"
	# the process reads a line and exits
	echo >&5
	exec 5>&-
	wait_status t1 stopped
	[ "$(sr state t1 | jq .pid)" = 0 ]
}

@test "state: an init killed while created is stopped, though state.json still has its pid" {
	sr_create t1 --pid-file "$BUNDLE/pid"
	pid=$(cat "$BUNDLE/pid")
	kill -9 "$pid"
	wait_gone "$pid"
	# The runtime's own record still names the pid: status is derived.
	grep -q "$pid" "$ROOT/t1/state.json"
	st=$(sr state t1)
	[ "$(jq -r .status <<<"$st")" = stopped ]
	[ "$(jq .pid <<<"$st")" = 0 ]
}

@test "state: a recycled pid is not taken for the container" {
	# A pid cannot be made to recycle on demand; what matters is that
	# the runtime checks the process behind the pid is still init (by
	# its start time). So: kill init, then point the state at another
	# live process of ours, as a recycled pid would.
	sr_create t1 --pid-file "$BUNDLE/pid"
	pid=$(cat "$BUNDLE/pid")
	kill -9 "$pid"
	wait_gone "$pid"
	sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	STANDIN=$!
	f=$ROOT/t1/state.json
	if jq -e 'has("initPid")' "$f" >/dev/null; then
		jq ".initPid = $STANDIN" "$f" >"$f.new"
	else
		jq ".init_process_pid = $STANDIN" "$f" >"$f.new" # runc
	fi
	mv "$f.new" "$f"
	st=$(sr state t1)
	[ "$(jq -r .status <<<"$st")" = stopped ]
	[ "$(jq .pid <<<"$st")" = 0 ]
	# and it is not signalled, nor killed by delete
	sr_run kill t1 KILL
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	sr delete t1
	alive "$STANDIN"
}

@test "state: of an unknown container fails with container does not exist" {
	run -1 sr state nosuch
	[[ "$output" == *"container does not exist"* ]]
}
