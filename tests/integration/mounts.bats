#!/usr/bin/env bats
# mounts.bats - the container's filesystem as its process sees it: the
# spec's mounts and their options, symlinks in the image that try to lead
# a mount outside the rootfs, root.readonly, masked and read-only paths,
# /dev, linux.devices, rootfsPropagation and --no-pivot.
load helpers

setup() {
	requires root
	setup_bundle
	# The cgroup limits are not what this file is about, and our runtime
	# warns about them on stderr, which `run` mixes into $output.
	update_config 'del(.linux.resources)'
	HOST_MOUNTS=()
}

teardown() {
	local i
	for ((i = ${#HOST_MOUNTS[@]} - 1; i >= 0; i--)); do
		# Several mounts may be stacked there (propagated back from a
		# container with a shared rootfs).
		while mountpoint -q "${HOST_MOUNTS[i]}"; do
			umount -l "${HOST_MOUNTS[i]}" || break
		done
	done
	teardown_bundle
}

@test "mounts: a tmpfs gets the mode and size of its options" {
	# A new directory: runc 1.1 gives a tmpfs on an existing one that
	# directory's mode instead of mode=.
	own_rootfs
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=1750", "size=1m"]}'
	sh_cmd 'stat -c %a /scratch; df -k /scratch | awk "NR == 2 { print \$2 }"
		dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1 | grep -o "No space left on device"'
	ctr mounts-tmpfs
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1750 ]
	[ "${lines[1]}" = 1024 ]
	[ "${lines[2]}" = "No space left on device" ]
}

# Without mode=, a tmpfs over an existing directory gets that directory's
# mode, set-id and sticky bits included (runc's createOpenMountpoint); a
# new directory gets the tmpfs default, 1777, and mode= wins over both.
@test "mounts: a tmpfs without mode= keeps the mode of the directory it covers" {
	own_rootfs
	mkdir -m 0710 "$BUNDLE/rootfs/priv"
	mkdir "$BUNDLE/rootfs/sgid"
	chmod 2750 "$BUNDLE/rootfs/sgid"
	mkdir -m 0700 "$BUNDLE/rootfs/given"
	add_mount '{"destination": "/priv", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]}'
	add_mount '{"destination": "/sgid", "type": "tmpfs", "source": "tmpfs"}'
	add_mount '{"destination": "/given", "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]}'
	add_mount '{"destination": "/new", "type": "tmpfs", "source": "tmpfs"}'
	sh_cmd 'stat -c "%n %a" /priv /sgid /given /new'
	ctr mounts-tmpfs-mode
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/priv 710" ]
	[ "${lines[1]}" = "/sgid 2750" ]
	# runc 1.1.5 chmods the tmpfs to the directory's mode once mounted:
	# there the directory wins over mode=.
	! is_sandbox || [ "${lines[2]}" = "/given 755" ]
	[ "${lines[3]}" = "/new 1777" ]
}

@test "mounts: a bind mount of a host directory is shared both ways" {
	mkdir "$BUNDLE/host"
	echo from-host >"$BUNDLE/host/in"
	add_mount '{"destination": "/tmp", "type": "bind", "source": "'"$BUNDLE/host"'", "options": ["rbind", "rw"]}'
	sh_cmd 'cat /tmp/in && echo from-container >/tmp/out'
	ctr mounts-bind
	[ "$status" -eq 0 ]
	[ "$output" = from-host ]
	[ "$(cat "$BUNDLE/host/out")" = from-container ]
}

@test "mounts: a read-only bind mount refuses writes" {
	mkdir "$BUNDLE/host"
	echo from-host >"$BUNDLE/host/in"
	add_mount '{"destination": "/tmp", "type": "bind", "source": "'"$BUNDLE/host"'", "options": ["bind", "ro"]}'
	sh_cmd 'cat /tmp/in; echo x >/tmp/out'
	ctr mounts-bind-ro
	[ "$status" -ne 0 ]
	# stdout and stderr may come in either order.
	[[ "$output" == *from-host* ]]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$BUNDLE/host/out" ]
}

@test "mounts: rbind carries submounts and rro makes them read-only too" {
	mkdir -p "$BUNDLE/host/sub"
	host_mount -t tmpfs -o size=1m sr-bats-sub "$BUNDLE/host/sub"
	echo in-submount >"$BUNDLE/host/sub/marker"
	add_mount '{"destination": "/tmp", "type": "bind", "source": "'"$BUNDLE/host"'", "options": ["rbind", "rro"]}'
	sh_cmd 'cat /tmp/sub/marker
		for f in /tmp/top /tmp/sub/file; do
			touch $f 2>/dev/null && echo "$f writable" || echo "$f read-only"
		done'
	ctr mounts-rro
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = in-submount ]
	[ "${lines[1]}" = "/tmp/top read-only" ]
	[ "${lines[2]}" = "/tmp/sub/file read-only" ]
}

# bind_flags prints, for each destination, the flags of its mount.
bind_flags() {
	sh_cmd 'for d in '"$*"'; do awk -v d=$d "\$5 == d { print d, \$6 }" /proc/self/mountinfo; done'
}

# A bind mount with options gets the flags they name and no other (runc:
# "mount --bind -o ..."), and with none keeps its source's. The atime
# flags follow mount(8) (the kernel's remount): kept unless one is named,
# and then "relatime" unless another is. Kernel order in mountinfo:
# nosuid, nodev, noexec, noatime, nodiratime, relatime.
@test "mounts: a bind mount has the flags its options name, not its source's" {
	mkdir "$BUNDLE/src"
	host_mount -t tmpfs -o size=1m,nodev,noexec,noatime sr-bats-src "$BUNDLE/src"
	mount -o remount,bind,ro,nodev,noexec,noatime "$BUNDLE/src"
	add_mount '{"destination": "/a", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind", "nosuid"]}'
	add_mount '{"destination": "/b", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind"]}'
	add_mount '{"destination": "/c", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind", "nodiratime"]}'
	add_mount '{"destination": "/d", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind", "strictatime", "ro"]}'
	add_mount '{"destination": "/e", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind", "rw"]}'
	bind_flags /a /b /c /d /e
	ctr mounts-bind-flags
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/a rw,nosuid,noatime" ]
	[ "${lines[1]}" = "/b ro,nodev,noexec,noatime" ]
	[ "${lines[2]}" = "/c rw,nodiratime,relatime" ]
	[ "${lines[3]}" = "/d ro" ]
	# A cleared flag alone: runc 1.5 sets the flags (none), runc 1.1.5
	# keeps the source's.
	! is_sandbox || [ "${lines[4]}" = "/e rw,noatime" ]
}

# In a user namespace the kernel locks the flags of the mounts the
# container inherits (MNT_LOCK_READONLY, _NODEV, _NOSUID, _NOEXEC,
# _ATIME): a bind keeps those of its source, and asking to clear one, or
# for other atime flags, is an error, as in runc 1.5 (runc 1.1.5 fails
# all three).
@test "mounts: in a user namespace a bind keeps its source's locked flags and cannot clear them" {
	requires sandbox
	own_rootfs
	chown -R 100000:100000 "$BUNDLE/rootfs"
	chmod 755 "$BUNDLE"
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	mkdir "$BUNDLE/src"
	host_mount -t tmpfs -o size=1m,nodev,noatime sr-bats-src "$BUNDLE/src"
	mount -o remount,bind,ro,nodev,noatime "$BUNDLE/src"
	# (A container that wrongly starts prints its flags and ends.)
	bind_flags /a
	cp "$BUNDLE/config.json" "$BUNDLE/config.base"
	add_mount '{"destination": "/a", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind", "nosuid", "noexec"]}'
	ctr mounts-locked
	[ "$status" -eq 0 ]
	[ "$output" = "/a ro,nosuid,nodev,noexec,noatime" ]
	cp "$BUNDLE/config.base" "$BUNDLE/config.json"
	add_mount '{"destination": "/a", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind", "rw"]}'
	ctr mounts-locked-rw
	[ "$status" -ne 0 ]
	[[ "$output" == *"bind on /a): cannot clear locked flags MS_RDONLY"* ]]
	cp "$BUNDLE/config.base" "$BUNDLE/config.json"
	add_mount '{"destination": "/a", "type": "bind", "source": "'"$BUNDLE/src"'", "options": ["bind", "relatime"]}'
	ctr mounts-locked-atime
	[ "$status" -ne 0 ]
	[[ "$output" == *"bind on /a): cannot change locked atime flags MS_NOATIME"* ]]
}

@test "mounts: a file bind mount makes its destination a file" {
	own_rootfs
	echo hello-file >"$BUNDLE/motd"
	add_mount '{"destination": "/etc/motd", "type": "bind", "source": "'"$BUNDLE/motd"'", "options": ["bind", "ro"]}'
	sh_cmd 'cat /etc/motd; [ -f /etc/motd ] && echo regular-file'
	ctr mounts-file
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hello-file ]
	[ "${lines[1]}" = regular-file ]
}

