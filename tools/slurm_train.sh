#!/usr/bin/env bash
# Trains on a SLURM cluster: one task per GPU, spread over nodes by srun.
# Usage: [GPUS=16] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG \
#            [WORK_DIR] [train.py options]
#   GPUS (default 8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS
#   (extra srun options, e.g. "--quotatype=auto"), PYTHON.
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
PY_ARGS=${@:5}
if [ -n "$WORK_DIR" ]; then
    PY_ARGS="--work-dir=${WORK_DIR} ${PY_ARGS}"
fi

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    --gres=gpu:"${GPUS_PER_NODE}" \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${GPUS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$(dirname "$0")/train.py" "${CONFIG}" --launcher slurm ${PY_ARGS}
