#!/usr/bin/env bats
# rootless.bats - the runtime run by an unprivileged user ($RL_USER, see
# helpers.bash), as `sandbox-runtime` with no --root: its state goes to
# $XDG_RUNTIME_DIR/sandbox-runtime ($RL_XDG, the test's, so $ROOT is
# $RL_XDG/sandbox-runtime). The bundle is `spec --rootless` made by the
# user, with the shared read-only rootfs.
#
# On a v1 or hybrid host the user may make no cgroup: the containers run
# without one. On a pure v2 host (tests/vm/run.sh) the last tests give
# the user a cgroup subtree of its own, as systemd's Delegate=yes does,
# and the container gets its own cgroup there.
load helpers

setup() {
	rootless_user
	setup_bundle
	rmdir "$ROOT"
	RL_XDG=$(mktemp -d "/tmp/$MARK.xdg.XXXXXX")
	ROOT=$RL_XDG/sandbox-runtime
	chown "$RL_UID:$RL_GID" "$RL_XDG" "$BUNDLE"
	rm "$BUNDLE/config.json"
	as_user "$RUNTIME" spec --rootless --bundle "$BUNDLE"
	# No cgroupsPath: one the user may not make is an error (as runc).
	rl_config '.process.terminal = false
		| .process.args = ["sleep", "infinity"]
		| .process.env += ["SR_BATS_MARK='"$MARK"'"]
		| .root.path = "'"$BUILD/rootfs"'"'
}

teardown() {
	local id
	if [ -d "$ROOT" ]; then
		for id in $(ls -A "$ROOT"); do
			usr delete --force "$id" >/dev/null 2>&1
		done
	fi
	[ -z "${DELEG:-}" ] || undelegate
	teardown_bundle
	rm -rf "$RL_XDG"
}

# usr runs the runtime as the user, with its default root; after
# delegate, from the delegated subtree.
usr() {
	if [ -n "${DELEG:-}" ]; then
		usr_deleg "$@"
		return
	fi
	as_user timeout --kill-after=5 "${SR_TIMEOUT:-20}" "$RUNTIME" "$@"
}

# usr_run is sr_run for usr.
usr_run() {
	local f
	f=$(mktemp "$BUNDLE/.usr_run.XXXXXX")
	chmod 666 "$f"
	status=0
	usr "$@" </dev/null >"$f" 2>&1 || status=$?
	output=$(cat "$f")
	rm -f "$f"
	mapfile -t lines <<<"$output"
	echo "usr $* (status=$status):" >&2
	[ -z "$output" ] || printf '%s\n' "$output" >&2
}

# rl_config is update_config for a config.json the user must read.
rl_config() {
	update_config "$1"
	chown "$RL_UID:$RL_GID" "$BUNDLE/config.json"
}

# rl_sh SCRIPT makes the container run `sh -c SCRIPT`.
rl_sh() {
	rl_config '.process.args = ["sh", "-c", '"$(jq -n --arg s "$1" '$s')"']'
}

# subordinate_maps maps 0 to the user and 1-65536 to its subordinate ids.
subordinate_maps() {
	rl_config '.linux.uidMappings = [{"containerID": 0, "hostID": '"$RL_UID"', "size": 1},
			{"containerID": 1, "hostID": '"$RL_SUBUID"', "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": '"$RL_GID"', "size": 1},
			{"containerID": 1, "hostID": '"$RL_SUBGID"', "size": 65536}]'
}

@test "rootless: --root is \$XDG_RUNTIME_DIR/sandbox-runtime; unset or unusable, a clear error" {
	usr_run create --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	[ "$(stat -c '%U %a' "$ROOT")" = "$RL_USER 1700" ]
	[ -d "$ROOT/c1" ]
	usr_run delete --force c1
	[ "$status" -eq 0 ]
	assert_nothing_left

	RL_XDG= usr_run list
	[ "$status" -eq 1 ]
	[[ "$output" == *'--root: not given and $XDG_RUNTIME_DIR is not set: the runtime runs without root'* ]]
	RL_XDG=/run/sr-bats-no-such-dir usr_run create --bundle "$BUNDLE" c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"--root: /run/sr-bats-no-such-dir/sandbox-runtime unusable: mkdir /run/sr-bats-no-such-dir: permission denied"* ]]
	[ ! -e /run/sr-bats-no-such-dir ]
	# spec and features need no state.
	RL_XDG= usr_run features
	[ "$status" -eq 0 ]
	assert_nothing_left
}

