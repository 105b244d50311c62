"""A fault-injecting HTTP proxy between a center node and the central node (partition tests).

Runs in the test process (threads, stdlib only), listens on a free loopback port and forwards
each request to the central node over a fresh connection. The center is enrolled with the
proxy's URL, so every sync request passes through here. Faults are armed at run time, each
for the next `count` requests whose path starts with `prefix` (after letting `after` of them
through untouched):

- `cut_request`: forward the head and only part of the body, then close both sides (the link
  cut mid-batch). Central's answer to the stump is recorded; the center gets none.
- `drop_response`: forward the whole request, read central's answer (it has committed), then
  close the center's connection without it (response lost after commit).
- `duplicate`: deliver the request to central twice (a replay); the center gets the second
  answer.
- `hold_and_release`: keep the request (central sees nothing) until `release_after` newer
  matching requests have been answered (the center timed out and retried), then deliver the
  stale one to central (reordering). Its answer goes to a center that stopped listening.
- `down`: reset the connection at once (central unreachable). `set_down(True)` closes the
  listening socket instead: connections are refused, whatever their path.

Every request is recorded as an `Exchange` (path, central's status codes, bytes, the fault).
One request per connection: gunicorn's sync workers answer `Connection: close` anyway.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

KINDS = ("cut_request", "drop_response", "duplicate", "hold_and_release", "down")
HEAD_LIMIT = 64 * 1024
IO_TIMEOUT = 60.0  # a held request waits for the center's retry: longer than its timeout


@dataclass
class Answer:
    """Central's answer to one delivery of a request."""

    status: int  # 0: no answer (central unreachable, or the stump of a cut request)
    raw: bytes = b""
    json: dict[str, Any] | None = None
    at: float = field(default_factory=time.monotonic)  # when it came back


@dataclass
class Exchange:
    """One request as the proxy saw it, and what became of it."""

    index: int
    method: str
    path: str
    fault: str = ""  # "" when forwarded as is
    request_bytes: int = 0  # body bytes the center sent
    forwarded_bytes: int = 0  # body bytes delivered to central (all deliveries)
    answers: list[Answer] = field(default_factory=list)  # one per delivery to central
    answered: bool = False  # the center received a response
    response_bytes: int = 0  # bytes of that response
    done: bool = False

    @property
    def statuses(self) -> list[int]:
        return [a.status for a in self.answers]

    @property
    def last_json(self) -> dict[str, Any]:
        return (self.answers[-1].json if self.answers else None) or {}


