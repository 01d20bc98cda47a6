#!/bin/bash
# run.sh [HANDLER...] - the Kubernetes CRI validation suite (critest,
# sigs.k8s.io/cri-tools, the version in go.mod) against Debian's
# containerd, once per runtime handler (default: runc, then
# sandbox-runtime), in the same containerd. Root. The last lines compare:
# every spec that passes with runc must pass with sandbox-runtime, and
# every spec that fails for both must be listed in known-failures. Exit
# status 0 only then.
#
# Offline: images.sh builds the images critest pulls (tests/build/
# critest-images); a docker-registry on 127.0.0.1:5000 serves them and
# containerd's registry mirrors (config_path hosts.toml) send
# registry.k8s.io, k8s.gcr.io and gcr.io there. Everything runs in a
# network, IPC and mount namespace of its own (unshare): the registry,
# containerd (CRI plugin, CNI bridge 10.88.0.0/16 with host-local and
# portmap), the shims, every pod's network namespace and critest, which
# must reach the pods and containerd's streaming server. A tmpfs over /run
# keeps the shims' sockets (containerd 1.6 puts them in /run/containerd)
# and the pods' /run/netns off the host. containerd's root and state,
# each handler's runtime --root, the logs, the JUnit reports and critest's
# temporary directories are in $W (/tmp/sr-critest.XXXXXX), removed at the
# end unless KEEP=1. critest's pods get the cgroup parent /test.slice
# (containerd 1.6 has no RuntimeConfig call, so critest takes the systemd
# default), which containerd 1.6 turns into the cgroupsPath
# test.slice:cri-containerd:ID whatever the driver: with cgroupfs, runc
# and sandbox-runtime alike take it as a path relative to their own
# cgroup (/sys/fs/cgroup/CONTROLLER/test.slice:cri-containerd:ID here).
#
# Environment: CRITEST_FOCUS / CRITEST_SKIP (ginkgo regexps) narrow the
# run; CRITEST_TIMEOUT (default 60m) bounds each handler's run.
# SR_BINARY and RUNC_BINARY (default: the built sandbox-runtime, Debian's
# runc) are the handlers' BinaryName: a wrapper that times each call,
# for instance. Containers of a pod's sandbox (pause) get cpu.shares 2
# from containerd: on a loaded host their create and start take seconds,
# with either runtime.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD="$REPO/tests/build"
CRITEST="$BUILD/critest"
IMAGES="$BUILD/critest-images"

if [ "${1:-}" != --inner ]; then
	[ "$(id -u)" = 0 ] || { echo "critest: needs root" >&2; exit 1; }
	for c in containerd docker-registry skopeo umoci unshare ip iptables; do
		command -v "$c" >/dev/null || { echo "critest: $c missing (scripts/deps.sh critest)" >&2; exit 1; }
	done
	[ -x "$REPO/sandbox-runtime" ] || { echo "critest: make build first" >&2; exit 1; }
	if [ ! -x "$CRITEST" ] || [ "$HERE/go.mod" -nt "$CRITEST" ]; then
		echo "critest: building $(grep cri-tools "$HERE/go.mod" | xargs) (a few minutes the first time)" >&2
		(cd "$HERE" && go test -c -o "$CRITEST" sigs.k8s.io/cri-tools/cmd/critest)
	fi
	if [ ! -s "$IMAGES/refs" ] || [ "$HERE/images.sh" -nt "$IMAGES/refs" ]; then
		"$HERE/images.sh" "$IMAGES" >/dev/null
	fi
	(cd "$HERE" && go build -o "$BUILD/critest-compare" ./cmd/compare)
	W=$(mktemp -d /tmp/sr-critest.XXXXXX)
	rc=0
	unshare --net --ipc --mount --propagation private --fork "$0" --inner "$W" "$@" || rc=$?
	# The namespaces are gone with the inner script; what it could leave
	# is in cgroups and $W.
	# (the containers' cgroups: see test.slice above; depth 4 reaches a
	# caller's nested cgroup)
	find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -depth -type d -name 'test.slice:cri-containerd:*' -exec rmdir {} + 2>/dev/null || true
	if [ "${KEEP:-}" = 1 ]; then echo "critest: kept $W" >&2; else rm -rf "$W"; fi
	exit $rc
fi

