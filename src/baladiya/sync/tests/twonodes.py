"""Two real nodes as separate processes on loopback: a central node (gunicorn, on SQLite or
on a fresh PostgreSQL database when the suite runs on PostgreSQL) and a center node (SQLite).
Used by the end-to-end sync tests (and the partition tests)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[4]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _central_database(folder: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{folder}/central.sqlite3"
    import psycopg

    name = f"baladiya_central_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def drop_central_database(central: Node) -> None:
    """A central node's PostgreSQL database goes when its test does (SQLite: a temp file)."""
    url = central.env["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Node:
    name: str
    folder: Path
    env: dict[str, str]
    server: subprocess.Popen[bytes] | None = None
    port: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [sys.executable, "-m", "baladiya.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
        )
        if check and out.returncode != 0:
            raise AssertionError(
                f"{self.name}: baladiya {' '.join(args)} -> {out.returncode}\n{out.stdout}\n{out.stderr}"
            )
        return out

    def python(self, module: str, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", module, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=self.folder,
        )
        if out.returncode != 0:
            raise AssertionError(f"{self.name}: {module} failed\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read this node's database directly (what is really stored)."""
        url = self.env["DATABASE_URL"]
        if url.startswith("sqlite:///"):
            import sqlite3

            with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
                return list(conn.execute(query.replace("%s", "?"), params))
        import psycopg

        with psycopg.connect(url) as conn:
            return list(conn.execute(query, params))

    def start(self, background: bool = False) -> None:
        """`baladiya run`: migrates, seeds an empty central database. Web server only, unless
        `background` (a center node's sync loop and periodic jobs)."""
        self.port = self.port or free_port()
        log = (self.folder / "server.log").open("ab")
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "baladiya.cli",
                "run",
                *([] if background else ["--no-worker"]),
                "--workers",
                "1",
                "--port",
                str(self.port),
                "--demo-count",
                "0",
            ],
            env=self.env,
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        log.close()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                log_text = (self.folder / "server.log").read_text(errors="replace")
                raise AssertionError(f"{self.name} exited: {log_text[-3000:]}")
            try:
                if httpx.get(f"{self.url}/verify/", timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise AssertionError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None


def _base_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BALADIYA_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="baladiya.settings",
        BALADIYA_TESTING="1",
        BALADIYA_DEMO="1",
        BALADIYA_VAR_DIR=str(folder / "var"),
        BALADIYA_KEY_DIR=str(folder / "keys"),
        BALADIYA_MEDIA_DIR=str(folder / "media"),
        PYTHONPATH=str(ROOT / "src"),
    )
    return env


def central_node(folder: Path) -> Node:
    folder.mkdir(parents=True, exist_ok=True)
    env = _base_env(folder)
    env.update(BALADIYA_NODE="central", DATABASE_URL=_central_database(folder))
    return Node("central", folder, env)


def center_node(folder: Path, code: str = "C03") -> Node:
    folder.mkdir(parents=True, exist_ok=True)
    env = _base_env(folder)
    env.update(BALADIYA_NODE=f"center:{code}", DATABASE_URL=f"sqlite:///{folder}/center.sqlite3")
    node = Node(f"center {code}", folder, env)
    node.cli("manage", "migrate", "--verbosity", "0")
    return node


def enrolment_code(central: Node, code: str = "C03") -> str:
    out = central.cli("center", "enrollment-code", code).stdout
    match = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})\b", out)
    assert match, out
    return match.group(1)


def json_line(text: str) -> Any:
    return json.loads(text.strip().splitlines()[-1])
