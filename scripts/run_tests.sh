#!/usr/bin/env bash
# Run the whole test suite. Database: $DATABASE_URL if set; else the local PostgreSQL at 127.0.0.1:5432
# when one answers; else SQLite (said plainly). ERIAL_TEST_DB=sqlite forces SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

if [ "${ERIAL_TEST_DB:-}" = "sqlite" ]; then
  unset DATABASE_URL
  echo "e-Rial tests: on SQLite (ERIAL_TEST_DB=sqlite); PostgreSQL-only tests are skipped."
elif [ -z "${DATABASE_URL:-}" ]; then
  if "$PY" - <<'PYEOF' 2>/dev/null
import psycopg
psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
PYEOF
  then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/erial"
    echo "e-Rial tests: on PostgreSQL at 127.0.0.1:5432 (test database test_erial)."
  else
    unset DATABASE_URL
    echo "e-Rial tests: NO PostgreSQL reachable (DATABASE_URL unset, nothing at 127.0.0.1:5432)."
    echo "             Running on SQLite instead; concurrency and trigger tests are skipped."
  fi
else
  echo "e-Rial tests: on DATABASE_URL (${DATABASE_URL%%@*}@...)."
fi

"$PY" -m ruff check .
"$PY" -m pytest "$@"
