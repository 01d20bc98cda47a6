#!/usr/bin/env bats
# systemd-clients.bats - podman and containerd in their default
# configuration on a systemd host: podman's cgroup_manager = "systemd"
# (it passes --systemd-cgroup and cgroupsPath machine.slice:libpod:ID),
# containerd's runc shim with SystemdCgroup = true. Needs a systemd host
# on pure cgroup v2: `make integration-systemd` runs it in the systemd VM
# (tests/vm/run.sh --systemd), a throw-away machine, so the clients use
# their default locations; elsewhere every test skips.
load helpers
bats_require_minimum_version 1.5.0

setup() {
	requires root
	[ -d /run/systemd/system ] || skip "needs a host that runs systemd (make integration-systemd)"
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || skip "needs pure cgroup v2"
	[ -x "$REPO/sandbox-runtime" ] || fail "build first: make build payload"
	build_rootfs
	T=$(mktemp -d /tmp/sr-sdclients.XXXXXX)
	cp -a "$BUILD/rootfs" "$T/rootfs"
}

teardown() {
	[ -n "${T:-}" ] || return 0
	[ -z "${CDPID:-}" ] || { kill "$CDPID"; wait "$CDPID"; } 2>/dev/null
	rm -rf "$T"
	return 0
}

# pm runs podman with the default configuration but for what the VM
# lacks: no network stack (netns none), no overlay on the overlay root
# (vfs). Every podman call needs the same storage driver: the first one
# records it in podman's database, and a later one with another fails.
pm() {
	timeout 120 podman --runtime "$RUNTIME" --storage-driver vfs "$@"
}

@test "podman (cgroup_manager=systemd): run, --memory, exec, pause, stop, rm" {
	requires podman conmon
	[ "$(pm info -f '{{.Host.CgroupManager}}' 2>/dev/null)" = systemd ] || fail "podman's default cgroup manager is not systemd here"
	run pm run --rm --network none --rootfs "$T/rootfs" sh -c 'echo hello; cat /proc/self/cgroup'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *hello* ]]

	pm run -d --name sd1 --network none --memory 20m --rootfs "$T/rootfs" sleep 1000
	id=$(pm inspect -f '{{.Id}}' sd1)
	unit="libpod-$id.scope"
	pid=$(pm inspect -f '{{.State.Pid}}' sd1)
	echo "unit $unit pid $pid"
	[ "$(cat /proc/$pid/cgroup)" = "0::/machine.slice/$unit" ]
	[ "$(systemctl show -P MemoryMax "$unit")" = 20971520 ]
	[ "$(cat "/sys/fs/cgroup/machine.slice/$unit/memory.max")" = 20971520 ]
	run -0 pm exec sd1 sh -c 'echo from exec'
	[ "$output" = "from exec" ]
	pm pause sd1
	[ "$(pm inspect -f '{{.State.Status}}' sd1)" = paused ]
	grep -qx "frozen 1" "/sys/fs/cgroup/machine.slice/$unit/cgroup.events"
	pm unpause sd1
	pm stop -t 1 sd1
	[ "$(pm inspect -f '{{.State.Status}}' sd1)" = exited ]
	pm rm sd1
	[ ! -d "/sys/fs/cgroup/machine.slice/$unit" ]
}

@test "podman (cgroup_manager=systemd): container checkpoint and restore, the restored process in a new scope, counting on" {
	requires podman conmon criu
	criu check >/dev/null 2>&1 || skip "criu check fails here: $(criu check 2>&1 | grep -m 1 'Error (')"
	local id unit pid n
	pm run -d --name sd2 --network none --memory 20m --rootfs "$T/rootfs" sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done' >/dev/null
	id=$(pm inspect -f '{{.Id}}' sd2)
	unit="libpod-$id.scope"
	wait_for 30 eval '[ "$(pm logs sd2 | wc -l)" -ge 3 ]'
	run -0 pm container checkpoint sd2
	[ "$(systemctl show -P ActiveState "$unit")" = inactive ]
	n=$(pm logs sd2 | tail -n 1)
	run pm container restore sd2
	echo "$output"
	[ "$status" -eq 0 ]
	pid=$(pm inspect -f '{{.State.Pid}}' sd2)
	[ "$(cat /proc/$pid/cgroup)" = "0::/machine.slice/$unit" ]
	[ "$(systemctl show -P ActiveState "$unit")" = active ]
	[ "$(cat "/sys/fs/cgroup/machine.slice/$unit/memory.max")" = 20971520 ]
	wait_for 30 eval '[ "$(pm logs sd2 | tail -n 1)" -gt "$n" ]'
	pm stop -t 1 sd2
	pm rm sd2
	[ ! -d "/sys/fs/cgroup/machine.slice/$unit" ]
}

# oci_image DIR NAME writes DIR/image.tar, an OCI archive of the shared
# rootfs as one layer, for `ctr images import`.
oci_image() {
	local d=$1/oci l c m
	mkdir -p "$d/blobs/sha256"
	tar -C "$T/rootfs" -cf "$d/layer" .
	l=$(sha256sum <"$d/layer" | cut -d' ' -f1)
	mv "$d/layer" "$d/blobs/sha256/$l"
	printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$l" >"$d/config"
	c=$(sha256sum <"$d/config" | cut -d' ' -f1)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
		"$c" "$(stat -c %s "$d/config")" "$l" "$(stat -c %s "$d/blobs/sha256/$l")" >"$d/manifest"
	m=$(sha256sum <"$d/manifest" | cut -d' ' -f1)
	mv "$d/config" "$d/blobs/sha256/$c"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
		"$m" "$(stat -c %s "$d/manifest")" "$2" >"$d/index.json"
	mv "$d/manifest" "$d/blobs/sha256/$m"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
	tar -C "$d" -cf "$1/image.tar" oci-layout index.json blobs
}

@test "containerd (runc shim, SystemdCgroup=true): ctr run of an imported image, exec, the scope" {
	requires containerd ctr
	mkdir -p "$T"/{root,state}
	cat >"$T/config.toml" <<-EOF
		version = 2
		root = "$T/root"
		state = "$T/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$T/containerd.sock"
	EOF
	containerd --config "$T/config.toml" </dev/null >"$T/containerd.log" 2>&1 3>&- &
	CDPID=$!
	c() { timeout 120 ctr --address "$T/containerd.sock" --namespace sr "$@"; }
	wait_for 60 c version >/dev/null || { cat "$T/containerd.log"; false; }
	oci_image "$T" latest
	c images import --snapshotter native --base-name docker.io/library/sr-busybox "$T/image.tar"
	c run -d --snapshotter native --runtime io.containerd.runc.v2 --runc-binary "$RUNTIME" --runc-systemd-cgroup \
		--cgroup system.slice:sr-ctr:t1 docker.io/library/sr-busybox:latest t1 sleep 1000 </dev/null
	unit=sr-ctr-t1.scope
	pid=$(c task ls | awk '$1 == "t1" { print $2 }')
	echo "pid $pid"
	[ "$(cat /proc/$pid/cgroup)" = "0::/system.slice/$unit" ]
	[ "$(systemctl show -P ActiveState $unit)" = active ]
	[ "$(systemctl show -P Delegate $unit)" = yes ]
	run -0 c task exec --exec-id e1 t1 sh -c 'echo from exec'
	[ "$output" = "from exec" ]
	c task kill -s SIGKILL t1
	wait_for 30 sh -c "! ctr --address '$T/containerd.sock' --namespace sr task ls | grep -q RUNNING"
	c task delete t1
	c container delete t1
	[ ! -d "/sys/fs/cgroup/system.slice/$unit" ]
}
