"""A center node as central sees it over the wire: a key, signed requests, hand-made events."""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import models
from django.test import Client
from django.utils import timezone

from baladiya.core.ids import uuid7
from baladiya.documents.signing import b64encode
from baladiya.sync import protocol, registry


class FakeNode:
    def __init__(self, client: Client, center: str = "C03") -> None:
        self.client = client
        self.center = center
        self.private = Ed25519PrivateKey.generate()
        self.key_id = f"{center}-2026-{uuid.uuid4().hex[:4]}"
        self.key_pk = str(uuid7())
        self.seq = 0

    @property
    def public_key(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return b64encode(raw)

    def enrol(self, code: str, center: str | None = None) -> Any:
        message = f"enrol\n{center or self.center}\n{code}".encode()
        payload = {
            "center": center or self.center,
            "key_id": self.key_id,
            "key_pk": self.key_pk,
            "public_key": self.public_key,
            "proof": b64encode(self.private.sign(message)),
            "proof_message": message.decode(),
        }
        return self._send("POST", "/sync/v1/enrol", payload, signed=False)

    def headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        now = timezone.now().isoformat()
        message = protocol.signing_message(method, path, self.center, self.key_id, now, body)
        return protocol.SignedHeaders(
            self.center, self.key_id, now, b64encode(self.private.sign(message))
        ).as_dict()

    def _send(self, method: str, path: str, payload: Any, signed: bool = True) -> Any:
        body = protocol.encode_body(payload) if payload is not None else b""
        headers = self.headers(method, path, body) if signed else {}
        if method == "GET":
            return self.client.get(path, headers=headers)
        return self.client.post(
            path,
            data=body,
            content_type="application/json",
            headers={"Content-Encoding": "gzip", "Accept-Language": "en", **headers},
        )

    def push(self, events: list[dict[str, Any]]) -> Any:
        return self._send("POST", "/sync/v1/push", {"events": events})

    def changes(self, cursor: int) -> Any:
        return self._send("GET", f"/sync/v1/changes?cursor={cursor}", None)

    def event(
        self, obj: models.Model, seq: int | None = None, op: str = "upsert"
    ) -> dict[str, Any]:
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {
            "seq": seq,
            "event_id": str(uuid.uuid4()),
            "model": registry.label_of(type(obj)),
            "object_id": str(obj.pk),
            "op": op,
            "data": registry.serialize(obj),
        }
