#!/bin/bash
# images.sh LAYOUT - build, offline, the images critest pulls by name, as
# one OCI image layout (umoci) with a tag per image, and write
# LAYOUT/refs: "TAG REPOSITORY:TAG" lines telling run.sh where to push
# each (the path of the upstream name; containerd's registry mirrors map
# registry.k8s.io, k8s.gcr.io and gcr.io to the loopback registry).
#
# Every image is busybox-static plus what the upstream image gives the
# tests: the users and groups of cri-tools' images/image-user and
# image-predefined-group, a file named after the image in the image-test
# ones (so that different names are different images), cmd/nginx as the
# web server where upstream has nginx or Apache, pgrep and ipcs, a setuid
# root program printing the effective uid for nonewprivs, and a Go pause.
# The digest-pinned test-image-digest cannot be rebuilt with upstream's
# digest: known-failures lists the spec that pulls it.
set -euo pipefail
L=$1
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/sr-critest-img.XXXXXX)
trap 'rm -rf "$W"' EXIT
rm -rf "$L"
umoci init --layout "$L"
: >"$L/refs"

(cd "$HERE" && for p in pause nnp nginx; do CGO_ENABLED=0 go build -trimpath -o "$W/$p" ./cmd/$p || exit 1; done)

# layer DIR TARFILE: a tar of DIR's tree, owned by root unless the tree
# says otherwise (numeric ids as they are on disk).
layer() { tar --numeric-owner -C "$1" -cf "$2" .; }

# The base: busybox-static, its applets as hard links (as in upstream's
# busybox image: masking /bin/ls, a MaskedPaths spec, must not mask
# busybox), the usual files.
B="$W/base"
mkdir -p "$B"/{bin,dev,etc,proc,sys,tmp,root,var/run,var/www,home}
cp /bin/busybox "$B/bin/busybox"
for a in $("$B/bin/busybox" --list); do
	[ "$a" = busybox ] || ln "$B/bin/busybox" "$B/bin/$a"
done
cat >"$B/etc/passwd" <<-'P'
	root:x:0:0:root:/root:/bin/sh
	daemon:x:1:1:daemon:/usr/sbin:/bin/false
	www-data:x:33:33:www-data:/var/www:/bin/false
	nobody:x:65534:65534:nobody:/home:/bin/false
P
cat >"$B/etc/group" <<-'G'
	root:x:0:
	daemon:x:1:
	tty:x:5:
	www-data:x:33:
	nogroup:x:65534:
G
chmod 1777 "$B/tmp"
# Debian's busybox has neither pgrep (critest runs `pgrep sleep`) nor ipcs
# (`ipcs -m`, whose output must name the segments of the IPC namespace).
mkdir -p "$B/usr/bin"
cat >"$B/usr/bin/pgrep" <<-'S'
	#!/bin/sh
	# pgrep NAME: the pids of processes whose name contains NAME.
	st=1
	for p in /proc/[0-9]*; do
		read -r c <"$p/comm" 2>/dev/null || continue
		case "$c" in *"$1"*) echo "${p#/proc/}"; st=0 ;; esac
	done
	exit $st
S
chmod 755 "$B/usr/bin/pgrep"
cat >"$B/usr/bin/ipcs" <<-'S'
	#!/bin/sh
	# ipcs -m: the shared memory segments, as the kernel lists them.
	cat /proc/sysvipc/shm
S
chmod 755 "$B/usr/bin/ipcs"
layer "$B" "$W/base.tar"

# image TAG REF [umoci config options...]: the base, plus the extra layer
# $EXTRA if set, with sh as the default command unless the options set one.
image() {
	local tag=$1 ref=$2
	shift 2
	umoci new --image "$L:$tag"
	umoci raw add-layer --image "$L:$tag" "$W/base.tar"
	if [ -n "${EXTRA:-}" ]; then
		layer "$EXTRA" "$W/extra.tar"
		umoci raw add-layer --image "$L:$tag" "$W/extra.tar"
	fi
	# umoci adds --config.cmd words to the ones set before: sh only when
	# the image names no command of its own.
	local cmd=(--config.cmd sh)
	case " $* " in *" --config.cmd "* | *" --config.entrypoint "*) cmd=() ;; esac
	umoci config --image "$L:$tag" "${cmd[@]}" --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	echo "$tag $ref" >>"$L/refs"
}
# alias TAG REF: one more name for an image built already.
alias() { echo "$1 $2" >>"$L/refs"; }
# extra: a fresh directory for the next image's own layer.
extra() { EXTRA="$W/x-$1"; rm -rf "$EXTRA"; mkdir -p "$EXTRA"; }

E2E=e2e-test-images
CRI=k8s-staging-cri-tools

EXTRA= image busybox "$E2E/busybox:1.29-2"

extra pause; cp "$W/pause" "$EXTRA/pause"
image pause36 pause:3.6 --config.entrypoint /pause
# A different image under 3.9 (critest pulls and removes it, by both
# upstream names): removing it must not touch the sandbox image.
image pause39 pause:3.9 --config.entrypoint /pause --config.label critest=pause-3.9

for t in test-image-1 test-image-2 test-image-3 test-image-latest; do
	extra "$t"; : >"$EXTRA/$t"
	image "$t" "$CRI/$t:latest"
done
extra test-image-tags; : >"$EXTRA/test-image-tags"
image test-image-tags "$CRI/test-image-tags:1"
alias test-image-tags "$CRI/test-image-tags:2"
alias test-image-tags "$CRI/test-image-tags:3"
extra test-image-tag; : >"$EXTRA/test-image-tag"
image test-image-tag "$CRI/test-image-tag:test"
alias test-image-tag "$CRI/test-image-tag:all"

EXTRA=
image user-uid "$CRI/test-image-user-uid:latest" --config.user 1002
image user-username "$CRI/test-image-user-username:latest" --config.user www-data
image user-uid-group "$CRI/test-image-user-uid-group:latest" --config.user 1003:1004
image user-username-group "$CRI/test-image-user-username-group:latest" --config.user www-data:1004

extra predefined; mkdir -p "$EXTRA/etc" "$EXTRA/home/default-user"
sed '$a default-user:x:1000:1000::/home/default-user:/bin/sh' "$B/etc/passwd" >"$EXTRA/etc/passwd"
sed '$a default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user' "$B/etc/group" >"$EXTRA/etc/group"
chown 1000:1000 "$EXTRA/home/default-user"
image predefined-group "$CRI/test-image-predefined-group:latest" --config.user 1000

extra nnp; cp "$W/nnp" "$EXTRA/nnp"; chmod 4755 "$EXTRA/nnp"
image nonewprivs "$E2E/nonewprivs:1.3" --config.entrypoint /nnp

# web servers: cmd/nginx on the port upstream's image listens on.
webserver() {
	local tag=$1 ref=$2 port=$3
	extra "$tag"; mkdir -p "$EXTRA/usr/sbin"; cp "$W/nginx" "$EXTRA/usr/sbin/nginx"
	image "$tag" "$ref" --config.entrypoint /usr/sbin/nginx \
		--config.cmd "-port=$port" --config.exposedports "$port/tcp"
}
webserver nginx "$E2E/nginx:1.14-2" 80
webserver httpd "$E2E/httpd:2.4.39-4" 80
webserver hostnet-nginx "$CRI/hostnet-nginx-$(go env GOARCH):latest" 12003
umoci gc --layout "$L"
