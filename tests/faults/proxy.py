"""A fault-injecting HTTP proxy for the fault tests (test-only).

Between a client and gunicorn, per connection, at random:
- pass: forward the request and the response;
- drop_response: forward the whole request, wait for the server's whole
  response (so the server has committed), then close the client's
  connection without a byte of it: the phone never learns it worked;
- cut_body: forward the headers and part of the body, then close both
  sides: the server sees a request that never finishes.

The client sends one request per connection (Connection: close), which is
what a phone on a bad network does after a failure anyway.
"""

from __future__ import annotations

import random
import socket
import threading
from collections import Counter


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], *, drop: float, cut: float, seed: int = 7) -> None:
        self.upstream = upstream
        self.drop = drop
        self.cut = cut
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.listener.close()

    def _choose(self) -> str:
        with self.lock:
            roll = self.random.random()
            fate = "drop_response" if roll < self.drop else "cut_body" if roll < self.drop + self.cut else "pass"
            self.counts[fate] += 1
            return fate

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        fate = self._choose()
        try:
            request = _read_request(client)
            if request is None:
                return
            with socket.create_connection(self.upstream, timeout=60) as server:
                if fate == "cut_body":
                    head_end = request.index(b"\r\n\r\n") + 4
                    body = len(request) - head_end
                    server.sendall(request[: head_end + max(body // 2, 0)])
                    return  # both sides closed mid-body
                server.sendall(request)
                response = _read_all(server)
                if fate == "drop_response":
                    return  # the server committed; the client hears nothing
                client.sendall(response)
        except OSError:
            pass
        finally:
            client.close()


def _read_request(sock: socket.socket) -> bytes | None:
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
