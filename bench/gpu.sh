#!/usr/bin/env bash
# The real-size diffusion figures, in one call on a lent GPU (the device tool): Wan 1.3B and LTX-Video
# architectures with random weights, graph against the direct diffusers call, then the step caches on Wan.
# That machine has torch, transformers, accelerate and OpenCV but not diffusers, and reaches no registry, so the
# diffusers wheel travels with the working tree. Prepare it here, once:
#
#   mkdir -p .wheels && .venv/bin/pip download --no-deps diffusers==0.42.1 -d .wheels
#
# then run it there:  command "bash bench/gpu.sh", carry [".wheels"], timeout_s 600.
# Each table goes to $OUT as soon as it is made, so a run cut short still returns what it finished.
# To try the script on a CPU first: PYTHON=.venv/bin/python BENCH_ARGS="--size 128x96x9 --steps 2 --repeats 1"
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
out=${OUT:-/tmp/kinograph_gpu}
mkdir -p "$out"
models=${MODELS_DIR:-/tmp/kinograph_real}
args=${BENCH_ARGS:---repeats 5}

if ! "$python" -c "import diffusers" 2>/dev/null; then
    "$python" -m pip install --quiet --no-index --no-deps .wheels/*.whl || exit 1
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU"
    "$python" -c "import torch, diffusers, transformers; print('torch', torch.__version__, '| diffusers',
        diffusers.__version__, '| transformers', transformers.__version__, '| cuda', torch.cuda.is_available())"
} | tee "$out/machine.txt"

status=0
for family in wan ltx; do  # the issue's figure first: Wan 1.3B, 832x480, 33 frames, 10 steps, bf16
    # shellcheck disable=SC2086  # BENCH_ARGS is a list of arguments
    "$python" bench/pipeline.py --real-size --families "$family" --models-dir "$models" $args \
        > "$out/pipeline_$family.txt" 2> "$out/pipeline_$family.log" || status=1
    grep "^|" "$out/pipeline_$family.txt"
done
if [ -z "${BENCH_ARGS:-}" ]; then  # the step caches, when time is left (3 repeats each)
    "$python" bench/acceleration.py --real-size --families wan --models-dir "$models" --repeats 3 \
        > "$out/acceleration_wan.txt" 2> "$out/acceleration_wan.log" || status=1
    grep "^|" "$out/acceleration_wan.txt"
fi
exit $status
