"""Every action the code records is named for the audit log's readers, in Arabic."""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

from baladiya.applications.workflow import TRANSITIONS
from baladiya.core.audit_labels import action_label
from baladiya.payments.models import IntentStatus

SOURCE = Path(__file__).resolve().parents[2]


def _recorded_actions() -> set[str]:
    """The action codes written literally as the first argument of `audit.record(...)` (or of
    `record(...)` imported from it) anywhere in the application's code."""
    actions = set()
    for path in SOURCE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name == "record" and isinstance(first, ast.Constant) and "." in str(first.value):
                actions.add(str(first.value))
    return actions


def _in_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_every_recorded_action_has_an_arabic_name() -> None:
    actions = _recorded_actions()
    assert {"payments.receipt_issued", "document.revoked", "login.failed"} <= actions
    actions |= {f"application.{step}" for step in TRANSITIONS}
    actions |= {f"payments.intent_{status}" for status in IntentStatus.values}
    actions |= {"admin.add", "admin.change", "admin.delete"}  # passed on as a variable
    with translation.override("ar"):
        unnamed = sorted(a for a in actions if not _in_arabic(action_label(a)))
    assert unnamed == []


def test_an_unknown_code_shows_as_it_is() -> None:
    with translation.override("ar"):
        assert action_label("something.new") == "something.new"