@test "mounts: a relative bind source is relative to the bundle, not the cwd" {
	mkdir "$BUNDLE/data"
	echo in-bundle >"$BUNDLE/data/f"
	add_mount '{"destination": "/tmp", "type": "bind", "source": "data", "options": ["rbind"]}'
	sh_cmd 'cat /tmp/f'
	cd /
	ctr mounts-relative
	[ "$status" -eq 0 ]
	[ "$output" = in-bundle ]
}

# A bind source is looked up when its mount is made, in the container's
# mount namespace, so an earlier mount of the same config may provide it
# (runc does the same). In a user namespace init opens a source itself
# when its root may; one it may not reach (here "a", under a 0700
# directory) the runtime opens for it, in the container's mount
# namespace too, at that moment.
@test "mounts: a bind source may be provided by an earlier mount, with or without a user namespace" {
	own_rootfs
	mkdir -p "$BUNDLE/private/a/x"
	chmod 700 "$BUNDLE/private"
	echo from-a >"$BUNDLE/private/a/x/marker"
	add_mount '{"destination": "/mnt", "type": "bind", "source": "'"$BUNDLE/private/a"'", "options": ["rbind"]}'
	add_mount '{"destination": "/final", "type": "bind", "source": "'"$BUNDLE/rootfs/mnt/x"'", "options": ["rbind"]}'
	sh_cmd 'cat /final/marker'
	ctr mounts-src-earlier
	[ "$status" -eq 0 ]
	[ "$output" = from-a ]
	# runc 1.1.5 opens the sources of a user-namespaced container
	# before any mount is made; runc 1.5 asks for them at mount time.
	requires sandbox
	chown -R 100000:100000 "$BUNDLE/rootfs"
	# The container's root (host uid 100000) must reach its rootfs, not
	# "private".
	chmod 755 "$BUNDLE"
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	ctr mounts-src-earlier-userns
	[ "$status" -eq 0 ]
	[ "$output" = from-a ]
}

