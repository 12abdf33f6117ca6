#!/usr/bin/env bash
# Trains on several processes of one machine, or of several (torchrun).
# Usage: bash tools/dist_train.sh CONFIG NPROC [train.py options]
#   NNODES, NODE_RANK, MASTER_ADDR, PORT: the other machines' settings
#   (see docs/en/train_test.md); PYTHON: the interpreter.
# Without CUDA the processes talk over gloo (chosen automatically).
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
