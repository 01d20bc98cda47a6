#!/usr/bin/env bats
# report: what isolation a container really has, read from the host.
# A clean container triggers no finding; each finding is triggered by
# that container with one thing changed. Then the user-namespaced
# container's ids and capabilities, bad input, and a hostile container
# (a FUSE mount that never answers, a FIFO, symlinks out, a device node)
# that must not make the report hang, open a device or follow a link
# out of its root.
load helpers

setup() {
	# runc has no report.
	requires root sandbox
	setup_bundle
}

teardown() { teardown_bundle; }

# clean makes the bundle's container one that triggers no finding: a
# user namespace mapping its root to host uid 100000 (and its own rootfs,
# owned by that uid), the seven namespaces, a seccomp filter, memory and
# pids limits; no_new_privs and the masks are the spec's defaults.
clean() {
	own_rootfs
	chown -R 100000:100000 "$BUNDLE/rootfs"
	# The container's root (host uid 100000) must reach its rootfs.
	chmod 755 "$BUNDLE"
	# spec adds a cgroup namespace only on a cgroup v2 host (as runc's).
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.namespaces |= (if any(.[]; .type == "cgroup") then . else . + [{"type": "cgroup"}] end)
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = .linux.uidMappings
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}
		| .linux.resources.memory = {"limit": 67108864}
		| .linux.resources.pids = {"limit": 64}'
}

# no_userns undoes clean's user namespace (the rootfs stays owned by
# 100000, which root can use).
no_userns() {
	update_config '.linux.namespaces -= [{"type": "user"}] | del(.linux.uidMappings, .linux.gidMappings)'
}

# start ID creates and starts a container of the bundle.
start() {
	sr_create "$1"
	sr start "$1"
}

# findings ID prints the container's findings, "id subject", sorted.
findings() {
	sr report --format json "$1" | jq -r '.findings[] | .id + " " + .subject' | sort
}

# expect_findings ID LINE... checks the findings are exactly the LINEs.
expect_findings() {
	local id=$1 got want
	shift
	got=$(findings "$id")
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	[ "$got" = "$want" ] || fail "findings of $id: got
$got
want
$want"
}

@test "report: a clean container has no finding, and what it has is what the config asked" {
	clean
	start c1
	sr_run report --format json c1
	[ "$status" -eq 0 ]
	r=$output
	jq -e '.version == 1 and .id == "c1" and .status == "running" and .partial == false and .errors == [] and .findings == []' <<<"$r"
	[ "$(jq .pid <<<"$r")" = "$(sr state c1 | jq .pid)" ]
	# Every namespace of the config is new; time, not asked, is the
	# runtime's.
	[ "$(jq -c '[.namespaces[] | select(.new) | .type]' <<<"$r")" = '["cgroup","ipc","mount","network","pid","user","uts"]' ]
	jq -e '.namespaces[] | select(.type == "time") | .new == false and .config == "none"' <<<"$r" ||
		[ ! -e /proc/self/ns/time ]
	jq -e '.security.seccomp.mode == "filter" and .security.noNewPrivs' <<<"$r"
	jq -e '.resources.memory.limit == 67108864 and .resources.pids.limit == 64 and .resources.pids.usage >= 1' <<<"$r"
	jq -e '.filesystem.root.readonly and .filesystem.root.method != "chroot"' <<<"$r"
	jq -e '[.filesystem.maskedPaths[].state] - ["masked", "absent"] == []' <<<"$r"
	jq -e '[.filesystem.readonlyPaths[].state] - ["read-only", "absent"] == []' <<<"$r"
	jq -e '[.filesystem.devices[] | select(.default | not)] == []' <<<"$r"
	# The table says the same, in 80 columns.
	sr_run report c1
	[ "$status" -eq 0 ]
	[[ "$output" == *"findings     none"* ]]
	awk 'length > 79 { print "too long: " $0; bad = 1 } END { exit bad }' <<<"$output"
}

@test "report: the JSON's top-level fields, in docs/report.md's order" {
	clean
	start c1
	[ "$(sr report --format json c1 | jq -c keys_unsorted)" = '["version","id","pid","status","partial","initExited","errors","namespaces","user","capabilities","security","filesystem","resources","findings"]' ]
	# Each top-level field is in the document's table.
	for k in $(sr report --format json c1 | jq -r 'keys[]'); do
		grep -q "^| \`$k\` |" "$REPO/docs/report.md" || fail "$k is not in docs/report.md"
	done
}

