"""The wire between a center node and the central node: signed, compressed JSON.

A request carries `X-Baladiya-Center`, `X-Baladiya-Key` (key id), `X-Baladiya-Time` (the
node's clock, informative only: clocks at centers may be hours off) and
`X-Baladiya-Signature`: Ed25519 over

    BALADIYA-SYNC-1 \\n METHOD \\n PATH?QUERY \\n CENTER \\n KEY-ID \\n TIME \\n SHA256(BODY)

with the body as sent (gzip). The prefix keeps these signatures apart from the same key's
document signatures (claims bytes, or a PDF starting `%PDF`). Replays are harmless by design:
a pushed batch is deduplicated by sequence, a pull only reads.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

PREFIX = b"BALADIYA-SYNC-1"
MAX_BODY = 64 * 1024 * 1024  # decompressed; a 500-event batch with attachments fits


@dataclass(frozen=True)
class SignedHeaders:
    center: str
    key_id: str
    time: str
    signature: str  # base64url

    def as_dict(self) -> dict[str, str]:
        return {
            "X-Baladiya-Center": self.center,
            "X-Baladiya-Key": self.key_id,
            "X-Baladiya-Time": self.time,
            "X-Baladiya-Signature": self.signature,
        }


def signing_message(
    method: str, path: str, center: str, key_id: str, time: str, body: bytes
) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    parts = [PREFIX.decode(), method.upper(), path, center, key_id, time, digest]
    return "\n".join(parts).encode("utf-8")


def encode_body(payload: Any) -> bytes:
    return gzip.compress(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        compresslevel=6,
    )


def decode_body(body: bytes, content_encoding: str = "gzip") -> Any:
    """Parse a request body; ValueError for anything that is not (gzip) JSON within limits."""
    if not body:
        return {}
    if content_encoding == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
                raw = fh.read(MAX_BODY + 1)
        except (OSError, EOFError) as exc:
            raise ValueError("body is not gzip") from exc
    else:
        raw = body
    if len(raw) > MAX_BODY:
        raise ValueError("body too large")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("body is not JSON") from exc