@test "mounts: a propagation option applies to the mount" {
	mkdir "$BUNDLE/a" "$BUNDLE/b"
	add_mount '{"destination": "/tmp", "type": "bind", "source": "'"$BUNDLE/a"'", "options": ["rbind", "shared"]}'
	add_mount '{"destination": "/root", "type": "bind", "source": "'"$BUNDLE/b"'", "options": ["rbind", "rprivate"]}'
	# mountinfo field 5 is the mount point; optional fields follow field 6.
	sh_cmd 'for d in /tmp /root; do
			awk -v d=$d "\$5 == d { print d, (\$7 ~ /^shared:/ ? \"shared\" : \"not-shared\") }" /proc/self/mountinfo
		done'
	ctr mounts-propagation
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/tmp shared" ]
	[ "${lines[1]}" = "/root not-shared" ]
}

@test "mounts: noexec is effective, exec is not restricted" {
	add_mount '{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["noexec"]}'
	add_mount '{"destination": "/root", "type": "tmpfs", "source": "tmpfs", "options": ["exec"]}'
	# busybox runs the applet named by argv[0]: copy it as "true".
	sh_cmd 'cp /bin/busybox /tmp/true && cp /bin/busybox /root/true || exit 9
		/root/true && echo exec-ran
		/tmp/true || echo noexec-refused'
	ctr mounts-noexec
	[ "$status" -eq 0 ]
	[[ "$output" == *exec-ran* ]]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *noexec-refused* ]]
}

@test "mounts: nodev makes device nodes unusable" {
	mkdir "$BUNDLE/devs"
	mknod "$BUNDLE/devs/null" c 1 3
	chmod 666 "$BUNDLE/devs/null"
	add_mount '{"destination": "/tmp", "type": "bind", "source": "'"$BUNDLE/devs"'", "options": ["bind", "nodev"]}'
	add_mount '{"destination": "/root", "type": "bind", "source": "'"$BUNDLE/devs"'", "options": ["bind", "dev"]}'
	sh_cmd 'echo x >/root/null && echo dev-usable
		echo x >/tmp/null || echo nodev-refused'
	ctr mounts-nodev
	[ "$status" -eq 0 ]
	[[ "$output" == *dev-usable* ]]
	[[ "$output" == *nodev-refused* ]]
}

