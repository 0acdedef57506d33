"""A real server and a real graphql-transport-ws client, for what Starlette's TestClient cannot
show (it runs the app on another event loop): sockets closed by events from other requests or
other processes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from app.cli import server_options
from app.settings import Settings

PROTOCOL = Subprotocol("graphql-transport-ws")
# How long a socket may take to close after the event that ends it ("within a few seconds").
CLOSE_WITHIN = 5.0


def bound_socket() -> socket.socket:
    """A listening socket on a free loopback port, so no port is guessed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextlib.asynccontextmanager
async def serving(app: Starlette, settings: Settings | None = None) -> AsyncIterator[str]:
    """Serves an app whose lifespan already runs (the test session's) on this event loop, with
    the server options of `settings` (default: the app's); yields its host:port."""
    sock = bound_socket()
    options = server_options(settings or app.state.settings)
    config = uvicorn.Config(app, lifespan="off", log_level="warning", **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def api_process(env: dict[str, str]) -> AsyncIterator[str]:
    """A second API process (`uvicorn app.main:create_app` with this venv's Python) on the same
    database and Redis; yields its host:port once /healthz answers."""
    sock = bound_socket()
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"),
        *("--fd", str(sock.fileno()), "--ws", "websockets-sansio", "--log-level", "warning"),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, **env}, pass_fds=[sock.fileno()]
    )
    address = f"127.0.0.1:{sock.getsockname()[1]}"
    try:
        await _healthy(process, address)
        yield address
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        sock.close()


async def _healthy(process: asyncio.subprocess.Process, address: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=1) as client:
        for _ in range(300):
            if process.returncode is not None:
                raise RuntimeError(f"the second API process exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("the second API process did not become healthy")


@dataclass
class GqlSocket:
    """One graphql-transport-ws connection."""

    ws: ClientConnection
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(
        cls,
        address: str,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> AsyncIterator[GqlSocket]:
        """Connects and sends connection_init; does not wait for the answer."""
        async with connect(
            f"ws://{address}/graphql",
            subprotocols=[PROTOCOL],
            additional_headers=headers,
        ) as ws:
            message: dict[str, Any] = {"type": "connection_init"}
            if payload is not None:
                message["payload"] = payload
            await ws.send(json.dumps(message))
            yield cls(ws)

    async def receive(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), CLOSE_WITHIN)
        message: dict[str, Any] = json.loads(raw)
        return message

    async def acknowledged(self) -> GqlSocket:
        assert (await self.receive())["type"] == "connection_ack"
        return self

    async def send(self, query: str, variables: dict[str, Any] | None = None) -> str:
        op_id = str(next(self.ids))
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
        return op_id

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A query or mutation's one result (the `next` payload); waits for its `complete`."""
        op_id = await self.send(query, variables)
        message = await self.receive()
        assert message["id"] == op_id and message["type"] == "next", message
        assert (await self.receive()) == {"id": op_id, "type": "complete"}
        result: dict[str, Any] = message["payload"]
        return result

    async def until_closed(self) -> list[Any]:
        """Every message until the server closes the socket, then (code, reason)."""
        seen: list[Any] = []
        while True:
            try:
                seen.append(json.loads(await asyncio.wait_for(self.ws.recv(), CLOSE_WITHIN)))
            except ConnectionClosed:
                return [*seen, (self.ws.close_code, self.ws.close_reason)]

    async def closed(self) -> tuple[int | None, str | None]:
        """Waits for the server to close the socket; (code, reason). Fails if a result arrives
        instead: nothing may be answered on a socket whose session ended."""
        try:
            message = await asyncio.wait_for(self.ws.recv(), CLOSE_WITHIN)
        except ConnectionClosed:
            pass
        else:
            raise AssertionError(f"expected the socket to close, got {message!r}")
        return self.ws.close_code, self.ws.close_reason
