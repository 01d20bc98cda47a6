#!/usr/bin/env bats
# The global flags and what every command shares: --version, --log,
# --log-format, --systemd-cgroup, usage errors.
load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "--version: name and version first, then the spec version" {
	name=$(basename "$RUNTIME")
	run "$RUNTIME" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^$name\ version\ [^\ ]+$ ]]
	printf '%s\n' "${lines[@]}" | grep -qE '^spec: 1\.[0-9]+\.[0-9]+'
	# -v is the same
	[ "$(sr -v)" = "$output" ]
}

@test "--help lists every verb" {
	run "$RUNTIME" --help
	[ "$status" -eq 0 ]
	for verb in create delete features kill list run spec start state; do
		printf '%s\n' "${lines[@]}" | grep -qE "^   $verb +[a-z]"
	done
}

@test "an unknown command fails with runc's status 3 and line, as does help for one" {
	run sr foo
	[ "$status" -eq 3 ]
	# runc logs cli's message with the newline its error writer gets.
	[[ "$output" == *"level=error msg=\"No help topic for 'foo'\\n\""* ]]
	run sr help foo
	[ "$status" -eq 3 ]
	[[ "$output" == *"No help topic for 'foo'"* ]]
}

@test "an unknown global flag fails" {
	run sr --nosuchflag state t1
	[ "$status" -ne 0 ]
	[[ "$output" == *"flag provided but not defined: -nosuchflag"* ]]
}

@test "--log FILE --log-format json: an error is a JSON line in FILE (as containerd reads it), and on stderr" {
	log=$BUNDLE/log.json
	run --separate-stderr sr --log "$log" --log-format json state nosuch
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"container does not exist"* ]]
	cat "$log" >&2
	last=$(tail -n 1 "$log")
	[ "$(jq -r .level <<<"$last")" = error ]
	[ "$(jq -r .msg <<<"$last")" = "container does not exist" ]
	[[ "$(jq -r .time <<<"$last")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
	# every line is JSON
	jq -e . "$log" >/dev/null
}

@test "an error's line is runc's: time to the second; on a terminal, ERRO[0000] in colour" {
	requires script
	run --separate-stderr sr state nosuch
	[ "$status" -eq 1 ]
	[[ "$stderr" =~ ^time=\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\"\ level=error\ msg=\"container\ does\ not\ exist\"$ ]] ||
		fail "not runc's line: $stderr"
	run --separate-stderr sr --log-format json state nosuch
	[[ "$(jq -r .time <<<"$stderr")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
		fail "not runc's time: $stderr"
	# logrus's terminal form, as runc (1.1 and 1.5) prints it to a user.
	run script -qec "$(printf '%q ' "$RUNTIME" --root "$ROOT" state nosuch)" /dev/null
	[[ "$output" == $'\e[31mERRO\e[0m[0000] container does not exist'* ]] || fail "not runc's terminal line: $(cat -v <<<"$output")"
	# Ours alone: --debug times to the nanosecond (create's steps are
	# timed by it); runc's --debug adds the caller instead.
	is_sandbox || return 0
	run --separate-stderr sr --debug state nosuch
	[[ "$stderr" =~ time=\"[^\"]*:[0-9]{2}\.[0-9]+Z\"\ level=error ]] || fail "--debug: $stderr"
}

@test "--log FILE: text format by default, appended to what FILE holds" {
	log=$BUNDLE/log.txt
	echo "an earlier line" >"$log"
	run sr --log "$log" state nosuch
	[ "$status" -eq 1 ]
	cat "$log" >&2
	[ "$(head -n 1 "$log")" = "an earlier line" ]
	tail -n 1 "$log" | grep -q 'level=error msg="container does not exist"'
}

@test "--debug --log FILE: every verb logs its steps at debug level" {
	requires root sandbox # runc's state, kill... log nothing at debug level
	log=$BUNDLE/debug.log
	d() { sr --debug --log "$log" "$@" </dev/null >/dev/null 2>&1; }
	# lines_of VERB: how many debug lines name VERB.
	lines_of() { grep 'level=debug' "$log" | grep -cE "msg=\"?$1([ :\"]|\$)"; }
	update_config '.linux.cgroupsPath = "/'"$MARK-d1"'"'
	for cmd in "create --bundle $BUNDLE d1" "start d1" "state d1" "ps d1" "pause d1" \
		"resume d1" "update --pids-limit 50 d1" "kill d1 0" "list" "delete --force d1"; do
		: >"$log"
		d $cmd || fail "$cmd failed: $(cat "$log")"
		verb=${cmd%% *}
		cat "$log" >&2
		[ "$(lines_of "$verb")" -ge 2 ] || fail "$cmd: fewer than 2 debug lines"
	done
}

@test "--log FILE in a directory that does not exist fails" {
	run sr --log "$BUNDLE/nonexistent/log" state nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"$BUNDLE/nonexistent/log"* ]]
}

@test "--log-format bad fails, naming the flag and the value" {
	run sr --log-format bad state nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *log-format* ]]
	[[ "$output" == *bad* ]]
}

@test "--systemd-cgroup on a host without systemd: create and run fail and leave nothing" {
	requires root
	[ ! -d /run/systemd/system ] || skip "this host runs systemd (systemd.bats covers it)"
	update_config '.linux.cgroupsPath = "system.slice:sr-bats:'"$MARK"'"'
	for verb in create "run -d"; do
		sr_run --systemd-cgroup $verb --bundle "$BUNDLE" t1
		[ "$status" -eq 1 ]
		# runc fails too here: "systemd not running on this host".
		! is_sandbox || [[ "$output" == *"--systemd-cgroup: this host does not run systemd"* ]]
		assert_nothing_left
	done
}
