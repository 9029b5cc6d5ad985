#!/usr/bin/env bash
# Serve the demo: the local Stripe stand-in on 127.0.0.1:8420 and Django on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STRIPE_PORT=${STRIPE_PORT:-8420}
$BIN/python scripts/localstripe_server.py --port "$STRIPE_PORT" --state-file .localstripe/state.pickle \
  > .localstripe.log 2>&1 &
STRIPE_PID=$!
trap 'kill $STRIPE_PID 2>/dev/null || true' EXIT INT TERM
$BIN/python scripts/wait_for_port.py 127.0.0.1 "$STRIPE_PORT" 20
# Stripe sends payment events to our webhook, signed with the dev secret (settings/dev.py).
curl -s -o /dev/null -X POST "http://127.0.0.1:$STRIPE_PORT/_config/webhooks/dev" \
  -d url=http://127.0.0.1:8000/stripe/webhook/ -d secret="${STRIPE_WEBHOOK_SECRET:-whsec_localstripe_dev}"
echo "Local Stripe stand-in on http://127.0.0.1:$STRIPE_PORT (log: .localstripe.log)"
echo "Demo logins (password demo-pass-2026): holder@demo.test, licensee@demo.test, startup@demo.test,"
echo "  ipoffice@demo.test, editor@demo.test (Wagtail /admin/), admin@demo.test (superuser)"
echo "Open http://127.0.0.1:8000/"
$BIN/python manage.py runserver 127.0.0.1:8000
