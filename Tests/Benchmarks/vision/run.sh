#!/usr/bin/env bash
# Vision tower + Q-Former benchmark: Swift (release) against PyTorch (2 threads), batch 1 and 8.
# Usage: Tests/Benchmarks/vision/run.sh [WEIGHTS_DIR]   (default /tmp/tiaoyu-vision-bench; ~0.8 GB, made once)
# Run it on a quiet machine: both sides use every core, and other load skews the ratio.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-/tmp/tiaoyu-vision-bench}"
mkdir -p "$dir"
if [ ! -f "$dir/model.safetensors" ]; then
    python3 "$here/torch_reference.py" make "$dir"
fi
swift build -c release --package-path "$here" 2>&1 | tail -1
python3 "$here/torch_reference.py" time "$dir" > "$dir/torch.json"
"$here/.build/release/VisionBench" "$dir" "$dir/torch.json"
