#!/usr/bin/env bash
# `make bench`: every benchmark on SQLite and on a throwaway PostgreSQL cluster, at BENCH_PATENTS patents.
# For each backend: a fresh database, migrate, generate a tenth of the data, count page queries (the small size),
# generate the rest, run every benchmark (the full size). Then bench/results/latest.json and latest.md.
# Installs what is missing (apt: postgresql, wrk; pip into .venv) and stops what it started, even on failure.
#
# Every figure lands in bench/results/<backend>.tmp the moment it is measured (generation included), and every
# benchmark stops at its time budget with what it measured so far; a run cut short (Ctrl-C, `timeout`, a failed
# step) still gets its latest.md/latest.json from what is there. Scale and time, on this 2-core machine: the
# default 100k patents take about half an hour for both backends; 1M patents take at most 15 minutes of
# generation per backend, plus the budgets.
#
#   BENCH_PATENTS (100000)  BENCH_LICENCES (= patents)  BENCH_NEEDS (patents / 50)  BENCH_SEED (1)
#   BENCH_BACKENDS ("sqlite postgresql")  BENCH_REPEATS (3)  BENCH_LOAD_SECONDS (10 per round)
#   BENCH_MATCH_SAMPLE (20 needs online)  BENCH_IMPORT_ROWS (= patents)  BENCH_POOL_LICENCES (100000)
#   BENCH_GENERATE_WORKERS (2: processes writing the search documents while generating, PostgreSQL only)
#   BENCH_ONLY (all; e.g. "import,search": import,search,matching,dashboard,pool_tape,load,query_counts)
# Time budgets in seconds, per benchmark and backend (bench/run.py BUDGETS; at the budget a benchmark reports
# what it measured, and its process is killed at 1.5 x budget + 60 s if a single call runs on):
#   BENCH_IMPORT_BUDGET (90)  BENCH_SEARCH_BUDGET (150)  BENCH_MATCHING_BUDGET (90)  BENCH_DASHBOARD_BUDGET (45)
#   BENCH_POOL_TAPE_BUDGET (180)  BENCH_LOAD_BUDGET (150)  BENCH_QUERY_COUNTS_BUDGET (120)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
PATENTS=${BENCH_PATENTS:-100000}
LICENCES=${BENCH_LICENCES:-$PATENTS}
NEEDS=${BENCH_NEEDS:-$((PATENTS / 50))}
SEED=${BENCH_SEED:-1}
BACKENDS=${BENCH_BACKENDS:-sqlite postgresql}
SMALL=$((PATENTS / 10))

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
[[ " $BACKENDS " == *" postgresql "* ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && missing+=(postgresql)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" || echo "could not install ${missing[*]}; the load benchmark falls back to a Python client"
fi
make --no-print-directory .venv || exit 1

TMP=$(mktemp -d /tmp/patent-market-bench.XXXXXX)
chmod 755 "$TMP"
PGSTARTED=""
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
REPORTED=""
labels=()
cleanup() {
  # Cut short: the report still comes from what the .tmp files hold.
  [ -z "$REPORTED" ] && [ ${#labels[@]} -gt 0 ] && $BIN/python -m bench.report "${labels[@]}" >/dev/null 2>&1
  [ -n "$PGSTARTED" ] && as_pg "$PGBIN/pg_ctl" -D "$TMP/pgdata" -m fast stop >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ " $BACKENDS " == *" postgresql "* ]]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGPORT=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  if [ "$(id -u)" -eq 0 ]; then mkdir -p "$TMP/pgdata" && chown postgres "$TMP/pgdata" "$TMP"; fi
  echo "== starting PostgreSQL on 127.0.0.1:$PGPORT"
  as_pg "$PGBIN/initdb" -D "$TMP/pgdata" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 \
    || { cat "$TMP/initdb.log"; exit 1; }
  as_pg "$PGBIN/pg_ctl" -D "$TMP/pgdata" -w -l "$TMP/postgres.log" -o "-p $PGPORT -k $TMP \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c shared_buffers=512MB -c work_mem=32MB -c maintenance_work_mem=256MB" start >/dev/null \
    || { cat "$TMP/postgres.log"; exit 1; }
  PGSTARTED=1
  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres marketplace || exit 1
fi

export DJANGO_SETTINGS_MODULE=bench.settings
export MEDIA_ROOT=$TMP/media PRIVATE_MEDIA_ROOT=$TMP/private-media
mkdir -p bench/results
failed=0
for backend in $BACKENDS; do
  case $backend in
    sqlite) export DATABASE_URL="sqlite:///$TMP/bench.sqlite3" ;;
    postgresql) export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/marketplace" ;;
    *) echo "unknown backend $backend"; exit 2 ;;
  esac
  labels+=("$backend")
  rm -f "bench/results/$backend.tmp"
  echo "== $backend: migrate, $SMALL patents"
  $BIN/python manage.py migrate --noinput -v 0 || { failed=1; continue; }
  $BIN/python -m bench.generate --patents "$SMALL" --licences $((LICENCES / 10)) --needs $((NEEDS / 10)) \
    --seed "$SEED" --label "$backend" || { failed=1; continue; }
  $BIN/python -m bench.run --label "$backend" --phase small || failed=1
  echo "== $backend: growing to $PATENTS patents"
  $BIN/python -m bench.generate --patents $((PATENTS - SMALL)) --licences $((LICENCES - LICENCES / 10)) \
    --needs $((NEEDS - NEEDS / 10)) --seed "$SEED" --label "$backend" || { failed=1; continue; }
  $BIN/python -m bench.run --label "$backend" --phase full || failed=1
done
$BIN/python -m bench.report "${labels[@]}" || failed=1
REPORTED=1
cat bench/results/latest.md
exit $failed
