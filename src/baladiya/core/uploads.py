"""Uploaded files are checked by their content (magic bytes) and size, not by their name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from baladiya.core.errors import DomainError

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True)
class CheckedUpload:
    content: bytes
    content_type: str
    sha256: str
    name: str


def sniff(head: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def _too_large(limit: int) -> DomainError:
    return DomainError(
        _("The file is too large (at most %(size)s).") % {"size": filesizeformat(limit)},
        code="upload_too_large",
    )


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """Accept a PDF, PNG or JPEG up to BALADIYA_UPLOAD_MAX_BYTES; refuse anything else."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise _too_large(limit)
    upload.seek(0)  # a form may have peeked at the file already
    content = upload.read(limit + 1)
    if len(content) > limit:  # `size` is what the client said; the bytes are what counts
        raise _too_large(limit)
    if len(content) == 0:
        raise DomainError(_("The file is empty."), code="upload_empty")
    content_type = sniff(content[:16])
    if content_type is None:
        raise DomainError(_("Only PDF, PNG or JPEG files are accepted."), code="upload_bad_type")
    return CheckedUpload(
        content=content,
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        name=(upload.name or "file")[-200:],
    )
