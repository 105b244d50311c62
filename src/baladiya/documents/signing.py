"""Ed25519 signing keys of this node: create on first use, sign, rotate, publish.

The private half of each key is a PEM file `KEY_DIR/<key_id>.pem` (mode 0600) that never
leaves the node; the public half (raw 32 bytes, base64url) is stored in `SigningKey` and
published at `/.well-known/baladiya/keys.json`. A rotated key stops signing but keeps
verifying the documents it signed. See docs/qr-payload.md and decision 0003.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.accounts.permissions import require_role
from baladiya.core import audit
from baladiya.core.errors import DomainError, NotFound
from baladiya.core.models import Counter
from baladiya.documents.models import SigningKey
from baladiya.sync import capture

ALG = "Ed25519"
_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# Loaded private keys, by file path (KEY_DIR can differ between tests / nodes).
_private_cache: dict[str, Ed25519PrivateKey] = {}


class KeyFileMissing(DomainError):
    """The database names an active key whose private file is not on this machine."""

    status = 500
    code = "signing_key_missing"


# ---------------------------------------------------------------- base64url


def b64encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5), as used in payloads and keys.json."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict inverse of `b64encode`; raises ValueError on anything else."""
    if not isinstance(text, str) or not text or set(text) - _B64_ALPHABET or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


# ---------------------------------------------------------------- keys


def _node() -> str:
    return str(settings.BALADIYA_NODE)[:16]


def _key_path(key_id: str) -> Path:
    return Path(settings.KEY_DIR) / f"{key_id}.pem"


def _new_key_id() -> str:
    year = timezone.localdate().year
    for _attempt in range(50):
        key_id = f"{settings.NODE_CENTER_CODE}-{year}-{secrets.token_hex(2)}"
        if not SigningKey.objects.filter(key_id=key_id).exists() and not _key_path(key_id).exists():
            return key_id
    raise DomainError(_("Could not choose a new key id; try again."))  # pragma: no cover


def _write_private(key_id: str, private: Ed25519PrivateKey) -> None:
    path = _key_path(key_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: never overwrite a key file; 0600 from the start, not chmod-ed afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())  # a power cut must not leave a DB row without its key file
    folder = os.open(path.parent, os.O_RDONLY)  # ...nor the file without its name
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    _private_cache[str(path)] = private


def _create_key() -> SigningKey:
    """Generate a key pair, write the private file, insert the public row (caller's txn)."""
    private = Ed25519PrivateKey.generate()
    key_id = _new_key_id()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    _write_private(key_id, private)
    return SigningKey.objects.create(
        key_id=key_id,
        node=_node(),
        public_key=b64encode(raw),
        valid_from=timezone.now(),
        active=True,
    )


def _lock_node_keys() -> None:
    """Serialise key creation/rotation on this node (several workers, PostgreSQL)."""
    Counter.objects.select_for_update().get_or_create(scope="signing_key", kind=_node(), year=0)


def _current() -> SigningKey | None:
    return (
        SigningKey.objects.filter(node=_node(), active=True, revoked_at__isnull=True)
        .order_by("-valid_from")
        .first()
    )


def active_key() -> SigningKey:
    """The key that signs new documents on this node; the first one is made on first use."""
    key = _current()
    if key is None:
        with transaction.atomic():
            _lock_node_keys()
            key = _current()
            if key is None:
                key = _create_key()
                audit.record("signing_key.created", actor=None, obj=key, key_id=key.key_id)
    _private(key)  # fail early and clearly when the private file is missing
    return key


def _private(key: SigningKey) -> Ed25519PrivateKey:
    path = _key_path(key.key_id)
    cached = _private_cache.get(str(path))
    if cached is not None:
        return cached
    try:
        pem = path.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileMissing(
            _(
                "The private signing key %(key)s is missing from %(dir)s. Documents cannot be "
                "signed on this node until the key file is restored or a new key is made "
                "(key rotation)."
            )
            % {"key": key.key_id, "dir": settings.KEY_DIR}
        ) from exc
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileMissing(_("The key file %(key)s is not an Ed25519 key.") % {"key": path.name})
    if (
        b64encode(
            private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )
        != key.public_key
    ):
        raise KeyFileMissing(
            _("The key file %(key)s does not match its public key.") % {"key": path.name}
        )
    _private_cache[str(path)] = private
    return private


def sign(data: bytes, key: SigningKey | None = None) -> tuple[str, bytes]:
    """Sign `data` with `key` (default: the active key). Returns (key_id, 64-byte signature)."""
    key = key or active_key()
    return key.key_id, _private(key).sign(data)


def verify(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `data` by raw `public_key`."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def rotate_key(actor: Any) -> SigningKey:
    """Retire this node's active key (it keeps verifying) and start signing with a new one.

    Only an administrator. Side effects: new key file + row, old row `active=False,
    valid_to=now`, audit event `signing_key.rotated`.
    """
    require_role(actor, roles.ADMIN)
    with transaction.atomic():
        _lock_node_keys()
        now = timezone.now()
        old = list(SigningKey.objects.filter(node=_node(), active=True))
        SigningKey.objects.filter(pk__in=[k.pk for k in old]).update(active=False, valid_to=now)
        capture.rows_changed(SigningKey, [k.pk for k in old])  # no signal for update()
        new = _create_key()
        audit.record(
            "signing_key.rotated",
            actor=actor,
            obj=new,
            center=settings.NODE_CENTER_CODE,
            key_id=new.key_id,
            retired=[k.key_id for k in old],
        )
    return new


def revoke_key(key_id: str, actor: Any, reason: str) -> SigningKey:
    """Withdraw trust in a key (e.g. a stolen center PC). Documents it signed that are in the
    register still verify; anything else signed with it is refused. Only an administrator."""
    require_role(actor, roles.ADMIN)
    reason = " ".join(str(reason or "").split())[:250]
    if not reason:
        raise DomainError(_("Give the reason for withdrawing the key."))
    with transaction.atomic():
        _lock_node_keys()
        key = SigningKey.objects.select_for_update().filter(key_id=key_id).first()
        if key is None:
            raise NotFound(_("No such signing key."))
        if key.revoked_at is not None:
            raise DomainError(_("This key was already withdrawn."), code="already_revoked")
        now = timezone.now()
        key.revoked_at = now
        key.active = False
        key.valid_to = key.valid_to or now
        key.save(update_fields=["revoked_at", "active", "valid_to"])
        audit.record(
            "signing_key.revoked",
            actor=actor,
            obj=key,
            center=settings.NODE_CENTER_CODE,
            key_id=key.key_id,
            reason=reason,
        )
    return key


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def public_keys() -> list[dict[str, Any]]:
    """Every key ever used by this database, current and retired (keys.json entries)."""
    return [
        {
            "key_id": k.key_id,
            "alg": ALG,
            "public_key": k.public_key,
            "valid_from": _iso(k.valid_from),
            "valid_to": _iso(k.valid_to),
            "revoked_at": _iso(k.revoked_at),
            "node": k.node,
        }
        for k in SigningKey.objects.order_by("valid_from", "key_id")
    ]
