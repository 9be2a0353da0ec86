"""Start an aiohttp app on a Collector-style endpoint, with optional TLS: shared by every listener."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from typing import Any

from aiohttp import web

from collector.confignet import split_endpoint
from collector.configtls import TLSServerConfig


async def start_site(
    app: web.Application, endpoint: str, tls: TLSServerConfig | None, **runner_options: Any
) -> tuple[web.AppRunner, int]:
    """The running runner and the port it bound (useful when the endpoint says port 0)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, **runner_options)
    await runner.setup()
    host, port = split_endpoint(endpoint)
    try:
        ssl_context = tls.ssl_context() if tls else None
        await _bind(runner, host, port, ssl_context)
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]


async def _bind(runner: web.AppRunner, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
    """Listen on every address `host` resolves to, as asyncio does; but when one of them cannot exist here
    (EADDRNOTAVAIL: `localhost` also names ::1, and a container on Docker's default network has no IPv6),
    listen on the others instead of failing, as the Collector's single-address listener would."""
    try:
        await _site(runner, host or None, port, ssl_context)
        return
    except OSError as exc:
        if exc.errno != errno.EADDRNOTAVAIL or not host:
            raise
        unavailable = exc
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    bound = False
    for address in dict.fromkeys(str(info[4][0]) for info in infos):
        try:
            await _site(runner, address, port, ssl_context)
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL:
                raise
            continue
        bound = True
        port = port or runner.addresses[0][1]  # port 0: the other addresses take the port the first one got
    if not bound:
        raise unavailable


async def _site(runner: web.AppRunner, host: str | None, port: int, ssl_context: ssl.SSLContext | None) -> None:
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_address=True)
    try:
        await site.start()
    except BaseException:
        await site.stop()  # a site that failed to start stays registered with the runner otherwise
        raise
