"""The load generator of the benchmarks, run as a process of its own so that it does not share an
event loop (or a GIL) with what it measures.

It offers declarations at a fixed rate (open loop: request ``i`` is due at ``start + i / rate``
whether or not earlier ones were answered) over a pool of keep-alive HTTP/1.1 connections, and
measures each latency from the moment the request was due, so that a slow server cannot hide its
slowness by slowing the generator down (no coordinated omission). The HTTP client is a few lines
over asyncio streams: a general-purpose client would spend more of the machine than the server.

    python -m vigie_stack.bench.loadgen --url http://127.0.0.1:8300 --token … --rate 500 \\
        --seconds 15 --bodies bodies.jsonl --out results.json
"""

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class Connection:
    def __init__(self, host: str, port: int, headers: bytes) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await self._post(path, body)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
            # The server closed the connection while it sat idle (its keep-alive timeout ran out
            # between two requests at a low rate): nothing was read, send again on a new one.
            self.close()
            return await self._post(path, body)

    async def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (path.encode(), self.headers, len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await self.reader.readexactly(length) if length else b""
        if b"connection: close" in head.lower():
            self.close()
        return status, answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def offer(
    url: str, token: str, bodies: list[bytes], rate: float, seconds: float, connections: int, grace: float = 10.0
) -> list[list[Any]]:
    """Offer ``rate`` declarations a second for ``seconds``; one row per request:
    ``[due_at (epoch s), latency (s), status, reference or None]``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    headers = (
        f"Host: {host}:{port}\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
        "User-Agent: vigie-bench\r\n"
    ).encode()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(host, port, headers))
    rows: list[list[Any]] = []
    tasks: set[asyncio.Task[None]] = set()
    total = int(rate * seconds)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    wall_offset = time.time() - loop.time()

    async def one(index: int, due: float) -> None:
        connection = await pool.get()
        try:
            status, answer = await connection.post("/v1/declarations", bodies[index % len(bodies)])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            status, answer = 0, b""
        finally:
            pool.put_nowait(connection)
        latency = loop.time() - due
        reference = json.loads(answer).get("reference") if status == 202 else None
        rows.append([due + wall_offset, latency, status, reference])

    for index in range(total):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    # What is not answered within a grace period after the last request was due is counted as
    # unanswered (status 0), not waited for: an overloaded server must not stall the benchmark.
    if tasks:
        _, late = await asyncio.wait(set(tasks), timeout=grace)
        for task in late:
            task.cancel()
        unanswered = total - len(rows)
        rows.extend([[start + wall_offset + seconds, float("nan"), 0, None]] * unanswered)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--bodies", type=Path, required=True, help="one JSON declaration per line")
    parser.add_argument("--offset", type=int, default=0, help="start at this line of --bodies")
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    lines = args.bodies.read_bytes().splitlines()
    bodies = lines[args.offset :] + lines[: args.offset]
    try:
        import uvloop  # noqa: PLC0415 - the faster loop when it is there

        uvloop.install()
    except ImportError:
        pass
    rows = asyncio.run(offer(args.url, args.token, bodies, args.rate, args.seconds, args.connections))
    args.out.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