@test "rootless: report shows the user's own uid as the container's root, capabilities over its namespace only" {
	usr_run run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	usr_run report --format json c1
	[ "$status" -eq 0 ]
	r=$output
	[ "$(jq -c .user.uidMap <<<"$r")" = '[{"containerID":0,"hostID":'"$RL_UID"',"size":1}]' ]
	jq -e '.capabilities.over == "container" and .partial == false and .errors == []' <<<"$r"
	# No cgroup of its own without a delegated one: not an error.
	jq -e '.resources.driver == "none" and .resources.version == ""' <<<"$r"
	jq -e '.namespaces[] | select(.type == "user") | .new' <<<"$r"
	usr_run delete --force c1
	assert_nothing_left
}

@test "rootless: --systemd-cgroup on a host without systemd fails naming it, nothing left" {
	[ ! -d /run/systemd/system ] || skip "this host runs systemd: systemd.bats tests the user's scope"
	usr_run --systemd-cgroup run -d --bundle "$BUNDLE" c1
	[ "$status" -ne 0 ]
	[[ "$output" == *"--systemd-cgroup: this host does not run systemd"* ]]
	assert_nothing_left
}

@test "rootless: create, start, state, list, exec, ps, events, kill, delete" {
	usr_run create --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	usr_run start c1
	[ "$status" -eq 0 ]
	[ "$(usr state c1 | jq -r .status)" = running ]
	pid=$(usr state c1 | jq -r .pid)
	# Its user namespace maps root to the user, and nothing else.
	[ "$(awk '{ print $1, $2, $3 }' /proc/$pid/uid_map)" = "0 $RL_UID 1" ]
	[ "$(stat -c %u /proc/$pid)" = "$RL_UID" ]
	usr_run list -q
	[ "$output" = c1 ]
	usr_run exec c1 sh -c 'id -u; cat /proc/self/uid_map'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	usr_run exec -d c1 sleep infinity
	[ "$status" -eq 0 ]
	usr_run ps --format json c1
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" = 2 ]
	jq -e --argjson p "$pid" 'index($p) != null' <<<"$output"
	usr_run events --stats c1
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"$output")" = stats ]
	# kill --all reaches the exec'd sleep; init (pid 1) ignores TERM.
	usr_run kill --all c1 TERM
	[ "$status" -eq 0 ]
	wait_for 5 eval '[ "$(usr ps --format json c1 | jq length)" = 1 ]'
	usr_run kill c1 KILL
	[ "$status" -eq 0 ]
	wait_status c1 stopped
	usr_run delete c1
	[ "$status" -eq 0 ]
	assert_nothing_left
}

@test "rootless: run in the foreground, its exit status; a bind mount of the user's" {
	mkdir "$BUNDLE/data"
	echo mine >"$BUNDLE/data/f"
	chown -R "$RL_UID:$RL_GID" "$BUNDLE/data"
	chmod 700 "$BUNDLE/data"
	# (onto a directory of the shared rootfs, which the user cannot add to)
	rl_config '.mounts += [{"destination": "/tmp", "type": "bind", "source": "'"$BUNDLE/data"'", "options": ["rbind"]}]'
	rl_sh 'cat /tmp/f; echo new >/tmp/g; exit 7'
	usr_run run --bundle "$BUNDLE" r1
	[ "$status" -eq 7 ]
	[ "$output" = mine ]
	[ "$(stat -c '%U %s' "$BUNDLE/data/g")" = "$RL_USER 4" ]
	assert_nothing_left
}