# Fails with sandbox-runtime as of this commit: every non-root
# process.user does. The exec fifo is made with mode 0622 under the
# runtime's umask (libsandbox/container.go Create, unix.Mkfifo), so it is
# 0600 and init, already the container user, cannot open it ("open exec
# fifo: permission denied"). runc clears the umask around mkfifo.
@test "mounts: nosuid stops a set-user-id program from gaining privileges" {
	mkdir -m 755 "$BUNDLE/suid"
	cp "$PAYLOAD" "$BUNDLE/suid/payload"
	chmod 4755 "$BUNDLE/suid/payload"
	add_mount '{"destination": "/tmp", "type": "bind", "source": "'"$BUNDLE/suid"'", "options": ["bind", "nosuid"]}'
	add_mount '{"destination": "/root", "type": "bind", "source": "'"$BUNDLE/suid"'", "options": ["bind"]}'
	update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = false'
	sh_cmd '/root/payload caps | grep CapEff; /tmp/payload caps | grep CapEff'
	ctr mounts-nosuid
	[ "$status" -eq 0 ]
	# set-uid root: the bounding set (the spec's three capabilities).
	[ "${lines[0]}" = "CapEff: 0000000020000420" ]
	[ "${lines[1]}" = "CapEff: 0000000000000000" ]
}

# A symlink in the image as a mount destination is resolved inside the
# rootfs; a runtime that resolved it on the host would mount over the host
# path and leave the container's symlink dangling (CVE-2021-30465 class).
symlinked_destination() {
	local link=$1
	own_rootfs
	mkdir "$BUNDLE/hostdir"
	echo untouched >"$BUNDLE/hostdir/marker"
	ln -s "$link" "$BUNDLE/rootfs/evil"
	add_mount '{"destination": "/evil", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	sh_cmd 'ls -A /evil; echo written >/evil/file && cat /evil/file'
	ctr mounts-symlink
	[ "$status" -eq 0 ]
	# A fresh tmpfs (empty, writable) behind the container's /evil ...
	[ "$output" = written ]
	# ... made inside the rootfs, where the link points from its root ...
	[ -d "$BUNDLE/rootfs$BUNDLE/hostdir" ]
	# ... and the host directory is as it was.
	[ "$(ls -A "$BUNDLE/hostdir")" = marker ]
	[ "$(cat "$BUNDLE/hostdir/marker")" = untouched ]
}

@test "mounts: a destination that is an absolute symlink stays in the rootfs" {
	symlinked_destination "$BUNDLE/hostdir"
}

@test "mounts: a destination that is a ../ symlink stays in the rootfs" {
	symlinked_destination "../../../../../../../..$BUNDLE/hostdir"
}

# procfs or sysfs over a symlink would let the image decide where the
# kernel's files appear (runc checkProcMount).
special_on_symlink() {
	local dir=$1
	own_rootfs
	rm -rf "$BUNDLE/rootfs/$dir"
	ln -s tmp "$BUNDLE/rootfs/$dir"
	sh_cmd 'echo started'
	ctr mounts-$dir-link
	[ "$status" -ne 0 ]
	[[ "$output" != *started* ]]
	[[ "$output" == *$dir* ]]
}

@test "mounts: proc is refused onto a symlink" {
	special_on_symlink proc
}

@test "mounts: sysfs is refused onto a symlink" {
	special_on_symlink sys
}

@test "mounts: root.readonly makes / read-only" {
	update_config '.root.readonly = true'
	sh_cmd 'touch /new-file'
	ctr mounts-ro-root
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "mounts: without root.readonly / is writable" {
	own_rootfs
	update_config '.root.readonly = false'
	sh_cmd 'echo hi >/new-file'
	ctr mounts-rw-root
	[ "$status" -eq 0 ]
	[ "$(cat "$BUNDLE/rootfs/new-file")" = hi ]
}

@test "mounts: maskedPaths hides a file's content and a directory's entries" {
	update_config '.linux.maskedPaths = ["/etc/passwd", "/home", "/does/not/exist"]'
	sh_cmd 'echo "passwd $(wc -c </etc/passwd)"
		echo "home $(ls -A /home | wc -l)"
		grep -q root /etc/group && echo group-visible'
	ctr mounts-masked
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "passwd 0" ]
	[ "${lines[1]}" = "home 0" ]
	[ "${lines[2]}" = group-visible ]
	# The masks are the container's: the shared rootfs is intact.
	[ -s "$BUILD/rootfs/etc/passwd" ]
	[ -d "$BUILD/rootfs/home/user" ]
}

