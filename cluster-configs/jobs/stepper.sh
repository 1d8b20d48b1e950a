#!/bin/sh
# stepper.sh: Flotilla's example process job (used by the example configs and the tests).
#
# Counts from FLOTILLA_RESUME_STEP (or the "step:" line of the FLOTILLA_RESUME_FROM
# file) to FLOTILLA_STEPS, ${FLOTILLA_PARAM_STEP_MS:-100} ms a step, printing
# "PROGRESS <step> <total>" after each, and every FLOTILLA_CHECKPOINT_EVERY steps
# writes a checkpoint into FLOTILLA_CHECKPOINT_DIR and prints "CHECKPOINT <step> <path>".
# SIGUSR1: checkpoint, print it, exit 0. SIGTERM: checkpoint, print it, exit 143.
# FLOTILLA_PARAM_FAIL_AT_STEP=N: an error on stderr and exit 3 at step N.
set -u

steps=${FLOTILLA_STEPS:-10}
every=${FLOTILLA_CHECKPOINT_EVERY:-0}
dir=${FLOTILLA_CHECKPOINT_DIR:-.}
step_ms=${FLOTILLA_PARAM_STEP_MS:-100}
fail_at=${FLOTILLA_PARAM_FAIL_AT_STEP:-}
step=${FLOTILLA_RESUME_STEP:-0}
if [ -n "${FLOTILLA_RESUME_FROM:-}" ]; then
    saved=$(sed -n 's/^step: *//p' "$FLOTILLA_RESUME_FROM" | head -n 1)
    if [ -n "$saved" ]; then step=$saved; fi
fi

checkpoint() {
    file="$dir/step-$step.ckpt"
    # Written aside and renamed: a reader never sees half a checkpoint.
    printf 'flotilla stepper checkpoint\njob: %s\nattempt: %s\nstep: %s\n' \
        "${FLOTILLA_JOB_ID:-}" "${FLOTILLA_ATTEMPT:-}" "$step" > "$file.tmp" && mv "$file.tmp" "$file"
    echo "CHECKPOINT $step $file"
}
stop() {
    # A second signal while the checkpoint is written must not write another.
    trap '' USR1 TERM
    checkpoint
    exit "$1"
}
trap 'stop 0' USR1
trap 'stop 143' TERM

seconds=$(printf '%d.%03d' $((step_ms / 1000)) $((step_ms % 1000)))
while [ "$step" -lt "$steps" ]; do
    # In the background so that a trapped signal interrupts the wait at once.
    sleep "$seconds" &
    wait $!
    step=$((step + 1))
    if [ -n "$fail_at" ] && [ "$step" -eq "$fail_at" ]; then
        echo "stepper: simulated failure at step $step" >&2
        exit 3
    fi
    echo "PROGRESS $step $steps"
    if [ "$every" -gt 0 ] && [ $((step % every)) -eq 0 ] && [ "$step" -lt "$steps" ]; then
        checkpoint
    fi
done
