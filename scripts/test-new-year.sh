#!/usr/bin/env bash
# The suite on SQLite with the clock moved to the next 31 December, 22:30 UTC: already
# 1 January in Homs (UTC+3) while UTC is still in the old year, when the gap-free numbers
# start their new series (C03-27-000001) and "today" in Homs and in UTC differ.
# libfaketime shifts every process by the same offset, so the clocks stay consistent.
# The tests that start real node processes (-m "not slow") are left out: two of them fake
# a center's clock themselves, and the background service's timers do not run under it.
set -euo pipefail
cd "$(dirname "$0")/.."
offset=$(.venv/bin/python - <<'PY'
import datetime as dt
now = dt.datetime.now(dt.UTC)
target = dt.datetime(now.year, 12, 31, 22, 30, tzinfo=dt.UTC)
if target <= now:
    target = target.replace(year=now.year + 1)
print(int((target - now).total_seconds()))
PY
)
echo "clock moved forward ${offset} s: $(faketime -f "+${offset}s" date -u)"
BALADIYA_TESTING=1 exec faketime -f "+${offset}s" .venv/bin/pytest -q -n 2 --dist loadfile -m "not slow" "$@"
