#!/usr/bin/env bash
# Serving benchmark: throughput and p50/p99 latency of POST /caption and POST /match at concurrency 1, 8 and 32
# on the embedded default model, Tiaoyu's release build (default settings) against a FastAPI + uvicorn +
# transformers server of the same checkpoint (baseline.py), same machine, same run, same wrk load.
#   Tests/Benchmarks/serving/run.sh [--duration 10] [--concurrency "1 8 32"] [--scenes 12000] [--repeat]
#                                   [--no-build]
# --repeat adds a /caption row at the highest concurrency that sends one image over and over (labelled: on our
# side it times the query-token cache, not the model). Needs wrk (Deploy/setup.sh), python3 with torch and
# transformers (system-wide), and PyPI once, for the baseline's pinned web stack (requirements.txt) installed
# into .build/serving-bench-venv. Loopback only; every cell is bounded by --duration.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../.."

duration=10 concurrency="1 8 32" scenes=12000 repeat=0 build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --scenes) scenes=$2; shift 2 ;;
        --repeat) repeat=1; shift ;;
        --no-build) build=0; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ "$build" = 1 ]; then swift build -c release --product tiaoyu >/dev/null; fi
bin=$(swift build -c release --show-bin-path)/tiaoyu
venv=.build/serving-bench-venv
if [ ! -x "$venv/bin/python" ]; then python3 -m venv --system-site-packages "$venv"; fi
"$venv/bin/pip" install -q -r "$here/requirements.txt"
scene_dir=.build/serving-bench-scenes
if [ "$(wc -l < "$scene_dir/list" 2>/dev/null || echo 0)" -lt "$scenes" ]; then
    echo "rendering $scenes distinct shapes scenes into $scene_dir ..."
    python3 "$here/bench.py" render "$scene_dir" "$scenes"
fi

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
models=Sources/tiaoyu/Resources/DefaultModel
ours_port=18490 base_port=18491
ours="http://127.0.0.1:$ours_port" base="http://127.0.0.1:$base_port"

# Both servers as shipped: Tiaoyu with no flags beyond the address (so the embedded default model, info-level
# access log), uvicorn with its defaults (access log on). Logs go to files.
"$bin" serve --host 127.0.0.1 --port $ours_port 2> "$work/tiaoyu.log" &
"$venv/bin/python" "$here/baseline.py" --opt "$models/blip2-shapes-opt" --itm "$models/blip2-shapes-itm" \
    --port $base_port --threads 2 > "$work/baseline.log" 2>&1 &
wait_for() {  # url: up to 120 s for a 200
    for _ in $(seq 1 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "no answer from $1" >&2; exit 1
}
wait_for "$ours/readyz"
wait_for "$base/healthz"

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
echo "== tiaoyu: $bin (release), settings in effect (GET /info):"
curl -s "$ours/info" | python3 -c 'import json, sys; i = json.load(sys.stdin)
print("   batching", json.dumps(i["batching"]), "\n   cache", i["cache"], "threads", i["threads"])'
echo "== baseline: FastAPI $("$venv/bin/python" -c 'import fastapi; print(fastapi.__version__)'), uvicorn" \
     "$("$venv/bin/python" -c 'import uvicorn; print(uvicorn.__version__)'), transformers" \
     "$(python3 -c 'import transformers; print(transformers.__version__)'), torch" \
     "$(python3 -c 'import torch; print(torch.__version__)') (2 threads)"
echo "== answer check (greedy captions must be identical; match scores within tolerance):"
python3 "$here/bench.py" check "$ours" "$base"

cache_hits() {  # prints nothing when /metrics does not answer, so the delta below becomes "?"
    curl -sf --max-time 10 "$ours/metrics" | awk '/^tiaoyu_engine_cache_hits_total/ { print $2 }' || true
}
# Every timed request carries a scene Tiaoyu has not seen (so no cache hits): each Tiaoyu cell starts where the
# last one stopped, and the baseline's cell that follows replays the same scenes in the same order.
cursor=0
rows="$work/rows"
cell() {  # server url endpoint concurrency offset [repeat]; sets $sent
    local server=$1 url=$2 endpoint=$3 c=$4 offset=$5 mode=${6:-distinct} before after result
    before=$(cache_hits)
    result=$(wrk -t1 -c"$c" -d"${duration}s" --timeout 60s -s "$here/load.lua" "$url/$endpoint" \
        -- "$endpoint" "$scene_dir/list" "$offset" "$mode" | awk '/^RESULT/ { print $2, $3, $4, $5, $6 }')
    after=$(cache_hits)
    read -r requests seconds p50 p99 errors <<< "$result"
    sent=$((requests + c))  # wrk does not count the requests still in flight when it stops
    local hits="?"
    if [ -n "$before" ] && [ -n "$after" ]; then hits=$((after - before)); fi
    [ "$server" = tiaoyu ] || hits=-
    local label=distinct; [ "$mode" = repeat ] && label=repeated
    echo "$endpoint $label $c $server $requests $seconds $p50 $p99 $errors $hits" >> "$rows"
    printf "%-8s %-8s c=%-3s %-8s %7.1f req/s  p50 %8.1f ms  p99 %8.1f ms  errors %s  cache hits %s\n" \
        "$endpoint" "$label" "$c" "$server" "$(echo "$requests $seconds" | awk '{ print $1 / $2 }')" \
        "$p50" "$p99" "$errors" "$hits"
}

# Warm-up (not recorded): a few seconds of each endpoint on each server, on scenes the timed runs never send.
for endpoint in caption match; do
    wrk -t1 -c8 -d3s --timeout 60s -s "$here/load.lua" "$ours/$endpoint" -- "$endpoint" "$scene_dir/list" \
        $((scenes - 1000)) warmup >/dev/null
    wrk -t1 -c8 -d3s --timeout 60s -s "$here/load.lua" "$base/$endpoint" -- "$endpoint" "$scene_dir/list" \
        $((scenes - 1000)) warmup >/dev/null
done

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for endpoint in caption match; do
    for c in $concurrency; do
        cell tiaoyu "$ours" "$endpoint" "$c" "$cursor"
        advance=$sent
        cell baseline "$base" "$endpoint" "$c" "$cursor"
        cursor=$((cursor + advance))
        echo "   load: $(cut -d' ' -f1-3 /proc/loadavg)"
    done
done
if [ "$repeat" = 1 ]; then
    top=${concurrency##* }
    cell tiaoyu "$ours" caption "$top" 0 repeat
    cell baseline "$base" caption "$top" 0 repeat
fi
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$cursor" -ge $((scenes - 1000)) ]; then
    echo "WARNING: the run sent $cursor scenes, more than the $((scenes - 1000)) reserved for timing: some" \
         "were repeats (see the cache hits column); rerun with --scenes $((cursor + 2000))" >&2
fi
echo
python3 "$here/bench.py" table "$rows"
