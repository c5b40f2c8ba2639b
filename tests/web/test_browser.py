"""In a real browser (Debian's Chromium, headless, driven by Playwright): sign in, the inbox,
a task form submitted wrong then right, the case file's highlighted diagram, an administrator
suspending and resuming a case, and a 404 for a user with no business in the case.

Screenshots go to tests/web/screenshots/. SQLite only: the server runs in a thread here.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from hsm_workflow import web
from hsm_workflow.services import access, cases
from hsm_workflow.web import create_app

from conftest import TESTER
from .helpers import HERE, STRANGER

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = HERE / "screenshots"
VENDOR = Path(web.__file__).parent / "static" / "vendor"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (make chromium)")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def server(runtime, case) -> Iterator[str]:
    if runtime.database.dialect.name != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    httpd = make_server("127.0.0.1", 0, create_app(runtime), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    opened.console_errors = []
    opened.on("console", lambda message: message.type == "error" and opened.console_errors.append(message.text))
    yield opened
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, server: str, username: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/")


def test_sign_in_then_the_inbox_lists_the_task(page, server, case):
    page.goto(server)
    assert page.url.startswith(f"{server}/login")
    shot(page, "01-sign-in")
    sign_in(page, server, "master")
    row = page.locator("table.tasks tbody tr")
    assert row.count() == 1
    assert row.get_by_role("link", name="Review the measure").is_visible()
    assert case in row.inner_text() and "Review loop" in row.inner_text()
    shot(page, "02-inbox")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"


def test_a_task_form_submitted_wrong_then_right(page, server, runtime, case):
    sign_in(page, server, "master")
    page.get_by_role("link", name="Review the measure").click()
    assert page.get_by_role("heading", name="Instructions").is_visible()
    assert "004 §3.7" in page.locator(".instructions").inner_text()
    page.get_by_label("Reasons").fill("the risk remains")
    page.get_by_role("button", name="Submit").click()
    errors = page.locator("#f-decision-error")
    assert " ".join(errors.text_content().split()) == "Error: Missing data for required field."
    assert page.locator("#f-decision").get_attribute("aria-describedby") == "f-decision-error"
    assert page.get_by_label("Reasons").input_value() == "the risk remains"
    assert page.title().startswith("Error: ")
    shot(page, "03-task-invalid")
    page.get_by_label("Extend for a further period").check()
    page.get_by_role("button", name="Submit").click()
    assert "Next in this case: Review the measure." in page.locator(".flashes").inner_text()
    assert page.get_by_role("heading", name="Review the measure", level=1).is_visible()
    shot(page, "04-task-done-next")
    assert [t.status for t in access.case_file(runtime, TESTER, case).tasks] == ["completed", "open"]


def test_the_case_file_shows_the_diagram_with_steps_highlighted(page, server, case):
    assert (VENDOR / "bpmn-navigated-viewer.production.min.js").exists(), "run make web-assets"
    sign_in(page, server, "master")
    page.goto(f"{server}/cases/{case}")
    page.wait_for_selector("[data-bpmn-diagram][data-state=ready]")
    assert page.locator('.djs-element.hsm-current[data-element-id="Review"]').count() == 1
    assert page.locator('.djs-element.hsm-current[data-element-id="PeriodEnds"]').count() == 1
    assert page.locator('.djs-element.hsm-done[data-element-id="MeasureImposed"]').count() == 1
    assert page.locator(".djs-element.hsm-done, .djs-element.hsm-current").count() == 3
    assert page.get_by_role("heading", name="Timeline").is_visible()
    shot(page, "05-case-file")
    assert page.console_errors == []


def test_an_administrator_suspends_and_resumes_a_case_with_a_reason(page, server, runtime, case):
    sign_in(page, server, "admin")
    page.get_by_role("link", name="Admin console").click()
    page.get_by_role("link", name=case).click()
    form = page.get_by_role("form", name="Change the case's status")
    form.get_by_label("Suspend").check()
    form.get_by_label("Reason").fill("police investigation")
    shot(page, "06-admin-suspend")
    form.get_by_role("button", name="Change status").click()
    assert f"{case} suspended." in page.locator(".flashes").inner_text()
    assert access.case_file(runtime, TESTER, case).summary.status == "suspended"
    form.get_by_label("Resume").check()
    form.get_by_label("Reason").fill("police finished")
    form.get_by_role("button", name="Change status").click()
    assert f"{case} resumed." in page.locator(".flashes").inner_text()
    page.get_by_role("link", name="Open the case file").click()
    timeline = page.locator("table.timeline").inner_text()
    assert "Case suspended: police investigation" in timeline and "Case resumed: police finished" in timeline
    shot(page, "07-admin-resumed-timeline")


def test_an_unrelated_user_gets_404_for_the_case(page, server, case):
    sign_in(page, server, STRANGER)
    response = page.goto(f"{server}/cases/{case}")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "Alex Student" not in page.content()
    shot(page, "08-stranger-404")


def test_a_process_version_diagram_for_process_owners(page, server, case):
    sign_in(page, server, "admin")
    page.get_by_role("link", name="Processes").click()
    page.get_by_role("link", name="View version 1").click()
    page.wait_for_selector("[data-bpmn-diagram][data-state=ready]")
    assert page.locator('.djs-element[data-element-id="Review"]').count() == 1
    shot(page, "09-process-version")
