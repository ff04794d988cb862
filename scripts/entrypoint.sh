#!/bin/sh
# The container's entrypoint: bring the database schema up to date, then serve.
#
#   convene-entrypoint                   migrate, then `convene serve`
#   convene-entrypoint --demo-if-empty   the same, with demo data in an empty database
#   convene-entrypoint convene invite …  run another command instead (no migration)
#
# Settings come from the environment (DATABASE_URL, CONVENE_SECRET_KEY, CONVENE_PUBLIC_URL,
# …; see README "Configuration"). Several replicas may start at once: `convene db upgrade`
# takes the migration lock, so one migrates and the others wait, then find nothing to do.
set -eu

CONVENE="${CONVENE_COMMAND:-convene}"

case "${1:-}" in
    "" | -*) ;;
    *) exec "$@" ;;
esac

echo "convene-entrypoint: bringing the database up to date" >&2
$CONVENE db upgrade
echo "convene-entrypoint: starting convene serve" >&2
exec $CONVENE serve "$@"
