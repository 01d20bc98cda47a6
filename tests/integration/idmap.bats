#!/usr/bin/env bats
# Idmapped mounts (mounts[].uidMappings/gidMappings, "idmap", "ridmap";
# issue 14): what the container sees of a host directory's owners, and
# who owns on the host what it creates there. The container is
# user-namespaced (root is host uid 100000), so without idmapping the
# host's files are nobody's in it.
load helpers

setup() {
	requires root
	setup_bundle
	own_rootfs
	chown -R 100000:100000 "$BUNDLE/rootfs"
	# the container's root must reach its rootfs (mktemp made it 0700);
	# the volumes below stay out of its reach but through the runtime
	chmod 711 "$BUNDLE"
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	HOST_MOUNTS=()
}

teardown() {
	local m
	for m in "${HOST_MOUNTS[@]}"; do umount -l "$m"; done
	teardown_bundle
}

# vol DIR UID: a host directory (mode 0700: only its owner and the runtime
# get in) with a file, both owned by UID.
vol() {
	mkdir -p "$1"
	echo hi >"$1/f"
	chown -R "$2:$2" "$1"
	chmod 700 "$1"
}

@test "idmap: a host directory of uid 1000 is root's in the container, and root's files there are 1000's on the host" {
	vol "$BUNDLE/vol" 1000
	add_mount '{"destination": "/vol", "type": "bind", "source": "'"$BUNDLE/vol"'", "options": ["rbind", "idmap"],
		"uidMappings": [{"containerID": 1000, "hostID": 100000, "size": 1}],
		"gidMappings": [{"containerID": 1000, "hostID": 100000, "size": 1}]}'
	sh_cmd 'stat -c "%u:%g %n" /vol/f; echo made >/vol/new && stat -c "%u:%g %n" /vol/new'
	ctr i1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0:0 /vol/f" ]
	[ "${lines[1]}" = "0:0 /vol/new" ]
	# on the host: the container's root wrote as uid 1000
	[ "$(stat -c %u:%g "$BUNDLE/vol/new")" = 1000:1000 ]
	[ "$(cat "$BUNDLE/vol/new")" = made ]
}

@test "idmap: without idmapping the same directory is nobody's, and root cannot write it" {
	vol "$BUNDLE/vol" 1000
	chmod 755 "$BUNDLE/vol"
	add_mount '{"destination": "/vol", "type": "bind", "source": "'"$BUNDLE/vol"'", "options": ["rbind"]}'
	sh_cmd 'stat -c "%u:%g %n" /vol/f; echo made >/vol/new'
	ctr i2
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = "65534:65534 /vol/f" ]
	[ ! -e "$BUNDLE/vol/new" ]
}

@test "ridmap: the container's own mapping, recursively: a submount is idmapped too (idmap: the top mount only)" {
	# host root's files, seen through the container's mapping (0 ->
	# 100000): root's in the container
	vol "$BUNDLE/tree" 0
	mkdir -p "$BUNDLE/tree/sub"
	host_mount -t tmpfs -o mode=0755 srtest "$BUNDLE/tree/sub"
	echo hi >"$BUNDLE/tree/sub/g"
	add_mount '{"destination": "/r", "type": "bind", "source": "'"$BUNDLE/tree"'", "options": ["rbind", "ridmap"]}'
	add_mount '{"destination": "/i", "type": "bind", "source": "'"$BUNDLE/tree"'", "options": ["rbind", "idmap"]}'
	sh_cmd 'stat -c "%u %n" /r/f /r/sub/g /i/f /i/sub/g; touch /r/sub/made && stat -c "%u %n" /r/sub/made'
	ctr r1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 /r/f" ]
	[ "${lines[1]}" = "0 /r/sub/g" ]
	[ "${lines[2]}" = "0 /i/f" ]
	[ "${lines[3]}" = "65534 /i/sub/g" ]
	[ "${lines[4]}" = "0 /r/sub/made" ]
	[ "$(stat -c %u "$BUNDLE/tree/sub/made")" = 0 ]
}
