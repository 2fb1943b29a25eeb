#!/usr/bin/env bash
# Build devaipod's container images into the machine's default podman storage:
#   localhost/devaipod-base:bookworm   debootstrap'd Debian 12, also tagged
#                                      docker.io/library/debian:bookworm-slim
#   localhost/devaipod:latest          ./Containerfile (also ghcr.io/cgwalters/devaipod:latest)
#   localhost/devaipod-devenv:latest   images/devenv/Containerfile + OpenCode
# Each image carries the label io.devaipod.image-key = sha256 of its inputs;
# an image whose label already matches is not rebuilt. No registry is needed.
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/devaipod"
LOG_DIR="$CACHE_DIR/logs"
export CONTAINERS_CONF="$ROOT/hack/containers.conf"
KEY_LABEL=io.devaipod.image-key
HOST_CA=/etc/ssl/certs/ca-certificates.crt

BASE_IMAGE=localhost/devaipod-base:bookworm
DEBIAN_TAG=docker.io/library/debian:bookworm-slim
BASE_PACKAGES=git,ca-certificates,tmux,curl,python3,ripgrep,bash,procps,less,openssh-sftp-server
DEVAIPOD_TAGS=(localhost/devaipod:latest ghcr.io/cgwalters/devaipod:latest)
DEVENV_IMAGE=localhost/devaipod-devenv:latest
OPENCODE_VERSION=1.18.33

STEP="" STEP_LOG=""

on_exit() {
    local rc=$?
    if ((rc != 0)) && [[ -n $STEP ]]; then
        [[ -s $STEP_LOG ]] && tail -n 15 "$STEP_LOG" >&2
        echo "build-images: $STEP failed (exit $rc); full log: $STEP_LOG" >&2
    elif ((rc != 0)); then
        echo "build-images: failed (exit $rc)" >&2
    fi
}

# sha256 over the inputs: existing files and directories by path and content
# (skipping Python caches and egg-info, as .containerignore does), anything else as a literal string.
inputs_key() {
    local item
    for item in "$@"; do
        if [[ -d $item ]]; then
            find "$item" -type f ! -path '*/__pycache__/*' ! -path '*.egg-info/*' \
                ! -name '*.py[co]' -print0 \
                | LC_ALL=C sort -z | xargs -0 -r sha256sum
        elif [[ -f $item ]]; then
            sha256sum "$item"
        else
            printf '%s\n' "$item"
        fi
    done | sha256sum | cut -d' ' -f1
}

image_key() {
    podman image inspect --format "{{index .Labels \"$KEY_LABEL\"}}" "$1" 2>/dev/null || true
}

# After a rebuild, remove the untagged images of the build it replaced (they
# carry its key: its final image and its build stages), unless this build
# reused them from the layer cache.
remove_replaced() {
    local old_key=$1 id
    [[ -n $old_key ]] || return 0
    for id in $(podman images -q --no-trunc --filter dangling=true \
        --filter "label=$KEY_LABEL=$old_key"); do
        grep -q "Using cache ${id#sha256:}" "$STEP_LOG" || podman rmi "$id" >/dev/null 2>&1 || true
    done
}

# ensure_image IMAGE KEY FUNCTION ARGS...: run FUNCTION ARGS (which must
# produce IMAGE labelled with KEY) unless IMAGE already has KEY.
ensure_image() {
    local image=$1 key=$2 start=$EPOCHREALTIME old_key
    shift 2
    old_key="$(image_key "$image")"
    if [[ $old_key == "$key" ]]; then
        printf '%s: up to date (%.1fs)\n' "$image" "$(elapsed "$start")" >&2
        return 0
    fi
    STEP="building $image" STEP_LOG="$LOG_DIR/${image//[\/:]/_}.log"
    "$@" >"$STEP_LOG" 2>&1
    STEP=""
    remove_replaced "$old_key"
    printf '%s: built (%.1fs)\n' "$image" "$(elapsed "$start")" >&2
}

elapsed() {
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }'
}

# --- base ------------------------------------------------------------------

