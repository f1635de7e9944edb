#!/usr/bin/env bash
# Make sure a local PostgreSQL answers and that the current user has a role in it.
# Odoo refuses to run as the `postgres` superuser, so the user we run as gets its own role.
set -euo pipefail
me="$(id -un)"
if ! pg_isready -q 2>/dev/null; then
    if command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters --no-header | while read -r ver name _; do
            echo "starting PostgreSQL cluster $ver/$name"
            pg_ctlcluster "$ver" "$name" start || true
        done
    fi
    for _ in $(seq 1 30); do pg_isready -q 2>/dev/null && break; sleep 0.5; done
fi
if ! pg_isready -q 2>/dev/null; then
    echo "PostgreSQL is not running and could not be started: install PostgreSQL 15 or start it." >&2
    exit 1
fi
if ! psql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    echo "creating PostgreSQL role $me"
    if [ "$(id -u)" = 0 ]; then
        su postgres -c "createuser --superuser '$me'"
    else
        sudo -u postgres createuser --superuser "$me"
    fi
fi
