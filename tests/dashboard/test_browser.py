"""The page in a real browser: Debian's chromium, headless, driven by Playwright against uvicorn on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    expect,
    sync_playwright,
)
from sqlalchemy import Engine
from sqlmodel import Session

from dashboard import build_app
from server.settings import Settings
from server.store.models import AgentSession, Delegation, Prompt, utcnow
from tests.dashboard.conftest import LiveServer, serve, stop
from tests.dashboard.seed import ANSWER_TEXT, SESSION_A, SESSION_B, TASK_TEXT, XSS_PROMPT
from tests.dashboard.test_command import dashboard
from tests.server.store.spool_support import hook, spool_event

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
LAPTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
WAIT_MS = 10_000

Scheme = Literal["light", "dark", "no-preference"]

PAGES = ["/", "/sessions", f"/sessions/{SESSION_A}", "/delegations", "/providers", "/patterns", "/routing"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (tests/run does this)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


class Console:
    """Collects console errors, page errors and failed requests: any of them fails the test."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on("requestfailed", self._failed)

    def _failed(self, request: Request) -> None:
        # Leaving a page aborts its open /events stream: that is navigation, not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"requestfailed: {request.url} {request.failure}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")


class Opener:
    """Opens pages in fresh browser contexts and closes them all at teardown (before the server stops)."""

    def __init__(self, browser: Browser, base_url: str, token: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.token = token
        self.contexts: list[BrowserContext] = []

    def __call__(self, path: str, *, viewport: ViewportSize = LAPTOP, scheme: Scheme = "light") -> tuple[Page, Console]:
        context = self.browser.new_context(viewport=viewport, color_scheme=scheme)
        self.contexts.append(context)
        page = context.new_page()
        console = Console(page)
        # In by the token URL, as a user does: it leaves a cookie and redirects to the page without the token.
        response = page.goto(f"{self.base_url}{path}{'&' if '?' in path else '?'}token={self.token}")
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        assert "token=" not in page.url
        return page, console

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def open_page(browser: Browser, live_server: LiveServer) -> Iterator[Opener]:
    opener = Opener(browser, live_server.url, live_server.token)
    yield opener
    opener.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-")[:20] or "overview"


def live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_without_console_errors_in_light_and_dark_at_laptop_and_phone_width(
    open_page: Opener, path: str
) -> None:
    combos: tuple[tuple[Scheme, ViewportSize, str], ...] = (("light", LAPTOP, "laptop"), ("dark", PHONE, "phone"))
    for scheme, viewport, label in combos:
        page, console = open_page(path, viewport=viewport, scheme=scheme)
        expect(page.locator("h1")).to_be_visible()
        live(page)
        for canvas_id in page.eval_on_selector_all("canvas[data-chart]", "cs => cs.map(c => c.id)"):
            page.wait_for_function("id => window.Chart.getChart(id) !== undefined", arg=canvas_id, timeout=WAIT_MS)
        # Nothing sticks out sideways on a phone: wide tables scroll inside their own box.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than the {label} viewport"
        shot(page, f"{slug(path)}-{label}-{scheme}")
        assert console.problems == [], console.problems


def test_overview_charts_are_drawn_by_the_vendored_chart_library(open_page: Opener) -> None:
    page, console = open_page("/")
    for canvas_id in ("spend-chart", "tools-chart", "calls-chart"):
        page.wait_for_function(
            "id => window.Chart && window.Chart.getChart(id) !== undefined", arg=canvas_id, timeout=WAIT_MS
        )
        painted = page.evaluate(
            """id => {
                const c = document.getElementById(id);
                const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
                return false;
            }""",
            canvas_id,
        )
        assert painted, f"{canvas_id} is blank"
    assert console.problems == [], console.problems


def test_recent_sessions_on_the_overview_show_their_ids(open_page: Opener) -> None:
    page, _ = open_page("/")
    expect(page.locator("#recent-sessions")).to_contain_text(SESSION_A[:8])


def test_a_script_in_a_captured_prompt_shows_as_text_and_runs_nothing(open_page: Opener) -> None:
    page, console = open_page(f"/sessions/{SESSION_A}")
    expect(page.get_by_text(XSS_PROMPT, exact=False)).to_be_visible()
    expect(page.get_by_text(ANSWER_TEXT, exact=False)).to_be_visible()
    page.locator("summary", has_text="Task").click()
    expect(page.get_by_text(TASK_TEXT, exact=False)).to_be_visible()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("main script:not([type='application/json'])").count() == 0
    assert page.locator("main b, main img, main svg").count() == 0
    assert console.problems == [], console.problems


def test_a_delegated_task_and_answer_holding_markup_show_as_text_on_the_delegations_page(open_page: Opener) -> None:
    page, console = open_page("/delegations")
    page.locator("tr.attempt-text summary").first.click()
    expect(page.get_by_text(TASK_TEXT, exact=False)).to_be_visible()
    expect(page.get_by_text(ANSWER_TEXT, exact=False)).to_be_visible()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("main img, main svg").count() == 0
    assert console.problems == [], console.problems


def test_a_new_session_appears_on_the_open_sessions_page_without_a_reload(
    open_page: Opener, live_server: LiveServer
) -> None:
    page, console = open_page("/sessions")
    live(page)
    page.evaluate("window.__sameDocument = true")
    new_id = "c0ffee00-1111-4222-8333-444455556666"
    with Session(live_server.engine) as db:
        db.add(AgentSession(session_id=new_id, started_at=utcnow(), project="live-project", cost_usd=0.5))
        db.add(Prompt(event_id="ev-live", session_id=new_id, text=XSS_PROMPT, created_at=utcnow()))
        db.commit()
    expect(page.locator("#sessions-table")).to_contain_text(new_id[:8], timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert console.problems == [], console.problems


def test_a_spooled_prompt_is_ingested_and_its_session_appears_on_the_open_overview(
    open_page: Opener, live_server: LiveServer
) -> None:
    page, console = open_page("/")
    live(page)
    new_id = "d00d0000-aaaa-4bbb-8ccc-dddddddddddd"
    spool_event(live_server.settings.spool_dir, hook("UserPromptSubmit", new_id, prompt=XSS_PROMPT))
    expect(page.locator("#recent-sessions")).to_contain_text(new_id[:8], timeout=WAIT_MS)
    page.wait_for_function("document.body.dataset.generation !== '0'", timeout=WAIT_MS)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert console.problems == [], console.problems


def test_the_sessions_search_form_filters_by_prompt_text(open_page: Opener) -> None:
    page, console = open_page("/sessions")
    page.get_by_label("Search").fill("json flag")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/sessions?q=json+flag**", timeout=WAIT_MS)
    expect(page.locator("#sessions-table")).to_contain_text(SESSION_B[:8])
    expect(page.locator("#sessions-table")).not_to_contain_text(SESSION_A[:8])
    assert console.problems == [], console.problems


def test_with_a_token_the_browser_gets_in_once_by_url_then_by_cookie_and_stays_live(
    browser: Browser, seeded: Engine, settings: Settings
) -> None:
    token = "browser-token-1234"
    url, server, thread = serve(build_app(seeded, settings, token=token, ingest=False, live_interval_s=0.2))
    context = browser.new_context(viewport=LAPTOP)
    try:
        page = context.new_page()
        console = Console(page)
        denied = page.goto(url + "/")
        assert denied is not None and denied.status == 401
        page.goto(f"{url}/sessions?token={token}")
        assert page.url == f"{url}/sessions"
        assert token not in page.content()
        live(page)
        page.goto(url + "/")
        expect(page.locator("#recent-sessions")).to_contain_text(SESSION_A[:8])
        assert [p for p in console.problems if "401" not in p] == []
    finally:
        context.close()
        stop(server, thread)


def test_a_delegation_recorded_while_the_delegations_page_is_open_appears_without_a_reload(
    open_page: Opener, live_server: LiveServer
) -> None:
    page, console = open_page("/delegations")
    live(page)
    page.evaluate("window.__sameDocument = true")
    with Session(live_server.engine) as db:
        db.add(
            Delegation(
                session_id=SESSION_B,
                request_id="req-live",
                provider="cerebras",
                model="qwen-3-coder-480b",
                task_type="code_fix",
                status="ok",
                cost_usd=0.002,
                latency_ms=400.0,
            )
        )
        db.commit()
    expect(page.locator("#recent-delegations")).to_contain_text("cerebras:qwen-3-coder-480b", timeout=WAIT_MS)
    expect(page.locator("#routes-table")).to_contain_text("cerebras", timeout=WAIT_MS)
    page.wait_for_function("window.Chart.getChart('routes-chart').data.labels.length === 7", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True
    assert console.problems == [], console.problems


def test_the_page_loads_everything_from_its_own_origin(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(viewport=LAPTOP)
    try:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{live_server.url}/?token={live_server.token}")
        page.wait_for_function("window.Chart && window.Chart.getChart('spend-chart')", timeout=WAIT_MS)
        assert any("/static/vendor/chart.umd.js" in url for url in requested)
        assert [u for u in requested if not u.startswith(live_server.url) and not u.startswith("data:")] == []
    finally:
        context.close()


def test_a_tool_call_spooled_while_its_session_is_open_joins_the_timeline(
    open_page: Opener, live_server: LiveServer
) -> None:
    page, console = open_page(f"/sessions/{SESSION_A}")
    live(page)
    spool_event(
        live_server.settings.spool_dir,
        hook("PreToolUse", SESSION_A, tool_name="NotebookEdit", tool_use_id="tu-live", tool_input={"cell": 1}),
    )
    expect(page.locator("ul.tree").first).to_contain_text("NotebookEdit", timeout=WAIT_MS)
    assert console.problems == [], console.problems


def test_the_bad_button_on_the_routing_page_records_feedback_from_a_real_browser(
    open_page: Opener, live_server: LiveServer
) -> None:
    from sqlmodel import select

    from server.store.models import Feedback
    from tests.server.routing.recording import save_rows

    row = Delegation(request_id="fb-1", provider="okp", model="b", task_type="code_fix", status="ok", latency_ms=9.0)
    save_rows(live_server.engine, [row])
    page, console = open_page("/routing")
    form = page.locator("form.feedback").filter(has=page.locator('input[value="fb-1"]'))
    form.locator('button[value="0"]').click()
    # Chromium sends Origin and Sec-Fetch-Site on this POST: the CSRF checks must let the page's own form through.
    expect(form.locator('button[value="0"]')).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
    with Session(live_server.engine) as db:
        [stored] = db.exec(select(Feedback)).all()
    assert (stored.request_id, stored.good, stored.source) == ("fb-1", False, "dashboard")
    assert console.problems == [], console.problems


def test_the_url_switchboard_dashboard_prints_opens_the_page_in_chromium_and_leaves_a_cookie(
    browser: Browser, seeded: Engine, home: Path, database_url: str
) -> None:
    env = {**os.environ, "SWITCHBOARD_HOME": str(home), "SWITCHBOARD_DATABASE_URL": database_url}
    env.pop("SWITCHBOARD_DASHBOARD_TOKEN", None)
    with dashboard("--port", "0", "--no-ingest", env=env) as run:
        base, printed = run.url(), run.page_url()
        assert "?token=" in printed
        stranger = browser.new_context(viewport=LAPTOP)
        user = browser.new_context(viewport=LAPTOP)
        try:
            denied = stranger.new_page().goto(base + "/")
            assert denied is not None and denied.status == 401
            page = user.new_page()
            console = Console(page)
            response = page.goto(printed)
            assert response is not None and response.status == 200
            assert page.url == base + "/"  # the token left the address bar
            [cookie] = user.cookies()
            assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == ("switchboard_token", True, "Strict")
            live(page)
            expect(page.locator("#recent-sessions")).to_contain_text(SESSION_A[:8], timeout=WAIT_MS)
            page.goto(base + "/sessions")  # later visits need only the cookie
            expect(page.locator("#sessions-table")).to_contain_text(SESSION_B[:8], timeout=WAIT_MS)
            assert console.problems == [], console.problems
        finally:
            stranger.close()
            user.close()


def test_the_all_me_switch_narrows_the_page_and_the_nav_and_forms_keep_it(
    open_page: Opener, live_server: LiveServer
) -> None:
    with Session(live_server.engine) as db:
        db.add(AgentSession(session_id="zoe-browser-1", user="zoe", host="z1", started_at=utcnow(), project="api"))
        db.commit()
    page, console = open_page("/sessions")
    expect(page.locator("#sessions-table")).to_contain_text("zoe-brow")
    page.locator("header .who-switch").get_by_role("link", name="me").click()
    page.wait_for_url("**/sessions?who=me", timeout=WAIT_MS)
    expect(page.locator("#sessions-table")).not_to_contain_text("zoe-brow")
    expect(page.locator("#sessions-table")).to_contain_text(SESSION_A[:8])
    page.locator("header nav").get_by_role("link", name="Delegations").click()
    page.wait_for_url("**/delegations?who=me", timeout=WAIT_MS)
    expect(page.locator("#who-me")).to_have_attribute("aria-current", "true")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/delegations?who=me&days=7", timeout=WAIT_MS)
    page.locator("header .who-switch").get_by_role("link", name="all").click()
    page.wait_for_url("**/delegations?days=7", timeout=WAIT_MS)
    assert console.problems == [], console.problems
