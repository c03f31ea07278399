"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

Every test here is marked `browser` and gets a strict `page`: a console error, an uncaught
script error, a failed request or a same-origin answer >= 400 fails the test at teardown,
unless the test declared it with `expect_http_error(status, url_part)`.
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API keeps an asyncio event loop marked as running in the test thread for
# as long as the (session-wide) browser lives. Django sees that loop and refuses ORM calls
# from the test thread (SynchronousOnlyOperation), here and in any test that runs later in
# the session, although that code is plain synchronous code that never runs inside the loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    SKIP_REASON = (
        "Browser tests skipped: playwright is not importable. "
        "Install the dev requirements (`pip install -r requirements-dev.txt`) to run them."
    )
else:
    SKIP_REASON = (
        ""
        if os.access(CHROMIUM_PATH, os.X_OK)
        else f"Browser tests skipped: Chromium not found at {CHROMIUM_PATH}. "
        "Install it with `apt-get install chromium` (or point CHROMIUM_PATH at one) to run them."
    )

HERE = Path(__file__).parent


class _SkippedModule(pytest.Module):
    """Reports the module as skipped without importing it (it imports playwright)."""

    def _getobj(self):
        pytest.skip(SKIP_REASON, allow_module_level=True)


def pytest_pycollect_makemodule(module_path, parent):
    # A module-level skip in a conftest given on the command line aborts pytest, so the
    # skip is raised per test module instead, where `-rs` shows the reason.
    if SKIP_REASON:
        return _SkippedModule.from_parent(parent, path=module_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: the mark is in place before `-m` deselects.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # The page fixture reads this at teardown to save a screenshot of a failed test.
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


# --- Browser and page ---------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# The live server speaks plain HTTP and serves static files from the finders. With
# DEBUG=false in the environment the settings would redirect to HTTPS, send cookies only over
# HTTPS and expect a collectstatic manifest, none of which can work here.
PLAIN_HTTP = {"SECURE_SSL_REDIRECT": False, "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False}


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, started with SSL redirects off: SecurityMiddleware reads
    that setting once, when the server thread builds its handler."""
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(**PLAIN_HTTP):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _plain_http_site(settings):
    for name, value in PLAIN_HTTP.items():
        setattr(settings, name, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def viewport():
    """Desktop by default; a test parametrizes `viewport` to use another size."""
    return DESKTOP


@pytest.fixture
def color_scheme():
    """The device's light or dark setting; light by default, a test parametrizes it to see the
    pages as a device set to dark does (users who keep the "system" theme follow it)."""
    return "light"


@pytest.fixture
def base_url(live_server):
    return live_server.url


@dataclass
class PageProblems:
    """What went wrong in the browser during one test, and what the test said to expect."""

    origin: str
    expected_http: list[tuple[int, str]] = field(default_factory=list)
    found: list[str] = field(default_factory=list)

    def is_expected(self, status: int, url: str) -> bool:
        return any(status == expected and part in url for expected, part in self.expected_http)

    def on_console(self, message):
        if message.type != "error":
            return
        where = message.location.get("url", "")
        # Chromium logs every answer >= 400 as a console error too; the response listener
        # judges the same-origin ones.
        failed_load = re.match(r"Failed to load resource: the server responded with a status of (\d+)", message.text)
        if failed_load and (self._same_origin(where) or self.is_expected(int(failed_load.group(1)), where)):
            return
        self.found.append(f"console error: {message.text}" + (f" (at {where})" if where else ""))

    def on_page_error(self, error):
        self.found.append(f"uncaught page error: {error}")

    def on_request_failed(self, request):
        # The browser cancels a page's pending requests (ERR_ABORTED) when the test moves
        # on to the next page; a server fault shows as a status or another network error.
        if request.failure == "net::ERR_ABORTED":
            return
        self.found.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def on_response(self, response):
        if (
            response.status >= 400
            and self._same_origin(response.url)
            and not self.is_expected(response.status, response.url)
        ):
            self.found.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin


@pytest.fixture
def _page_problems(live_server):
    return PageProblems(origin=live_server.url)


@pytest.fixture
def expect_http_error(_page_problems):
    """Declare that the test expects the app to answer `status` for a URL containing
    `url_part`; such answers (and their console lines) do not fail the test."""

    def declare(status: int, url_part: str) -> None:
        _page_problems.expected_http.append((status, url_part))

    return declare


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-")


@pytest.fixture
def screenshot_dir(request):
    path = request.config.rootpath / "artifacts" / "screenshots" / _safe_name(request.node.name)
    # Only this run's pictures; the folder itself appears with the first one.
    shutil.rmtree(path, ignore_errors=True)
    return path


def _screenshot(page, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Finished CSS transitions: a picture taken right after a click shows the end state.
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path


@pytest.fixture
def page(request, browser, live_server, viewport, color_scheme, _page_problems, screenshot_dir):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=viewport,
        color_scheme=color_scheme,
        is_mobile=viewport["width"] < 600,
        has_touch=viewport["width"] < 600,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", _page_problems.on_console)
    page.on("pageerror", _page_problems.on_page_error)
    page.on("requestfailed", _page_problems.on_request_failed)
    page.on("response", _page_problems.on_response)
    yield page
    try:
        if request.node.stash.get(_CALL_FAILED, False):
            _screenshot(page, screenshot_dir / "99-failure.png")
    finally:
        context.close()
    if _page_problems.found:
        pytest.fail("The browser saw problems:\n  " + "\n  ".join(_page_problems.found), pytrace=False)


@pytest.fixture
def docs_images_dir(request, viewport, color_scheme) -> Path | None:
    """Where the user guides' pictures go (DOCS_IMAGES_DIR, relative to the project): set, the
    pictures of a desktop run in the light theme are copied there, without their number."""
    configured = os.environ.get("DOCS_IMAGES_DIR")
    if not configured or viewport != DESKTOP or color_scheme != "light":
        return None
    return request.config.rootpath / configured


@pytest.fixture
def shot(page, screenshot_dir, docs_images_dir):
    """`shot("name")` saves a full-page PNG as artifacts/screenshots/<test>/<nn>-<name>.png,
    and as <name>.png in `docs_images_dir` when there is one."""
    taken = 0

    def take(name: str) -> Path:
        nonlocal taken
        taken += 1
        path = _screenshot(page, screenshot_dir / f"{taken:02d}-{_safe_name(name)}.png")
        if docs_images_dir is not None:
            docs_images_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, docs_images_dir / f"{_safe_name(name)}.png")
        return path

    return take
