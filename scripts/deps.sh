#!/bin/bash
# deps.sh [test|demo|bench] - install the Debian packages a make target
# needs, only those missing. Runs as root (CI, the VM); with sudo otherwise.
set -euo pipefail
need=()
want() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q " installed" || need+=("$1"); }
want busybox-static
want jq
case "${1:-test}" in
  test) want bats; want runc; want iproute2; want libseccomp-dev; want uidmap; want strace
        # clients for tests/integration/{podman,containerd}.bats; script(1)
        # gives them a pty, unshare(1) containerd a private /run
        want podman; want conmon; want containerd; want bsdutils; want util-linux
        # checkpoint.bats (make integration-criu)
        want criu ;;
  demo) ;;
  bench) want hyperfine; want runc; want crun; want time ;;
esac
command -v go >/dev/null || { echo "deps: Go is required (golang is preinstalled on the project's machines: /usr/local/go)" >&2; exit 1; }
if ((${#need[@]})); then
  echo "deps: installing ${need[*]}" >&2
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
