"""The wire formats of a signed document, with no database: see docs/qr-payload.md.

- QR payload: `BLD1.<base64url(canonical JSON claims)>.<base64url(Ed25519 signature)>`.
- PDF trailer: `\\n%BALADIYA-SIG <key_id> <base64url(signature of every byte before)>\\n`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import zxingcpp

from baladiya.documents.signing import b64decode, b64encode

PREFIX = "BLD1"
MAX_PAYLOAD_CHARS = 4000  # a real payload is well under 1,500; anything longer is refused
TRAILER_TAG = b"%BALADIYA-SIG "
# What a claims set must hold, and the JSON type of each entry.
CLAIM_TYPES: dict[str, type] = {
    "n": str,  # document number
    "k": str,  # signing key id
    "s": str,  # service code
    "t": str,  # document title (Arabic)
    "h": str,  # holder's full name
    "nn": str,  # holder's national number
    "i": str,  # issue date YYYY-MM-DD (Asia/Damascus)
    "v": str,  # valid until YYYY-MM-DD
    "c": str,  # issuing center code
    "d": str,  # sha256 hex of the canonical JSON of the document content
}
_PAYLOAD_RE = re.compile(r"BLD1\.[A-Za-z0-9_-]{1,3000}\.[A-Za-z0-9_-]{86}")
_PAYLOAD_BYTES_RE = re.compile(rb"BLD1\.[A-Za-z0-9_-]{1,3000}\.[A-Za-z0-9_-]{86}")
_TRAILER_RE = re.compile(rb"\n%BALADIYA-SIG ([A-Za-z0-9._:-]{1,40}) ([A-Za-z0-9_-]{86})\n\Z")


class PayloadError(ValueError):
    """The text is not a well-formed BLD1 payload (damaged, truncated or made up)."""


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON, keys sorted, no spaces, non-ASCII kept: the bytes that get hashed/signed."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def encode_claims(claims: dict[str, str]) -> bytes:
    return canonical_json(claims)


def assemble(claims_bytes: bytes, signature: bytes) -> str:
    return f"{PREFIX}.{b64encode(claims_bytes)}.{b64encode(signature)}"


@dataclass(frozen=True)
class ParsedPayload:
    claims: dict[str, str]
    claims_bytes: bytes  # exactly the bytes that were signed
    signature: bytes


def parse(payload: str) -> ParsedPayload:
    """Split and decode a payload; raise PayloadError unless every part is well formed."""
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD_CHARS:
        raise PayloadError("too long")
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise PayloadError("not a BLD1 payload")
    try:
        claims_bytes = b64decode(parts[1])
        signature = b64decode(parts[2])
        claims = json.loads(claims_bytes.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("undecodable") from exc
    if len(signature) != 64 or not isinstance(claims, dict):
        raise PayloadError("bad shape")
    for name, kind in CLAIM_TYPES.items():
        if not isinstance(claims.get(name), kind):
            raise PayloadError(f"claim {name} missing")
    return ParsedPayload(claims=claims, claims_bytes=claims_bytes, signature=signature)


def verify_url(base_url: str, number: str, payload: str) -> str:
    """What the QR code holds: the public verification page with the payload attached."""
    return f"{base_url.rstrip('/')}/verify/{number}/?p={payload}"


def payload_from_text(text: str) -> str | None:
    """Find a payload in scanned QR text (a full URL or the bare payload)."""
    match = _PAYLOAD_RE.search(text or "")
    return match.group(0) if match else None


# The QR mask pattern (ISO/IEC 18004 §7.8). Any of the eight decodes the same (the symbol
# records it); the standard's choice scores all eight and keeps the lowest penalty, which
# took ~2 ms of a ~10 ms document (zint, inside zxing-cpp), 85 % of the QR code's time. For
# our payloads (base64, nearly random bytes) the scores barely differ, and that rule itself
# picked pattern 2 for 56 % of 150 random payloads. (decision 0007)
QR_MASK = 2


@dataclass(frozen=True)
class QrImage:
    """A QR code (error correction M) as raw pixels: `size` x `size` bytes, row by row,
    0 dark / 255 light, one pixel per module and no quiet zone."""

    size: int
    pixels: bytes


def qr_image(text: str) -> QrImage:
    """The QR code of `text`, for Typst's `image(..., format: (encoding: "luma8", ...))`
    (the template leaves white space around it and scales it up without smoothing,
    `scaling: "pixelated"`).

    zxing-cpp (C++) rather than segno: segno's pure-Python encoder took ~20 ms for our
    ~500-character URLs (~4 ms even with a fixed mask); zxing-cpp takes ~0.4 ms with the
    fixed mask. Raw pixels rather than SVG: Typst embeds them as one small image, where an
    SVG path of ~1,300 rectangles cost ~1.7 ms to parse, convert and compress, and ~8 KB in
    every PDF. (decision 0007)
    """
    # zxing-cpp reads the mask only from `options`, and there only with `ec_level` also given.
    barcode = zxingcpp.create_barcode(
        text,
        zxingcpp.BarcodeFormat.QRCode,
        options=f"ecLevel=M,dataMask={QR_MASK}",
        ec_level="M",
    )
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]  # a buffer; the stub omits it
    return QrImage(size=int(image.shape[0]), pixels=pixels)


# ---------------------------------------------------------------- PDF trailer


def append_trailer(pdf: bytes, key_id: str, signature: bytes) -> bytes:
    return pdf + b"\n" + TRAILER_TAG + f"{key_id} {b64encode(signature)}".encode("ascii") + b"\n"


@dataclass(frozen=True)
class Trailer:
    key_id: str
    signature: bytes
    signed: bytes  # every byte before the trailer line


def split_trailer(data: bytes) -> Trailer | None:
    """The signature line at the very end of the file, or None (no trailer, or bytes after it)."""
    start = data.rfind(b"\n" + TRAILER_TAG)
    if start < 0:
        return None
    match = _TRAILER_RE.match(data, start)
    if match is None:
        return None
    try:
        signature = b64decode(match.group(2).decode("ascii"))
    except ValueError:
        return None
    return Trailer(key_id=match.group(1).decode("ascii"), signature=signature, signed=data[:start])


def payloads_in_pdf(pdf: bytes) -> set[str]:
    """Payloads found in the PDF metadata (Info /Keywords and XMP pdf:Keywords, both plain
    ASCII in Typst's output), so no PDF parser is needed to find them."""
    return {m.group(0).decode("ascii") for m in _PAYLOAD_BYTES_RE.finditer(pdf)}