# runc 1.5 masks a path listed twice once (compared cleaned), and the
# masked directories share one read-only tmpfs (one device number).
@test "mounts: maskedPaths masks each path once, and the directories share one tmpfs" {
	update_config '.linux.maskedPaths = ["/home", "/etc/passwd", "/root", "/home/", "//etc/passwd", "/tmp"]'
	sh_cmd 'for p in /home /root /tmp /etc/passwd; do
			echo "$p $(awk -v p=$p "\$5 == p" /proc/self/mountinfo | wc -l)"
		done
		awk "\$5 == \"/home\" || \$5 == \"/root\" || \$5 == \"/tmp\" { print \$3, \$6 }" /proc/self/mountinfo | sort -u'
	ctr mounts-masked-once
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/home 1" ]
	[ "${lines[1]}" = "/root 1" ]
	[ "${lines[2]}" = "/tmp 1" ]
	[ "${lines[3]}" = "/etc/passwd 1" ]
	# One device, read-only, for the three directories.
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[4]}" == *" ro,"* ]]
}

@test "mounts: readonlyPaths makes a writable mount read-only" {
	add_mount '{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}'
	add_mount '{"destination": "/root", "type": "tmpfs", "source": "tmpfs"}'
	update_config '.linux.readonlyPaths = ["/tmp", "/does/not/exist"]'
	sh_cmd 'touch /root/f && echo root-writable; touch /tmp/f'
	ctr mounts-readonly-paths
	[ "$status" -ne 0 ]
	# stdout and stderr may come in either order.
	[[ "$output" == *root-writable* ]]
	[[ "$output" == *"touch: /tmp/f: Read-only file system"* ]]
}

# A deliberate difference (README "Differences from runc"): without a
# mount namespace runc makes the mounts in the host's and leaves them
# there. We refuse them, and masked and read-only paths, naming the field
# and what to change.
@test "mounts: mounts, maskedPaths and readonlyPaths without a mount namespace are refused, naming the field" {
	requires sandbox
	update_config '.linux.namespaces -= [{"type": "mount"}] | .root.readonly = false
		| .linux.maskedPaths = [] | .linux.readonlyPaths = ["/proc/sys"] | .mounts = []'
	create_fails nomnt
	grep -q 'linux.readonlyPaths: unable to restrict sys entries without a private MNT namespace' "$BUNDLE/create.out"
	# (The text log format escapes the quotes.)
	sed 's/\\"/"/g' "$BUNDLE/create.out" | grep -qF 'add {"type": "mount"} to linux.namespaces'
	update_config '.linux.readonlyPaths = [] | .mounts = [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]'
	create_fails nomnt
	grep -q "mounts: need a mount namespace, or they would be made in the host's" "$BUNDLE/create.out"
	sed 's/\\"/"/g' "$BUNDLE/create.out" | grep -qF 'add {"type": "mount"} to linux.namespaces'
}

@test "mounts: /dev has the default devices and symlinks" {
	sh_cmd 'for d in null zero full random urandom tty; do
			stat -c "%n %F %t:%T %a" /dev/$d
		done
		for l in ptmx fd stdin stdout stderr; do
			echo "/dev/$l -> $(readlink /dev/$l)"
		done
		[ -c /dev/pts/ptmx ] && echo pts-ptmx
		echo x >/dev/full || true'
	ctr mounts-dev
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/dev/null character special file 1:3 666" ]
	[ "${lines[1]}" = "/dev/zero character special file 1:5 666" ]
	[ "${lines[2]}" = "/dev/full character special file 1:7 666" ]
	[ "${lines[3]}" = "/dev/random character special file 1:8 666" ]
	[ "${lines[4]}" = "/dev/urandom character special file 1:9 666" ]
	[ "${lines[5]}" = "/dev/tty character special file 5:0 666" ]
	[ "${lines[6]}" = "/dev/ptmx -> pts/ptmx" ]
	[ "${lines[7]}" = "/dev/fd -> /proc/self/fd" ]
	[ "${lines[8]}" = "/dev/stdin -> /proc/self/fd/0" ]
	[ "${lines[9]}" = "/dev/stdout -> /proc/self/fd/1" ]
	[ "${lines[10]}" = "/dev/stderr -> /proc/self/fd/2" ]
	[ "${lines[11]}" = pts-ptmx ]
	# /dev/full is the real thing (its error is on stderr, which may
	# come before or after stdout).
	[[ "$output" == *"No space left on device"* ]]
}

