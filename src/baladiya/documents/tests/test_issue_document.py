"""Issuing: the PDF a citizen gets, its QR, its number, who may issue, and only once."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection, transaction

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.audit import verify_chain
from baladiya.core.errors import DomainError, IllegalTransition, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.core.numbering import next_reference
from baladiya.core.testing import pdf_line_as_seen
from baladiya.documents import payload as wire
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document, verify_payload, verify_pdf
from baladiya.documents.tests.conftest import pdf_text, read_qr
from baladiya.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_issuing_produces_a_signed_pdf_with_the_holders_details(
    approved: Application, clerk: User
) -> None:
    doc = issue_document(approved, clerk)
    assert re.fullmatch(r"C03-D\d{2}-000001", doc.number)
    pdf = bytes(doc.pdf)
    assert pdf.startswith(b"%PDF-") and doc.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    text = pdf_text(pdf)  # pypdf still reads the file with the signature trailer after %%EOF
    assert doc.number in text
    assert approved.reference in text
    assert "04012345678" in text
    for word in ("الحمصي", "فاطمة", "1990-05-17", "البعث", "(C03)"):
        assert word in text
    assert doc.holder_name == "أحمد محمد الحمصي"
    assert doc.title_ar == "بيان قيد فردي"
    assert doc.content["fields"][0]["value"] == "جامعة البعث"
    assert (doc.valid_until - doc.issued_at.date()).days in (89, 90, 91)


def test_the_printed_qr_code_holds_the_signed_payload(issued: IssuedDocument) -> None:
    url = read_qr(bytes(issued.pdf))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://baladiya.example"
    assert parts.path == f"/verify/{issued.number}/"
    payload = parse_qs(parts.query)["p"][0]
    assert payload == issued.payload and payload.startswith("BLD1.")
    claims = wire.parse(payload).claims
    assert claims["n"] == issued.number
    assert claims["nn"] == "04012345678" and claims["h"] == "أحمد محمد الحمصي"
    assert claims["k"] == issued.key.key_id and claims["c"] == "C03"
    content = {k: v for k, v in issued.content.items() if k != "number"}
    assert claims["d"] == wire.content_digest(content)
    verdict = verify_payload(payload, issued.number)
    assert verdict.status == "valid" and verdict.in_register
    assert verify_pdf(bytes(issued.pdf)).status == "valid"


def test_pickup_document_goes_to_the_pickup_queue_post_stays_issued(
    make_approved: Callable[..., Application], clerk: User
) -> None:
    pickup = make_approved(mode="pickup")
    issue_document(pickup, clerk)
    pickup.refresh_from_db()
    assert pickup.status == Status.READY_FOR_PICKUP
    post = make_approved(mode="post")
    issue_document(post, clerk)
    post.refresh_from_db()
    assert post.status == Status.ISSUED
    actions = list(pickup.events.values_list("action", flat=True))
    assert actions[-2:] == ["issue", "route_to_pickup"]


def test_citizen_gets_one_sms_for_the_state_the_document_ends_in(
    make_approved: Callable[..., Application], clerk: User
) -> None:
    def status_sms(app: Application) -> dict[str, str]:
        texts = {}
        for event in app.events.all():
            sms = OutboxMessage.objects.filter(dedupe_key=f"status:{event.pk}").first()
            if sms is not None:
                texts[event.action] = sms.body
        return texts

    pickup = make_approved(mode="pickup")
    issue_document(pickup, clerk)
    sent = status_sms(pickup)
    # Issued and routed to the pickup queue in one go: only "ready, collect it at ...".
    assert "issue" not in sent and "route_to_pickup" in sent
    assert pickup.pickup_center is not None
    assert pickup.pickup_center.name_ar in sent["route_to_pickup"]
    post = make_approved(mode="post")
    issue_document(post, clerk)
    assert "issue" in status_sms(post)  # stays `issued` until dispatched: told so


def test_issue_is_audited_and_the_chain_holds(issued: IssuedDocument) -> None:
    event = AuditEvent.objects.get(action="document.issued")
    assert event.actor == "clerk03" and event.center == "C03"
    assert event.data["number"] == issued.number
    assert event.data["pdf_sha256"] == issued.pdf_sha256
    assert verify_chain() == []


def test_issuing_twice_is_a_clear_error_and_leaves_one_document(
    approved: Application, clerk: User
) -> None:
    first = issue_document(approved, clerk)
    with pytest.raises(DomainError, match=first.number):
        issue_document(approved, clerk)
    stale = Application.objects.get(pk=approved.pk)
    stale.status = Status.APPROVED  # a second tab still showing "approved"
    with pytest.raises(DomainError):
        issue_document(stale, clerk)
    assert IssuedDocument.objects.count() == 1
    assert AuditEvent.objects.filter(action="document.issued").count() == 1


def test_not_approved_cannot_be_issued(
    make_approved: Callable[..., Application], clerk: User
) -> None:
    app = make_approved()
    Application.objects.filter(pk=app.pk).update(status=Status.IN_REVIEW)
    app.refresh_from_db()
    with pytest.raises(IllegalTransition):
        issue_document(app, clerk)
    assert not IssuedDocument.objects.exists()


@pytest.mark.parametrize("who", ["cashier", "supervisor", "auditor"])
def test_wrong_role_cannot_issue(
    approved: Application, who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        issue_document(approved, user)
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED and not IssuedDocument.objects.exists()


def test_other_centers_clerk_cannot_issue(approved: Application, other_clerk: User) -> None:
    with pytest.raises(NotAllowed):
        issue_document(approved, other_clerk)
    assert not IssuedDocument.objects.exists()


def test_officer_issues_back_office_documents_under_the_node_prefix(
    make_approved: Callable[..., Application],
    back_office_service: Service,
    officer: User,
) -> None:
    app = make_approved(svc=back_office_service, reviewer=officer)
    doc = issue_document(app, officer)
    # an officer works at no center: the node's own series (C00 on the central node)
    assert doc.number.startswith("C00-D") and doc.center.code == "C03"
    assert verify_pdf(bytes(doc.pdf)).status == "valid"


def test_numbers_are_gap_free_and_a_failed_issue_gives_its_number_back(
    make_approved: Callable[..., Application], clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = [make_approved() for _ in range(4)]
    issue_document(apps[0], clerk)
    issue_document(apps[1], clerk)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise FileNotFoundError("certificate.typ")

    monkeypatch.setattr("baladiya.documents.services.render_pdf", broken)
    with pytest.raises(DomainError):
        issue_document(apps[2], clerk)
    monkeypatch.undo()
    issue_document(apps[3], clerk)
    issue_document(apps[2], clerk)
    numbers = sorted(IssuedDocument.objects.values_list("number", flat=True))
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3, 4]
    with transaction.atomic():  # the next one would be 5: nothing was skipped
        assert next_reference("C03", "D").endswith("-000005")


def test_service_without_a_template_is_refused(
    approved: Application, clerk: User, service: Service
) -> None:
    Service.objects.filter(pk=service.pk).update(document_template="nope.typ")
    approved.service.refresh_from_db()
    with pytest.raises(DomainError):
        issue_document(approved, clerk)
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED


def test_same_input_renders_byte_identical_pdfs(issued: IssuedDocument) -> None:
    """The PDF creation date comes from issued_at, so a re-render is reproducible."""
    from baladiya.documents.rendering import render_pdf
    from baladiya.documents.services import render_inputs

    content = {k: v for k, v in issued.content.items() if k != "number"}
    data, files = render_inputs(content, issued.number, issued.payload, issued.key.key_id)
    again = render_pdf("certificate.typ", data, timestamp=issued.issued_at, files=files)
    signed = wire.split_trailer(bytes(issued.pdf))
    assert signed is not None and again == signed.signed


def test_rendering_survives_its_scratch_files_being_deleted(issued: IssuedDocument) -> None:
    """A server runs for weeks and some systems delete old files under /tmp: Typst's
    scratch files (the data it reads, the template's copy), or their whole folder, may go.
    The next document is still produced, byte for byte the same."""
    import shutil

    from baladiya.documents import rendering
    from baladiya.documents.services import render_inputs

    content = {k: v for k, v in issued.content.items() if k != "number"}
    data, files = render_inputs(content, issued.number, issued.payload, issued.key.key_id)
    signed = wire.split_trailer(bytes(issued.pdf))
    assert signed is not None
    space = rendering._current_workspace()
    for name in ("data.json", "qr.bin", "certificate.typ"):
        (space.root / name).unlink()
    again = rendering.render_pdf("certificate.typ", data, timestamp=issued.issued_at, files=files)
    assert again == signed.signed
    shutil.rmtree(space.root)
    again = rendering.render_pdf("certificate.typ", data, timestamp=issued.issued_at, files=files)
    assert again == signed.signed
    assert rendering._current_workspace().root != space.root


@pytest.mark.parametrize("name", ["certificate.typ", "data.json", "../qr.bin", ""])
def test_extra_files_cannot_replace_a_template_or_the_data(name: str) -> None:
    from baladiya.documents import rendering

    with pytest.raises(ValueError):
        rendering.render_pdf("certificate.typ", {}, files={name: b"#panic()"})


def test_other_center_pickup_still_numbered_by_submitting_center(
    make_approved: Callable[..., Application], clerk: User, other_center: Center
) -> None:
    app = make_approved()
    Application.objects.filter(pk=app.pk).update(pickup_center=other_center)
    app.refresh_from_db()
    doc = issue_document(app, clerk)
    assert doc.number.startswith("C03-D")
    app.refresh_from_db()
    assert app.status == Status.READY_FOR_PICKUP


def test_number_taken_meanwhile_is_rendered_again_with_the_right_number(
    approved: Application, clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF is pre-rendered for the expected number; if another issuance took it in the
    meantime, the document is rendered again for the number actually taken."""
    monkeypatch.setattr(
        "baladiya.documents.services._expected_number", lambda prefix: f"{prefix}-D26-000777"
    )
    doc = issue_document(approved, clerk)
    assert doc.number.endswith("-000001")
    assert wire.parse(doc.payload).claims["n"] == doc.number
    assert doc.number in pdf_text(bytes(doc.pdf))
    assert read_qr(bytes(doc.pdf)).endswith(doc.payload)
    assert verify_pdf(bytes(doc.pdf)).status == "valid"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="column storage is a PostgreSQL setting"
)
def test_postgresql_stores_the_pdf_out_of_line_without_trying_to_compress_it(
    approved: Application, clerk: User
) -> None:
    """The PDF is already compressed: PostgreSQL must not spend CPU on pglz for every
    document (decision 0014). The bytes come back unchanged."""
    doc = issue_document(approved, clerk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute "
            "WHERE attrelid = 'documents_issueddocument'::regclass AND attname = 'pdf'"
        )
        assert cursor.fetchone()[0] == "e"  # EXTERNAL: out of line, never compressed
        cursor.execute(
            "SELECT pg_column_compression(pdf), length(pdf) "
            "FROM documents_issueddocument WHERE id = %s",
            [doc.pk],
        )
        compression, length = cursor.fetchone()
    assert compression is None and length == len(bytes(doc.pdf))
    stored = IssuedDocument.objects.get(pk=doc.pk)
    assert hashlib.sha256(bytes(stored.pdf)).hexdigest() == doc.pdf_sha256


def test_a_number_inside_a_free_text_value_reads_the_right_way(
    make_approved: Callable[..., Application], clerk: User
) -> None:
    """A purpose written "عقد 2026-05-14" is printed 2026-05-14, not 14-05-2026 (Typst's bidi
    split the number at its hyphens)."""
    app = make_approved(fields={"purpose": "عقد 2026-05-14 مع المصرف"})
    doc = issue_document(app, clerk)
    seen = pdf_line_as_seen(bytes(doc.pdf), "المصرف")
    assert "2026-05-14" in seen, seen
