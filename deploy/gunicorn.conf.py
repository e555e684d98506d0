"""gunicorn settings for `make run` and production (deploy/court-web.service).

Everything comes from the environment so one file serves both:
HOST/PORT (default 127.0.0.1:5000; HOST=0.0.0.0 to let a phone on the LAN in),
WEB_CONCURRENCY (default 2 sync workers: on 2 cores workers = cores measured
best, notes/performance.md §5), GUNICORN_TIMEOUT, GUNICORN_MAX_REQUESTS (default 20,000).

Proxy headers are left to the app (`PROXY_COUNT` → ProxyFix), so gunicorn
itself trusts none: one place decides who the client is.
"""
import os

from gunicorn.http import wsgi

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
# The app writes one access line per request with its request id (app/serving.py).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = ""
secure_scheme_headers = {}
# gunicorn 25+ opens a control socket in $HOME; two instances (make run beside the tests) would share it.
control_socket_disable = True
# A restarted worker process now and then bounds any slow leak. Not often: a new worker imports and builds
# the app, then compiles its templates and statements on its first requests, and the requests queued
# behind it wait. Every 2,000 requests the two workers restarted 14 times in the load test's 5 minutes and
# made its p99 831 ms; with no restarts it was 268 ms (benchmarks/README.md). At 20,000 a worker serving
# 25 requests a second restarts about every 13 minutes.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10


def _no_server_header() -> None:
    """gunicorn writes `Server: gunicorn` on every response, before the app's headers; no setting turns
    it off. The app names no server and no version (finding L1), so the line is left out here. The
    master imports this file before it forks, so every worker sends responses without it."""
    if getattr(wsgi.Response.default_headers, "court_no_server", False):
        return
    original = wsgi.Response.default_headers

    def default_headers(self):
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.court_no_server = True
    wsgi.Response.default_headers = default_headers


_no_server_header()
