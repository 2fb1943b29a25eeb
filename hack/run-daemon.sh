#!/usr/bin/env bash
# `make run`: the Quick Start's daemon container, on this machine's podman service,
# then the control plane's login URL.
set -euo pipefail

SOCKET=${DEVAIPOD_RUN_SOCKET:-/run/podman/podman.sock}
IMAGE=${DEVAIPOD_RUN_IMAGE:-ghcr.io/cgwalters/devaipod:latest}
CONFIG=${XDG_CONFIG_HOME:-$HOME/.config}/devaipod.toml
PODMAN=(podman --remote --url "unix://$SOCKET")

write_config() {
  [ -e "$CONFIG" ] && return
  mkdir -p "$(dirname "$CONFIG")"
  cat > "$CONFIG" <<'TOML'
# devaipod configuration: see man/devaipod.toml.5.md
# [trusted]
# secrets = ["ANTHROPIC_API_KEY=anthropic_api_key", "GH_TOKEN=gh_token"]
TOML
  echo "devaipod: wrote $CONFIG (edit it to add your LLM key as a podman secret)" >&2
}

login_url() {
  local i
  for i in $(seq 1 50); do
    if "${PODMAN[@]}" logs devaipod 2>/dev/null | grep -m1 -o 'http://[^ ]*/login?token=[^ ]*'; then
      return 0
    fi
    sleep 0.2
  done
  echo "devaipod: the control plane printed no login URL; see: podman logs devaipod" >&2
  return 1
}

main() {
  write_config
  "${PODMAN[@]}" volume exists devaipod-state || "${PODMAN[@]}" volume create devaipod-state >/dev/null
  # Debian's podman 4.3 rejects --add-host=...:host-gateway and adds host.containers.internal itself;
  # the control plane is published on this machine only (127.0.0.1), not on the network
  "${PODMAN[@]}" run -d --name devaipod --privileged --replace -p 127.0.0.1:8080:8080 \
    -v "$SOCKET:/run/docker.sock" -e "DEVAIPOD_HOST_SOCKET=$SOCKET" \
    -v devaipod-state:/var/lib/devaipod \
    -v "$CONFIG:/root/.config/devaipod.toml:ro" "$IMAGE" >/dev/null
  echo "devaipod: the control plane runs in the container 'devaipod'; open:" >&2
  login_url
}

main "$@"