@dataclass
class Fault:
    kind: str
    prefix: str
    count: int
    after: int = 0
    cut_fraction: float = 0.5  # cut_request: share of the body forwarded
    release_after: int = 1  # hold_and_release: newer answered requests before release

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}")


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._lock = threading.Condition()
        self._faults: list[Fault] = []
        self._exchanges: list[Exchange] = []
        self._want_listening = True
        self._listening = threading.Event()
        self._refusing = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control (test thread)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        self._thread.start()
        if not self._listening.wait(5):
            raise RuntimeError("the fault proxy did not start listening")
        return self

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()  # held requests are delivered now
        if self._thread:
            self._thread.join(5)

    def inject(
        self,
        kind: str,
        prefix: str = "/sync/v1/push",
        count: int = 1,
        after: int = 0,
        **options: Any,
    ) -> Fault:
        fault = Fault(kind, prefix, count, after, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault that has not fired yet."""
        with self._lock:
            self._faults.clear()

    def armed(self) -> int:
        with self._lock:
            return sum(f.count for f in self._faults)

    def set_down(self, down: bool) -> None:
        """Close (or reopen, same port) the listening socket: connections are refused."""
        self._want_listening = not down
        done = self._refusing if down else self._listening
        if not done.wait(5):
            raise RuntimeError("the fault proxy did not change state")

    def mark(self) -> int:
        """A position in the log: `exchanges(since=mark)` lists what came after it."""
        with self._lock:
            return len(self._exchanges)

    def exchanges(self, prefix: str = "", since: int = 0) -> list[Exchange]:
        with self._lock:
            return [e for e in self._exchanges[since:] if e.path.startswith(prefix)]

    def wait_idle(self, timeout: float = 30) -> None:
        """Until every recorded request (a held one too) has been dealt with."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not all(e.done for e in self._exchanges):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the fault proxy still handles requests")
                self._lock.wait(left)

    # ------------------------------------------------------------ listening

    def _accept_loop(self) -> None:
        listener: socket.socket | None = None
        try:
            while not self._stop.is_set():
                if self._want_listening and listener is None:
                    listener = socket.socket()
                    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    listener.bind(("127.0.0.1", self.port))
                    listener.listen(64)
                    listener.settimeout(0.05)
                    self._refusing.clear()
                    self._listening.set()
                elif not self._want_listening and listener is not None:
                    listener.close()  # the kernel refuses connections to the port from now on
                    listener = None
                    self._listening.clear()
                    self._refusing.set()
                if listener is None:
                    time.sleep(0.05)
                    continue
                try:
                    conn, _addr = listener.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
        finally:
            if listener is not None:
                listener.close()

    # ------------------------------------------------------------ one request

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.prefix):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(IO_TIMEOUT)
            try:
                head, body = _read_request(client)
            except (OSError, ValueError):
                return
            method, path = _request_line(head)
            fault = self._take_fault(path)
            with self._lock:
                exchange = Exchange(len(self._exchanges), method, path, request_bytes=len(body))
                exchange.fault = fault.kind if fault else ""
                self._exchanges.append(exchange)
            try:
                self._handle(client, exchange, fault, head, body)
            finally:
                with self._lock:
                    exchange.done = True
                    self._lock.notify_all()

    def _handle(
        self,
        client: socket.socket,
        exchange: Exchange,
        fault: Fault | None,
        head: bytes,
        body: bytes,
    ) -> None:
        kind = fault.kind if fault else ""
        if kind == "down":
            _reset(client)
            return
        if kind == "cut_request":
            assert fault is not None
            part = body[: int(len(body) * fault.cut_fraction)]
            self._deliver(exchange, head, part, cut=True)
            _reset(client)
            return
        if kind == "hold_and_release":
            assert fault is not None
            self._hold(exchange, fault.release_after)
        answer = self._deliver(exchange, head, body)
        if kind == "duplicate":
            answer = self._deliver(exchange, head, body)
        if kind == "drop_response":
            _reset(client)
            return
        raw = answer.raw or _bad_gateway()
        if _peer_gone(client):  # a held request's center timed out long ago
            return
        with contextlib.suppress(OSError):
            client.sendall(raw)
            with self._lock:
                exchange.answered = True
                exchange.response_bytes = len(raw)

    def _hold(self, exchange: Exchange, release_after: int) -> None:
        """Wait until `release_after` newer requests on the same path were answered."""

        def newer_answered() -> int:
            return sum(
                1
                for e in self._exchanges[exchange.index + 1 :]
                if e.path == exchange.path and e.answered
            )

        deadline = time.monotonic() + IO_TIMEOUT
        with self._lock:
            while newer_answered() < release_after and not self._stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)

    def _deliver(self, exchange: Exchange, head: bytes, body: bytes, cut: bool = False) -> Answer:
        """Send the request to central over a new connection; its answer (status 0: none)."""
        try:
            upstream = socket.create_connection(self.upstream, timeout=IO_TIMEOUT)
        except OSError:
            answer = Answer(0)
        else:
            with upstream:
                try:
                    upstream.sendall(head + body)
                    if cut:
                        upstream.shutdown(socket.SHUT_WR)  # the stump ends here
                    raw = _read_all(upstream)
                except OSError:
                    raw = b""
            answer = _parse_answer(raw)
        with self._lock:
            exchange.forwarded_bytes += len(body)
            exchange.answers.append(answer)
        return answer


# ---------------------------------------------------------------- HTTP/1.1, just enough


def _read_request(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("the client closed before a whole request head")
        data += chunk
        if len(data) > HEAD_LIMIT:
            raise ValueError("request head too large")
    head, _sep, body = data.partition(b"\r\n\r\n")
    headers = _headers(head)
    if "chunked" in headers.get("transfer-encoding", ""):
        raise ValueError("chunked request bodies are not supported")
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ValueError("the client closed inside the body")
        body += chunk
    return head + b"\r\n\r\n", body[:length]


def _request_line(head: bytes) -> tuple[str, str]:
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    return (parts[0], parts[1]) if len(parts) >= 2 else ("?", "?")


def _headers(head: bytes) -> dict[str, str]:
    out = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def _read_all(conn: socket.socket) -> bytes:
    """Central's answer: gunicorn's sync worker closes the connection after it."""
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _parse_answer(raw: bytes) -> Answer:
    if not raw.startswith(b"HTTP/"):
        return Answer(0, raw)
    head, _sep, body = raw.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return Answer(0, raw)
    headers = _headers(head)
    parsed = None
    try:
        if "gzip" in headers.get("content-encoding", ""):
            body = gzip.decompress(body)
        value = json.loads(body)
        parsed = value if isinstance(value, dict) else None
    except (OSError, EOFError, ValueError):
        parsed = None
    return Answer(status, raw, parsed)


def _bad_gateway() -> bytes:
    body = b'{"code": "bad_gateway", "message": "central unreachable"}'
    return (
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def _peer_gone(conn: socket.socket) -> bool:
    """The other side has closed its end (it sends nothing more on a one-request link)."""
    try:
        conn.setblocking(False)
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        with contextlib.suppress(OSError):
            conn.settimeout(IO_TIMEOUT)


def _reset(conn: socket.socket) -> None:
    """Close with a TCP reset, as a cut link or a dead host looks to the other side."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
