"""The `baladiya` command: run a node, seed Homs, verify documents and the audit chain.

    baladiya run [--host 127.0.0.1] [--port 8000]    set up and serve (web + task worker)
    baladiya seed homs [--demo]                       the Homs network (and demo staff)
    baladiya seed demo [--count 300]                  a lived-in demo (needs demo staff)
    baladiya verify-document FILE.pdf [--keys K]      check a document's signature offline
    baladiya audit verify                             check the hash-chained audit log
    baladiya keys rotate [--as ADMIN]                 new signing key (old ones still verify)
    baladiya outbox [--once]                          deliver queued SMS and webhooks
    baladiya post simulate [--outcome O] [--flush]    move sandbox postal parcels on
    baladiya water import FILE --kind K [--as USER]   import a water establishment file
    baladiya water fetch | export-collections --day D  exchange files with the establishment
    baladiya manage <django-admin args>               any Django management command

Exit status: 0 on success, 1 when a check fails (forged document, broken chain), 2 on a
usage or setup error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

SETTINGS_MODULE = "baladiya.settings"
CREDENTIALS_FILE = "demo-credentials.json"
DEFAULT_DEMO_COUNT = 300
# Commands that serve HTTP need a real secret (or demo mode); one-shot commands sign nothing
# with it, so without one they run under a throwaway random key.
_SERVING = {"run", "manage"}


class CliError(Exception):
    """A usage or setup problem: printed without a traceback, exit status 2."""


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


# ---------------------------------------------------------------- Django


def _prepare_environment(command: str) -> None:
    """Choose the settings module and secret before Django reads them (first call only)."""
    from django.conf import settings

    if settings.configured:
        return  # already set up (tests, or a second call in the same process)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    if os.environ.get("BALADIYA_SECRET_KEY"):
        return
    if command not in _SERVING:
        os.environ["BALADIYA_SECRET_KEY"] = secrets.token_urlsafe(48)


def _setup_django(command: str) -> None:
    import django
    from django.core.exceptions import ImproperlyConfigured

    _prepare_environment(command)
    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise CliError(str(exc)) from exc


# ---------------------------------------------------------------- seed


def _var_dir() -> Path:
    from django.conf import settings

    path = Path(settings.VAR_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_credentials(accounts: list[dict[str, Any]], path: Path | None = None) -> Path:
    """Merge `accounts` into the demo credentials file (readable by its owner only, 0600)."""
    from django.conf import settings

    target = path or _var_dir() / CREDENTIALS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    known: dict[str, dict[str, Any]] = {}
    if target.exists():
        try:
            for entry in json.loads(target.read_text(encoding="utf-8")).get("accounts", []):
                known[entry["username"]] = entry
        except (ValueError, KeyError, AttributeError):
            known = {}
    for entry in accounts:
        known[entry["username"]] = entry
    body = {
        "note": (
            "Demo accounts created by `baladiya seed homs --demo`. Not for production. "
            "Staff log in at /accounts/login/ with username and password. Citizens (role "
            "citizen) log in at /e/login/ with their mobile number and a one-time code: the "
            "sandbox SMS gateway delivers it to the page /notifications/sandbox/ (demo and "
            "debug only); until the outbox pump sends it, it waits in the outbox, listed there too."
        ),
        "url": settings.PUBLIC_BASE_URL,
        "accounts": sorted(known.values(), key=lambda e: e["username"]),
    }
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(body, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    os.chmod(target, 0o600)  # also when the file existed with wider rights
    return target


def _print_seed_result(console: Console, result: dict[str, Any]) -> None:
    table = Table(title="Homs seed", show_edge=False)
    table.add_column("records")
    table.add_column("created", justify="right")
    table.add_column("total", justify="right")
    kinds = sorted(set(result["created"]) | set(result["totals"]))
    for kind in kinds:
        table.add_row(
            kind, str(result["created"].get(kind, 0)), str(result["totals"].get(kind, ""))
        )
    console.print(table)
    if not result["created"]:
        console.print("Nothing to add: the Homs network is already seeded.")


def _dated_for_demo(demo: bool) -> contextlib.AbstractContextManager[object]:
    """A fresh demo node is seeded the day before the demo's history (core.seed.demo)."""
    if not demo:
        return contextlib.nullcontext()
    from baladiya.core.seed.demo import before_history

    return before_history()


