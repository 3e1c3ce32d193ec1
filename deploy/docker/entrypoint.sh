#!/bin/sh
# The command of every service container: apply the migrations, seed the demo data when PM_SEED=1,
# then become the server (exec, so that it receives the container's SIGTERM directly).
set -eu

: "${SERVICE:?set SERVICE to the service to run: intake, dispatch, billing, survey or notification}"
PORT="${PORT:-8000}"

python -m "$SERVICE" migrate
case "${PM_SEED:-0}" in
    1 | true | yes) python -m "$SERVICE" seed ;;
esac
exec python -m "$SERVICE" serve --host 0.0.0.0 --port "$PORT"
