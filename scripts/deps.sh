#!/bin/bash
# deps.sh [test|unit|demo|bench|critest] - install the Debian packages a make target
# needs, only those missing. Runs as root (CI, the VM); with sudo otherwise.
set -euo pipefail
need=()
want() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q " installed" || need+=("$1"); }
# The runtime itself builds without C (CGO_ENABLED=0): only the tests
# need a C toolchain (below).
# The test rootfs and the demo's: busybox-static; bats helpers and the
# demo edit configs with jq.
want busybox-static
want jq
case "${1:-test}" in
  test | unit)
        # a C toolchain and libseccomp: the seccomp compiler's tests hold
        # it to libseccomp (reference_test.go, through libseccomp-golang:
        # cgo, with pkg-config for its flags), and the notify listener
        # helper links it. A fresh Debian 12 has none of them.
        want gcc; want libc6-dev; want pkgconf; want libseccomp-dev
        # qemu-user: make unit runs libsandbox/sigcatch's tests built
        # for arm64 too (its signal handler is assembly, one per arch)
        want qemu-user-static ;;&
  unit) ;;
  test) want bats; want runc; want iproute2; want uidmap; want strace
        # clients for tests/integration/{podman,containerd}.bats; script(1)
        # gives them a pty, unshare(1) containerd a private /run
        want podman; want conmon; want containerd; want bsdutils; want util-linux
        # rootless-clients.bats: rootless podman's default network, and
        # containerd's rootless mode (rootlesskit); setpriv is util-linux's
        want slirp4netns; want rootlesskit
        # checkpoint.bats (make integration-criu)
        want criu
        # tests/integration/docker.bats: dockerd and its client
        want docker.io ;;
  critest)
        # tests/critest/run.sh: containerd with CRI, CNI plugins, a loopback
        # registry, the tools that build and push the test images
        want containerd; want containernetworking-plugins; want iptables; want iproute2
        want docker-registry; want skopeo; want umoci; want util-linux; want runc ;;
  # tests/demo.sh needs nothing more: coreutils, sed, findutils and
  # hostname are in every Debian system (Priority: required).
  demo) ;;
  bench) want hyperfine; want runc; want crun; want time ;;
esac
command -v go >/dev/null || { echo "deps: Go is required (golang is preinstalled on the project's machines: /usr/local/go)" >&2; exit 1; }
if ((${#need[@]})); then
  echo "deps: installing ${need[*]}" >&2
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # docker.io and docker-registry start their daemons on install unless
  # policy-rc.d says no (Debian's invoke-rc.d); the tests start their own.
  nostart=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    nostart=1
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || { [ -z "$nostart" ] || $SUDO rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -z "$nostart" ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi
