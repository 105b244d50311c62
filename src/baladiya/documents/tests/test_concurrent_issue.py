"""Two workers at once (PostgreSQL): one document per application, numbers without gaps."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.core.errors import DomainError
from baladiya.core.testing import in_threads
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document, verify_pdf

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks between threads: PostgreSQL only"
    ),
]


def test_two_clicks_at_once_give_one_document(approved: Application, clerk: User) -> None:
    results = in_threads(
        [lambda: issue_document(Application.objects.get(pk=approved.pk), clerk)] * 2
    )
    assert sum(isinstance(r, IssuedDocument) for r in results) == 1
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert IssuedDocument.objects.count() == 1


def test_parallel_issuance_keeps_numbers_gap_free(
    make_approved: Callable[..., Application], clerk: User
) -> None:
    apps = [make_approved() for _ in range(6)]
    results = in_threads(
        [(lambda a=a: issue_document(Application.objects.get(pk=a.pk), clerk)) for a in apps]
    )
    assert all(isinstance(r, IssuedDocument) for r in results), results
    docs = list(IssuedDocument.objects.all())
    assert sorted(int(d.number.rsplit("-", 1)[1]) for d in docs) == [1, 2, 3, 4, 5, 6]
    for doc in docs:  # every one printed and signed with its own final number
        assert verify_pdf(bytes(doc.pdf)).status == "valid"
