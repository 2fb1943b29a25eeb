#!/usr/bin/env bash
# Ensure a rootful podman API service answers on /run/podman/podman.sock
# (for `make run`). Starts one, configured by hack/containers.conf, if
# nothing answers yet. Idempotent; prints one line saying what it did.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOCK=/run/podman/podman.sock
LOG=/run/podman/devaipod-service.log

answers() {
    podman --remote --url "unix://$SOCK" version >/dev/null 2>&1
}

start_service() {
    mkdir -p "$(dirname "$SOCK")"
    CONTAINERS_CONF="$HACK_DIR/containers.conf" setsid nohup \
        podman system service --time=0 "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
    local pid=$! i
    for ((i = 0; i < 50; i++)); do
        if answers; then
            echo "podman-service: started podman service (pid $pid) on $SOCK, log $LOG"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    echo "podman-service: podman service on $SOCK did not answer within 10 s; see $LOG" >&2
    return 1
}

main() {
    if answers; then
        echo "podman-service: podman service already answers on $SOCK"
    else
        start_service
    fi
}

main "$@"
