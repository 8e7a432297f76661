"""The approval inbox in a real browser: headless Chromium (Debian's package) driven by Playwright.

A workflow waits at its checkpoint; the person signs in with the token, approves the step on the page, and sees the
run finish and its report with its plots. A browser without the token is refused. `.ci/run` installs Chromium.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The flags a closed network needs (no background connections, no first-run work); see the machine notes.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Chromium (Debian package 'chromium') for the browser test")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.mark.slow
def test_a_person_approves_a_waiting_workflow_in_the_browser(inbox, inbox_token, browser):
    from labwright.skills import run

    res = run("mechanism_review")  # no approval rule: it stops at its checkpoint
    assert res.status == "waiting"

    stranger = browser.new_page()
    assert stranger.goto(f"{inbox}/api/pending").status == 401
    assert stranger.goto(f"{inbox}/").status == 401  # the sign-in form, nothing else
    assert res.run_id not in stranger.content()

    page = browser.new_page()
    page.goto(f"{inbox}/login")
    page.fill("input[name=token]", inbox_token)
    page.click("text=Sign in")
    page.wait_for_url(f"{inbox}/")
    question = page.locator(".question", has_text=res.run_id).first
    assert question.is_visible()
    question.locator("button[value=approve]").click()
    page.wait_for_url(f"{inbox}/?m=*")
    assert "the run continues" in page.locator("#message").inner_text()

    page.goto(f"{inbox}/runs/{res.run_id}")
    deadline = time.time() + 120
    while page.locator("#report").count() == 0 and time.time() < deadline:
        time.sleep(1)
        page.reload()
    assert page.locator("#report").count() == 1, page.content()[-2000:]
    images = page.locator("#report img")
    assert images.count() >= 1
    widths = page.eval_on_selector_all("#report img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
    assert all(w > 0 for w in widths), widths  # every plot really loaded
