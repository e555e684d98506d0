"""Browser tests: Playwright (PyPI) driving Debian's chromium against the app under a real WSGI server.

- The app runs in a thread (werkzeug's server, threaded) on a free loopback port,
  on its own fresh copy of the suite's template database, with CSRF on as in
  production and a file store in a temporary directory.
- Chromium is `/usr/bin/chromium` (Debian's package; never `playwright install`),
  with fake camera and microphone. Without it the tests are skipped, unless
  `BROWSER_TESTS_REQUIRED=1` (CI sets it): then a missing browser fails.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from contextlib import contextmanager

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app.extensions import db

from ..helpers import BASE_CONFIG, PASSWORD, make_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns", "--autoplay-policy=no-user-gesture-required",
]


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
        raise pytest.UsageError(f"browser tests are required here but {CHROMIUM} is missing "
                                "(apt-get install chromium)")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


class Live:
    """The running app: its URL and the app object (for seeding and reading in its own contexts)."""

    def __init__(self, app, url, files):
        self.app, self.url, self.files = app, url, files

    def ctx(self):
        return self.app.app_context()


@contextmanager
def serving(databases, tmp_path_factory, **overrides):
    """The app on a fresh copy of the template under a real WSGI server; `overrides` of its config."""
    # the demo's stored documents and signatures, which the template's rows name (tests/conftest.py _own_store)
    files = tmp_path_factory.mktemp("files")
    shutil.copytree(BASE_CONFIG["FILE_STORE_DIR"], files, dirs_exist_ok=True)
    url = databases.copy("browser")
    app = make_app(url, **{**dict(WTF_CSRF_ENABLED=True, FILE_STORE_DIR=str(files), VIDEO_POLL_MS=400,
                                  VIDEO_CHUNK_MS=1000, EXPORT_SYNC_LIMIT=0, EXPORT_FOLDER=str(files / "exports"),
                                  SESSION_COOKIE_SECURE=False), **overrides})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{server.server_port}", files)
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        databases.drop(url)


@pytest.fixture(scope="module")
def live(databases, tmp_path_factory):
    with serving(databases, tmp_path_factory) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def login(browser, live):
    """`login(phone, portal, width=, **context_options)` → a browser context logged in through the login
    page (`bypass_csp=True` lets a test inject a script such as axe-core)."""
    contexts = []

    def _login(username, portal="COURT", width=1280, height=800, **options):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      permissions=["camera", "microphone"], **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        # the login form, posted as the browser would (without loading the page's assets)
        form = context.request.get(f"{live.url}/login/?portal={portal}").text()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        resp = context.request.post(f"{live.url}/login/?portal={portal}", max_redirects=0, form={
            "csrf_token": token, "portal": portal, "username": username, "password": PASSWORD})
        assert resp.status == 302 and "/login" not in resp.headers["location"], f"login of {username} refused"
        return context

    yield _login
    for context in contexts:
        context.close()
