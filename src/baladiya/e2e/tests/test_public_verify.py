"""The public verification pages, as anyone holding a paper or a PDF uses them (no login):
a valid document, a revoked one (revoked by a supervisor from the application page), and
forgeries (an unknown number, a tampered QR payload, an edited PDF). Never a server error:
the `new_page` fixture fails the test on any 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import FilePayload, Page, expect

from baladiya.accounts.models import Citizen, User
from baladiya.documents import payload as wire
from baladiya.documents.models import IssuedDocument
from baladiya.documents.signing import b64decode, b64encode
from baladiya.documents.verification import mask_name, mask_national_number
from baladiya.e2e.tests.conftest import arabic, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _verdict(page: Page, status: str) -> None:
    box = page.locator(".verdict")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("data-status", status)
    expect(box).to_have_attribute("role", "status")


def _upload(page: Page, name: str, content: bytes, mime: str = "application/pdf") -> None:
    page.goto("/verify/")
    file: FilePayload = {"name": name, "mimeType": mime, "buffer": content}
    page.locator("#file").set_input_files(files=[file])
    page.get_by_role("button", name=arabic("Check the file")).click()


def _tampered(payload: str) -> str:
    """The same signature over claims whose holder was changed (what a forger would do)."""
    _prefix, claims_part, signature = payload.split(".")
    claims = json.loads(b64decode(claims_part))
    claims["h"] = "شخص آخر"
    return f"{wire.PREFIX}.{b64encode(wire.encode_claims(claims))}.{signature}"


def test_valid_document_by_number_qr_and_file(
    page: Page, ready_document: IssuedDocument, citizen: Citizen
) -> None:
    doc = ready_document
    page.goto("/")
    page.get_by_role("link", name=arabic("Verify a document")).first.click()
    expect(page).to_have_url(re.compile(r"/verify/$"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # By number (typed, Enter): valid, with the holder's details shortened.
    page.locator("#number").fill(doc.number)
    page.locator("#number").press("Enter")
    expect(page).to_have_url(re.compile(rf"/verify/{doc.number}/$"))
    _verdict(page, "valid")
    expect(page.locator(".verdict")).to_contain_text(arabic("Valid document"))
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(doc.number)
    expect(facts).to_contain_text(mask_name(citizen.full_name))
    expect(facts).to_contain_text(mask_national_number(citizen.national_number))
    expect(facts).not_to_contain_text(citizen.national_number)

    # By the QR link printed on the paper: valid, the holder in full.
    page.goto(wire.verify_url("", doc.number, doc.payload))
    _verdict(page, "valid")
    expect(page.locator("dl.facts")).to_contain_text(citizen.full_name)
    expect(page.locator("dl.facts")).to_contain_text(citizen.national_number)

    # By the PDF file as issued: valid.
    _upload(page, f"{doc.number}.pdf", bytes(doc.pdf))
    _verdict(page, "valid")
    expect(page.locator("dl.facts")).to_contain_text(citizen.full_name)


def test_forgeries_are_not_genuine_and_never_a_server_error(
    page: Page, ready_document: IssuedDocument
) -> None:
    doc = ready_document
    number = doc.number

    # A well-formed number that is not in the register.
    missing = re.sub(r"\d{6}$", "999999", number)
    page.goto(f"/verify/{missing}/")
    _verdict(page, "unknown")
    expect(page.locator(".verdict")).to_contain_text(arabic("Cannot be confirmed"))
    expect(page.locator("main")).to_contain_text(missing)

    # Not a document number at all, in the URL and in the lookup form.
    page.goto("/verify/%3Cb%3Ebold%3Cb%3E/")
    _verdict(page, "unknown")
    expect(page.locator("main b")).to_have_count(0)  # shown as text, never as markup
    page.goto("/verify/")
    page.locator("#number").fill("hello")
    page.locator("#number").press("Enter")
    expect(page.locator("#number-error")).to_contain_text(
        arabic("This is not a document number. It looks like C03-D26-000017.")
    )
    expect(page.locator("#number")).to_have_attribute("aria-invalid", "true")

    # A QR payload whose claims were edited: the signature no longer matches.
    page.goto(wire.verify_url("", number, _tampered(doc.payload)))
    _verdict(page, "forged")
    expect(page.locator(".verdict")).to_contain_text(arabic("Not genuine"))
    expect(page.locator("main")).not_to_contain_text("شخص آخر")
    # A genuine payload shown with another number, and plain garbage.
    page.goto(wire.verify_url("", missing, doc.payload))
    _verdict(page, "forged")
    page.goto(f"/verify/{number}/?p=BLD1.not-base64!.xyz")
    _verdict(page, "forged")

    # The PDF with one byte changed (the holder's data edited, say): not genuine.
    pdf = bytearray(doc.pdf)
    pdf[len(pdf) // 2] ^= 0x01
    _upload(page, f"{number}.pdf", bytes(pdf))
    _verdict(page, "forged")
    # Not a PDF at all: a clear message on the form, not a verdict.
    _upload(page, "photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    expect(page.locator("#file-error")).to_contain_text(
        arabic("Only PDF files can be checked here.")
    )


def test_supervisor_revokes_and_the_public_sees_it_revoked(
    page: Page,
    new_page: Callable[..., Page],
    ready_document: IssuedDocument,
    supervisor: User,
) -> None:
    doc = ready_document
    reference = doc.application.reference

    # The supervisor finds the document on the application page and revokes it.
    login(page, supervisor.username)
    page.goto(f"/applications/{reference}/")
    page.get_by_role("link", name=arabic("Revoke document")).click()
    expect(page).to_have_url(re.compile(rf"/documents/{doc.number}/revoke/$"))
    page.get_by_role("button", name=arabic("Revoke the document")).click()
    # The reason is required: the browser does not send the form without one.
    expect(page).to_have_url(re.compile(rf"/documents/{doc.number}/revoke/$"))
    assert page.locator("#reason").evaluate("e => e.validity.valueMissing")
    assert IssuedDocument.objects.get(pk=doc.pk).state == IssuedDocument.State.VALID
    page.locator("#reason").fill("خطأ في اسم الأم")
    page.get_by_role("button", name=arabic("Revoke the document")).click()
    expect(page).to_have_url(re.compile(rf"/applications/{reference}/$"))
    expect(page.locator(".messages")).to_contain_text(doc.number)
    expect(page.locator("main")).to_contain_text(arabic("Revoked"))
    expect(page.get_by_role("link", name=arabic("Revoke document"))).to_have_count(0)
    assert IssuedDocument.objects.get(pk=doc.pk).state == IssuedDocument.State.REVOKED

    # Anyone checking it, by number, by its QR or by its file, sees "revoked", in red.
    public = new_page("ar")
    for open_it in (
        lambda: public.goto(f"/verify/{doc.number}/"),
        lambda: public.goto(wire.verify_url("", doc.number, doc.payload)),
        lambda: _upload(public, f"{doc.number}.pdf", bytes(doc.pdf)),
    ):
        open_it()
        _verdict(public, "revoked")
        box = public.locator(".verdict")
        expect(box).to_contain_text(arabic("Revoked document"))
        expect(box).to_have_css("color", "rgb(161, 29, 43)")  # --bad
        expect(box).to_have_css("background-color", "rgb(251, 234, 236)")