# Make the rootfs of a Debian 12 with $BASE_PACKAGES, configured like
# debian:bookworm-slim (apt sources, no docs, no apt caches), as tarball $1.
make_base_tar() {
    local tar=$1 dir="$CACHE_DIR/rootfs.tmp"
    rm -rf "$dir" "$tar.tmp"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$dir"
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
        "$dir"/etc/apt/sources.list "$dir"/etc/resolv.conf "$dir"/etc/hostname \
        "$dir"/usr/share/{man,info,locale}/*
    find "$dir"/usr/share/doc -mindepth 2 ! -name copyright ! -type d -delete
    cat >"$dir/etc/apt/sources.list.d/debian.sources" <<-EOT
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb
	URIs: http://deb.debian.org/debian-security
	Suites: bookworm-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOT
    cat >"$dir/etc/dpkg/dpkg.cfg.d/slim" <<-EOT
	path-exclude /usr/share/doc/*
	path-include /usr/share/doc/*/copyright
	path-exclude /usr/share/man/*
	path-exclude /usr/share/info/*
	path-exclude /usr/share/locale/*
	EOT
    cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<-'EOT'
	DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
	APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
	Dir::Cache::pkgcache "";
	Dir::Cache::srcpkgcache "";
	EOT
    tar --numeric-owner -C "$dir" -cf "$tar.tmp" .
    rm -rf "$dir" "$CACHE_DIR"/base-*.tar
    mv "$tar.tmp" "$tar"
}

build_base() {
    local key=$1 tar="$CACHE_DIR/base-$1.tar"
    [[ -f $tar ]] || make_base_tar "$tar"
    podman import --change 'CMD ["/bin/bash"]' --change "LABEL $KEY_LABEL=$key" \
        "$tar" "$BASE_IMAGE"
    podman tag "$BASE_IMAGE" "$DEBIAN_TAG"
}

# --- devaipod ----------------------------------------------------------------

build_devaipod() {
    local key=$1 tags=() tag ca_args=()
    for tag in "${DEVAIPOD_TAGS[@]}"; do tags+=(--tag "$tag"); done
    if [[ -f $HOST_CA ]]; then
        ca_args=(--volume "$HOST_CA:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
    fi
    podman build --pull=never --label "$KEY_LABEL=$key" "${ca_args[@]}" "${tags[@]}" \
        -f "$ROOT/Containerfile" "$ROOT"
}

# --- devenv ------------------------------------------------------------------

# Print the path of the OpenCode binary, fetched once from npm into the cache.
opencode_binary() {
    local dir="$CACHE_DIR/opencode-$OPENCODE_VERSION"
    if [[ ! -x $dir/opencode ]]; then
        rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
        npm pack --silent --pack-destination "$dir.tmp" "opencode-linux-x64@$OPENCODE_VERSION" >&2
        tar -xzf "$dir.tmp"/opencode-linux-x64-*.tgz -C "$dir.tmp" package/bin/opencode
        mv "$dir.tmp/package/bin/opencode" "$dir.tmp/opencode"
        rm -rf "$dir.tmp/package" "$dir.tmp"/*.tgz
        [[ "$("$dir.tmp/opencode" --version)" == "$OPENCODE_VERSION" ]]
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
    fi
    echo "$dir/opencode"
}

build_devenv() {
    local key=$1 ctx="$CACHE_DIR/devenv-context" binary
    binary="$(opencode_binary)"
    rm -rf "$ctx" && cp -a "$ROOT/images/devenv" "$ctx"
    ln "$binary" "$ctx/opencode" 2>/dev/null || cp "$binary" "$ctx/opencode"
    podman build --pull=never --label "$KEY_LABEL=$key" --tag "$DEVENV_IMAGE" "$ctx"
    rm -rf "$ctx"
}

main() {
    local base_key devaipod_key devenv_key
    mkdir -p "$LOG_DIR"
    exec 9>"$CACHE_DIR/build-images.lock"
    flock 9
    trap on_exit EXIT
    cd "$ROOT"

    # The base's recipe is part of its key: editing make_base_tar rebuilds it.
    base_key="$(inputs_key "$BASE_PACKAGES" "$(declare -f make_base_tar)")"
    ensure_image "$BASE_IMAGE" "$base_key" build_base "$base_key"

    devaipod_key="$(inputs_key "$base_key" Containerfile .containerignore pyproject.toml \
        README.md lib web)"
    ensure_image "${DEVAIPOD_TAGS[0]}" "$devaipod_key" build_devaipod "$devaipod_key"
    podman tag "${DEVAIPOD_TAGS[0]}" "${DEVAIPOD_TAGS[@]:1}"

    devenv_key="$(inputs_key "$base_key" "opencode-linux-x64@$OPENCODE_VERSION" images/devenv)"
    ensure_image "$DEVENV_IMAGE" "$devenv_key" build_devenv "$devenv_key"

}

main "$@"
