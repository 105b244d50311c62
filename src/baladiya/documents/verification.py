"""Verify a document: its QR payload, its PDF file, or its number in the register.

Every function answers with a `Verdict` and never raises for bad input (garbage, huge, made
up). With a `keys` mapping (`load_keys_json`) the payload and PDF checks run offline, without
this database. Formats: docs/qr-payload.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from baladiya.core.money import to_latin_digits
from baladiya.documents import payload as wire
from baladiya.documents import signing
from baladiya.documents.models import IssuedDocument, SigningKey

NUMBER_RE = re.compile(r"[A-Z0-9]{2,8}-D\d{2}-\d{6}")


@dataclass(frozen=True)
class Verdict:
    """What a verifier learns. `status`: valid | revoked | forged | unknown | expired."""

    status: str
    message: str
    number: str = ""
    holder: str = ""
    national_number: str = ""
    title: str = ""
    issued: str = ""
    valid_until: str = ""
    center: str = ""
    key_id: str = ""
    in_register: bool = False  # the number was found in this server's register
    masked: bool = False  # holder details shortened (lookup by number alone)
    revoked_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    @property
    def css_class(self) -> str:
        return "unknown" if self.status == "expired" else self.status


def clean_number(raw: str | None) -> str:
    """`c03-d26-000017`, Arabic digits, stray spaces -> `C03-D26-000017` (or "" if unusable)."""
    text = to_latin_digits(str(raw or ""))[:64]
    return "".join(text.split()).upper()


def is_document_number(number: str) -> bool:
    return bool(NUMBER_RE.fullmatch(number))


def _from_claims(status: str, message: str, claims: dict[str, str], **extra: Any) -> Verdict:
    return Verdict(
        status=status,
        message=message,
        number=claims["n"],
        holder=claims["h"],
        national_number=claims["nn"],
        title=claims["t"],
        issued=claims["i"],
        valid_until=claims["v"],
        center=claims["c"],
        key_id=claims["k"],
        **extra,
    )


def _today() -> dt.date:
    return timezone.localdate()


def _dated(claims: dict[str, str], message: str, in_register: bool) -> Verdict:
    """Valid, unless its period of validity is over."""
    try:
        until = dt.date.fromisoformat(claims["v"])
    except ValueError:
        until = None
    if until is not None and until < _today():
        return _from_claims(
            "expired",
            _("The document is genuine, but its validity ended on %(date)s.")
            % {"date": claims["v"]},
            claims,
            in_register=in_register,
        )
    return _from_claims("valid", message, claims, in_register=in_register)


def _forged(message: str, number: str = "") -> Verdict:
    return Verdict(status="forged", message=message, number=number)


def _public_key(key_id: str, keys: Mapping[str, bytes] | None) -> tuple[bytes | None, Any]:
    if keys is not None:
        return keys.get(key_id), None
    key = SigningKey.objects.filter(key_id=key_id).first()
    if key is None:
        return None, None
    try:
        return signing.b64decode(key.public_key), key
    except ValueError:
        return None, key


def _check_payload(
    payload: str, number: str | None, keys: Mapping[str, bytes] | None
) -> tuple[Verdict, IssuedDocument | None]:
    shown = clean_number(number)[:24] if number else ""
    try:
        parsed = wire.parse(payload)
    except wire.PayloadError:
        return _forged(
            _(
                "This code was not made by the council, or it is damaged. "
                "Do not accept the document; check it by its number."
            ),
            shown,
        ), None
    claims = parsed.claims
    public, key = _public_key(claims["k"], keys)
    if public is None:
        return Verdict(
            status="unknown",
            message=_(
                "The code is signed with a key (%(key)s) this server does not know. "
                "It cannot be confirmed here."
            )
            % {"key": claims["k"][:40]},
            number=claims["n"][:24],
            key_id=claims["k"][:40],
        ), None
    if not signing.verify(public, parsed.signature, parsed.claims_bytes):
        return _forged(
            _("The signature does not match the data: this code was altered or made up."),
            claims["n"][:24],
        ), None
    if number is not None and shown != claims["n"]:
        return _forged(
            _("This code belongs to document %(real)s, not to %(shown)s.")
            % {"real": claims["n"], "shown": shown},
            shown,
        ), None
    if keys is not None:  # offline: the signature is all there is to check
        return _dated(
            claims,
            _(
                "The signature is genuine (council key %(key)s). Revocation cannot be checked "
                "offline: check the number on the council's verification page as well."
            )
            % {"key": claims["k"]},
            in_register=False,
        ), None
    doc = IssuedDocument.objects.defer("pdf", "content").filter(number=claims["n"]).first()
    if doc is None:
        if key is not None and key.revoked_at is not None:
            return _from_claims(
                "unknown",
                _(
                    "The code is signed with a key that was withdrawn, and the document is not "
                    "in the register. Do not accept it."
                ),
                claims,
            ), None
        return _dated(
            claims,
            _(
                "The signature is genuine, but this document is not in this server's register "
                "yet (a center may not have synchronised). Whether it was revoked cannot be "
                "checked here; ask the issuing center if in doubt."
            ),
            in_register=False,
        ), None
    try:
        registered = wire.parse(doc.payload).claims
    except wire.PayloadError:  # pragma: no cover - we wrote it ourselves
        registered = {}
    if registered != claims:
        return _forged(
            _("The code does not match the council's register for document %(number)s.")
            % {"number": doc.number},
            doc.number,
        ), doc
    if doc.state == IssuedDocument.State.REVOKED:
        when = timezone.localtime(doc.revoked_at) if doc.revoked_at else None
        return _from_claims(
            "revoked",
            _("This document was revoked on %(date)s. It is no longer valid.")
            % {"date": when.strftime("%Y-%m-%d") if when else "?"},
            claims,
            in_register=True,
            revoked_at=doc.revoked_at,
        ), doc
    return _dated(
        claims,
        _("The document is genuine and valid. Check that the details below match the paper."),
        in_register=True,
    ), doc


def verify_payload(
    payload: str, number: str | None = None, keys: Mapping[str, bytes] | None = None
) -> Verdict:
    """Check a QR payload (`BLD1.…`). `number`: the number in the URL/paper it came with.

    Without `keys`: public keys and register from this database (revocation checked). With
    `keys` (key_id -> raw public key, e.g. from `load_keys_json`): offline, signature only.
    Never raises for bad input: garbage gives a *forged* verdict.
    """
    if not isinstance(payload, str):
        return _forged(_("This code was not made by the council, or it is damaged."))
    return _check_payload(payload, number, keys)[0]


def verify_number(number: str) -> Verdict:
    """Look a number up in the register (no QR). Holder details are shortened: numbers are
    sequential, so anyone could try them; the full details come only with the signed QR."""
    clean = clean_number(number)
    if not is_document_number(clean):
        return Verdict(
            status="unknown",
            message=_("This is not a document number. It looks like C03-D26-000017."),
            number=clean[:24],
        )
    doc = (
        IssuedDocument.objects.defer("pdf", "content")
        .select_related("center", "key")
        .filter(number=clean)
        .first()
    )
    if doc is None:
        return Verdict(
            status="unknown",
            message=_(
                "No document with this number is in the register. If it was issued very "
                "recently at a center, try again later; otherwise do not accept it."
            ),
            number=clean,
        )
    base: dict[str, Any] = {
        "number": doc.number,
        "holder": mask_name(doc.holder_name),
        "national_number": mask_national_number(doc.holder_national_number),
        "title": doc.title_ar,
        "issued": timezone.localtime(doc.issued_at).date().isoformat(),
        "valid_until": doc.valid_until.isoformat(),
        "center": doc.center.code,
        "key_id": doc.key.key_id,
        "in_register": True,
        "masked": True,
    }
    if doc.state == IssuedDocument.State.REVOKED:
        when = timezone.localtime(doc.revoked_at) if doc.revoked_at else None
        return Verdict(
            status="revoked",
            message=_("This document was revoked on %(date)s. It is no longer valid.")
            % {"date": when.strftime("%Y-%m-%d") if when else "?"},
            revoked_at=doc.revoked_at,
            **base,
        )
    if doc.valid_until < _today():
        return Verdict(
            status="expired",
            message=_("The document is genuine, but its validity ended on %(date)s.")
            % {"date": doc.valid_until.isoformat()},
            **base,
        )
    return Verdict(
        status="valid",
        message=_(
            "A valid document with this number is in the register. Compare the shortened "
            "details below with the paper, or scan its QR code to see them in full."
        ),
        **base,
    )


def mask_name(name: str) -> str:
    """`أحمد محمد الحمصي` -> `أحمد م. ا.`: enough to compare with the paper, not to harvest."""
    words = name.split()
    if not words:
        return ""
    return " ".join([words[0], *(w[0] + "." for w in words[1:])])


def mask_national_number(nn: str) -> str:
    return nn[:2] + "•" * max(len(nn) - 4, 0) + nn[-2:] if len(nn) > 4 else "•" * len(nn)


def verify_pdf(data: bytes, keys: Mapping[str, bytes] | None = None) -> Verdict:
    """Check a PDF file as issued: the byte signature (trailer) and the embedded QR payload.

    Any changed, added or removed byte fails. Without `keys`, the register is also consulted
    (revocation, and the file must be the very copy that was issued); with `keys` it runs
    offline. Never raises for bad input.
    """
    if not isinstance(data, bytes | bytearray) or not bytes(data).startswith(b"%PDF-"):
        return Verdict(status="unknown", message=_("This file is not a PDF document."))
    data = bytes(data)
    trailer = wire.split_trailer(data)
    if trailer is None:
        return Verdict(
            status="unknown",
            message=_(
                "This PDF carries no council signature: it was not issued by the council, or it "
                "was re-saved, printed to PDF or scanned. Check the QR code on the paper instead."
            ),
        )
    public = _public_key(trailer.key_id, keys)[0]
    if public is None:
        return Verdict(
            status="unknown",
            message=_(
                "The file is signed with a key (%(key)s) this server does not know. "
                "It cannot be confirmed here."
            )
            % {"key": trailer.key_id},
            key_id=trailer.key_id,
        )
    if not signing.verify(public, trailer.signature, trailer.signed):
        return _forged(
            _("The file was changed after it was issued: its signature no longer matches.")
        )
    found = wire.payloads_in_pdf(trailer.signed)
    if len(found) != 1:
        return Verdict(
            status="unknown",
            message=_("The file is signed, but it holds no document data to check."),
            key_id=trailer.key_id,
        )
    payload = found.pop()
    verdict, doc = _check_payload(payload, None, keys)
    if verdict.status in ("forged", "unknown"):
        return verdict
    if verdict.key_id != trailer.key_id:
        return _forged(_("The file and its code are signed with different keys."), verdict.number)
    if doc is not None and doc.pdf_sha256 != hashlib.sha256(data).hexdigest():
        return _forged(
            _("This file is not the copy the council issued as document %(number)s.")
            % {"number": doc.number},
            doc.number,
        )
    return verdict


def load_keys_json(path: str | Path) -> dict[str, bytes]:
    """Read a saved `/.well-known/baladiya/keys.json` into `{key_id: raw public key}`.

    Withdrawn (`revoked_at`) keys are left out: offline there is no register to tell a
    document signed before the withdrawal from one signed with a stolen key.
    Raises ValueError with a clear message for a file that is not a keys list.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read keys file {path}: {exc}") from exc
    entries = raw.get("keys") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise ValueError(f"{path} is not a Baladiya keys.json (expected a list of keys)")
    keys: dict[str, bytes] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("alg") != signing.ALG:
            continue
        key_id, public = entry.get("key_id"), entry.get("public_key")
        if not isinstance(key_id, str) or not isinstance(public, str) or entry.get("revoked_at"):
            continue
        try:
            raw_key = signing.b64decode(public)
        except ValueError:
            continue
        if len(raw_key) == 32:
            keys[key_id] = raw_key
    if not keys:
        raise ValueError(f"{path} holds no usable Ed25519 key")
    return keys
