"""Start an aiohttp app on a Collector-style endpoint, with optional TLS: shared by every listener."""

from __future__ import annotations

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
        site = web.TCPSite(runner, host or None, port, ssl_context=ssl_context, reuse_address=True)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]
