"""Benchmark: end-to-end online applications per second through the public HTTP API.

One fresh PostgreSQL database (BENCH_ENGINE=sqlite to compare), seeded with the Homs demo;
gunicorn (BENCH_GUNICORN_WORKERS sync workers, default cores + 1; BENCH_GUNICORN_ARGS adds
options) and BENCH_OUTBOX_PUMPS outbox pumps started here on loopback, as `baladiya run`
starts them; then BENCH_CLIENTS (16) concurrent clients, each a keep-alive http.client
connection in its own thread, run this loop until BENCH_API_APPS applications are done:

  online (default, needs the sandbox payment gateway):
    citizen  POST /api/v1/applications                 (online at C00, pickup at a center)
    citizen  POST /api/v1/applications/{ref}/payments  -> redirect to the gateway's page
    gateway  the payer pays on the hosted page (sandbox, in this process: a real gateway is
             elsewhere) -> signed webhook queued -> delivered over HTTP by the outbox pump
    citizen  GET  /api/v1/applications/{ref}/payments/{id}  (BENCH_CONFIRM=return only: the
             payer is back, the server asks the gateway if the webhook is not in yet)
    citizen  GET  /api/v1/applications/{ref}           (polled until `paid`)
    officer  POST /api/v1/applications/{ref}/actions   start_review, approve, issue
  cash (BENCH_FLOW=cash, or when the gateway is missing):
    clerk    POST /api/v1/applications                 (counter, at the clerk's center)
    cashier  POST /api/v1/applications/{ref}/payments  (cash from an open drawer)
    clerk    POST /api/v1/applications/{ref}/actions   start_review, approve, issue

Every POST carries an Idempotency-Key, as a careful client sends it. Prints one JSON line:
applications/s over the timed wall time, p50/p99 latency of every API request (and per step),
and of a whole application; and the CPU each side used per application (web server, pumps,
their PostgreSQL backends, the clients + sandbox gateway), which hardly depends on other load
on the machine, unlike the wall-clock rates. Targets (issue 3): >= 50 applications/s, p99 <
250 ms per request, on a 2-core machine.

    BALADIYA_TESTING=1 .venv/bin/python bench/api_flow.py
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, host_speed, machine, prepare_database, setup_django

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
APPS = int(os.environ.get("BENCH_API_APPS", "800"))
WARMUP = int(os.environ.get("BENCH_API_WARMUP", "32"))
# As `baladiya run` starts it: one sync worker per core, plus one.
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", str((os.cpu_count() or 1) + 1)))
PUMPS = int(os.environ.get("BENCH_OUTBOX_PUMPS", "2"))
# online: how the client learns the payment went through. `webhook` (the issue's flow): it
# polls the application until the gateway's webhook has marked it paid. `return`: when the
# payer is back from the gateway's page it asks once (GET …/payments/{id}; the server asks the
# gateway if the webhook is not in yet), and polls only if that did not settle it. Either
# way the webhook is delivered and handled for every application.
CONFIRM = os.environ.get("BENCH_CONFIRM", "webhook")
PAID_TIMEOUT = 30.0
POLL_SECONDS = 0.01
RESENDS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("gunicorn exited before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start listening")


# ---------------------------------------------------------------- data (untimed)


@dataclass
class Setup:
    flow: str
    service: str
    fields: dict[str, Any]
    pickup: str
    officer: str = ""  # token
    citizens: list[str] = field(default_factory=list)  # tokens, one per client
    desks: list[dict[str, str]] = field(default_factory=list)  # cash: clerk/cashier tokens


def _field_value(f: Any) -> Any:
    kind = f.type
    if kind == "national_number":
        return "04019999999"
    if kind == "phone":
        return "+963944123456"
    if kind == "date":
        return "2026-01-15"
    if kind == "number":
        return 3
    if kind == "choice":
        return str((f.choices or [""])[0])
    return "جهة عامة"


def prepare(flow: str) -> Setup:
    """Citizen accounts with a profile and a token each, an officer's token (online); or a
    clerk's and a cashier's token with an open drawer at every staffed center (cash)."""
    from baladiya.accounts import roles
    from baladiya.accounts.models import Citizen, User
    from baladiya.api import services as tokens
    from baladiya.api.models import ApiToken
    from baladiya.catalog.models import Service
    from baladiya.centers.models import Center
    from baladiya.payments import services as pay

    def staff_token(user: Any) -> str:
        return tokens._issue(
            user, ApiToken.Kind.STAFF, tokens.staff_token_lifetime(), "127.0.0.1"
        ).token

    candidates = Service.objects.filter(active=True, attachments__isnull=True).order_by("code")
    if flow == "cash":
        candidates = candidates.filter(approval=Service.Approval.COUNTER)
    service = next(s for s in candidates if "pickup" in (s.delivery_modes or []))
    fields = {f.name: _field_value(f) for f in service.fields.all() if f.required}
    setup = Setup(flow=flow, service=service.code, fields=fields, pickup="C03")
    if flow == "online":
        officer = User.objects.filter(groups__name=roles.OFFICER, agency__isnull=True).first()
        assert officer is not None, "the demo seed has an unrestricted officer"
        setup.officer = staff_token(officer)
        for i in range(CLIENTS):
            person = Citizen.objects.create(
                national_number=f"0402{i:07d}",
                first_name="سامي",
                father_name="خالد",
                last_name=f"الحمصي{i}",
                phone=f"+96394{i:07d}",
            )
            account = User(username=person.phone, citizen=person)
            account.set_unusable_password()
            account.save()
            setup.citizens.append(tokens.issue_citizen_token(account, "127.0.0.1").token)
        return setup
    for center in Center.objects.order_by("code"):
        clerk = User.objects.filter(center=center, groups__name=roles.CLERK).first()
        cashier = User.objects.filter(center=center, groups__name=roles.CASHIER).first()
        if clerk is None or cashier is None:
            continue
        pay.open_session(cashier, 0)
        setup.desks.append(
            {"clerk": staff_token(clerk), "cashier": staff_token(cashier), "center": center.code}
        )
    Citizen.objects.create(
        national_number="04019999999", first_name="سامي", father_name="خالد", last_name="الحمصي"
    )
    return setup


# ---------------------------------------------------------------- the clients (timed)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[str, list[float]] = defaultdict(list)
        self.applications: list[float] = []
        self.errors: list[str] = []
        self.resent = 0

    def add(self, step: str, seconds: float) -> None:
        with self.lock:
            self.requests[step].append(seconds)


class Client:
    """One client's keep-alive HTTP connection (stdlib http.client: a load generator should
    spend its CPU on sending requests, not on a feature-rich client library; it shares the
    2 cores with the server here). Reconnects by itself when the server closes."""

    def __init__(self, base: str, recorder: Recorder) -> None:
        import http.client
        from urllib.parse import urlsplit

        netloc = urlsplit(base)
        self.http = http.client.HTTPConnection(netloc.hostname or "", netloc.port, timeout=30.0)
        self.recorder = recorder

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        import http.client

        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers = {**headers, "Content-Type": "application/json"}
        for attempt in (1, 2):
            try:
                self.http.request(method, path, body=data, headers=headers)
                response = self.http.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.http.close()  # the server closed an idle keep-alive connection
                if attempt == 2:
                    raise
        return response.status, json.loads(raw) if raw else None

    def call(
        self, step: str, method: str, path: str, token: str, body: Any = None, want: int = 200
    ) -> Any:
        """One API call. A careful client resends a POST that lost a lock race (409 `busy`)
        or whose first copy is still running, with the same Idempotency-Key."""
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        for attempt in range(1, RESENDS + 2):
            started = time.perf_counter()
            status, answer = self._send(method, path, body, headers)
            self.recorder.add(step, time.perf_counter() - started)
            if status == want:
                return answer
            code = answer.get("code") if status == 409 and answer else None
            if code not in ("busy", "idempotency_in_progress") or attempt > RESENDS:
                break
            with self.recorder.lock:
                self.recorder.resent += 1
            time.sleep(0.05 * attempt)
        raise RuntimeError(f"{step}: {status} {json.dumps(answer)[:300]}")


def online_application(client: Client, setup: Setup, citizen: str) -> None:
    from urllib.parse import urlsplit

    from baladiya.payments.gateways import sandbox

    body = {
        "service": setup.service,
        "fields": setup.fields,
        "delivery": {"mode": "pickup", "center": setup.pickup},
    }
    ref = client.call("apply", "POST", "/api/v1/applications", citizen, body, 201)["reference"]
    started = client.call("pay", "POST", f"/api/v1/applications/{ref}/payments", citizen, {}, 201)
    payment_id = urlsplit(started["url"]).path.rstrip("/").rsplit("/", 1)[-1]
    sandbox.act(payment_id, "pay")  # the payer's click on the gateway's hosted page
    paid = False
    if CONFIRM == "return":  # the payer is back: ask once (the server asks the gateway)
        back = f"/api/v1/applications/{ref}/payments/{started['payment']['id']}"
        paid = client.call("back", "GET", back, citizen)["application"]["status"] == "paid"
    deadline = time.monotonic() + PAID_TIMEOUT
    while not paid:
        status = client.call("status", "GET", f"/api/v1/applications/{ref}", citizen)["status"]
        if status == "paid":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{ref}: not paid {PAID_TIMEOUT} s after the gateway took it")
        time.sleep(POLL_SECONDS)
    for action in ("start_review", "approve", "issue"):
        client.call(
            action, "POST", f"/api/v1/applications/{ref}/actions", setup.officer, {"action": action}
        )


def cash_application(client: Client, setup: Setup, desk: dict[str, str]) -> None:
    body = {
        "service": setup.service,
        "applicant": {"national_number": "04019999999", "name": "سامي خالد الحمصي"},
        "fields": setup.fields,
        "delivery": {"mode": "pickup", "center": desk["center"]},
    }
    clerk, cashier = desk["clerk"], desk["cashier"]
    ref = client.call("apply", "POST", "/api/v1/applications", clerk, body, 201)["reference"]
    client.call("pay", "POST", f"/api/v1/applications/{ref}/payments", cashier, {}, 201)
    for action in ("start_review", "approve", "issue"):
        client.call(
            action, "POST", f"/api/v1/applications/{ref}/actions", clerk, {"action": action}
        )


def drive(base: str, setup: Setup, total: int, recorder: Recorder) -> float:
    """Run `total` applications over CLIENTS threads; return the wall time in seconds."""
    remaining = [total]
    lock = threading.Lock()

    def take() -> bool:
        with lock:
            if remaining[0] <= 0:
                return False
            remaining[0] -= 1
            return True

    def client_loop(index: int) -> None:
        from django.db import connections

        client = Client(base, recorder)
        one: Callable[[], None]
        if setup.flow == "online":
            citizen = setup.citizens[index % len(setup.citizens)]
            one = lambda: online_application(client, setup, citizen)  # noqa: E731
        else:
            desk = setup.desks[index % len(setup.desks)]
            one = lambda: cash_application(client, setup, desk)  # noqa: E731
        try:
            while take():
                started = time.perf_counter()
                try:
                    one()
                except Exception as exc:
                    with recorder.lock:
                        recorder.errors.append(str(exc)[:300])
                    continue
                with recorder.lock:
                    recorder.applications.append(time.perf_counter() - started)
        finally:
            client.http.close()
            connections.close_all()

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


class CpuMeter:
    """CPU seconds each side used during the timed part: the web server (gunicorn master and
    workers), the outbox pumps, their PostgreSQL backends, and this process (the clients and
    the sandbox gateway, whose own backends are counted apart). Wall-clock rates depend on
    whatever else runs on the machine; CPU per application hardly does.

    Linux only (/proc; everything runs on this machine), sampled every SAMPLE seconds: a
    process that ends between two samples loses its last moments. PostgreSQL backends are
    told apart by application_name (PGAPPNAME, set per side in `main`)."""

    SAMPLE = 0.25

    def __init__(self, web: int, pumps: list[int], database_url: str) -> None:
        self.web, self.pumps, self.database_url = web, set(pumps), database_url
        self.first: dict[int, int] = {}  # pid -> CPU ticks when first seen (0: born later)
        self.last: dict[int, tuple[str, int]] = {}  # pid -> (side, CPU ticks when last seen)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.cpu = 0.0
        self.available = Path("/proc/self/stat").exists()

    @staticmethod
    def _stat(pid: int) -> tuple[int, int] | None:
        """(parent pid, user + system CPU ticks), or None if the process is gone."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[1]), int(fields[11]) + int(fields[12])

    def _backends(self, conn: Any) -> dict[int, str]:
        rows = conn.execute(
            "SELECT pid, application_name FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        return {int(pid): f"{name or 'other'}_postgresql" for pid, name in rows}

    def _sample(self, conn: Any, initial: bool) -> None:
        sides = self._backends(conn) if conn is not None else {}
        for pid in [self.web, *self.pumps]:
            sides[pid] = "web" if pid == self.web else "pump"
        for entry in os.scandir("/proc"):  # gunicorn workers: children of the master
            if entry.name.isdigit() and int(entry.name) not in sides:
                stat = self._stat(int(entry.name))
                if stat is not None and stat[0] == self.web:
                    sides[int(entry.name)] = "web"
        for pid, side in sides.items():
            stat = self._stat(pid)
            if stat is None:
                continue
            self.first.setdefault(pid, stat[1] if initial else 0)
            self.last[pid] = (side, stat[1])

    def _run(self) -> None:
        conn = None
        if self.database_url.startswith("postgres"):
            import psycopg

            conn = psycopg.connect(self.database_url, autocommit=True)
        try:
            self._sample(conn, initial=True)
            self.started.set()
            while not self.stop.wait(self.SAMPLE):
                self._sample(conn, initial=False)
            self._sample(conn, initial=False)
        finally:
            if conn is not None:
                conn.close()

    def __enter__(self) -> CpuMeter:
        if self.available:
            self.started = threading.Event()
            self.thread.start()
            self.started.wait(10)
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self.cpu
        if self.available:
            self.stop.set()
            self.thread.join()

    def seconds(self) -> dict[str, float]:
        hz = os.sysconf("SC_CLK_TCK")
        totals: dict[str, float] = defaultdict(float)
        for pid, (side, ticks) in self.last.items():
            totals[side] += (ticks - self.first[pid]) / hz
        totals["clients_and_gateway"] = self.cpu
        return dict(totals)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


# ---------------------------------------------------------------- main


def main() -> None:
    engine = os.environ.get("BENCH_ENGINE", "postgresql")
    db = prepare_database(engine)
    os.environ["BALADIYA_KEY_DIR"] = db["key_dir"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ["BALADIYA_PUBLIC_URL"] = base  # the gateway's webhook comes back here
    setup_django(db["database_url"], migrate=False)
    try:
        import baladiya.payments.gateways.sandbox  # noqa: F401

        flow = os.environ.get("BENCH_FLOW", "online")
    except ImportError:
        flow = "cash"
    setup = prepare(flow)

    env = dict(
        os.environ,
        DATABASE_URL=db["database_url"],
        BALADIYA_KEY_DIR=db["key_dir"],
        BALADIYA_PUBLIC_URL=base,
        BALADIYA_LOG_LEVEL="ERROR",
    )  # the pump as shipped: woken by LISTEN/NOTIFY on PostgreSQL, polling on SQLite
    gunicorn = [
        sys.executable, "-m", "gunicorn", "baladiya.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(GUNICORN_WORKERS),
        "--log-level", "warning", "--backlog", "256",
        *os.environ.get("BENCH_GUNICORN_ARGS", "").split(),
    ]  # fmt: skip
    pump = [sys.executable, "-m", "baladiya.cli", "outbox", "--limit", "50"]
    procs: list[subprocess.Popen[bytes]] = []
    os.environ["PGAPPNAME"] = "gateway"  # this process's connections: the sandbox gateway
    try:
        procs.append(subprocess.Popen(gunicorn, env=dict(env, PGAPPNAME="web"), cwd=ROOT))
        if flow == "online":
            procs += [
                subprocess.Popen(pump, env=dict(env, PGAPPNAME="pump"), cwd=ROOT)
                for _ in range(PUMPS)
            ]
        _wait_listening(port, procs[:1], timeout=60)

        warm = Recorder()  # every worker: imports, Typst compiler and fonts, connections
        drive(base, setup, WARMUP, warm)
        if len(warm.errors) == WARMUP:
            raise RuntimeError(f"warm-up failed: {warm.errors[:3]}")
        recorder = Recorder()
        load = os.getloadavg()[0]
        speed_before = host_speed()  # `machine` measures it again after the run
        with CpuMeter(procs[0].pid, [p.pid for p in procs[1:]], db["database_url"]) as meter:
            seconds = drive(base, setup, APPS, recorder)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    every = [s for values in recorder.requests.values() for s in values]
    done = len(recorder.applications)
    cpu = meter.seconds()
    server = sum(v for k, v in cpu.items() if k.split("_")[0] in ("web", "pump"))
    result = {
        "benchmark": "api_flow",
        "engine": engine,
        "flow": flow,
        "confirm": CONFIRM if flow == "online" else None,
        "clients": CLIENTS,
        "gunicorn_workers": GUNICORN_WORKERS,
        "outbox_pumps": PUMPS if flow == "online" else 0,
        "applications": done,
        "errors": len(recorder.errors),
        "resent_after_409": recorder.resent,
        "first_errors": recorder.errors[:3],
        "seconds": round(seconds, 2),
        "applications_per_s": round(done / seconds, 1) if seconds else 0.0,
        "requests": len(every),
        "requests_per_s": round(len(every) / seconds, 1) if seconds else 0.0,
        "request_p50_ms": _ms(every, 0.50),
        "request_p99_ms": _ms(every, 0.99),
        "application_p50_ms": _ms(recorder.applications, 0.50),
        "application_p99_ms": _ms(recorder.applications, 0.99),
        "steps": {
            step: {
                "n": len(values),
                "p50_ms": _ms(values, 0.50),
                "p99_ms": _ms(values, 0.99),
                "mean_ms": round(1000 * statistics.fmean(values), 1),
            }
            for step, values in sorted(recorder.requests.items())
        },
        # CPU per application (ms) of each side, and what the server side (web + pumps +
        # their PostgreSQL backends) alone would sustain on this machine's cores.
        "cpu_ms_per_application": {
            side: round(1000 * value / done, 1) for side, value in sorted(cpu.items())
        }
        if done
        else {},
        "server_cpu_ms_per_application": round(1000 * server / done, 1) if done else 0.0,
        "server_cpu_bound_applications_per_s": (
            round(done * (os.cpu_count() or 1) / server, 1) if server else 0.0
        ),
        "load_average_before": round(load, 2),
        "host_speed_before": speed_before,
        "machine": machine(),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
