"""The baseline for bench/landing.py: a bare aiohttp server with one GET route.

Run: python bench/bare_server.py --port 8081 [--body-file page.html]

Without --body-file it answers "Hello, World!" (aiohttp's own hello example); with it, the
file's bytes as text/html, so the baseline pays the same bytes on the wire as the
landing page it is compared with.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web


def make_app(body: bytes | None) -> web.Application:
    async def page(_: web.Request) -> web.Response:
        if body is None:
            return web.Response(text="Hello, World!")
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-file", type=Path, default=None)
    args = parser.parse_args()
    body = args.body_file.read_bytes() if args.body_file else None
    # access_log=None as `sharetrail serve` does, so neither pays for a log line per request.
    web.run_app(make_app(body), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
