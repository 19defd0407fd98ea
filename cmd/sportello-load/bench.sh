#!/usr/bin/env bash
# bench.sh — the load benchmark of the README: builds sportello and sportello-load, runs dev mode
# on the memory store, loads it, then again on Redis (a redis-server of its own on a free
# port), prints both tables and stops everything it started.
#
# Usage: cmd/sportello-load/bench.sh [sportello-load flags...]
#   e.g. cmd/sportello-load/bench.sh --duration 10s --users 8
# Environment: BENCH_DIR keeps the binaries, logs and data there (default: a temporary
# directory, removed at the end). Needs go, curl and redis-server (apt-get install -y redis-server).
# Only loopback addresses are used.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=${BENCH_DIR:-$(mktemp -d)}
keep=${BENCH_DIR:+yes}
mkdir -p "$work"
pids=()

cleanup() {
	for p in "${pids[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	[ -z "$keep" ] && rm -rf "$work"
	return 0
}
trap cleanup EXIT INT TERM

# free_port prints a port nothing listens on (checked with bash's /dev/tcp), below the
# kernel's ephemeral range so no outgoing connection holds it.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "no free port" >&2
	return 1
}

# wait_http URL PID: wait until URL answers 2xx, or PID exits, or 60 s pass.
wait_http() {
	for _ in $(seq 1 600); do
		curl -sf -o /dev/null "$1" && return 0
		kill -0 "$2" 2>/dev/null || { echo "sportello exited before answering $1" >&2; return 1; }
		sleep 0.1
	done
	echo "timed out waiting for $1" >&2
	return 1
}

echo "building into $work" >&2
go build -o "$work/sportello" ./cmd/sportello
# sportello-load is a module of its own: build it from its directory (with or without go.work).
(cd cmd/sportello-load && go build -o "$work/sportello-load" .)

# run_bench NAME [sportello dev flags...]: start dev mode, load it, stop it.
run_bench() {
	local name=$1
	shift
	local http mtls pid
	http=$(free_port)
	mtls=$(free_port)
	"$work/sportello" dev --http "127.0.0.1:$http" --mtls "127.0.0.1:$mtls" --data "$work/data-$name" \
		--testdata "$root/testdata" "$@" >"$work/sportello-$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	if ! wait_http "http://127.0.0.1:$http/readyz" "$pid"; then
		tail -5 "$work/sportello-$name.log" >&2
		return 1
	fi
	echo "== $name ==" >&2
	local rc=0
	"$work/sportello-load" --target "http://127.0.0.1:$http" --testdata "$root/testdata" --markdown "${load_args[@]}" \
		>"$work/table-$name.md" || rc=$?
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	return $rc
}

# 16 users saturate two cores; --paced re-runs the API scenarios at 80 % of the rate they
# reached, for the p99 targets of the README's performance section. Flags given to bench.sh
# come last and win.
load_args=(--users 16 --paced 0.8 "$@")
status=0
run_bench memory || status=$?

redis_up=
for _ in 1 2 3 4 5; do
	redis_port=$(free_port)
	redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
	redis_pid=$!
	for _ in $(seq 1 50); do
		if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then redis_up=yes; break; fi
		kill -0 "$redis_pid" 2>/dev/null || break # exited: port taken, try another
		sleep 0.1
	done
	[ -n "$redis_up" ] && break
	kill "$redis_pid" 2>/dev/null || true
done
[ -n "$redis_up" ] || { echo "redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
pids+=("$redis_pid")
run_bench redis --redis "redis://127.0.0.1:$redis_port" || status=$?

echo
echo "### Memory store"
cat "$work/table-memory.md"
echo
echo "### Redis ($(redis-server --version | awk '{print $3}'), local, no persistence)"
cat "$work/table-redis.md"
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | awk '{print $3}'); load generator on the same machine"
exit $status
