#!/usr/bin/env bash
# HTTP benchmark: requests/s and p99 latency of `GET /healthz` on Tiaoyu's release build against Debian's nginx
# serving a small static file, in the same run, same machine, same wrk settings (keep-alive, 64 connections).
# Each server is pinned to CPU 0 and wrk to CPU 1 when the machine has two or more CPUs.
#   Tests/Benchmarks/http/run.sh [--duration 10] [--rounds 3] [--connections 64]
# Needs: wrk, nginx (Deploy/setup.sh installs both). Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/../../.."

duration=10 rounds=3 connections=64
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

swift build -c release --product tiaoyu >/dev/null
bin=$(swift build -c release --show-bin-path)/tiaoyu
work=$(mktemp -d)
chmod 755 "$work"  # nginx workers run as www-data and must read the file
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

server_cpu="" client_cpu=""
if [ "$(nproc)" -ge 2 ]; then server_cpu="taskset -c 0"; client_cpu="taskset -c 1"; fi

ours_port=18480 nginx_port=18481
printf '{"status":"ok"}' > "$work/healthz"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
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
$server_cpu nginx -c "$work/nginx.conf" -g 'daemon off;' -p "$work" &
sleep 1
curl -sf "http://127.0.0.1:$ours_port/healthz" >/dev/null
curl -sf "http://127.0.0.1:$nginx_port/healthz" >/dev/null

measure() {  # url -> "rps p99_ms"
    $client_cpu wrk -t1 -c"$connections" -d"${duration}s" --latency "$1" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) }
                   else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; p99 = v }
        END { printf "%s %s\n", rps, p99 }'
}

echo "OpenBLAS is not involved. wrk -t1 -c$connections -d${duration}s --latency, $rounds rounds, alternating."
echo "round  tiaoyu_rps  tiaoyu_p99_ms  nginx_rps  nginx_p99_ms"
sum_ours=0 sum_nginx=0 worst_ratio_p99=0
for round in $(seq 1 "$rounds"); do
    read -r ours_rps ours_p99 < <(measure "http://127.0.0.1:$ours_port/healthz")
    read -r nginx_rps nginx_p99 < <(measure "http://127.0.0.1:$nginx_port/healthz")
    printf "%5d  %10.0f  %13.2f  %9.0f  %12.2f\n" "$round" "$ours_rps" "$ours_p99" "$nginx_rps" "$nginx_p99"
    echo "$ours_rps $ours_p99 $nginx_rps $nginx_p99" >> "$work/rows"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ours_p99=$(cut -d' ' -f2 "$work/rows" | median)
nginx_p99=$(cut -d' ' -f4 "$work/rows" | median)
awk -v op="$ours_p99" -v np="$nginx_p99" '{ o += $1; n += $3 }
     END {
        printf "mean requests/s: tiaoyu %.0f, nginx %.0f, ratio %.2f (goal >= 0.80)\n", o / NR, n / NR, o / n
        printf "median p99: tiaoyu %.2f ms, nginx %.2f ms, ratio %.2f (goal <= 2.00)\n", op, np, op / np
     }' "$work/rows"
