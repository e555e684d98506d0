"""上传录音录像: a 1 GB upload must not grow the server's memory by more than 50 MB (issue 13).

    .venv/bin/python -m benchmarks.upload_memory [--mb 1024]

Starts the app under a real WSGI server (werkzeug, one process) in a subprocess
on a fresh SQLite database with the demo data and a temporary file store, logs
in as the demo mediator 陈静, and uploads a WAV of the given size to the demo's
调解中 case as the upload page does (the raw request body). A thread samples
the server's resident memory (/proc/<pid>/status VmRSS) every 20 ms. The table
shows the memory before the upload, the highest sample during it, the growth,
the time and the throughput. Not a test: numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote

CHUNK = 1024 * 1024


def serve(root: str, port: int) -> None:
    """The server process: migrate, seed, serve until killed."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.commands import seed_roles
    from app.demo import seed_demo
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{root}/bench.db", "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "bench-" + "x" * 32, "FILE_STORE_DIR": f"{root}/files",
                      "RECORDING_MAX_BYTES": 4 * 1024 ** 3})
    with app.app_context():
        upgrade()
        seed_roles()
        seed_demo()
        db.session.commit()
        db.session.remove()
    make_server("127.0.0.1", port, app).serve_forever()


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(re.search(r"VmRSS:\s+(\d+)", fh.read()).group(1))


def body(size: int):
    """A WAV header, then zeros: generated, never held whole by the client either."""
    head = b"RIFF" + (size - 8).to_bytes(4, "little") + b"WAVEfmt " + b"\0" * 52
    yield head
    left = size - len(head)
    block = b"\0" * CHUNK
    while left > 0:
        yield block[:min(CHUNK, left)]
        left -= CHUNK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="upload size in MiB (default 1024)")
    args = parser.parse_args()
    size = args.mb * CHUNK
    root = tempfile.mkdtemp(prefix="upload-bench-")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", f"from benchmarks.upload_memory import serve; "
                                                     f"serve({root!r}, {port})"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                request(port, "GET", "/health")
                break
            except OSError:
                time.sleep(0.2)
        resp, _data = request(port, "POST", "/login/", "portal=MEDIATOR&username=13900000001&password=Demo%402026",
                              {"Content-Type": "application/x-www-form-urlencoded"})
        cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
        case_id = sqlite3.connect(f"{root}/bench.db").execute(
            "SELECT id FROM mediation_case WHERE cause = '物业服务合同纠纷'").fetchone()[0]
        url = f"/case/{case_id}/recordings/upload"
        headers = {"Cookie": cookie, "Content-Type": "application/octet-stream",
                   "X-File-Name": quote("基准测试.wav")}
        # warm up: one small upload, so imports and caches are counted in the baseline
        resp, data = request(port, "POST", url, b"".join(body(CHUNK)), {**headers, "Content-Length": str(CHUNK)})
        assert resp.status == 200, data
        before = rss_kb(server.pid)
        peak, done = [before], threading.Event()

        def sample():
            while not done.is_set():
                peak.append(rss_kb(server.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        resp, data = request(port, "POST", url, body(size), {**headers, "Content-Length": str(size)})
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        assert resp.status == 200, data
        stored = json.loads(data)
        files = [os.path.join(d, f) for d, _s, fs in os.walk(f"{root}/files") for f in fs]
        largest = max(os.path.getsize(f) for f in files)
        growth = (max(peak) - before) / 1024
        print(f"| upload | server RSS before | peak during | growth | time | throughput | stored |")
        print(f"|---|---|---|---|---|---|---|")
        print(f"| {args.mb} MiB WAV, raw body | {before / 1024:.1f} MB | {max(peak) / 1024:.1f} MB | "
              f"{growth:+.1f} MB | {elapsed:.1f} s | {args.mb / elapsed:.0f} MiB/s | "
              f"{largest / CHUNK:.0f} MiB (recording #{stored['id']}) |")
        print("PASS" if growth < 50 else "FAIL", f"(limit: +50 MB; {len(peak)} samples)")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
