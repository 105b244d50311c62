"""Verification: genuine, edited, made-up, revoked, expired, rotated keys, offline."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.documents import payload as wire
from baladiya.documents import signing
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import (
    issue_document,
    load_keys_json,
    revoke_document,
    verify_number,
    verify_payload,
    verify_pdf,
)

pytestmark = pytest.mark.django_db


def _reclaim(payload: str, **changes: str) -> str:
    """Edit claims but keep the original signature (what a forger without the key can do)."""
    parsed = wire.parse(payload)
    claims = {**parsed.claims, **changes}
    return wire.assemble(wire.encode_claims(claims), parsed.signature)


def test_edited_claims_are_forged(issued: IssuedDocument) -> None:
    for change in ({"h": "سمير محمد الحمصي"}, {"nn": "04012345679"}, {"v": "2099-01-01"}):
        verdict = verify_payload(_reclaim(issued.payload, **change), issued.number)
        assert verdict.status == "forged", change


def test_a_payload_signed_by_another_key_with_our_key_id_is_forged(
    issued: IssuedDocument,
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    claims_bytes = wire.parse(issued.payload).claims_bytes
    fake = wire.assemble(claims_bytes, Ed25519PrivateKey.generate().sign(claims_bytes))
    assert verify_payload(fake, issued.number).status == "forged"


def test_garbage_payloads_get_a_verdict_not_an_exception(issued: IssuedDocument) -> None:
    samples = [
        "",
        "hello",
        "BLD1..",
        "BLD1.%%%.^^^",
        "BLD2." + issued.payload[5:],
        issued.payload[:-3],
        issued.payload + "A",
        "BLD1." + "A" * 100_000 + "." + "B" * 86,
        "BLD1." + signing.b64encode(b"[1,2]") + "." + "A" * 86,
        "BLD1." + signing.b64encode(b"\xff\xfe") + "." + "A" * 86,
    ]
    for sample in samples:
        verdict = verify_payload(sample, issued.number)
        assert verdict.status == "forged", sample[:40]
        assert verdict.message


def test_payload_of_another_document_under_this_number_is_forged(
    make_approved: Callable[..., Application], clerk: User
) -> None:
    first = issue_document(make_approved(), clerk)
    second = issue_document(make_approved(), clerk)
    verdict = verify_payload(second.payload, first.number)
    assert verdict.status == "forged" and second.number in verdict.message


def test_unknown_key_is_unknown(issued: IssuedDocument) -> None:
    payload = _reclaim(issued.payload, k="C09-2026-beef")
    assert verify_payload(payload, issued.number).status == "unknown"


def test_revoked_document_verifies_as_revoked(issued: IssuedDocument, supervisor: User) -> None:
    revoke_document(issued, supervisor, "خطأ في اسم الأم")
    assert verify_payload(issued.payload, issued.number).status == "revoked"
    assert verify_pdf(bytes(issued.pdf)).status == "revoked"
    assert verify_number(issued.number).status == "revoked"
    event = AuditEvent.objects.get(action="document.revoked")
    assert event.actor == "super03" and event.data["reason"] == "خطأ في اسم الأم"


def test_revocation_rules(issued: IssuedDocument, clerk: User, cashier: User, officer: User,
                          make_user: Callable[..., User], other_center: object) -> None:  # fmt: skip
    for user in (clerk, cashier, None):
        with pytest.raises(NotAllowed):
            revoke_document(issued, user, "reason")  # type: ignore[arg-type]
    other_supervisor = make_user("super05", "supervisor", center=other_center)
    with pytest.raises(NotAllowed):
        revoke_document(issued, other_supervisor, "reason")
    with pytest.raises(DomainError):
        revoke_document(issued, officer, "   ")
    assert IssuedDocument.objects.get().state == "valid"
    revoke_document(issued, officer, "وثيقة مزورة مرفقة بالطلب")
    with pytest.raises(Conflict):
        revoke_document(issued, officer, "again")
    assert AuditEvent.objects.filter(action="document.revoked").count() == 1


def test_one_changed_byte_anywhere_fails(issued: IssuedDocument) -> None:
    pdf = bytes(issued.pdf)
    assert verify_pdf(pdf).status == "valid"
    for position in (10, len(pdf) // 3, len(pdf) // 2, len(pdf) - 120, len(pdf) - 2):
        changed = bytearray(pdf)
        changed[position] ^= 0x01
        assert verify_pdf(bytes(changed)).status in ("forged", "unknown"), position
    assert verify_pdf(pdf + b"%more\n").status in ("forged", "unknown")
    assert verify_pdf(pdf[:-1]).status in ("forged", "unknown")
    assert verify_pdf(b"x" + pdf).status == "unknown"


def test_a_pdf_without_our_trailer_cannot_be_confirmed(issued: IssuedDocument) -> None:
    trailer = wire.split_trailer(bytes(issued.pdf))
    assert trailer is not None
    verdict = verify_pdf(trailer.signed)  # e.g. a copy re-saved by a PDF tool
    assert verdict.status == "unknown"
    assert verify_pdf(b"not a pdf").status == "unknown"
    assert verify_pdf(b"").status == "unknown"


def test_expired_document(issued: IssuedDocument, monkeypatch: pytest.MonkeyPatch) -> None:
    later = issued.valid_until + dt.timedelta(days=1)
    monkeypatch.setattr("baladiya.documents.verification._today", lambda: later)
    assert verify_payload(issued.payload, issued.number).status == "expired"
    assert verify_number(issued.number).status == "expired"
    assert verify_pdf(bytes(issued.pdf)).status == "expired"


def test_genuine_signature_not_in_the_register(issued: IssuedDocument) -> None:
    payload, pdf = issued.payload, bytes(issued.pdf)
    IssuedDocument.objects.filter(pk=issued.pk).delete()  # e.g. a center not yet synced
    verdict = verify_payload(payload, issued.number)
    assert verdict.status == "valid" and not verdict.in_register
    assert "register" in verdict.message
    assert verify_pdf(pdf).status == "valid"


def test_key_rotation_old_documents_still_verify_new_ones_use_the_new_key(
    make_approved: Callable[..., Application], clerk: User, admin_user: User
) -> None:
    old_doc = issue_document(make_approved(), clerk)
    old_key = old_doc.key
    new_key = signing.rotate_key(admin_user)
    new_doc = issue_document(make_approved(), clerk)
    assert new_doc.key == new_key and new_key != old_key
    assert wire.parse(new_doc.payload).claims["k"] == new_key.key_id
    for doc in (old_doc, new_doc):
        assert verify_payload(doc.payload, doc.number).status == "valid"
        assert verify_pdf(bytes(doc.pdf)).status == "valid"


def test_offline_verification_with_a_saved_keys_file(
    make_approved: Callable[..., Application],
    clerk: User,
    admin_user: User,
    tmp_path: Path,
) -> None:
    old_doc = issue_document(make_approved(), clerk)
    signing.rotate_key(admin_user)
    new_doc = issue_document(make_approved(), clerk)
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(signing.public_keys()))
    keys = load_keys_json(path)
    assert len(keys) == 2
    for doc in (old_doc, new_doc):
        verdict = verify_pdf(bytes(doc.pdf), keys)
        assert verdict.status == "valid" and not verdict.in_register
        assert verdict.number == doc.number and verdict.national_number == "04012345678"
        assert verify_payload(doc.payload, doc.number, keys).status == "valid"
    changed = bytearray(bytes(new_doc.pdf))
    changed[2000] ^= 0x20
    assert verify_pdf(bytes(changed), keys).status == "forged"
    assert verify_pdf(bytes(new_doc.pdf), {}).status == "unknown"


def test_offline_keys_file_leaves_withdrawn_keys_out(
    issued: IssuedDocument, admin_user: User, tmp_path: Path
) -> None:
    signing.revoke_key(issued.key.key_id, admin_user, "center PC stolen")
    path = tmp_path / "keys.json"
    signing.active_key()
    path.write_text(json.dumps(signing.public_keys()))
    keys = load_keys_json(path)
    assert issued.key.key_id not in keys
    assert verify_pdf(bytes(issued.pdf), keys).status == "unknown"
    # online, the register still vouches for what was issued before the withdrawal
    assert verify_pdf(bytes(issued.pdf)).status == "valid"


def test_number_lookup_masks_the_holder(issued: IssuedDocument) -> None:
    verdict = verify_number(issued.number.lower())
    assert verdict.status == "valid" and verdict.masked
    assert verdict.holder == "أحمد م. ا."
    assert verdict.national_number.startswith("04") and "12345" not in verdict.national_number
    assert verify_number("C03-D26-999999").status == "unknown"
    assert verify_number("'; DROP TABLE x; --").status == "unknown"
    assert verify_number("x" * 10_000).status == "unknown"


def test_the_recipe_in_docs_qr_payload_md_works_without_baladiya(
    issued: IssuedDocument, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/qr-payload.md promises anyone can verify with `cryptography` alone: run its code."""
    from django.conf import settings

    doc_md = (settings.PROJECT_DIR / "docs" / "qr-payload.md").read_text(encoding="utf-8")
    code = doc_md.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "keys.json").write_text(json.dumps(signing.public_keys()))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, "qr-payload.md", "exec"), namespace)  # noqa: S102 - our own docs
    claims = namespace["check_pdf"](bytes(issued.pdf))  # type: ignore[operator]
    assert claims["n"] == issued.number and claims["nn"] == "04012345678"
    assert namespace["check_payload"](issued.payload) == claims  # type: ignore[operator]
    changed = bytearray(bytes(issued.pdf))
    changed[500] ^= 1
    with pytest.raises(Exception):  # noqa: B017 - InvalidSignature from cryptography
        namespace["check_pdf"](bytes(changed))  # type: ignore[operator]
