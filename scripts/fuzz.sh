#!/usr/bin/env bash
# Runs every Go fuzz target in the repository for a short while (FUZZTIME, default 10s).
# New crashers land in the package's testdata/fuzz and fail the run.
set -euo pipefail
FUZZTIME=${FUZZTIME:-10s}
n=0
while IFS=: read -r file func; do
  pkg="./$(dirname "$file")"
  echo "fuzz $pkg $func ($FUZZTIME)"
  go test "$pkg" -run '^$' -fuzz "^${func}\$" -fuzztime "$FUZZTIME"
  n=$((n+1))
done < <(git ls-files '*_test.go' | xargs grep -Ho '^func Fuzz[A-Za-z0-9_]*' | sed 's/func //')
echo "fuzzed $n targets"
