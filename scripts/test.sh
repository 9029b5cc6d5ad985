#!/usr/bin/env bash
# The whole suite, as `make test` runs it: installs what is missing (apt: postgresql, redis-server, chromium; pip into
# .venv), starts a throwaway PostgreSQL cluster on 127.0.0.1, then runs in order: check,
# makemigrations --check, ruff, check --deploy on production settings, then pytest on SQLite, pytest on
# PostgreSQL, the reliability checks and the browser tests in headless Chromium (the last two on PostgreSQL),
# two at a time in two lanes (below). Prints each step's wall time and the
# total. Stops what it started, even on failure; exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
OUT=$ROOT/test-output
mkdir -p "$OUT"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
# A CJK font so screenshots of Chinese pages are readable (failures are saved as screenshots).
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing+=(fonts-wqy-microhei)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The shared cache of the scale-out test (tests/reliability/test_scale_out.py), as production runs it.
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" || exit 1
fi
make --no-print-directory .venv || exit 1

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
TMP=$(mktemp -d /tmp/patent-market-test.XXXXXX)
chmod 755 "$TMP"
PGDATA=$TMP/pgdata
PGPORT=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then mkdir -p "$PGDATA" && chown postgres "$PGDATA" "$TMP"; fi

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

echo "== starting PostgreSQL on 127.0.0.1:$PGPORT"
as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$OUT/initdb.log" 2>&1 \
  || { cat "$OUT/initdb.log"; exit 1; }
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$TMP/postgres.log" -o "-p $PGPORT -k $TMP -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null || { cat "$TMP/postgres.log"; exit 1; }
PG_URL="postgres://postgres@127.0.0.1:$PGPORT/marketplace"

export DJANGO_SETTINGS_MODULE=marketplace.settings.test
failed=()
summary=()
STARTED=$SECONDS
duration() {  # duration SECONDS -> "1m 05s"
  printf '%dm %02ds' $(($1 / 60)) $(($1 % 60))
}
step() {  # step NAME COMMAND... (each step's wall time goes into the summary)
  local name=$1; shift
  local began=$SECONDS
  echo "== $name"
  if "$@"; then local result="ok    "; else local result="FAILED"; failed+=("$name"); fi
  summary+=("$(printf '%s  %8s  %s' "$result" "$(duration $((SECONDS - began)))" "$name")")
}
counts() {  # counts JUNIT_XML -> "N passed, N failed, N skipped"
  $BIN/python scripts/junit_counts.py "$1"
}

step "manage.py check" $BIN/python manage.py check --fail-level WARNING
step "makemigrations --check" $BIN/python manage.py makemigrations --check --dry-run
step "ruff" $BIN/ruff check .
step "check --deploy (production settings)" env DJANGO_SETTINGS_MODULE=marketplace.settings.production \
  SECRET_KEY="$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
  ALLOWED_HOSTS=patents.example.cn DATABASE_URL="$PG_URL" CACHE_URL=redis://127.0.0.1:6379/0 \
  $BIN/python manage.py check --deploy --fail-level WARNING
