#!/usr/bin/env bash
# The gates: lint and format of the Python (ruff), types of api/ (mypy, strict), lint of the
# extension's JavaScript (ESLint). Every gate runs; the script fails if any of them failed.
# Usage: scripts/check.sh   (ruff and mypy come with the package's `test` extra; ESLint is
# installed here, from tools/eslint/package-lock.json, the first time)
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
gate() {
  echo "== $*"
  "$@" || status=1
}

gate python3 -m ruff check .
gate python3 -m ruff format --check .
gate python3 -m mypy

# ESLint from npm, pinned by the lock file, kept out of the extension folder (which the
# browser loads as it is); reinstalled only when the lock file changes.
eslint_dir=tools/eslint
if [ ! -x "$eslint_dir/node_modules/.bin/eslint" ] \
  || ! cmp -s "$eslint_dir/package-lock.json" "$eslint_dir/node_modules/.package-lock.json.installed"; then
  npm ci --prefix "$eslint_dir" --no-audit --no-fund --loglevel=error \
    && cp "$eslint_dir/package-lock.json" "$eslint_dir/node_modules/.package-lock.json.installed" \
    || status=1
fi
gate "$eslint_dir/node_modules/.bin/eslint" --config extension/eslint.config.mjs extension/

exit $status
