#!/usr/bin/env bats
# spec: writes a default config.json.
load helpers

setup() {
	setup_bundle
	# a bundle directory of our own, empty
	SPEC=$(mktemp -d "$BUNDLE/spec.XXXXXX")
}
teardown() { teardown_bundle; }

@test "spec: writes a config.json that runs, once its args are changed" {
	requires root
	cd "$SPEC"
	sr_run spec
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(ls -A)" = config.json ]
	# the defaults runc's spec has
	[ "$(jq -r .root.path config.json)" = rootfs ]
	[ "$(jq -c .process.args config.json)" = '["sh"]' ]
	[ "$(jq -r .process.terminal config.json)" = true ]
	[ "$(jq -r .process.cwd config.json)" = / ]
	[[ "$(jq -r .ociVersion config.json)" == 1.* ]]
	# Run it with a rootfs next to it; no terminal under bats; the
	# test's mark so teardown finds what it leaves.
	cp -a "$BUILD/rootfs" rootfs
	jq '.process.args = ["sh", "-c", "echo from spec; hostname"]
		| .process.terminal = false
		| .process.env += ["SR_BATS_MARK='"$MARK"'"]
		| .linux.cgroupsPath = "/'"$MARK"'"' config.json >c && mv c config.json
	sr_run run s1
	[ "$status" -eq 0 ]
	[[ "$output" == *"from spec"* ]]
}

@test "spec: a cgroup namespace only where the host is cgroup v2, as runc's" {
	cd "$SPEC"
	sr spec
	n=$(jq '[.linux.namespaces[] | select(.type == "cgroup")] | length' config.json)
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		[ "$n" = 1 ]
	else
		[ "$n" = 0 ]
	fi
	# The other namespaces are runc's, in runc's order.
	[ "$(jq -c '[.linux.namespaces[].type | select(. != "cgroup")]' config.json)" = '["pid","network","ipc","uts","mount"]' ]
}

@test "spec: refuses to overwrite config.json" {
	echo keep >"$SPEC/config.json"
	cd "$SPEC"
	sr_run spec
	[ "$status" -eq 1 ]
	[[ "$output" == *"File config.json exists. Remove it first"* ]]
	[ "$(cat config.json)" = keep ]
}

@test "spec --rootless: a user namespace mapping the caller to root" {
	cd "$SPEC"
	sr spec --rootless
	[ "$(jq '[.linux.namespaces[] | select(.type == "user")] | length' config.json)" = 1 ]
	[ "$(jq -c '.linux.uidMappings' config.json)" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" ]
	[ "$(jq -c '.linux.gidMappings' config.json)" = "[{\"containerID\":0,\"hostID\":$(id -g),\"size\":1}]" ]
	# runc's rootless config (specconv.ToRootless): no network
	# namespace, the host's /sys bound read-only, no resources, no
	# uid=/gid= options; and no cgroup mount.
	[ "$(jq '[.linux.namespaces[] | select(.type == "network")] | length' config.json)" = 0 ]
	[ "$(jq -c '.mounts[] | select(.destination == "/sys") | [.type, .source, .options]' config.json)" = '["none","/sys",["rbind","nosuid","noexec","nodev","ro"]]' ]
	[ "$(jq '.linux.resources' config.json)" = null ]
	[ "$(jq '[.mounts[].options // [] | .[] | select(startswith("uid=") or startswith("gid="))] | length' config.json)" = 0 ]
	[ "$(jq '[.mounts[] | select(.destination == "/sys/fs/cgroup")] | length' config.json)" = 0 ]
	# without --rootless: none of it
	rm config.json
	sr spec
	[ "$(jq '[.linux.namespaces[] | select(.type == "user")] | length' config.json)" = 0 ]
	[ "$(jq '[.linux.namespaces[] | select(.type == "network")] | length' config.json)" = 1 ]
	[ "$(jq -c '.linux.uidMappings' config.json)" = null ]
}

@test "spec --rootless: the config runs, in a user namespace of its own" {
	requires root
	cd "$SPEC"
	sr spec --rootless
	cp -a "$BUILD/rootfs" rootfs
	jq '.process.args = ["readlink", "/proc/self/ns/user"]
		| .process.terminal = false
		| .process.env += ["SR_BATS_MARK='"$MARK"'"]
		| .linux.cgroupsPath = "/'"$MARK"'"' config.json >c && mv c config.json
	sr_run run s1
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == user:* ]]
	[ "${lines[-1]}" != "$(readlink /proc/self/ns/user)" ]
}

@test "spec --bundle DIR, --bundle=DIR and -b DIR write DIR/config.json" {
	mkdir "$SPEC/a" "$SPEC/b" "$SPEC/c" "$SPEC/wd"
	cd "$SPEC/wd"
	sr spec --bundle "$SPEC/a"
	sr spec --bundle="$SPEC/b"
	sr spec -b ../c
	for d in a b c; do
		jq -e .process "$SPEC/$d/config.json" >/dev/null
	done
	[ -z "$(ls -A "$SPEC/wd")" ]
}

@test "spec --bundle of a directory that does not exist fails, naming it" {
	sr_run spec --bundle "$SPEC/nonexistent"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$SPEC/nonexistent"* ]]
	[ ! -e "$SPEC/nonexistent" ]
}
