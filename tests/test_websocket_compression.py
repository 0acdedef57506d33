"""WebSocket messages are not compressed: a client offering permessage-deflate (the
`websockets` client does by default) is answered without it (app/cli.py server_options)."""

from __future__ import annotations

from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.live import serving


async def test_permessage_deflate_is_refused(app: Starlette) -> None:
    async with (
        serving(app) as address,
        connect(
            f"ws://{address}/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            compression="deflate",
        ) as sock,
    ):
        assert sock.response is not None
        assert "Sec-WebSocket-Extensions" not in sock.response.headers
        assert sock.protocol.extensions == []