def _seed_homs(console: Console, demo: bool, credentials: Path | None) -> Path | None:
    from baladiya.core.seed.homs import seed_homs

    with console.status("Seeding the Homs network…"), _dated_for_demo(demo):
        result = seed_homs(demo=demo)
    _print_seed_result(console, result)
    if result["credentials"]:
        path = write_credentials(result["credentials"], credentials)
        console.print(f"Demo logins ({len(result['credentials'])} new accounts): {path}")
        return path
    if demo:
        console.print("Existing demo accounts keep their passwords.")
    return None


def _generate_demo(console: Console, count: int, seed: int = 2026) -> bool:
    """Fill the demo with applications in every state, if the demo generator is installed."""
    if count <= 0:
        return False
    try:
        from baladiya.core.seed.demo import generate_demo
    except ImportError:
        console.print("[yellow]Demo data generator not available: skipped.[/]")
        return False
    columns = (
        TextColumn("Demo applications"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("demo", total=count)
            tally = generate_demo(
                count=count,
                seed=seed,
                progress=lambda done: progress.update(task, completed=done),
            )
    except Exception as exc:  # the demo is a convenience: report and keep the node usable
        console.print(f"[yellow]Demo data stopped early: {type(exc).__name__}: {exc}[/]")
        return False
    summary = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
    console.print(f"Demo applications: {summary}")
    return True


def _migrate(console: Console) -> None:
    """Bring the schema up to date first: seeding a fresh database must just work."""
    from django.core.management import call_command

    _var_dir()
    with console.status("Migrating the database…"):
        call_command("migrate", interactive=False, verbosity=0)


def cmd_seed(args: argparse.Namespace, console: Console) -> int:
    _migrate(console)
    if args.what == "homs":
        _seed_homs(console, args.demo, Path(args.credentials) if args.credentials else None)
        return 0
    ready = _generate_demo(console, args.count, args.seed)
    return 0 if ready else 1


# ---------------------------------------------------------------- documents, audit, keys


def cmd_verify_document(args: argparse.Namespace, console: Console) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        from baladiya.documents.services import load_keys_json, verify_pdf
    except ImportError as exc:
        raise CliError(f"document verification is not available: {exc}") from exc
    keys = None
    if args.keys:
        try:
            keys = load_keys_json(args.keys)
        except (OSError, ValueError, KeyError) as exc:
            raise CliError(f"cannot read the keys file {args.keys}: {exc}") from exc
    from django.db import DatabaseError

    try:
        verdict = verify_pdf(data, keys)
    except DatabaseError as exc:
        raise CliError(
            "no local node database to read the public keys from: pass --keys keys.json "
            "(download it from the council's /.well-known/baladiya/keys.json)"
        ) from exc
    status = str(getattr(verdict, "status", "unknown"))
    message = str(getattr(verdict, "message", ""))
    style = "green" if status == "valid" else "red"
    console.print(f"[{style}]{status}[/]: {message}" if message else f"[{style}]{status}[/]")
    if status == "valid" and keys is not None:
        console.print("Signature checked offline; revocation is checked only online (/verify/).")
    return 0 if status == "valid" else 1


def cmd_audit(args: argparse.Namespace, console: Console) -> int:
    from baladiya.core.audit import verify_chain
    from baladiya.core.models import AuditEvent

    if args.center:  # central: a center node's own chain, as it was pushed
        from baladiya.sync.central import verify_center_chain
        from baladiya.sync.models import CenterAuditEvent

        with console.status(f"Verifying {args.center}'s audit chain…"):
            problems = verify_center_chain(args.center)
            count = CenterAuditEvent.objects.filter(center=args.center).count()
        if not problems:
            console.print(f"[green]{args.center}: chain intact, {count} events received[/]")
            return 0
        console.print(f"[red]{args.center}: audit chain broken: {len(problems)} problem(s)[/]")
        for problem in problems:
            console.print(f"  {problem}")
        return 1

    with console.status("Verifying the audit chain…"):
        problems = verify_chain()
        count = AuditEvent.objects.count()
    if not problems:
        console.print(f"[green]chain intact, {count} events[/]")
        head = AuditEvent.objects.order_by("-seq").first()
        if head is not None:
            # A chain cannot prove its own end was not cut off: keep this line somewhere else
            # (a printed register, another machine) and compare it next time.
            console.print(f"head: seq {head.seq} hash {head.hash}")
        return 0
    console.print(f"[red]audit chain broken: {len(problems)} problem(s) in {count} events[/]")
    for problem in problems:
        console.print(f"  {problem}")
    return 1


def _acting_user(username: str | None) -> Any:
    """The staff account a command acts as (recorded in the audit log); None: the system."""
    if not username:
        return None
    from baladiya.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CliError(f"no active staff account named {username!r}")
    return user


def cmd_keys(args: argparse.Namespace, console: Console) -> int:
    try:
        from baladiya.documents.signing import rotate_key
    except ImportError as exc:
        raise CliError(f"key rotation is not available: {exc}") from exc
    key = rotate_key(actor=_acting_user(args.as_user))
    console.print(f"New signing key: {getattr(key, 'key_id', key)}")
    console.print("Older keys stay published: documents they signed still verify.")
    return 0


def cmd_manage(args: argparse.Namespace, console: Console) -> int:
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["baladiya manage", *args.args])
    except SystemExit as exc:  # Django exits on --help and on command errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def cmd_outbox(args: argparse.Namespace, console: Console) -> int:
    """The background pump: deliver due SMS and webhooks (retrying with backoff) and run the
    periodic safety nets (core.periodic: payment sweep, shipment tracking, purges). It wakes
    when a message is queued (PostgreSQL) or polls (SQLite): see notifications/pump.py."""
    from baladiya.notifications.services import deliver_due

    if args.once:
        tally = deliver_due(limit=args.limit)
        console.print(f"sent {tally.sent}, to retry {tally.retried}, gave up {tally.dead}")
        return 0
    from baladiya.core.periodic import default_jobs, run_due
    from baladiya.notifications import pump

    jobs = default_jobs()
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    pump.run(
        args.limit,
        stopping=lambda: bool(stopping),
        report=lambda line: console.print(f"[yellow]outbox: {line}[/]"),
        between=lambda: run_due(jobs, lambda line: console.print(f"background: {line}")),
    )
    return 0


def cmd_post(args: argparse.Namespace, console: Console) -> int:
    """`baladiya post simulate`: the sandbox post office moves parcels on (see post_simulate)."""
    from baladiya.delivery.management.commands.post_simulate import run_simulation

    try:
        lines = run_simulation(vars(args))
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    for line in lines:
        console.print(line)
    return 0


def cmd_water(args: argparse.Namespace, console: Console) -> int:
    """`baladiya water import|fetch|export-collections` (see baladiya.water.commands)."""
    from baladiya.water import commands

    try:
        return commands.run(args, console, _acting_user(args.as_user) or "cli")
    except commands.UsageError as exc:
        raise CliError(str(exc)) from exc


# ---------------------------------------------------------------- center nodes and sync


def cmd_center(args: argparse.Namespace, console: Console) -> int:
    """Enrolment of center nodes (decision 0009): codes and revocation on the central node,
    `enroll` on the center's PC."""
    from baladiya.sync import central, client

    if args.action == "enrollment-code":
        actor = _acting_user(args.as_user) if args.as_user else "cli"
        code = central.create_enrolment_code(args.center, actor, hours=args.hours)
        console.print(f"One-time enrolment code for {args.center} (valid {args.hours} h):")
        console.print(f"[bold]{code}[/]")
        console.print("On the center's PC: baladiya center enroll --central URL --code CODE")
        return 0
    if args.action == "revoke":
        actor = _acting_user(args.as_user) if args.as_user else "cli"
        node = central.revoke_node(args.center, actor, args.reason or "")
        console.print(f"Node of {node.center.code} revoked; its key no longer signs or syncs.")
        return 0
    # enroll
    if not args.central or not args.code:
        raise CliError("enroll needs --central URL and --code CODE")
    package = client.enroll(args.central, args.code)
    console.print(f"[green]Enrolled as {package['center']}[/]; number series taken over:")
    for counter in package.get("counters", []):
        console.print(
            f"  {counter['scope']} {counter['kind']} {counter['year']}: {counter['value']}"
        )
    _sync_round(console)
    return 0


def _sync_round(console: Console) -> None:
    """One sync round with progress bars (push, then pull)."""
    from rich.progress import BarColumn, Progress, TextColumn

    from baladiya.sync import client

    waiting = client.backlog()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
    ) as progress:
        push_task = progress.add_task("push", total=max(waiting, 1))
        pull_task = progress.add_task("pull", total=None)
        for attempt in range(10):
            try:
                result = client.sync_once(
                    on_push=lambda n: progress.advance(push_task, n),
                    on_pull=lambda n: progress.advance(pull_task, n),
                )
                break
            except client.SyncUnavailable as exc:
                if exc.code != "not_ready" or attempt == 9:
                    raise
                time.sleep(1.0)  # a first pull waits for central's caches (0009)
        progress.update(push_task, completed=max(waiting, 1))
        progress.update(pull_task, total=result.pulled.rows, completed=result.pulled.rows)
    console.print(
        f"pushed {result.pushed.sent} events ({result.pushed.conflicts} conflicts), "
        f"pulled {result.pulled.rows} rows"
    )


