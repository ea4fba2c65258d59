"""The mock as `https://api.anthropic.com` too, for the CLI's calls to its OAuth host.

The CLI sends model calls to ANTHROPIC_BASE_URL, but reads the plan's usage
(`GET /api/oauth/usage`, its `get_usage` control request) and the account's profile from
a fixed host, api.anthropic.com (2.1.328 has no setting for it). The CLI honours HTTPS_PROXY
and NODE_EXTRA_CA_CERTS, so: a throwaway CA and a certificate for api.anthropic.com (made
with `openssl`), the mock's app served over TLS with it, and a loopback CONNECT proxy that
tunnels every HTTPS connection there. NO_PROXY keeps the model calls direct.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

from aiohttp import web

HOST = "api.anthropic.com"


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) for HOST, valid for a day."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr, ext = directory / "server.pem", directory / "server.key", directory / "server.csr", directory / "ext.cnf"

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "1",
            "-subj", "/CN=claude-max-tui test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={HOST}")
    ext.write_text(f"subjectAltName=DNS:{HOST}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(cert), "-days", "1", "-extfile", str(ext))
    return ca, cert, key


class OAuthHost:
    """Serves `runner`'s app as HOST over TLS behind a CONNECT proxy; `env()` is what the CLI needs."""

    def __init__(self, runner: web.AppRunner, directory: Path) -> None:
        self.runner = runner
        self.directory = directory
        self.tunnels: list[str] = []  # every CONNECT target asked for
        self._server: asyncio.Server | None = None
        self._tls_port = 0
        self._ca: Path | None = None

    async def start(self) -> "OAuthHost":
        ca, cert, key = await asyncio.to_thread(make_certificates, self.directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self._tls_port = site._server.sockets[0].getsockname()[1]
        self._server = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        self._ca = ca
        return self

    def env(self) -> dict[str, str]:
        assert self._server is not None and self._ca is not None
        port = self._server.sockets[0].getsockname()[1]
        return {"HTTPS_PROXY": f"http://127.0.0.1:{port}", "NO_PROXY": "127.0.0.1,localhost", "NODE_EXTRA_CA_CERTS": str(self._ca)}

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b"\r\n", 1)[0].decode("latin-1")  # CONNECT host:443 HTTP/1.1
            self.tunnels.append(target)
            if not target.startswith(f"CONNECT {HOST}:443 "):
                writer.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                return
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self._tls_port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
