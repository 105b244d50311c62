"""Signing keys: made on first use, private file 0600, rotation, publication in keys.json."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from baladiya.accounts.models import User
from baladiya.core.audit import verify_chain
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.documents import signing
from baladiya.documents.models import SigningKey
from baladiya.documents.services import load_keys_json

pytestmark = pytest.mark.django_db


def test_first_use_creates_the_node_key_with_a_private_file_only_the_node_reads() -> None:
    assert not SigningKey.objects.exists()
    key = signing.active_key()
    assert re.fullmatch(r"C00-\d{4}-[0-9a-f]{4}", key.key_id)
    assert key.active and key.valid_to is None and key.node == settings.BALADIYA_NODE
    path = Path(settings.KEY_DIR) / f"{key.key_id}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert len(signing.b64decode(key.public_key)) == 32
    assert signing.active_key() == key  # second use: the same key, no new one
    assert SigningKey.objects.count() == 1


def test_signature_verifies_with_the_published_public_key() -> None:
    key_id, signature = signing.sign(b"hello")
    (entry,) = signing.public_keys()
    assert entry["key_id"] == key_id and entry["alg"] == "Ed25519"
    public = signing.b64decode(entry["public_key"])
    assert signing.verify(public, signature, b"hello")
    assert not signing.verify(public, signature, b"hellO")


def test_missing_private_file_is_a_clear_error() -> None:
    key = signing.active_key()
    (Path(settings.KEY_DIR) / f"{key.key_id}.pem").unlink()
    signing._private_cache.clear()
    with pytest.raises(DomainError, match=key.key_id) as err:
        signing.sign(b"data")
    assert "missing" in str(err.value)


def test_rotation_retires_the_old_key_and_audits(admin_user: User) -> None:
    old = signing.active_key()
    new = signing.rotate_key(admin_user)
    old.refresh_from_db()
    assert new.key_id != old.key_id and new.active
    assert not old.active and old.valid_to is not None and old.revoked_at is None
    assert signing.active_key() == new
    assert [k["key_id"] for k in signing.public_keys()] == [old.key_id, new.key_id]
    event = AuditEvent.objects.get(action="signing_key.rotated")
    assert event.actor == "admin" and event.data["retired"] == [old.key_id]
    assert verify_chain() == []


def test_only_an_admin_rotates_or_withdraws_keys(supervisor: User, clerk: User) -> None:
    key = signing.active_key()
    for user in (supervisor, clerk, None):
        with pytest.raises(NotAllowed):
            signing.rotate_key(user)
        with pytest.raises(NotAllowed):
            signing.revoke_key(key.key_id, user, "stolen")
    assert SigningKey.objects.count() == 1


def test_withdrawn_key_is_marked_and_needs_a_reason(admin_user: User) -> None:
    key = signing.active_key()
    with pytest.raises(DomainError):
        signing.revoke_key(key.key_id, admin_user, "  ")
    signing.revoke_key(key.key_id, admin_user, "center PC stolen")
    (entry,) = signing.public_keys()
    assert entry["revoked_at"] is not None
    assert signing.active_key() != key  # a fresh key signs from now on


def test_keys_json_is_public_cached_and_loads_back(client: Client, tmp_path: Any) -> None:
    key = signing.active_key()
    response = client.get("/.well-known/baladiya/keys.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "max-age=300" in response["Cache-Control"] and "public" in response["Cache-Control"]
    body = response.json()
    assert isinstance(body, list) and body[0]["key_id"] == key.key_id
    path = tmp_path / "keys.json"
    path.write_bytes(response.content)
    assert load_keys_json(path) == {key.key_id: signing.b64decode(key.public_key)}


def test_load_keys_json_refuses_junk(tmp_path: Any) -> None:
    path = tmp_path / "keys.json"
    for junk in ("not json", "{}", "[]", json.dumps([{"alg": "RSA", "key_id": "x"}])):
        path.write_text(junk)
        with pytest.raises(ValueError):
            load_keys_json(path)
    with pytest.raises(ValueError):
        load_keys_json(tmp_path / "missing.json")
