#!/usr/bin/env bats
# load.bats - many runtime calls at once: 50 containers created, started
# and deleted together, and 20 verbs racing on one container. Each call
# succeeds or fails with a clean error (exit status 1 and one logged
# error line: no panic, no timeout, no corrupt state.json); afterwards
# nothing is left (assert_nothing_left).
#
# Every call runs in the background with stdin from /dev/null, its output
# in a file and fd 3 (bats' own) closed: a container left behind must not
# keep bats waiting.
load helpers

# Fifty creates on two loaded cores queue on each other (and on the
# kernel's cgroup locks): more time than sr's default 20 s.
export SR_TIMEOUT=90

setup() {
	requires root
	setup_bundle
	# Cgroup limits are not this file's business, and our runtime warns
	# about them on stderr (which must hold errors only).
	update_config 'del(.linux.resources)'
	OPS=$BUNDLE/ops
	mkdir "$OPS"
}

teardown() { teardown_bundle; }

# bundle_for ID: a bundle of its own for ID (the config differs in the
# cgroup path only: containers of one bundle must not share a cgroup),
# printed.
bundle_for() {
	local b=$BUNDLE/b-$1
	mkdir "$b"
	jq '.linux.cgroupsPath = "/'"$MARK-$1"'"' "$BUNDLE/config.json" >"$b/config.json"
	echo "$b"
}

# op NAME VERB ARGS...: runs sr VERB ARGS in the background; its output
# goes to $OPS/NAME.out and .err, its exit status to $OPS/NAME.rc.
op() {
	local name=$1
	shift
	(
		rc=0
		sr "$@" </dev/null >"$OPS/$name.out" 2>"$OPS/$name.err" || rc=$?
		echo "$rc" >"$OPS/$name.rc"
	) 3>&- &
}

# check_ops [ALL_OK]: every op in $OPS succeeded (with ALL_OK) or
# succeeded or failed cleanly; every state printed parses. Prints how
# many calls of each verb ended how.
check_ops() {
	local rc f name bad=0
	: >"$BUNDLE/summary"
	for f in "$OPS"/*.rc; do
		name=${f%.rc}
		rc=$(cat "$f")
		case $rc in
		0)
			# Nothing on stderr but warnings.
			if grep -v 'level=warning' "$name.err" | grep -q .; then
				echo "${name##*/}: succeeded with: $(cat "$name.err")" >&2
				bad=1
			fi
			;;
		1)
			if [ -n "${1:-}" ]; then
				echo "${name##*/}: failed: $(cat "$name.err")" >&2
				bad=1
			elif [ "$(grep -c 'level=error' "$name.err")" != 1 ] ||
				grep -v -e 'level=error' -e 'level=warning' "$name.err" | grep -q .; then
				echo "${name##*/}: unclean failure: $(cat "$name.err")" >&2
				bad=1
			fi
			;;
		*)
			echo "${name##*/}: exit status $rc (killed, timed out or crashed): $(cat "$name.err")" >&2
			bad=1
			;;
		esac
		if grep -qi -e panic -e 'goroutine ' -e 'unexpected end of JSON' -e 'invalid character' "$name.err"; then
			echo "${name##*/}: $(cat "$name.err")" >&2
			bad=1
		fi
		if [[ ${name##*/} == state* ]] && [ "$rc" = 0 ] && ! jq -e .status "$name.out" >/dev/null; then
			echo "${name##*/}: printed a state that does not parse: $(cat "$name.out")" >&2
			bad=1
		fi
		f=${name##*/}
		echo "${f%%-*}: $rc $(sed -n 's/.*level=error msg=//p' "$name.err")" >>"$BUNDLE/summary"
	done
	sort "$BUNDLE/summary" | uniq -c >&2
	return $bad
}

@test "load: 50 containers created, started and deleted at once" {
	local n=50 i b
	for i in $(seq $n); do
		bundle_for "c$i" >/dev/null
	done
	for i in $(seq $n); do
		(
			rc=0
			{ sr create --bundle "$BUNDLE/b-c$i" "c$i" && sr start "c$i"; } \
				</dev/null >"$OPS/up-c$i.out" 2>"$OPS/up-c$i.err" || rc=$?
			echo "$rc" >"$OPS/up-c$i.rc"
		) 3>&- &
	done
	wait
	check_ops all_ok
	# All fifty at once, each running, in its own cgroup.
	sr_run list -q
	[ "${#lines[@]}" -eq $n ]
	sr list --format json | jq -e --argjson n $n '[.[] | select(.status == "running")] | length == $n'
	[ "$(test_cgroups | grep -c "/$MARK-c[0-9]*$")" -ge $n ]

	rm -f "$OPS"/*
	for i in $(seq $n); do
		op "down-c$i" delete --force "c$i"
	done
	wait
	check_ops all_ok
	sr_run list -q
	[ "$output" = "" ]
	assert_nothing_left
}

# The ops of one round, all at once on container x: a running container
# being started, paused, resumed, signalled, deleted with and without
# force, re-created, and read. Some must fail (two starts, two creates of
# an ID that exists), which and how depends on the order they take the
# container's lock in; none may hang, crash or tear state.json.
race_round() {
	local r=$1 b=$2 i
	for i in 1 2 3 4 5 6; do
		op "state-$r-$i" state x
	done
	op "start-$r-1" start x
	op "start-$r-2" start x
	op "pause-$r-1" pause x
	op "pause-$r-2" pause x
	op "resume-$r-1" resume x
	op "resume-$r-2" resume x
	op "kill-$r-usr1" kill x USR1
	op "kill-$r-kill" kill x KILL
	op "delete-$r-1" delete x
	op "delete-$r-force" delete --force x
	op "create-$r-1" create --bundle "$b" x
	op "create-$r-2" create --bundle "$b" x
	op "kill-$r-all" kill --all x TERM
	op "list-$r" list
	wait
}

@test "load: 20 verbs at once on one container, three rounds" {
	local b r
	b=$(bundle_for x)
	for r in 1 2 3; do
		# Each round starts from a created container (the last round
		# may have left one, created or not).
		sr delete --force x 2>/dev/null || true
		sr create --bundle "$b" x </dev/null >"$BUNDLE/x.out" 2>&1 3>&-
		rm -f "$OPS"/*
		race_round "$r" "$b"
		check_ops
		# Whatever is left reads as a container, or is gone.
		if [ -e "$ROOT/x/state.json" ]; then
			jq -e .id "$ROOT/x/state.json" >/dev/null || fail "corrupt state.json: $(cat "$ROOT/x/state.json")"
			sr_run state x
			[ "$status" -eq 0 ]
			echo "$output" | jq -e .status
		fi
	done
	sr_run delete --force x
	[ "$status" -eq 0 ]
	assert_nothing_left
}
