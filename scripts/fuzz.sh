#!/usr/bin/env bash
# Runs every Go fuzz target in the repository for a short while (FUZZTIME, default 10s).
# A finding writes its input to the package's testdata/fuzz and fails the run.
#
# Go's fuzzer can also stop with "context deadline exceeded" when -fuzztime ends while a
# worker is busy (minimising a new input, or starved of CPU); that is no finding (no input
# is written), so such a run is tried again, up to three times.
set -euo pipefail
FUZZTIME=${FUZZTIME:-10s}
n=0
fuzz() {
  go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" 2>&1 | tee /tmp/vscard-fuzz.$$.log
  return "${PIPESTATUS[0]}"
}
while IFS=: read -r file func; do
  pkg="./$(dirname "$file")"
  echo "fuzz $pkg $func ($FUZZTIME)"
  for try in 1 2 3; do
    fuzz "$pkg" "$func" && break
    if grep -q "Failing input written" /tmp/vscard-fuzz.$$.log || ! grep -q "context deadline exceeded" /tmp/vscard-fuzz.$$.log || [ "$try" = 3 ]; then
      exit 1
    fi
    echo "fuzz $pkg $func: the fuzzer hit its deadline without a finding (try $try); again"
  done
  n=$((n+1))
done < <(git ls-files '*_test.go' | xargs grep -Ho '^func Fuzz[A-Za-z0-9_]*' | sed 's/func //')
rm -f /tmp/vscard-fuzz.$$.log
echo "fuzzed $n targets"
