"""CSV files streamed to a browser: UTF-8 with a byte-order mark (so Excel shows the
Arabic), written in batches so a long file never sits whole in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

BATCH = 2000  # rows per chunk sent


def stream_csv(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The header line (with the BOM), then `rows` BATCH at a time; `rows` is read lazily,
    so a query iterator and translated cells are evaluated as the response is sent."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    yield "\ufeff".encode() + out.getvalue().encode()
    pending = iter(rows)
    while True:
        out.seek(0)
        out.truncate()
        written = 0
        for row in pending:
            writer.writerow(row)
            written += 1
            if written == BATCH:
                break
        if not written:
            return
        yield out.getvalue().encode()
