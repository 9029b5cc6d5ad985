#!/usr/bin/env bash
# Serve the demo as production runs it, on the embedded default (SQLite): the local Stripe stand-in on
# 127.0.0.1:8420, then the three processes of the Procfile with the commands production runs: the task worker
# (matching, imports, exports, notifications), the scheduler (periodic jobs: marketplace/scheduling/schedule.py)
# and the web server (gunicorn, reloading on code changes) on 127.0.0.1:8000 ($PORT). Ctrl+C stops all four.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STRIPE_PORT=${STRIPE_PORT:-8420}
PORT=${PORT:-8000}
PIDS=()
# The Procfile's commands run `python`, `gunicorn`: the virtualenv's. manage.py picks the dev settings by itself;
# gunicorn's WSGI module would pick production's.
export PATH="$PWD/$BIN:$PATH" DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-marketplace.settings.dev}
proc() { bash -c "exec $(scripts/procfile.sh "$1") ${*:2}"; }
stop_all() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM
$BIN/python scripts/localstripe_server.py --port "$STRIPE_PORT" --state-file .localstripe/state.pickle \
  > .localstripe.log 2>&1 &
PIDS+=($!)
# The worker runs the tasks the site and the scheduler enqueue (django-tasks-db, settings/dev.py); with DEBUG
# it reloads on code changes as the web server does.
proc worker > .worker.log 2>&1 &
PIDS+=($!)
proc scheduler > .scheduler.log 2>&1 &
PIDS+=($!)
$BIN/python scripts/wait_for_port.py 127.0.0.1 "$STRIPE_PORT" 20
# Stripe sends payment events to our webhook, signed with the dev secret (settings/dev.py).
curl -s -o /dev/null -X POST "http://127.0.0.1:$STRIPE_PORT/_config/webhooks/dev" \
  -d url=http://127.0.0.1:$PORT/stripe/webhook/ -d secret="${STRIPE_WEBHOOK_SECRET:-whsec_localstripe_dev}"
echo "Local Stripe stand-in on http://127.0.0.1:$STRIPE_PORT (log: .localstripe.log)"
echo "Task worker (log: .worker.log) and scheduler (log: .scheduler.log) running; development e-mails print to the console of the process that sends them"
echo "Demo logins (password demo-pass-2026): holder@demo.test, licensee@demo.test, startup@demo.test,"
echo "  ipoffice@demo.test, editor@demo.test (Wagtail /admin/), admin@demo.test (superuser)"
echo "Open http://127.0.0.1:$PORT/"
# In the background too, so that a TERM or Ctrl+C reaches the trap at once (bash runs a trap only once its
# foreground command has ended), and the EXIT trap stops all four.
BIND=127.0.0.1:$PORT proc web --reload &
PIDS+=($!)
wait "$!"
