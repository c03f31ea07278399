#!/usr/bin/env bash
# Time a new user's `make run` on a clean checkout: clone, create the virtualenv, install,
# migrate, seed the demo data, and wait for the first page. Usage: bench/fresh_start.sh [port]
set -euo pipefail

port=${1:-8765}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'kill -- -$pid 2>/dev/null || true; rm -rf "$work"' EXIT

git clone --quiet "$repo" "$work/leadnexus"
cd "$work/leadnexus"
started=$(date +%s.%N)
setsid make run PORT="$port" > "$work/run.log" 2>&1 &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/"; do
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$work/run.log"
        exit 1
    fi
    sleep 0.5
done
printf 'make run on a fresh clone: first page after %.1f s\n' "$(echo "$(date +%s.%N) - $started" | bc)"
