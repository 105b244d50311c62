"""The `baladiya` command, run in-process against the test database (and one smoke test of
`baladiya run` in a subprocess on a free port)."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from baladiya.centers.models import Center
from baladiya.cli import main
from baladiya.core import audit
from baladiya.core.errors import NotAllowed
from baladiya.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> Path:
    """Credentials and other node files go to a temp folder, never the developer's var/."""
    settings.VAR_DIR = tmp_path / "var"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path / "var"


def _out(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


# ---------------------------------------------------------------- audit verify


def test_audit_verify_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        audit.record("test.event", actor="tester", n=i)
    assert main(["audit", "verify"]) == 0
    assert "chain intact, 3 events" in _out(capsys)


def test_audit_verify_empty_chain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 0
    assert "chain intact, 0 events" in _out(capsys)


def test_audit_verify_detects_a_tampered_row(capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(4):
        audit.record("test.event", actor="tester", n=i)
    AuditEvent.objects.filter(seq=2).update(actor="someone-else")
    assert main(["audit", "verify"]) == 1
    out = _out(capsys)
    assert "seq 2: row content was changed" in out
    assert "chain intact" not in out


def test_audit_verify_detects_a_deleted_row(capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        audit.record("test.event", n=i)
    AuditEvent.objects.filter(seq=3).delete()
    assert main(["audit", "verify"]) == 1
    assert "rows 3..3 are missing" in _out(capsys)


# ---------------------------------------------------------------- seed


def test_seed_homs_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "homs"]) == 0
    first = _out(capsys)
    assert "centers" in first and Center.objects.count() == 12
    events = AuditEvent.objects.count()
    assert main(["seed", "homs"]) == 0
    assert "already seeded" in _out(capsys)
    assert Center.objects.count() == 12
    assert AuditEvent.objects.count() == events


def test_seed_homs_demo_writes_private_credentials(
    capsys: pytest.CaptureFixture[str], _var_dir: Path
) -> None:
    assert main(["seed", "homs", "--demo"]) == 0
    path = _var_dir / "demo-credentials.json"
    assert str(path) in _out(capsys)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = {a["username"]: a for a in json.loads(path.read_text("utf-8"))["accounts"]}
    assert {"admin", "auditor", "c02.clerk", "c02.supervisor", "c11.cashier"} <= set(accounts)
    from baladiya.accounts.models import User

    admin = User.objects.get(username="admin")
    assert admin.check_password(accounts["admin"]["password"])
    # A second run creates no account and keeps the file as it was.
    before = path.read_text("utf-8")
    assert main(["seed", "homs", "--demo"]) == 0
    assert "keep their passwords" in _out(capsys)
    assert path.read_text("utf-8") == before


def test_seed_demo_without_staff_fails_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "demo", "--count", "1"]) == 1
    assert "Demo" in _out(capsys)


# ---------------------------------------------------------------- verify-document, keys