def cmd_sync(args: argparse.Namespace, console: Console) -> int:
    """`baladiya sync --once`: one round now; without it, the background loop (runs with
    `run` on a center node)."""
    from baladiya.sync import client

    if args.once:
        _sync_round(console)
        return 0
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    client.run_forever(stop, between=_periodic_jobs(console))
    return 0


def _periodic_jobs(console: Console) -> Callable[[], None]:
    from baladiya.core.periodic import default_jobs, run_due

    jobs = default_jobs()
    return lambda: run_due(jobs, lambda line: console.print(f"background: {line}"))


def _start_center_background(console: Console) -> Callable[[], None]:
    """A center node's background work in a thread of `run` itself (one process less on a
    low-power PC): sync rounds with backoff, then the periodic jobs. Returns its stop."""
    import threading

    from django.db import connection

    from baladiya.sync import client

    stop = threading.Event()

    def loop() -> None:
        try:
            client.run_forever(stop, between=_periodic_jobs(console))
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="sync", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)

    return halt


# ---------------------------------------------------------------- run


def _prepare_node(console: Console, demo_count: int) -> Path | None:
    """Migrate, cache table, static files; seed Homs (with demo staff) on an empty database."""
    from django.conf import settings
    from django.core.management import call_command

    from baladiya.centers.models import Center

    _var_dir()
    demo_node = bool(settings.DEMO_NODE)
    if not demo_node and "127.0.0.1" in settings.PUBLIC_BASE_URL:
        # Every document's QR code carries this address: wrong here is wrong for good.
        console.print(
            "[yellow]BALADIYA_PUBLIC_URL is still http://127.0.0.1…: documents issued now "
            "would point citizens to this machine. Set it to the public address.[/]"
        )
    with console.status("Migrating the database…"):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
    _check_database(console)
    with console.status("Collecting static files…"):
        call_command("collectstatic", interactive=False, verbosity=0)
    if str(settings.BALADIYA_NODE).startswith("center:"):
        # A center node gets its data from the central node, never from a local seed.
        from baladiya.sync.client import state

        if state().enrolled_at is None:
            console.print(
                "[yellow]This center node is not enrolled yet. Ask the directorate for a "
                "one-time code, then: baladiya center enroll --central URL --code CODE[/]"
            )
        return None
    if Center.objects.exists():
        existing = _var_dir() / CREDENTIALS_FILE
        return existing if existing.exists() else None
    credentials = _seed_homs(console, demo=demo_node, credentials=None)
    if demo_node:
        _generate_demo(console, demo_count)
    else:
        console.print("No demo staff on a production node: create an administrator with")
        console.print("  baladiya manage createsuperuser")
    return credentials


