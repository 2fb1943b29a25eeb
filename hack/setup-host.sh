#!/usr/bin/env bash
# Idempotent host set-up for a fresh Debian 12 machine (run by `make`).
# Installs what devaipod and its tests need; extra package names may be
# given as arguments (e.g. `hack/setup-host.sh chromium`).
# Prints nothing when everything is already installed.
set -euo pipefail

PACKAGES=(podman runc uidmap slirp4netns fuse-overlayfs debootstrap tmux git
          go-md2man catatonit ripgrep curl ca-certificates
          docker-registry apache2-utils openssh-client)

# Print the packages from "$@" that are not installed.
missing_packages() {
    local pkg
    for pkg in "$@"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]]; then
            echo "$pkg"
        fi
    done
}

main() {
    local missing
    mapfile -t missing < <(missing_packages "${PACKAGES[@]}" "$@")
    ((${#missing[@]} == 0)) && return 0
    echo "setup-host: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
}

main "$@"
