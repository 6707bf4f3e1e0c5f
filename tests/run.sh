#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The test runner of `make test` / `make check`: cmocka unit tests, fuzz corpus replays (ASan),
# then the pytest integration suite against the real daemons. Ends with one summary line
# "summary: N passed, N failed".
set -u
BUILD=build BIN=bin REPLAY=build-asan
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2; shift 2 ;;
	--bin) BIN=$2; shift 2 ;;
	--replay) REPLAY=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--bin DIR] [--replay DIR] [pytest args]" >&2; exit 2 ;;
	esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
passed=0 failed=0 failures=""
# fontconfig keeps its caches for the life of the process: not ours to free (make check)
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

echo "== unit tests (cmocka)"
for t in $(find "$BUILD/tests/unit" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
	name=${t#"$BUILD"/}
	if "$t" >"$log/out" 2>&1; then st=0; else st=$?; fi
	p=$(grep -a '^\[  PASSED  \]' "$log/out" | sed 's/[^0-9]*\([0-9]*\).*/\1/' | head -1)
	f=$(grep -a '^\[  FAILED  \] [0-9]' "$log/out" | sed 's/[^0-9]*\([0-9]*\).*/\1/' | head -1)
	p=${p:-0} f=${f:-0}
	if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures="$failures $name"
		cat "$log/out"
	fi
	echo "$name: $p passed, $f failed"
done

echo "== fuzz corpus replay (ASan+UBSan)"
for r in $(find "$REPLAY/tests/fuzz" -type f -name 'replay_*' -perm -u+x 2>/dev/null | sort); do
	mod=${r##*/replay_}
	if "$r" "tests/fuzz/corpus/$mod" >"$log/out" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz/$mod: $(tail -1 "$log/out")"
	else
		failed=$((failed + 1)) failures="$failures fuzz/$mod"
		cat "$log/out"
	fi
done

echo "== integration tests (pytest)"
if ls tests/integration/test_*.py >/dev/null 2>&1; then
	FAXGATE_BIN="$top/$BIN" FAXGATE_BUILD="$top/$BUILD" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration \
		--junitxml="$log/junit.xml" 2>&1 | tee "$log/pytest"
	counts=$(/usr/bin/python3 - "$log/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 1"); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skip = sum(int(s.get("skipped", 0)) for s in suites)
print(t - bad - skip, bad)
PY
)
	set -- $counts
	passed=$((passed + $1)) failed=$((failed + $2))
	[ "$2" -ne 0 ] && failures="$failures integration"
fi

[ -n "$failures" ] && echo "failed:$failures"
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
