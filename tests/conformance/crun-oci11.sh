#!/bin/bash
# tests/conformance/crun-oci11.sh - crun for comparison runs of the suite:
#
#   unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified &&
#       RUNTIME=$PWD/tests/conformance/crun-oci11.sh tests/conformance/run.sh'
#
# crun 1.8.1 (Debian 12) refuses any ociVersion past 1.1 with "unknown
# version specified", and runtime-tools writes 1.3.0, so every test would
# fail on that alone. On create and run this rewrites the bundle's
# config.json to ociVersion 1.1.0 (nothing the tests use is newer), then
# runs crun with the same arguments. crun also refuses hybrid cgroup
# hosts, hence the private mount namespace without the v2 mount.
CRUN=${CRUN:-/usr/bin/crun}
bundle=. verb=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	case ${args[i]} in
	--bundle | -b) bundle=${args[i + 1]} ;;
	--bundle=*) bundle=${args[i]#--bundle=} ;;
	create | run) [ -z "$verb" ] && verb=${args[i]} ;;
	esac
done
if [ -n "$verb" ] && [ -f "$bundle/config.json" ]; then
	# sed, not jq: jq would round 64-bit integers through doubles.
	sed -i -E '0,/"ociVersion": *"[^"]*"/s//"ociVersion":"1.1.0"/' "$bundle/config.json"
fi
exec "$CRUN" "$@"
