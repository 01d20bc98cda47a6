#!/usr/bin/env bats
# linux.netDevices (runtime-spec 1.3, issue 14): a host interface moved
# into the container's network namespace at create, renamed, with its
# permanent global addresses and up. Each test makes a veth pair of its
# own (this kernel has no dummy driver), named after the test's mark, and
# moves one end; the peer stays on the host. The address is from
# TEST-NET-1 (RFC 5737) and no packet is sent.
load helpers

setup() {
	requires root ip
	setup_bundle
	DEV=sr${MARK##*-}
	ip link add "$DEV" type veth peer name "${DEV}p"
	ip link set mtu 1400 dev "$DEV"
	ip address add 192.0.2.77/32 dev "$DEV"
	NS=
}

teardown() {
	teardown_bundle
	ip link del "$DEV" 2>/dev/null || true
	ip link del "${DEV}p" 2>/dev/null || true
	[ -z "$NS" ] || ip netns del "$NS"
}

@test "netDevices: moved, renamed, addressed and up inside; gone from the host; gone with the namespace after delete" {
	update_config '.linux.netDevices = {"'"$DEV"'": {"name": "ctr0"}}'
	sh_cmd 'ip -o address show ctr0; ip -o link show ctr0; exec sleep infinity'
	sr_create n1
	sr start n1
	wait_for 5 grep -q 'mtu' "$BUNDLE/n1.out"
	echo "inside:"
	cat "$BUNDLE/n1.out"
	grep -q 'ctr0 *inet 192.0.2.77/32' "$BUNDLE/n1.out"
	grep -q 'ctr0@if[0-9]*: <.*,UP,.*> mtu 1400' "$BUNDLE/n1.out"
	# from the host: not here any more, but in the container's namespace
	! ip link show "$DEV" 2>/dev/null
	pid=$(sr state n1 | jq .pid)
	nsenter -t "$pid" -n ip -o address show ctr0 | grep -q 192.0.2.77
	ip link show "${DEV}p" | grep -q "${DEV}p@if"
	# delete moves nothing back (the spec: MUST NOT); the namespace dies
	# with the container and a virtual device with it, here the veth pair,
	# whose peer then goes from the host (a physical device would come
	# back to the host: default_device_exit_net)
	sr delete --force n1
	wait_for 5 sh -c "! ip link show ${DEV}p"
	! ip link show "$DEV" 2>/dev/null
	! ip link show ctr0 2>/dev/null
}

@test "netDevices: in a foreground run, the namespace dies with the container, before the poststop hooks" {
	# Nothing of the runtime's may keep the container's network namespace
	# alive once its processes are gone (the thread that made it, ahead
	# of init: a review found the veth still there for the poststop hooks
	# until the runtime exited). A CNI DEL or a VF release in a poststop
	# hook counts on it. The namespace is freed in the background
	# (cleanup_net): the hook waits up to 5 s.
	local hook
	hook=$(jq -n --arg p "${DEV}p" --arg f "$BUNDLE/peer" '{path: "/bin/sh", args: ["sh", "-c",
		"for i in $(seq 50); do ip link show \($p) >/dev/null 2>&1 || { echo gone >\($f); exit 0; }; sleep 0.1; done; echo there >\($f)"]}')
	update_config '.linux.netDevices = {"'"$DEV"'": {}} | .hooks.poststop = ['"$hook"']'
	args true
	run sr run --bundle "$BUNDLE" n4
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$BUNDLE/peer")" = gone ]
}

@test "netDevices: in a network namespace joined by path, the device stays there after delete" {
	NS=$MARK
	ip netns add "$NS"
	update_config '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = "/run/netns/'"$NS"'" else . end]
		| .linux.netDevices = {"'"$DEV"'": {}}'
	args ip -o address show "$DEV"
	run sr run --bundle "$BUNDLE" n2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$DEV    inet 192.0.2.77/32"* ]]
	# the namespace's owner decides what becomes of it
	ip netns exec "$NS" ip -o address show "$DEV" | grep -q 192.0.2.77
	! ip link show "$DEV" 2>/dev/null
}

@test "netDevices: a name already taken in the container's namespace fails create; %d lets the kernel number it" {
	NS=$MARK
	ip netns add "$NS"
	ip netns exec "$NS" ip link add taken0 type veth peer name taken9
	update_config '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = "/run/netns/'"$NS"'" else . end]
		| .linux.netDevices = {"'"$DEV"'": {"name": "taken0"}}'
	create_fails n3
	grep -q "linux.netDevices\[\\\\\?\"$DEV\\\\\?\"\]: move into the container's network namespace: an interface named \\\\\?\"taken0\\\\\?\" exists there" "$BUNDLE/create.out"
	# the failed create left the device where it was
	ip link show "$DEV" >/dev/null
	update_config '.linux.netDevices = {"'"$DEV"'": {"name": "taken%d"}}'
	args ip -o link show taken1
	run sr run --bundle "$BUNDLE" n4
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"taken1@if"*"UP"* ]]
}