# runc mounts a tmpfs (and anything on /dev) read-write and makes it
# read-only at the end, once the mounts and device nodes beneath it exist
# (finalizeRootfs): a "ro" /dev must still get devpts, shm and its nodes.
@test "mounts: a read-only /dev tmpfs gets its submounts and nodes, then is read-only" {
	update_config '(.mounts[] | select(.destination == "/dev")).options += ["ro"]'
	sh_cmd 'awk "\$5 == \"/dev\" { split(\$6, o, \",\"); print o[1] }" /proc/self/mountinfo
		[ -c /dev/null ] && [ -c /dev/pts/ptmx ] && [ -L /dev/ptmx ] && echo nodes-made
		touch /dev/shm/f && echo shm-writable
		touch /dev/f || echo dev-refused'
	ctr mounts-ro-dev
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ro ]
	[ "${lines[1]}" = nodes-made ]
	[ "${lines[2]}" = shm-writable ]
	[[ "$output" == *"/dev/f: Read-only file system"* ]]
	[ "${lines[-1]}" = dev-refused ]
}

# A fifo may be given a major and minor (config-linux.md: "REQUIRED unless
# type is p"); they mean nothing for one.
@test "mounts: linux.devices makes nodes with the given mode, uid and gid" {
	update_config '.linux.devices = [
		{"path": "/dev/sr-null", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1000, "gid": 5},
		{"path": "/dev/sub/fifo", "type": "p", "major": 8, "minor": 666, "fileMode": 384, "uid": 0, "gid": 0}]'
	sh_cmd 'stat -c "%n %F %t:%T %a %u %g" /dev/sr-null /dev/sub/fifo'
	ctr mounts-devices
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/dev/sr-null character special file 1:3 640 1000 5" ]
	[ "${lines[1]}" = "/dev/sub/fifo fifo 0:0 600 0 0" ]
}

# root_propagation VALUE prints how the container's / propagates: shared,
# slave, private or unbindable. The rootfs is on a tmpfs of the test's own,
# made shared, so that the runtime's choice is visible: the host's mounts
# here are private, and a slave of a private mount is just private.
root_propagation() {
	update_config '.linux.rootfsPropagation = "'"$1"'"'
	sh_cmd 'awk "\$5 == \"/\"" /proc/self/mountinfo'
	run sr run --bundle "$BUNDLE" mounts-rootprop
	[ "$status" -eq 0 ] || { echo "rootfsPropagation \"$1\": status $status: $output" >&2; return 1; }
	case $output in
	*" shared:"*) echo shared ;;
	*" master:"*) echo slave ;;
	*" unbindable "*) echo unbindable ;;
	*) echo private ;;
	esac
}

@test "mounts: linux.rootfsPropagation sets the propagation of /" {
	mkdir "$BUNDLE/rootfs"
	host_mount -t tmpfs sr-bats-rootfs "$BUNDLE/rootfs"
	mount --make-shared "$BUNDLE/rootfs"
	cp -a "$BUILD/rootfs/." "$BUNDLE/rootfs/"
	update_config '.root.path = "rootfs"'
	local v got want bad=""
	# (runc 1.1 fails both unbindable values: it makes the host's
	# mounts unbindable before it binds the rootfs.)
	for v in "" slave rslave private rprivate shared rshared unbindable runbindable; do
		case $v in
		"" | rslave) want=slave ;;
		# Not recursive: these change the host's "/" alone, not the
		# mount holding the rootfs, which the runtime makes private
		# (runc does the same).
		slave | private | rprivate) want=private ;;
		*shared) want=shared ;;
		# Applied to the new root after the pivot.
		*unbindable) want=unbindable ;;
		esac
		got=$(root_propagation "$v" || echo "a failed container")
		echo "rootfsPropagation \"$v\": / is $got, want $want"
		[ "$got" = "$want" ] || bad=1
	done
	[ -z "$bad" ]
	# Nothing the containers mounted came back to the host.
	[ "$(grep -c " $BUNDLE/rootfs" /proc/self/mountinfo)" -eq 1 ]
}

@test "mounts: an unknown rootfsPropagation is refused" {
	update_config '.linux.rootfsPropagation = "sideways"'
	sh_cmd 'echo started'
	ctr mounts-badprop
	[ "$status" -ne 0 ]
	[[ "$output" != *started* ]]
	[[ "$output" == *sideways* ]]
}

@test "mounts: --no-pivot runs the container in its rootfs" {
	sh_cmd 'ls /bin/payload; ls -d /work /usr/local/go 2>&1 | grep -c "No such file"'
	ctr mounts-nopivot --no-pivot
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /bin/payload ]
	[ "${lines[1]}" = 2 ]
}