@test "report: a user-namespaced container: its uid map, root inside is 100000 outside, capabilities only over its namespace" {
	clean
	# CAP_SYS_ADMIN, in its own user namespace: no finding.
	update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
	start c1
	r=$(sr report --format json c1)
	[ "$(jq -c .user.uidMap <<<"$r")" = '[{"containerID":0,"hostID":100000,"size":65536}]' ]
	[ "$(jq -c .user.gidMap <<<"$r")" = '[{"containerID":0,"hostID":100000,"size":65536}]' ]
	[ "$(jq -c .user.uid <<<"$r")" = '{"host":[100000,100000,100000,100000],"container":[0,0,0,0]}' ]
	jq -e '.capabilities.over == "container" and (.capabilities.effective | index("CAP_SYS_ADMIN"))' <<<"$r"
	# The kernel agrees: init's uid on the host.
	pid=$(jq .pid <<<"$r")
	[ "$(awk '/^Uid:/ { print $3 }' "/proc/$pid/status")" = 100000 ]
	expect_findings c1
	sr_run report c1
	[[ "$output" == *"uid 0 inside is 100000 on the host (map: 0 100000 65536)"* ]]
	[[ "$output" == *"over its own user namespace only"* ]]
}

@test "report: the host's network namespace" {
	clean
	# On a pure cgroup v2 host, the runtime fails the cgroup mount over a
	# /sys bound from the host (a user namespace may not mount sysfs for
	# a network namespace it does not own): "mount cgroup2: device or
	# resource busy". Not this file's business: no cgroup mount.
	update_config '.linux.namespaces -= [{"type": "network"}]
		| .mounts -= [.mounts[] | select(.destination == "/sys/fs/cgroup")]'
	start c1
	expect_findings c1 "host-namespace network"
	sr report c1 | grep -E "^  high +shares the (host|runtime)'s network namespace$"
}

@test "report: an added capability, in the host's user namespace" {
	clean
	no_userns
	update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
	start c1
	# Root of the host too, without a user namespace.
	expect_findings c1 "host-capability CAP_SYS_ADMIN" "host-root uid 0"
	sr report c1 | grep -E "^  high +CAP_SYS_ADMIN in the host user namespace$"
}

@test "report: no user namespace and the default capabilities: root of the host, no capability finding" {
	clean
	no_userns
	start c1
	expect_findings c1 "host-root uid 0"
	sr report --format json c1 | jq -e '.capabilities.over == "host"'
}

@test "report: a host directory bind-mounted writable (read-only: no finding)" {
	clean
	mkdir "$BUNDLE/data" "$BUNDLE/ro"
	add_mount '{"destination": "/data", "type": "bind", "source": "'"$BUNDLE/data"'", "options": ["rbind"]}'
	add_mount '{"destination": "/ro", "type": "bind", "source": "'"$BUNDLE/ro"'", "options": ["rbind", "ro"]}'
	start c1
	expect_findings c1 "writable-host-mount /data"
	# The root of the mount is the source's path in its file system:
	# under /tmp, or below /tmp's own mount.
	sr report --format json c1 | jq -e --arg d "${BUNDLE##*/}/data" \
		'.filesystem.mounts[] | select(.destination == "/data") | .host and (.readonly | not) and (.root | endswith($d))'
	sr report c1 | grep -E "^  high +a host directory bind-mounted writable: /data \(from"
}

@test "report: no seccomp filter" {
	clean
	update_config 'del(.linux.seccomp)'
	start c1
	expect_findings c1 "no-seccomp seccomp"
	sr report --format json c1 | jq -e '.security.seccomp == {"mode": "disabled", "filters": 0}'
}

@test "report: no memory limit" {
	clean
	update_config 'del(.linux.resources.memory)'
	start c1
	expect_findings c1 "no-memory-limit memory"
	sr report --format json c1 | jq -e '.resources.memory.limit == null and .resources.memory.usage > 0'
}

@test "report: chroot (--no-pivot): the host's mounts lie outside its root" {
	clean
	sr_create c1 --no-pivot
	sr start c1
	r=$(sr report --format json c1)
	[ "$(jq -r .filesystem.root.method <<<"$r")" != unknown ] ||
		skip "this kernel cannot list a mount namespace's mounts (listmount by namespace id)"
	jq -e '.filesystem.root.method == "chroot" and .filesystem.root.hiddenMounts > 0' <<<"$r"
	expect_findings c1 "chroot /"
}

@test "report: a created container is reported too; its seccomp filter, loaded at start, is not missing yet" {
	clean
	sr_create c1
	sr report --format json c1 | jq -e '.status == "created" and .security.seccomp.mode == "disabled" and .findings == []'
	update_config 'del(.linux.seccomp)'
	sr_create c2
	expect_findings c2 "no-seccomp seccomp"
}