# The four pytest runs are independent processes (each starts its own localstripe and has its own media
# folders), so they run two at a time, one per core, in two lanes: the SQLite and PostgreSQL runs first; the lane
# that frees first takes the longer of the two steps left (by the last run's times in test-output, else the
# reliability checks), the other lane the other step. The browser tests need the PostgreSQL run's database, so
# they go first only when it is the PostgreSQL run that ended. A lane never waits for the other lane's step to
# end. Each step's output follows when it ends.
# The PostgreSQL run leaves out the tests that never reach the database (pytest-django refuses it to them:
# number formats, IPC codes, architecture rules...): they answer the same on either backend, and the SQLite run
# has them (tests/conftest.py, --database-tests-only).
# The browser tests take over the PostgreSQL run's test database (--reuse-db) instead of migrating one of their
# own (a minute on a loaded machine): every test of that run leaves it as migrated (rolled back, or flushed and
# restored by serialized rollback), and each browser test starts from a flushed one anyway (a transactional
# test's teardown; the `site` fixture puts back what the pages need).
side_by_side() {  # side_by_side NAME LOG COMMAND...  (in the background; its wall time and status in LOG.*)
  local name=$1 log=$2; shift 2
  ( began=$SECONDS; "$@" >"$log" 2>&1; rc=$?; echo $((SECONDS - began)) >"$log.seconds"; exit $rc ) &
}
declare -A step_name step_log
started() {  # started PID NAME LOG: remember what the background step PID is
  step_name[$1]=$2; step_log[$1]=$3
}
collect_next() {  # waits for whichever background step ends first (its name in $finished); prints its output and
  # adds it to the summary
  local pid rc
  wait -n -p pid "${!step_name[@]}"; rc=$?
  local name=${step_name[$pid]} log=${step_log[$pid]}
  unset "step_name[$pid]" "step_log[$pid]"
  finished=$name
  echo "== $name"
  cat "$log"
  local result="ok    "; [ $rc -eq 0 ] || { result="FAILED"; failed+=("$name"); }
  summary+=("$(printf '%s  %8s  %s' "$result" "$(duration "$(cat "$log.seconds" 2>/dev/null || echo 0)")" "$name")")
}
# The browser tests run against PostgreSQL: their live server answers from its own thread while the test
# writes, which SQLite's single writer turns into "database table is locked" under load. The reliability checks
# (API fuzzing, faults, restore drill, load run, scale-out: tests/reliability) serve the project from their own processes
# and clusters; their pytest database has its own name on the shared cluster.
start_reliability() {
  # DEMO_HISTORY=0: the served copies seed the demo without its two years of history (a minute each time on
  # this machine), which nothing here reads; tests/marketplace/test_demo_history.py checks the history.
  side_by_side "reliability checks (PostgreSQL)" "$OUT/reliability.log" env DATABASE_URL="${PG_URL%/*}/reliability" \
    DEMO_HISTORY=0 \
    PGBIN="$PGBIN" MEDIA_ROOT="$TMP/media-reliability" PRIVATE_MEDIA_ROOT="$TMP/private-media-reliability" \
    $BIN/pytest -m reliability -p no:cacheprovider --junitxml="$OUT/reliability.xml" -q
  started $! "reliability checks (PostgreSQL)" "$OUT/reliability.log"
}
start_browser() {
  side_by_side "browser tests (headless Chromium, PostgreSQL)" "$OUT/browser.log" env DATABASE_URL="$PG_URL" \
    MEDIA_ROOT="$TMP/media-browser" PRIVATE_MEDIA_ROOT="$TMP/private-media-browser" \
    $BIN/pytest -m browser --reuse-db -p no:cacheprovider --junitxml="$OUT/browser.xml" -q
  started $! "browser tests (headless Chromium, PostgreSQL)" "$OUT/browser.log"
}
# The last run's times of the two later steps (before this run overwrites them); the reliability checks count as
# the longer when unknown.
browser_seconds=$(cat "$OUT/browser.log.seconds" 2>/dev/null || echo 0)
reliability_seconds=$(cat "$OUT/reliability.log.seconds" 2>/dev/null || echo 1)
echo "== pytest on SQLite beside pytest on PostgreSQL, then the reliability checks and the browser tests"
side_by_side "pytest on SQLite" "$OUT/sqlite.log" env MEDIA_ROOT="$TMP/media-sqlite" \
  PRIVATE_MEDIA_ROOT="$TMP/private-media-sqlite" $BIN/pytest -m "not browser and not reliability" \
  -p no:cacheprovider --junitxml="$OUT/sqlite.xml" -q
started $! "pytest on SQLite" "$OUT/sqlite.log"
side_by_side "pytest on PostgreSQL" "$OUT/postgresql.log" env DATABASE_URL="$PG_URL" MEDIA_ROOT="$TMP/media-pg" \
  PRIVATE_MEDIA_ROOT="$TMP/private-media-pg" $BIN/pytest -m "not browser and not reliability" \
  --database-tests-only --reuse-db -p no:cacheprovider --junitxml="$OUT/postgresql.xml" -q
started $! "pytest on PostgreSQL" "$OUT/postgresql.log"
second=""
while [ ${#step_name[@]} -gt 0 ]; do
  collect_next
  case $finished in
    "pytest on SQLite"|"pytest on PostgreSQL")
      if [ -n "$second" ]; then "$second"
      elif [ "$finished" = "pytest on PostgreSQL" ] && [ "$browser_seconds" -gt "$reliability_seconds" ]; then
        start_browser; second=start_reliability
      else
        start_reliability; second=start_browser
      fi ;;
  esac
done
echo
echo "== summary"
printf '%s\n' "${summary[@]}"
printf '%-6s  %8s  %s\n' "" "$(duration $((SECONDS - STARTED)))" "all steps"
printf '%-6s  %8s  %s\n' "" "$(duration "$SECONDS")" "in all, with installing and starting PostgreSQL"
for run in sqlite postgresql browser reliability; do
  [ -f "$OUT/$run.xml" ] && printf '%-11s %s\n' "$run:" "$(counts "$OUT/$run.xml")"
done
$BIN/python scripts/junit_counts.py --total "$OUT"/sqlite.xml "$OUT"/postgresql.xml "$OUT"/browser.xml "$OUT"/reliability.xml
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed steps: ${failed[*]}"
  exit 1
fi