W=$2
shift 2
HANDLERS=("$@")
[ ${#HANDLERS[@]} -gt 0 ] || HANDLERS=(runc sandbox-runtime)
mount -t tmpfs -o mode=755 sr-critest-run /run
ip link set lo up

cleanup() {
	set +e
	# Every task containerd knows, then containerd, then whatever else
	# lives in this network namespace (the registry, the shims).
	if [ -S "$W/containerd.sock" ]; then
		for id in $(ctr -a "$W/containerd.sock" -n k8s.io task ls -q 2>/dev/null); do
			ctr -a "$W/containerd.sock" -n k8s.io task kill -a -s SIGKILL "$id" >/dev/null 2>&1
		done
		sleep 1
		for id in $(ctr -a "$W/containerd.sock" -n k8s.io task ls -q 2>/dev/null); do
			ctr -a "$W/containerd.sock" -n k8s.io task delete --force "$id" >/dev/null 2>&1
		done
	fi
	local me p
	me=$(readlink /proc/self/ns/net)
	for p in /proc/[0-9]*; do
		case "${p#/proc/}" in $$ | $PPID) continue ;; esac
		[ "$(readlink "$p/ns/net" 2>/dev/null)" = "$me" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	sleep 0.5
}
trap cleanup EXIT

# The registry, and the images in it.
cat >"$W/registry.yml" <<-EOF2
	version: 0.1
	log: {level: warn}
	storage:
	  filesystem: {rootdirectory: $W/registry}
	  delete: {enabled: true}
	http: {addr: "127.0.0.1:5000"}
EOF2
docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 </dev/null & disown
for i in $(seq 50); do
	wget -q -O /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && break
	busybox wget -q -O /dev/null http://127.0.0.1:5000/v2/ 2>/dev/null && break
	sleep 0.2
done
while read -r tag ref; do
	skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$IMAGES:$tag" "docker://127.0.0.1:5000/$ref"
done <"$IMAGES/refs"

for h in registry.k8s.io k8s.gcr.io gcr.io; do
	mkdir -p "$W/certs.d/$h"
	cat >"$W/certs.d/$h/hosts.toml" <<-EOF2
		server = "https://$h"
		[host."http://127.0.0.1:5000"]
		  capabilities = ["pull", "resolve"]
	EOF2
done

mkdir -p "$W/net.d" "$W/tmp"
cat >"$W/net.d/10-critest.conflist" <<-EOF2
	{
	  "cniVersion": "0.4.0",
	  "name": "critest",
	  "plugins": [
	    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
	     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]],
	              "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$W/cni-ipam"}},
	    {"type": "portmap", "capabilities": {"portMappings": true}}
	  ]
	}
EOF2

# The configuration docs/clients.md shows, each handler with a --root
# of its own under $W.
cat >"$W/config.toml" <<-EOF2
	version = 2
	root = "$W/root"
	state = "$W/state"
	[grpc]
	  address = "$W/containerd.sock"
	[ttrpc]
	  address = "$W/containerd.sock.ttrpc"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$W/opt"
	[plugins."io.containerd.grpc.v1.cri"]
	  sandbox_image = "registry.k8s.io/pause:3.6"
	  stream_server_address = "127.0.0.1"
	  disable_apparmor = true
	  # This machine's root lacks CAP_SYS_RESOURCE, so nothing may lower its
	  # oom_score_adj (the pause container asks for -998): containerd clamps
	  # the value to its own.
	  restrict_oom_score_adj = true
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "/usr/lib/cni"
	    conf_dir = "$W/net.d"
	  [plugins."io.containerd.grpc.v1.cri".registry]
	    config_path = "$W/certs.d"
	  [plugins."io.containerd.grpc.v1.cri".containerd]
	    default_runtime_name = "runc"
	  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
	    runtime_type = "io.containerd.runc.v2"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
	      BinaryName = "${RUNC_BINARY:-$(command -v runc)}"
	      Root = "$W/runc"
	      SystemdCgroup = false
	  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sandbox-runtime]
	    runtime_type = "io.containerd.runc.v2"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sandbox-runtime.options]
	      BinaryName = "${SR_BINARY:-$REPO/sandbox-runtime}"
	      Root = "$W/sandbox-runtime"
	      SystemdCgroup = false
EOF2
containerd --config "$W/config.toml" >"$W/containerd.log" 2>&1 </dev/null & disown
for i in $(seq 100); do
	ctr -a "$W/containerd.sock" version >/dev/null 2>&1 && break
	sleep 0.2
done

for h in "${HANDLERS[@]}"; do
	echo "critest: handler $h (log: $W/critest-$h.log)" >&2
	TMPDIR="$W/tmp" "$CRITEST" \
		-runtime-endpoint "unix://$W/containerd.sock" -image-endpoint "unix://$W/containerd.sock" \
		-runtime-handler "$h" \
		-ginkgo.no-color -ginkgo.timeout "${CRITEST_TIMEOUT:-60m}" \
		-ginkgo.junit-report "$W/junit-$h.xml" \
		${CRITEST_FOCUS:+-ginkgo.focus "$CRITEST_FOCUS"} ${CRITEST_SKIP:+-ginkgo.skip "$CRITEST_SKIP"} \
		>"$W/critest-$h.log" 2>&1 </dev/null || true
	mkdir -p "$BUILD/critest-results"
	cp "$W/junit-$h.xml" "$W/critest-$h.log" "$BUILD/critest-results/" 2>/dev/null || true
done
cp "$W/containerd.log" "$BUILD/critest-results/" 2>/dev/null || true
"$BUILD/critest-compare" "$HERE/known-failures" "$BUILD/critest-results" "${HANDLERS[@]}"