@test "report: an unknown container" {
	sr_run report nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"container does not exist"* ]]
}

@test "report: a stopped container" {
	update_config '.process.args = ["true"]'
	start c1
	wait_status c1 stopped
	sr_run report c1
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot report on a stopped container: container not running"* ]]
}

@test "report: bad arguments" {
	sr_run report
	[ "$status" -eq 1 ]
	[[ "$output" == *'report'*'requires exactly 1 argument(s)'* ]]
	sr_run report --format yaml c1
	[ "$status" -eq 1 ]
	[[ "$output" == *'--format: invalid value'*yaml*'(table or json)'* ]]
}

# The hostile container: /dev holds a FIFO (opened, it blocks),
# symlinks out: absolute ones, which followed from the host would lead to
# the host's /etc and /dev/kmsg, and one climbing out with "..". And a
# block device node it made (CAP_MKNOD, the device cgroup allowing mknod of 8:0 and nothing
# else). The report lists the node without opening it, does not follow
# the links, and does not block.
@test "report: a hostile /dev: FIFO, symlinks out, a device node: listed, not followed, not opened" {
	clean
	no_userns
	update_config '.linux.resources.devices += [{"allow": true, "type": "b", "major": 8, "minor": 0, "access": "m"}]
		| .process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
	sh_cmd 'mkfifo /dev/fifo && ln -s /etc /dev/hostetc && ln -s ../../../../../../etc /dev/up &&
		ln -s /dev/kmsg /dev/hostkmsg &&
		mknod /dev/sda b 8 0 && mkdir -p /dev/deep/er && ln -s /dev/fifo /dev/deep/er/fifo &&
		touch /tmp/ready; exec sleep infinity'
	update_config '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]'
	start c1
	pid=$(sr state c1 | jq .pid)
	wait_for 5 test -e "/proc/$pid/root/tmp/ready"
	local t0 t1
	t0=$(date +%s%N)
	r=$(sr report --format json c1)
	t1=$(date +%s%N)
	# Not partial: the walk of the root ended within its 2 s bound, so
	# nothing waited on the FIFO (a wait would have been cut off there
	# and said so). The time itself is only bounded loosely: a loaded
	# host may take longer than the bound to start the report at all.
	[ $(((t1 - t0) / 1000000)) -lt 15000 ] || fail "report took $(((t1 - t0) / 1000000)) ms"
	jq -e '.partial == false' <<<"$r"
	[ "$(jq -c '[.filesystem.devices[] | select(.default | not)]' <<<"$r")" = '[{"path":"/dev/sda","type":"b","major":8,"minor":0,"default":false}]' ]
	# Nothing of the host's /etc or /dev through the links.
	[ "$(jq '[.filesystem.devices[] | select(.path | test("hostetc|up|deep|kmsg"))] | length' <<<"$r")" = 0 ]
	jq -e '.findings[] | select(.id == "device" and .subject == "/dev/sda" and .severity == "high")' <<<"$r"
}

# A FUSE mount that never answers, on the container's /dev: every
# lookup there waits for ever. The report gives up on the container's
# root after its bound, says so, and reports the rest.
@test "report: a FUSE mount that never answers does not hold the report" {
	update_config '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])
		| .linux.devices += [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]
		| .linux.resources = {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}]}'
	sh_cmd 'mkdir /dev/hang && exec payload fusehang /dev/hang'
	start c1
	wait_for 5 grep -q '^mounted' "$BUNDLE/c1.out"
	local t0 t1 s=0
	t0=$(date +%s)
	r=$(sr report --format json c1) || s=$?
	t1=$(date +%s)
	[ "$s" -eq 0 ]
	# Cut off at the bound (2 s; below: partial, "timed out"), not held:
	# 15 s leaves a loaded host room to start and finish the rest.
	[ $((t1 - t0)) -le 15 ] || fail "report took $((t1 - t0)) s"
	jq -e '.partial and (.errors | any(test("timed out")))' <<<"$r"
	# The rest was read.
	jq -e '(.namespaces | length) >= 7 and .security.seccomp.mode == "disabled" and .resources.cgroup != ""' <<<"$r"
	jq -e '[.filesystem.maskedPaths[].state] | all(. != "exposed")' <<<"$r"
	# The report's process has gone: nothing of ours stays blocked.
	sleep 0.2
	[ -z "$(pgrep -f "sandbox-runtime --root $ROOT report" || true)" ]
}
