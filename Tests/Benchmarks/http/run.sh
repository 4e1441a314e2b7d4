#!/usr/bin/env bash
# HTTP benchmark: requests/s and p99 latency of `GET /healthz` on Tiaoyu's release build against Debian's nginx
# serving a small static file, in the same run, same machine, same wrk settings (keep-alive, 64 connections).
# Two modes, each a set of alternating rounds:
#   pinned: each server on CPU 0 and wrk on CPU 1 (when the machine has two or more CPUs), nginx with
#           worker_processes 1: one core each, the server's cost per request decides.
#   all:    nothing pinned, every core for everyone, nginx with worker_processes auto (Debian's default).
# Besides req/s and p99 it prints the server's CPU time per request (user + system, all threads and workers, from
# /proc) and context switches per request: on a machine shared with other jobs these move far less than req/s.
#   Tests/Benchmarks/http/run.sh [--mode both|pinned|all] [--duration 10] [--rounds 3] [--connections 64]
# Needs: wrk, nginx (Deploy/setup.sh installs both). Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/../../.."

mode=both duration=10 rounds=3 connections=64
while [ $# -gt 0 ]; do
    case "$1" in
        --mode) mode=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$mode" in both) modes="pinned all" ;; pinned|all) modes=$mode ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac

swift build -c release --product tiaoyu >/dev/null
bin=$(swift build -c release --show-bin-path)/tiaoyu
work=$(mktemp -d)
chmod 755 "$work"  # nginx workers run as www-data and must read the file
stop_servers() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }
trap 'stop_servers; rm -rf "$work"' EXIT
printf '{"status":"ok"}' > "$work/healthz"
ours_port=18480 nginx_port=18481
ticks=$(getconf CLK_TCK)

# CPU ticks (user + system) and context switches of a process and its children (nginx's workers).
usage() {
    local ticks_sum=0 switches=0 p
    for p in $1 $(pgrep -P "$1" || true); do
        ticks_sum=$((ticks_sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
        switches=$((switches + $(cat /proc/"$p"/task/*/status 2>/dev/null \
            | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }')))
    done
    echo "$ticks_sum $switches"
}

measure() {  # pid url -> "rps p99_ms cpu_us_per_request switches_per_request"
    local t0 c0 t1 c1 out
    read -r t0 c0 < <(usage "$1")
    out=$($client_cpu wrk -t1 -c"$connections" -d"${duration}s" --latency "$2")
    read -r t1 c1 < <(usage "$1")
    echo "$out" | awk -v dt=$((t1 - t0)) -v dc=$((c1 - c0)) -v hz="$ticks" '
        /Requests\/sec/ { rps = $2 }
        / requests in / { n = $1 }
        /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) }
                   else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; p99 = v }
        END { printf "%s %s %.1f %.2f\n", rps, p99, dt / hz * 1e6 / n, dc / n }'
}

run_mode() {  # pinned | all
    local server_cpu="" workers=auto round ours_pid nginx_pid
    client_cpu=""
    if [ "$1" = pinned ]; then
        workers=1
        if [ "$(nproc)" -ge 2 ]; then server_cpu="taskset -c 0"; client_cpu="taskset -c 1"; fi
    fi
    cat > "$work/nginx.conf" <<CONF
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000;
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz { root $work; default_type application/json; }
    }
}
CONF
    # Our access log would be a line per request; nginx runs with access_log off, so ours logs warnings only.
    $server_cpu "$bin" serve --host 127.0.0.1 --port $ours_port --log-level warning &
    ours_pid=$!
    $server_cpu nginx -c "$work/nginx.conf" -g 'daemon off;' -p "$work" &
    nginx_pid=$!
    sleep 1
    curl -sf "http://127.0.0.1:$ours_port/healthz" >/dev/null
    curl -sf "http://127.0.0.1:$nginx_port/healthz" >/dev/null

    echo
    echo "mode $1: servers ${server_cpu:-unpinned}, wrk ${client_cpu:-unpinned}, nginx worker_processes $workers;" \
        "load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "round  tiaoyu_rps  p99_ms  cpu_us/req  cs/req   nginx_rps  p99_ms  cpu_us/req  cs/req"
    : > "$work/rows"
    for round in $(seq 1 "$rounds"); do
        read -r ours_rps ours_p99 ours_cpu ours_cs < <(measure $ours_pid "http://127.0.0.1:$ours_port/healthz")
        read -r nginx_rps nginx_p99 nginx_cpu nginx_cs < <(measure $nginx_pid "http://127.0.0.1:$nginx_port/healthz")
        printf "%5d  %10.0f  %6.2f  %10.1f  %6.2f  %10.0f  %6.2f  %10.1f  %6.2f\n" "$round" \
            "$ours_rps" "$ours_p99" "$ours_cpu" "$ours_cs" "$nginx_rps" "$nginx_p99" "$nginx_cpu" "$nginx_cs"
        echo "$ours_rps $ours_p99 $nginx_rps $nginx_p99 $ours_cpu $nginx_cpu" >> "$work/rows"
    done
    local ours_p99m nginx_p99m
    ours_p99m=$(cut -d' ' -f2 "$work/rows" | median)
    nginx_p99m=$(cut -d' ' -f4 "$work/rows" | median)
    awk -v op="$ours_p99m" -v np="$nginx_p99m" -v m="$1" '{ o += $1; n += $3; oc += $5; nc += $6 }
         END {
            printf "%s: mean requests/s: tiaoyu %.0f, nginx %.0f, ratio %.2f (goal >= 0.80)\n", m, o / NR, n / NR, o / n
            printf "%s: median p99: tiaoyu %.2f ms, nginx %.2f ms, ratio %.2f (goal <= 2.00)\n", m, op, np, op / np
            printf "%s: mean CPU per request: tiaoyu %.1f us, nginx %.1f us (nginx/tiaoyu %.2f)\n",
                   m, oc / NR, nc / NR, nc / oc
         }' "$work/rows"
    stop_servers
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "OpenBLAS is not involved. wrk -t1 -c$connections -d${duration}s --latency, $rounds rounds per mode, alternating."
for m in $modes; do run_mode "$m"; done