@pytest.fixture
def fake_documents(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stand-ins for `documents.services` (written by another part of the project)."""
    calls: list[Any] = []

    def verify_pdf(data: bytes, keys: dict[str, bytes] | None = None) -> Any:
        calls.append((data, keys))
        status = "valid" if data.startswith(b"%PDF-good") else "forged"
        message = "signature checked" if status == "valid" else "the signature does not match"
        return types.SimpleNamespace(status=status, message=message)

    def load_keys_json(path: str) -> dict[str, bytes]:
        return {k: v.encode() for k, v in json.loads(Path(path).read_text()).items()}

    def rotate_key(actor: Any = None) -> Any:
        if actor is None or not actor.has_role("admin"):
            raise NotAllowed("Your role does not allow this action.")
        calls.append(("rotate", actor.username))
        return types.SimpleNamespace(key_id="central-2026-02")

    services = types.ModuleType("baladiya.documents.services")
    services.verify_pdf = verify_pdf  # type: ignore[attr-defined]
    services.load_keys_json = load_keys_json  # type: ignore[attr-defined]
    signing = types.ModuleType("baladiya.documents.signing")
    signing.rotate_key = rotate_key  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "baladiya.documents.services", services)
    monkeypatch.setitem(sys.modules, "baladiya.documents.signing", signing)
    return calls


def test_verify_document_valid_and_forged(
    fake_documents: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(b"%PDF-good")
    bad.write_bytes(b"%PDF-evil")
    assert main(["verify-document", str(good)]) == 0
    assert "valid" in _out(capsys)
    assert main(["verify-document", str(bad)]) == 1
    out = _out(capsys)
    assert "forged" in out and "does not match" in out


def test_verify_document_with_a_keys_file(
    fake_documents: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf, keys = tmp_path / "d.pdf", tmp_path / "keys.json"
    pdf.write_bytes(b"%PDF-good")
    keys.write_text(json.dumps({"central-2026-01": "abc"}))
    assert main(["verify-document", str(pdf), "--keys", str(keys)]) == 0
    assert fake_documents[-1] == (b"%PDF-good", {"central-2026-01": b"abc"})


def test_verify_document_missing_file_is_a_usage_error(
    fake_documents: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify-document", str(tmp_path / "nope.pdf")]) == 2
    assert "cannot read" in _out(capsys)


def test_keys_rotate_as_an_administrator(
    fake_documents: list[Any], admin_user: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "rotate", "--as", "admin"]) == 0
    assert "central-2026-02" in _out(capsys)
    assert fake_documents == [("rotate", "admin")]


def test_keys_rotate_refused_without_an_administrator(
    fake_documents: list[Any], clerk: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "rotate"]) == 2
    assert "--as USERNAME" in _out(capsys)
    assert main(["keys", "rotate", "--as", "clerk03"]) == 2
    assert "does not allow" in _out(capsys)
    assert main(["keys", "rotate", "--as", "nobody"]) == 2
    assert "no active staff account" in _out(capsys)
    assert fake_documents == []


# ---------------------------------------------------------------- manage, usage, run


def test_manage_passes_through_to_django(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manage", "check"]) == 0
    assert "no issues" in _out(capsys)


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_run_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["run", "--port", str(port)]) == 2
    assert "already in use" in _out(capsys)
    assert not Center.objects.exists()  # nothing was set up


def _free_port() -> int | None:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    except OSError:
        return None


def test_smoke_run_serves_then_stops_cleanly(tmp_path: Path) -> None:
    """`baladiya run` on a fresh SQLite file: migrates, seeds, serves /, stops on SIGTERM."""
    port = _free_port()
    if port is None:
        pytest.skip("cannot bind a local port here")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BALADIYA_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"))
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'node.sqlite3'}",
        "BALADIYA_VAR_DIR": str(tmp_path / "var"),
        "BALADIYA_DEMO": "1",  # what `make run` sets
    }
    command = [
        sys.executable,
        "-c",
        "import sys; from baladiya.cli import main; sys.exit(main(sys.argv[1:]))",
        "run",
        "--port",
        str(port),
        "--workers",
        "1",
        "--demo-count",
        "0",
    ]
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        status = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    status = resp.status
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        output = (tmp_path / "run.log").read_text(errors="replace")
        if status is None and "already in use" in output:
            pytest.skip("the port was taken meanwhile")
        assert status == 200, output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/centers/coverage/") as resp:
            assert "C02" in resp.read().decode()
        credentials = tmp_path / "var" / "demo-credentials.json"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_run_without_a_secret_outside_demo_mode_refuses(tmp_path: Path) -> None:
    """A production node that forgot its secret must not quietly become a demo."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BALADIYA_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"))
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'node.sqlite3'}",
        "BALADIYA_VAR_DIR": str(tmp_path / "var"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from baladiya.cli import main; sys.exit(main())",
            "run",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "BALADIYA_SECRET_KEY is required" in done.stdout + done.stderr
    assert not (tmp_path / "var" / "demo-credentials.json").exists()
