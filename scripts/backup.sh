#!/usr/bin/env bash
# Back up the marketplace: its PostgreSQL database (pg_dump, custom format) and its two media folders (public
# uploads, and the private ones: inventories, error reports, exports), into a new folder with the row count of
# every table (taken in the dump's own snapshot) and SHA-256 checksums. docs/backup-restore.md is the procedure.
#
#   DATABASE_URL=postgres://... MEDIA_ROOT=... PRIVATE_MEDIA_ROOT=... scripts/backup.sh DEST_DIR
#
# The environment is the app's own (the variables settings/base.py reads; the media folders default as there).
# PGBIN may name the folder of the PostgreSQL client programs (their major version >= the server's).
# Needs only the PostgreSQL client programs, tar and sha256sum: no Python, no Django settings.
set -euo pipefail

dest=${1:?usage: scripts/backup.sh DEST_DIR (a folder that does not exist yet)}
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
root=$(cd "$(dirname "$0")/.." && pwd)
media=${MEDIA_ROOT:-$root/media}
private=${PRIVATE_MEDIA_ROOT:-$root/private-media}
bin=${PGBIN:+$PGBIN/}
# django-environ also accepts pgsql:// and psql://; libpq (pg_dump, psql) only postgres:// and postgresql://.
url=$(printf '%s' "$DATABASE_URL" | sed -E 's#^(pgsql|psql)://#postgresql://#')
case $url in
  postgres://* | postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL is not a PostgreSQL database; the SQLite demo is backed up by copying its file" >&2
     exit 2 ;;
esac
if [ -e "$dest" ]; then
  echo "backup.sh: $dest exists; give a new folder" >&2
  exit 2
fi
work="$dest.partial"
rm -rf "$work"
mkdir -p "$work"

# One snapshot for the dump and the row counts: a transaction that exports it stays open while pg_dump reads it,
# so the counts recorded are exactly what the dump holds, even while the site keeps writing.
coproc SNAPSHOT { "${bin}psql" -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$url"; }
snapshot_pid=$SNAPSHOT_PID
trap 'kill "$snapshot_pid" 2>/dev/null || true' EXIT
echo "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();" >&"${SNAPSHOT[1]}"
read -r snapshot <&"${SNAPSHOT[0]}"

"${bin}pg_dump" --format=custom --no-owner --no-privileges --snapshot="$snapshot" --file="$work/database.dump" \
  --dbname="$url"

cat >&"${SNAPSHOT[1]}" <<'SQL'
SELECT c.relname || E'\t' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I',
       n.nspname, c.relname), false, true, '')))[1]::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public' ORDER BY c.relname;
\echo __end__
SQL
: >"$work/row-counts.tsv"
while read -r line <&"${SNAPSHOT[0]}"; do
  [ "$line" = "__end__" ] && break
  printf '%s\n' "$line" >>"$work/row-counts.tsv"
done
printf 'COMMIT;\n\\q\n' >&"${SNAPSHOT[1]}"
wait "$snapshot_pid" 2>/dev/null || true
trap - EXIT

# Media after the dump: every file the dumped rows name was written before it (uploads are saved before their
# row commits), so it is in the archive; a file uploaded since is an extra, harmless file.
for folder in media private-media; do
  src=$media
  [ "$folder" = private-media ] && src=$private
  if [ -d "$src" ]; then
    tar -C "$src" -czf "$work/$folder.tar.gz" .
  else
    tar -czf "$work/$folder.tar.gz" --files-from /dev/null
  fi
done

{
  echo "created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "pg_dump=$("${bin}pg_dump" --version)"
  echo "tables=$(wc -l <"$work/row-counts.tsv")"
} >"$work/MANIFEST"
(cd "$work" && sha256sum database.dump media.tar.gz private-media.tar.gz row-counts.tsv MANIFEST >SHA256SUMS)
mv "$work" "$dest"
echo "backup.sh: $(wc -l <"$dest/row-counts.tsv") tables, $(du -sh "$dest" | cut -f1) in $dest"