@test "rootless: more than the user's own ids through newuidmap and newgidmap" {
	subordinate_maps
	rl_config '.process.user.additionalGids = [5]'
	rl_sh 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -G'
	usr_run run --bundle "$BUNDLE" m1
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | awk '{ print $1, $2, $3 }')" = "0 $RL_UID 1" ]
	[ "$(echo "${lines[1]}" | awk '{ print $1, $2, $3 }')" = "1 $RL_SUBUID 65536" ]
	[ "$(echo "${lines[3]}" | awk '{ print $1, $2, $3 }')" = "1 $RL_SUBGID 65536" ]
	[ "${lines[4]}" = allow ]
	[ "${lines[5]}" = "0 5" ]
	# exec into it takes the process's additional groups too.
	rl_config '.process.args = ["sleep", "infinity"]'
	usr_run run -d --bundle "$BUNDLE" m2
	[ "$status" -eq 0 ]
	usr_run exec --user 1000:1000 --additional-gids 65534 m2 sh -c 'id -u; grep ^Groups: /proc/self/status'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[[ "$(echo ${lines[1]})" == "Groups: "*65534* ]]
	usr_run delete --force m2
	assert_nothing_left

	# With the user's own gid alone the kernel wants setgroups denied,
	# and additional groups cannot be had.
	rl_config '.linux.gidMappings = [{"containerID": 0, "hostID": '"$RL_GID"', "size": 1}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": '"$RL_UID"', "size": 1}]'
	usr_run run --bundle "$BUNDLE" m3
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.user.additionalGids [5]: setgroups(2) is denied in the container's user namespace, because the runtime runs without root"* ]]
	rl_config '.process.user.additionalGids = null'
	rl_sh 'cat /proc/self/setgroups'
	usr_run run --bundle "$BUNDLE" m4
	[ "$status" -eq 0 ]
	[ "$output" = deny ]
	assert_nothing_left
}

@test "rootless: maps the user may not write are refused, naming the entry" {
	rl_config '.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 1}]'
	usr_run create --bundle "$BUNDLE" b1
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.uidMappings[0]: host uids 0-0 are not yours to map: the runtime runs without root, and maps only your own uid $RL_UID and the subordinate uids /etc/subuid gives you ($RL_SUBUID-$((RL_SUBUID + 65535)))"* ]]
	subordinate_maps
	rl_config '.linux.gidMappings[1].size = 65537'
	usr_run create --bundle "$BUNDLE" b1
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.gidMappings[1]: host gids $RL_SUBGID-$((RL_SUBGID + 65536)) are not yours to map"* ]]
	subordinate_maps
	rl_config '.linux.uidMappings[1].containerID = 0'
	usr_run create --bundle "$BUNDLE" b1
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.uidMappings[1]: container ids 0-65535 overlap linux.uidMappings[0]'s (0-0)"* ]]
	# No user namespace at all: nothing else could be made.
	rl_config 'del(.linux.uidMappings, .linux.gidMappings) | .linux.namespaces |= map(select(.type != "user"))'
	usr_run create --bundle "$BUNDLE" b1
	[ "$status" -eq 1 ]
	[[ "$output" == *'linux.namespaces: the container needs a user namespace of its own, because the runtime runs without root'* ]]
	assert_nothing_left
}

@test "rootless: without a cgroup it may make, limits and cgroupsPath are refused, naming them" {
	# The user's shell is in a cgroup of root's: on a v1 or hybrid host
	# always; on a v2 host the test's root cgroup is not delegated.
	rl_config '.linux.resources = {"memory": {"limit": 33554432}}'
	usr_run create --bundle "$BUNDLE" l1
	[ "$status" -eq 1 ]
	[[ "$output" == *"linux.resources.memory.limit: cannot be applied: the runtime runs without root and may not make the container's cgroup"* ]]
	assert_nothing_left
	rl_config '.linux.resources = null | .linux.cgroupsPath = "/'"$MARK"'"'
	usr_run create --bundle "$BUNDLE" l1
	[ "$status" -eq 1 ]
	# (logrus quotes the quotes)
	[[ "$output" == *"linux.cgroupsPath "*"/$MARK"*": the runtime runs without root and may not make the container's cgroup"* ]]
	assert_nothing_left
	# Without either it runs, in the cgroup the user is in.
	rl_config 'del(.linux.cgroupsPath)'
	usr_run run -d --bundle "$BUNDLE" l1
	[ "$status" -eq 0 ]
	pid=$(usr state l1 | jq -r .pid)
	[ "$(cat /proc/$pid/cgroup)" = "$(as_user cat /proc/self/cgroup)" ]
	usr_run pause l1
	[ "$status" -eq 1 ]
	[[ "$output" == *"the container has no cgroup: it was created by a runtime without root where the user may not make cgroups"* ]]
	usr_run update --memory 64M l1
	[ "$status" -eq 1 ]
	[[ "$output" == *"the container has no cgroup"* ]]
	usr_run delete --force l1
	assert_nothing_left
}