def _check_database(console: Console) -> None:
    """After a power cut: is the database whole, power-safe, its audit tail and counters
    sound? A damaged one must not serve (it would hand out wrong numbers or lose receipts)."""
    from baladiya.core.startup import check_node_database

    report = check_node_database()
    for line in report.lines():
        console.print(f"[yellow]{line}[/]")
    if report.corrupt:
        raise CliError(
            "the database is damaged (see above): restore the last backup of BALADIYA_VAR_DIR "
            "(docs/center-node-guide.md §4), then start again"
        )
    console.print(f"Database checked in {report.seconds:.2f} s: {', '.join(report.checked)}")


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


Child = tuple[str, "subprocess.Popen[bytes]"]


def _wait_listening(host: str, port: int, children: list[Child]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(proc.poll() is not None for _, proc in children):
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(children: list[Child], grace: float = 15.0) -> None:
    """SIGTERM every child (graceful for gunicorn and the worker), then kill stragglers."""
    for _, proc in children:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for _, proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own process group: a Ctrl-C reaches only this process, which forwards one SIGTERM
    # (a second signal would make the task worker abort its running task).
    return subprocess.Popen(command, env=env, process_group=0)


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    if not _port_free(args.host, args.port):
        raise CliError(f"{args.host}:{args.port} is already in use: choose another --port")
    from django.conf import settings

    credentials = _prepare_node(console, args.demo_count)
    center_node = str(settings.BALADIYA_NODE).startswith("center:")
    # A center's PC serves one counter or two: one web process with threads, no task worker
    # (nothing is queued as a task), sync and periodic jobs in a thread of this process, and
    # its messages go out through the central node (decision 0009): ~half the memory.
    workers = args.workers or (1 if center_node else (os.cpu_count() or 1) + 1)
    env = os.environ.copy()
    env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    bind = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
    web = [
        sys.executable,
        "-m",
        "gunicorn",
        "baladiya.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        *(["--threads", "4"] if center_node else []),
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
        "--no-control-socket",  # its default path in $HOME would clash between two nodes
    ]
    worker = [sys.executable, "-m", "django", "db_worker", "--no-reload", "--queue-name", "*"]
    outbox = [sys.executable, "-m", "baladiya.cli", "outbox"]
    stop_requested: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.append(signum)

    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, request_stop) for sig in watched}
    children: list[Child] = []
    halt_background: Callable[[], None] | None = None
    try:
        children.append(("web server (gunicorn)", _spawn(web, env)))
        if not args.no_worker and center_node:
            halt_background = _start_center_background(console)
        elif not args.no_worker:
            children.append(("task worker", _spawn(worker, env)))
            children.append(("outbox pump", _spawn(outbox, env)))
        if _wait_listening(args.host, args.port, children):
            console.print(
                f"[bold green]Baladiya is running at http://{bind}/[/]  (Ctrl-C stops it)"
            )
            if credentials is not None:
                console.print(f"Demo logins (usernames and passwords): {credentials}")
        while not stop_requested:
            for name, proc in children:
                if proc.poll() is not None:
                    console.print(
                        f"[red]The {name} exited (status {proc.returncode}): stopping.[/]"
                    )
                    return proc.returncode or 1
            time.sleep(0.3)
        console.print("Stopping…")
        return 0
    finally:
        if halt_background is not None:
            halt_background()
        _stop(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baladiya", description="Citizen services for a city council (Homs)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    run = sub.add_parser("run", help="set up the database and serve (web server + task worker)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    # Django's requests are CPU-bound: one sync worker per core, plus one to use the core a
    # worker leaves idle while it waits for a commit. More only queue behind each other
    # (bench/api_flow.py on 2 cores: 3 workers beat 2 and 4 in throughput and p99).
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        help="web worker processes (default: CPU cores + 1; a center node: 1 with 4 threads)",
    )
    run.add_argument(
        "--demo-count",
        type=int,
        default=DEFAULT_DEMO_COUNT,
        help="demo applications generated on first start in demo mode (0: none)",
    )
    run.add_argument("--no-worker", action="store_true", help="do not start the task worker")

    seed = sub.add_parser("seed", help="load reference or demo data")
    seed_sub = seed.add_subparsers(dest="what", required=True, metavar="what")
    homs = seed_sub.add_parser("homs", help="the Homs network, services and roles")
    homs.add_argument("--demo", action="store_true", help="also demo staff and citizens")
    homs.add_argument("--credentials", help=f"where to write demo logins (var/{CREDENTIALS_FILE})")
    demo = seed_sub.add_parser("demo", help="demo applications in every state")
    demo.add_argument("--count", type=int, default=DEFAULT_DEMO_COUNT)
    demo.add_argument("--seed", type=int, default=2026, help="random seed (deterministic)")

    verify = sub.add_parser("verify-document", help="verify a document PDF's signature")
    verify.add_argument("file", metavar="FILE.pdf")
    verify.add_argument("--keys", help="public keys file (keys.json) for offline verification")

    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit.add_argument("action", choices=["verify"])
    audit.add_argument("--center", help="central node: verify this center node's pushed chain")

    keys = sub.add_parser("keys", help="document signing keys")
    keys.add_argument("action", choices=["rotate"])
    keys.add_argument(
        "--as", dest="as_user", metavar="USERNAME", help="administrator recorded as the actor"
    )

    outbox = sub.add_parser("outbox", help="deliver queued SMS and webhooks (runs with `run`)")
    outbox.add_argument("--once", action="store_true", help="one pass, then exit")
    outbox.add_argument("--limit", type=int, default=100, help="messages per pass")

    post = sub.add_parser("post", help="the sandbox post office (developers)")
    post_sub = post.add_subparsers(dest="what", required=True, metavar="what")
    from baladiya.delivery.post.simulate_args import add_simulate_arguments

    add_simulate_arguments(post_sub.add_parser("simulate", help="move sandbox parcels on"))

    water = sub.add_parser("water", help="exchange files with the water establishment")
    from baladiya.water.commands import add_arguments as add_water_arguments

    add_water_arguments(water)

    center = sub.add_parser("center", help="center nodes: enrolment codes, enrol, revoke")
    center.add_argument("action", choices=["enrollment-code", "enroll", "revoke"])
    center.add_argument("center", nargs="?", help="center code, e.g. C03 (central side)")
    center.add_argument("--central", help="the central node's URL (enroll)")
    center.add_argument("--code", help="the one-time enrolment code (enroll)")
    center.add_argument("--hours", type=int, default=24, help="validity of a new code")
    center.add_argument("--reason", help="why a node is revoked (revoke)")
    center.add_argument("--as", dest="as_user", metavar="USERNAME", help="administrator")

    sync = sub.add_parser("sync", help="sync a center node with the central node")
    sync.add_argument("--once", action="store_true", help="one round with progress, then exit")

    manage = sub.add_parser("manage", help="run a Django management command", add_help=False)
    manage.add_argument("args", nargs=argparse.REMAINDER)
    return parser


COMMANDS = {
    "run": cmd_run,
    "seed": cmd_seed,
    "verify-document": cmd_verify_document,
    "audit": cmd_audit,
    "keys": cmd_keys,
    "outbox": cmd_outbox,
    "post": cmd_post,
    "water": cmd_water,
    "center": cmd_center,
    "sync": cmd_sync,
    "manage": cmd_manage,
}


def main(argv: Sequence[str] | None = None) -> int:
    from baladiya.core.errors import DomainError

    argv = list(sys.argv[1:] if argv is None else argv)
    # The SQLite file, keys and uploads hold citizens' data: readable by this account only.
    os.umask(0o077)
    if argv[:1] == ["manage"]:  # everything after it belongs to Django, `--help` included
        args = argparse.Namespace(command="manage", args=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    console = _console()
    try:
        _setup_django(args.command)
        return COMMANDS[args.command](args, console)
    except CliError as exc:
        console.print(f"[red]baladiya {args.command}: {exc}[/]")
        return 2
    except DomainError as exc:  # a service refused: its message, never a traceback
        console.print(f"[red]baladiya {args.command}: {exc.message}[/]")
        if args.command == "keys" and exc.code == "forbidden":
            console.print("Name an administrator: baladiya keys rotate --as USERNAME")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
