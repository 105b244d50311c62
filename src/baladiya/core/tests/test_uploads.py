"""Uploads are accepted by content (magic bytes) and size, never by file name."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from baladiya.core.errors import DomainError
from baladiya.core.uploads import check_upload, sniff

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32
HTML = b"<!doctype html><script>alert(1)</script>"


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PDF, "id-card.pdf", "application/pdf"),
        (PNG, "photo.png", "image/png"),
        (JPEG, "scan.jpg", "image/jpeg"),
        (PDF, "misnamed.jpg", "application/pdf"),  # the name does not matter
    ],
)
def test_accepted_by_content(content: bytes, name: str, content_type: str) -> None:
    checked = check_upload(SimpleUploadedFile(name, content, content_type="text/plain"))
    assert checked.content == content
    assert checked.content_type == content_type
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.name == name


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (EXE, "setup.exe"),
        (EXE, "scan.pdf"),  # an executable renamed to .pdf
        (HTML, "page.html"),
        (HTML, "photo.png"),
        (b"plain text", "notes.txt"),
        (b"GIF89a" + b"\x00" * 10, "anim.gif"),
    ],
)
def test_other_types_refused(content: bytes, name: str) -> None:
    with pytest.raises(DomainError) as info:
        check_upload(SimpleUploadedFile(name, content, content_type="application/pdf"))
    assert info.value.code == "upload_bad_type"
    assert info.value.status == 400


def test_empty_file_refused() -> None:
    with pytest.raises(DomainError) as info:
        check_upload(SimpleUploadedFile("empty.pdf", b""))
    assert info.value.code == "upload_empty"


def test_too_large_refused(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1024
    with translation.override("en"), pytest.raises(DomainError) as info:
        check_upload(SimpleUploadedFile("big.pdf", PDF + b"0" * 1024))
    assert info.value.code == "upload_too_large"
    assert "1.0\xa0KB" in str(info.value.message)  # the limit is stated to the user


def test_exactly_the_limit_is_accepted(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1024
    content = PDF + b"0" * (1024 - len(PDF))
    assert check_upload(SimpleUploadedFile("edge.pdf", content)).content == content


def test_understated_size_does_not_get_a_large_file_through(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1024
    upload = SimpleUploadedFile("lying.pdf", PDF + b"0" * 4096)
    upload.size = 10  # what a client claimed
    with pytest.raises(DomainError) as info:
        check_upload(upload)
    assert info.value.code == "upload_too_large"


def test_a_file_read_before_is_checked_from_its_start() -> None:
    upload = SimpleUploadedFile("scan.png", PNG)
    upload.read(4)
    assert check_upload(upload).content == PNG


def test_sniff() -> None:
    assert sniff(PDF[:16]) == "application/pdf"
    assert sniff(PNG[:16]) == "image/png"
    assert sniff(JPEG[:16]) == "image/jpeg"
    assert sniff(EXE[:16]) is None
    assert sniff(b"") is None
