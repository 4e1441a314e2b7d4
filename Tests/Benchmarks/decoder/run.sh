#!/usr/bin/env bash
# Decoder benchmark: OPT-125M greedy decode tokens/s (context 40, batch 1 and 8) and one-image caption time,
# Swift (release) against PyTorch (2 threads), on the same seeded random weights and inputs, same run.
# Usage: Tests/Benchmarks/decoder/run.sh [WEIGHTS_DIR]   (default /tmp/tiaoyu-decoder-bench; ~1.3 GB, made once)
# Run it on a quiet machine: both sides use every core, and other load skews the ratio.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-/tmp/tiaoyu-decoder-bench}"
mkdir -p "$dir"
if [ ! -f "$dir/model.safetensors" ]; then
    python3 "$here/torch_reference.py" make "$dir"
fi
swift build -c release --package-path "$here" 2>&1 | tail -1
echo "load before: $(uptime)"
python3 "$here/torch_reference.py" time "$dir" > "$dir/torch.json"
echo "load between: $(uptime)"
"$here/.build/release/DecoderBench" "$dir" "$dir/torch.json"
echo "load after: $(uptime)"
