#!/usr/bin/env bash
# Print the command of one process of the Procfile (web, worker, scheduler): the one place they are declared.
set -euo pipefail
cd "$(dirname "$0")/.."
command=$(sed -n "s/^$1: //p" Procfile)
[ -n "$command" ] || { echo "no process '$1' in the Procfile" >&2; exit 1; }
echo "$command"
