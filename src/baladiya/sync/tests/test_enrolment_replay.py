"""Enrolment over a link that loses answers: central enrolled the PC, the PC never heard.
Running the same command again (same code, same key) gets the same package and changes
nothing; anyone else with that code is still refused (decision 0009)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from baladiya.accounts.models import User
from baladiya.centers.models import Center
from baladiya.core.models import AuditEvent
from baladiya.documents.models import SigningKey
from baladiya.sync import central
from baladiya.sync.models import CenterNode, EnrolmentCode
from baladiya.sync.tests.nodes import FakeNode

pytestmark = pytest.mark.django_db(transaction=False)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    data: dict[str, Any] = response.json()
    return data


def test_the_same_enrolment_again_gets_the_same_package(center: Center, admin_user: User) -> None:
    pc = FakeNode(Client(), center.code)
    code = central.create_enrolment_code(center.code, admin_user)
    first = _ok(pc.enrol(code))  # suppose this answer was lost on the way
    # A day later, the code has expired meanwhile: the same PC, same command.
    EnrolmentCode.objects.update(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    again = _ok(pc.enrol(code))
    assert again == first
    assert SigningKey.objects.filter(node="center:C03").count() == 1
    assert SigningKey.objects.get(key_id=pc.key_id).revoked_at is None
    assert AuditEvent.objects.filter(action="sync.node_enrolled").count() == 1
    assert CenterNode.objects.get().key.key_id == pc.key_id


def test_a_replacement_pc_gets_its_jump_again(center: Center, admin_user: User) -> None:
    old = FakeNode(Client(), center.code)
    _ok(old.enrol(central.create_enrolment_code(center.code, admin_user)))
    new = FakeNode(Client(), center.code)
    code = central.create_enrolment_code(center.code, admin_user)
    first = _ok(new.enrol(code))
    assert _ok(new.enrol(code)) == first  # the counters with the 1,000 jump, not without it


def test_another_key_with_a_used_code_is_refused(center: Center, admin_user: User) -> None:
    pc = FakeNode(Client(), center.code)
    code = central.create_enrolment_code(center.code, admin_user)
    _ok(pc.enrol(code))
    intruder = FakeNode(Client(), center.code)
    response = intruder.enrol(code)
    assert response.status_code == 403
    assert "not valid" in response.json()["message"]
    assert CenterNode.objects.get().key.key_id == pc.key_id  # nothing changed
    assert not SigningKey.objects.filter(key_id=intruder.key_id).exists()


def test_a_revoked_pc_cannot_replay_its_enrolment(center: Center, admin_user: User) -> None:
    pc = FakeNode(Client(), center.code)
    code = central.create_enrolment_code(center.code, admin_user)
    _ok(pc.enrol(code))
    central.revoke_node(center.code, admin_user, "stolen")
    assert pc.enrol(code).status_code == 403
    assert CenterNode.objects.get().revoked_at is not None


def test_a_new_code_with_an_already_registered_key_is_refused_clearly(
    center: Center, admin_user: User
) -> None:
    fake = FakeNode(Client(), center.code)
    assert fake.enrol(central.create_enrolment_code(center.code, admin_user)).status_code == 200
    again = fake.enrol(central.create_enrolment_code(center.code, admin_user))
    assert again.status_code == 409
    assert again.json()["code"] == "key_registered"
    assert CenterNode.objects.get(center=center).revoked_at is None  # nothing changed
