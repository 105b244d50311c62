"""Around the demo: determinism, the demo logins file (finance officer, citizens) and the
sandbox SMS page where demo citizens read their login code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import citizen_of
from baladiya.applications.models import Application
from baladiya.cli import main
from baladiya.core.seed.demo import generate_demo
from baladiya.core.seed.homs import seed_homs
from baladiya.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_the_demo_is_deterministic_for_a_seed() -> None:
    """Two runs from the same (empty) database and seed make the same applications."""

    def run() -> list[tuple[Any, ...]]:
        seed_homs(demo=True)
        generate_demo(count=15, seed=11)
        return list(
            Application.objects.order_by("reference").values_list(
                "reference", "service__code", "status", "channel", "delivery_mode",
                "pickup_center__code", "applicant__national_number",
            )
        )  # fmt: skip

    runs = []
    for _ in range(2):
        with transaction.atomic():
            runs.append(run())
            transaction.set_rollback(True)
    assert runs[0] == runs[1] and len(runs[0]) == 15


# ---------------------------------------------------------------- logins and the SMS inbox


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path / "var"


def test_demo_logins_list_finance_and_citizens(var_dir: Path, capsys: Any) -> None:
    assert main(["seed", "homs", "--demo"]) == 0
    body = json.loads((var_dir / "demo-credentials.json").read_text("utf-8"))
    accounts = {a["username"]: a for a in body["accounts"]}
    finance = accounts["finance"]
    assert finance["role"] == roles.FINANCE
    assert User.objects.get(username="finance").check_password(finance["password"])
    assert User.objects.get(username="finance").has_role(roles.FINANCE)
    citizens = [a for a in accounts.values() if a["role"] == "citizen"]
    assert len(citizens) == 3
    for entry in citizens:
        user = User.objects.get(username=entry["username"])
        assert entry["username"].startswith("+9639") and entry["password"] == ""
        citizen = citizen_of(user)
        assert citizen is not None and citizen.phone == entry["username"]
        assert not user.has_usable_password()
        assert "/notifications/sandbox/" in entry["login"]
    assert "/e/login/" in body["note"] and "/notifications/sandbox/" in body["note"]


def test_sandbox_sms_page_shows_a_login_code_on_a_demo_node(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from baladiya.accounts.otp import request_code

    monkeypatch.setenv("BALADIYA_DEMO", "1")
    request_code("0944 110 101", "127.0.0.1")
    page = Client().get("/notifications/sandbox/?phone=0944110101")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    text = page.content.decode()
    message = OutboxMessage.objects.get(recipient="+963944110101")
    assert message.body in text  # still waiting in the outbox: listed, code and all
    other = Client().get("/notifications/sandbox/?phone=0933220102").content.decode()
    assert message.body not in other
    bad = Client().get("/notifications/sandbox/?phone=12")
    assert bad.status_code == 200 and message.body not in bad.content.decode()


def test_sandbox_sms_page_is_not_there_outside_demo_and_debug(
    monkeypatch: pytest.MonkeyPatch, settings: Any, admin_user: User
) -> None:
    monkeypatch.delenv("BALADIYA_DEMO", raising=False)
    settings.DEBUG = False
    client = Client()
    client.force_login(admin_user)
    assert client.get("/notifications/sandbox/").status_code == 404
    # Nor on a demo node that sends real SMS.
    monkeypatch.setenv("BALADIYA_DEMO", "1")
    settings.SMS_SENDER = "example.RealSender"
    assert client.get("/notifications/sandbox/").status_code == 404
