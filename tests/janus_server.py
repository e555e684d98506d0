"""A Janus of the tests: scripts/janus-server with the repository's deploy/janus configuration, on free
loopback ports, with secrets of its own (the `janus_server` fixture of tests/conftest.py)."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
from dataclasses import dataclass

JANUS = "/usr/bin/janus"
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "janus-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JanusServer:
    dir: str
    port: int
    admin_port: int
    api_secret: str
    admin_secret: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/janus"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/admin"

    @property
    def recordings(self) -> str:
        return os.path.join(self.dir, "recordings")

    def config(self) -> dict:
        """The app's settings for VIDEO_BACKEND=janus on this server."""
        return {"VIDEO_BACKEND": "janus", "JANUS_URL": self.url, "JANUS_API_URL": self.url,
                "JANUS_ADMIN_URL": self.admin_url, "JANUS_API_SECRET": self.api_secret,
                "JANUS_ADMIN_SECRET": self.admin_secret, "JANUS_RECORDINGS_DIR": self.recordings}

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "log"), encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        subprocess.run([SCRIPT, "stop", self.dir], check=False)


def start(directory: str) -> JanusServer:
    server = JanusServer(dir=directory, port=_free_port(), admin_port=_free_port(),
                         api_secret=secrets.token_hex(16), admin_secret=secrets.token_hex(16))
    os.makedirs(server.recordings, exist_ok=True)
    base = 20000 + secrets.randbelow(400) * 100  # RTP ports of its own, beside another run's Janus
    env = {**os.environ, "JANUS_API_SECRET": server.api_secret, "JANUS_ADMIN_SECRET": server.admin_secret,
           "JANUS_ICE_INTERFACES": "lo", "JANUS_RTP_PORTS": f"{base}-{base + 99}"}
    subprocess.run([SCRIPT, "start", directory, str(server.port), str(server.admin_port)], env=env, check=True)
    return server
