#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a NEW, empty PostgreSQL database and empty media folders, then
# check it: the archives' checksums before anything is written, the whole dump in one transaction (all or
# nothing), and afterwards the row count of every table against the counts the backup recorded.
# docs/backup-restore.md is the procedure (with the checks that need the app: migrate --check, certificates).
#
#   createdb -T template0 NEWDB
#   DATABASE_URL=postgres://.../NEWDB MEDIA_ROOT=... PRIVATE_MEDIA_ROOT=... scripts/restore.sh BACKUP_DIR
#
# It refuses a database that has tables or a media folder that has files: it never overwrites a live site.
# PGBIN may name the folder of the PostgreSQL client programs (their major version >= the one that dumped).
set -euo pipefail

src=${1:?usage: scripts/restore.sh BACKUP_DIR}
: "${DATABASE_URL:?DATABASE_URL must name the new, empty PostgreSQL database to restore into}"
root=$(cd "$(dirname "$0")/.." && pwd)
media=${MEDIA_ROOT:-$root/media}
private=${PRIVATE_MEDIA_ROOT:-$root/private-media}
bin=${PGBIN:+$PGBIN/}
url=$(printf '%s' "$DATABASE_URL" | sed -E 's#^(pgsql|psql)://#postgresql://#')

(cd "$src" && sha256sum --check --quiet SHA256SUMS) || { echo "restore.sh: $src is damaged (checksums)" >&2; exit 1; }

psql_q() { "${bin}psql" -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$url" "$@"; }
tables=$(psql_q -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != 0 ]; then
  echo "restore.sh: the database has $tables tables; restore only into a new, empty database" >&2
  exit 2
fi
for folder in "$media" "$private"; do
  if [ -d "$folder" ] && [ -n "$(ls -A "$folder")" ]; then
    echo "restore.sh: $folder is not empty; restore only into empty media folders" >&2
    exit 2
  fi
done

"${bin}pg_restore" --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" \
  "$src/database.dump"
mkdir -p "$media" "$private"
tar -C "$media" -xzf "$src/media.tar.gz"
tar -C "$private" -xzf "$src/private-media.tar.gz"

# The same count, table by table, as backup.sh recorded in the dump's snapshot.
restored=$(mktemp)
trap 'rm -f "$restored"' EXIT
psql_q -f - >"$restored" <<'SQL'
SELECT c.relname || E'\t' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
       n.nspname, c.relname), false, true, '')))[1]::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public' ORDER BY c.relname;
SQL
if ! diff -u "$src/row-counts.tsv" "$restored" >&2; then
  echo "restore.sh: row counts differ from the backup's (above: - backup, + restored)" >&2
  exit 1
fi
echo "restore.sh: $(wc -l <"$src/row-counts.tsv") tables restored, row counts equal to the backup's"