@test "rootless: what the container may not do to the host" {
	# A directory of root's bound in read-write: the container's root
	# is the user, and gets nothing of root's.
	mkdir "$BUNDLE/host"
	echo keep >"$BUNDLE/host/rootfile"
	echo secret >"$BUNDLE/host/secret"
	chmod 600 "$BUNDLE/host/secret"
	rl_config '.mounts += [{"destination": "/root", "type": "bind", "source": "'"$BUNDLE/host"'", "options": ["rbind", "rw"]}]'
	subordinate_maps
	rl_sh '
		echo pwned >/root/rootfile && echo WROTE-rootfile
		cat /root/secret && echo READ-secret
		touch /root/new && echo MADE-host-file
		# The read-only rootfs is root-owned on the host: remounted
		# read-write, it still cannot be written.
		mount -o remount,rw / 2>/dev/null
		touch /pwned && echo WROTE-rootfs
		# /sys is the host'"'"'s, bound read-only, and the kernel locked that.
		mount -o remount,rw,bind /sys && echo REMOUNTED-sys
		echo 1 >/sys/kernel/mm/ksm/run && echo WROTE-sys
		mknod /dev/sda b 8 0 && echo MADE-device
		echo done'
	usr_run run --bundle "$BUNDLE" w1
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	[[ "$output" != *WROTE* ]]
	[[ "$output" != *READ-secret* ]]
	[[ "$output" != *MADE* ]]
	[[ "$output" != *REMOUNTED* ]]
	[ "$(cat "$BUNDLE/host/rootfile")" = keep ]
	[ ! -e "$BUNDLE/host/new" ]
	[ ! -e "$BUILD/rootfs/pwned" ]
	assert_nothing_left
}

# delegate makes a cgroup v2 subtree, /$MARK-deleg, the user's (what
# systemd's Delegate=yes does for user@UID.service) and runs the rest of
# the test's runtime commands from a leaf of it.
delegate() {
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || skip "requires a pure cgroup v2 host (tests/vm/run.sh)"
	DELEG=/sys/fs/cgroup/$MARK-deleg
	mkdir "$DELEG" "$DELEG/$MARK-rt"
	chown "$RL_UID:$RL_GID" "$DELEG" "$DELEG"/{cgroup.procs,cgroup.subtree_control,cgroup.threads} \
		"$DELEG/$MARK-rt" "$DELEG/$MARK-rt"/{cgroup.procs,cgroup.threads}
}

undelegate() {
	find "$DELEG" -depth -type d -exec rmdir {} +
}

# usr_deleg is usr in the delegated subtree: the runtime must be in it
# to place the container's init in a cgroup below it (a migration needs
# write access to the cgroup.procs of both cgroups' common ancestor).
usr_deleg() {
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' - "$DELEG/$MARK-rt" \
		setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups env -i PATH=/usr/bin:/bin \
		USER="$RL_USER" XDG_RUNTIME_DIR="$RL_XDG" timeout --kill-after=5 "${SR_TIMEOUT:-20}" "$RUNTIME" "$@"
}

@test "rootless: a delegated cgroup v2 subtree: the container's own cgroup, its limits, pause, update" {
	delegate
	# Relative: under the parent of the runtime's cgroup, the subtree.
	rl_config '.linux.cgroupsPath = "'"$MARK"'-c1"
		| .linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 20}}'
	usr_run run -d --bundle "$BUNDLE" c1
	[ "$status" -eq 0 ]
	cg=$DELEG/$MARK-c1
	pid=$(usr state c1 | jq -r .pid)
	grep -qx "$pid" "$cg/cgroup.procs"
	[ "$(cat "$cg/memory.max")" = 33554432 ]
	[ "$(cat "$cg/pids.max")" = 20 ]
	usr_run pause c1
	[ "$status" -eq 0 ]
	[ "$(usr state c1 | jq -r .status)" = paused ]
	[ "$(cat "$cg/cgroup.freeze")" = 1 ]
	usr_run resume c1
	[ "$status" -eq 0 ]
	[ "$(usr state c1 | jq -r .status)" = running ]
	usr_run update --memory 64M --pids-limit 30 c1
	[ "$status" -eq 0 ]
	[ "$(cat "$cg/memory.max")" = 67108864 ]
	[ "$(cat "$cg/pids.max")" = 30 ]
	[ "$(cat /proc/$pid/cgroup)" = "0::/$MARK-deleg/$MARK-c1" ]
	usr_run exec -d c1 sleep infinity
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$cg/cgroup.procs")" = 2 ]
	usr_run delete --force c1
	[ "$status" -eq 0 ]
	[ ! -e "$cg" ]
	undelegate
	DELEG=
	assert_nothing_left
}
