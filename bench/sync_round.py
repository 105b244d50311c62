"""One sync round on a center node, timed by phase (run inside the center's environment).
Prints one JSON line: push and pull seconds, events sent, batches, rows pulled."""

from __future__ import annotations

import json
import time


def main() -> None:
    import django

    django.setup()
    from baladiya.sync import client

    state = client.state()
    transport = client.transport_for(state)
    started = time.perf_counter()
    client.heartbeat(transport)
    beat = time.perf_counter()
    pushed = client.push(transport)
    pushed_at = time.perf_counter()
    pulled = client.pull(transport)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "heartbeat_s": round(beat - started, 3),
                "push_s": round(pushed_at - beat, 2),
                "pull_s": round(done - pushed_at, 2),
                "round_s": round(done - started, 2),
                "events": pushed.sent,
                "batches": pushed.batches,
                "conflicts": pushed.conflicts,
                "rows_pulled": pulled.rows,
            }
        )
    )


if __name__ == "__main__":
    main()
