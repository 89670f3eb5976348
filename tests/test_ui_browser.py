"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against a real
``mem0-mcp serve --transport http``: what a person sees and does, checked against the store
through the MCP tools. Every test also fails on any JavaScript console error or uncaught
exception, and the main views are kept as screenshots in ``artifacts/ui/``."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from dashboard_harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    running_server,
    token_settings,
)
from mcp_harness import ToolFailed
from playwright.async_api import Page, async_playwright, expect

pytestmark = pytest.mark.slow


class Tab:
    """A browser tab that records console errors and uncaught exceptions."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed):
            self.errors.append(message.text)

    def allow(self, pattern: str) -> None:
        """Expect console errors matching ``pattern`` (e.g. the browser's own line for a
        403 that the test provokes on purpose)."""
        self.allowed.append(re.compile(pattern))

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=ARTIFACTS / f"{name}.png")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("ui-browser") / "data", model_dir) as running:
        yield running


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("ui-browser-tokens") / "data"
    with running_server(data, model_dir, **token_settings()) as running:
        yield running


@pytest.fixture
async def tab() -> AsyncIterator[Tab]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 1280, "height": 800}, accept_downloads=True
        )
        opened = Tab(await context.new_page())
        yield opened
        await browser.close()
    assert not opened.errors, f"JavaScript console errors: {opened.errors}"


def _id(name: str) -> str:
    """A scope id of this test alone (the module's server is shared)."""
    return f"{name}-{secrets.token_hex(3)}"


def _memories(page: Page):
    return page.locator("ol.memories > li .text")


# --- seeing ----------------------------------------------------------------------------------


async def test_choosing_a_scope_lists_its_memories_newest_first_and_no_one_elses(
    server: Server, tab: Tab
) -> None:
    alice, bob = _id("alice"), _id("bob")
    texts = ["Alice likes green tea", "Alice lives in Porto", "Alice is allergic to peanuts"]
    for text in texts:
        await server.add(text, user_id=alice, metadata={"source": "chat"})
    await server.add("Bob plays jazz on Fridays", user_id=bob)
    page = tab.page
    await page.goto(f"{server.url}/ui")
    scopes = page.get_by_role("navigation", name="Scopes")
    await scopes.get_by_role("link", name=re.compile(alice)).click()
    await expect(page).to_have_url(f"{server.url}/ui?user_id={alice}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Memories of user {alice}")
    await expect(_memories(page)).to_have_text(texts[::-1])
    await expect(page.get_by_text("Bob plays jazz")).to_have_count(0)
    await tab.shot("list")

    await page.goto(f"{server.url}/ui?user_id={bob}")  # a deep link
    await expect(_memories(page)).to_have_text(["Bob plays jazz on Fridays"])

    await page.get_by_label("Find a user, agent or run").fill(alice[-8:])
    await expect(scopes.get_by_role("link")).to_have_text([re.compile(f"^{alice}")])

    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select')]
              .filter(e => !e.labels.length).map(e => e.outerHTML)"""
    )
    assert unlabelled == []


async def test_search_shows_the_tools_ranking_with_its_scores(server: Server, tab: Tab) -> None:
    alice = _id("alice")
    for text in [
        "Alice lives in Porto near the river",
        "Alice's cat is called Miso",
        "Alice works in Lisbon as a nurse",
        "Porto wine is what Alice drinks at dinner",
        "Alice runs along the beach on Sundays",
    ]:
        await server.add(text, user_id=alice)
    query = "where does Alice live?"
    ranked = (await server.tool("search_memories", query=query, user_id=alice, limit=20))["results"]
    page = tab.page
    await page.goto(f"{server.url}/ui?user_id={alice}")
    await page.get_by_label("Search memories").fill(query)
    await page.get_by_label("Search memories").press("Enter")
    await expect(page.get_by_text(f"results for “{query}”, best first")).to_be_visible()
    await expect(_memories(page)).to_have_text([hit["memory"] for hit in ranked])
    scores = page.locator("ol.memories .score dd")
    await expect(scores).to_have_text([f"{hit['score']:.3f}" for hit in ranked])
    await expect(page).to_have_url(f"{server.url}/ui?user_id={alice}&q=where+does+Alice+live%3F")
    await tab.shot("search")


# --- correcting ------------------------------------------------------------------------------


async def test_edit_saves_through_update_and_history_shows_every_change(
    server: Server, tab: Tab
) -> None:
    alice = _id("alice")
    memory_id = await server.add("Alice lives in Lisbon", user_id=alice, metadata={"topic": "home"})
    page = tab.page
    await page.goto(f"{server.url}/ui?user_id={alice}")
    item = page.locator(f"#memory-{memory_id}")
    await item.get_by_role("button", name="Edit").click()
    text = item.get_by_label("Memory text")
    await expect(text).to_be_focused()
    await text.fill("Alice lives in Porto")
    await item.get_by_role("textbox", name="Metadata").fill('{"topic": "home", "since": 2026}')
    await tab.shot("edit")
    await item.get_by_role("button", name="Save").click()
    await expect(item.get_by_role("status")).to_have_text("Saved.")
    await expect(item.locator(".text")).to_have_text("Alice lives in Porto")
    stored = await server.tool("get_memory", memory_id=memory_id)
    assert (stored["memory"], stored["metadata"]) == (
        "Alice lives in Porto",
        {"topic": "home", "since": 2026},
    )

    # An agent corrects it too; the history shows both updates with old and new text.
    await server.tool("update_memory", memory_id=memory_id, text="Alice lives in Braga")
    await item.get_by_role("button", name="History").click()
    rows = item.locator("table tbody tr")
    await expect(rows).to_have_count(3)
    cells = [await row.locator("td").all_inner_texts() for row in await rows.all()]
    events = (await server.tool("memory_history", memory_id=memory_id))["results"]
    assert [c[1:] for c in cells] == [
        [e["event"], e["old_memory"] or "", e["new_memory"] or "", "", "user"] for e in events
    ]
    assert [c[1] for c in cells] == ["ADD", "UPDATE", "UPDATE"]
    assert cells[2][2:4] == ["Alice lives in Porto", "Alice lives in Braga"]
    await tab.shot("history")


async def test_delete_asks_first_and_deletes_only_when_confirmed(server: Server, tab: Tab):
    alice = _id("alice")
    keep = await server.add("Alice likes tea", user_id=alice)
    memory_id = await server.add("Alice's old number is 555-0100", user_id=alice)
    page = tab.page
    await page.goto(f"{server.url}/ui?user_id={alice}")
    item = page.locator(f"#memory-{memory_id}")

    await item.get_by_role("button", name="Delete").click()
    await expect(item.get_by_text("Delete this memory?")).to_be_visible()
    await tab.shot("delete-confirmation")
    assert await server.memory_text(memory_id) == "Alice's old number is 555-0100"
    await item.get_by_role("button", name="Cancel").click()
    await expect(item.get_by_text("Delete this memory?")).to_have_count(0)
    await expect(item.get_by_role("button", name="Delete")).to_be_focused()

    await item.get_by_role("button", name="Delete").click()
    await item.get_by_role("button", name="Yes, delete").click()
    await expect(item).to_contain_text("Deleted “Alice's old number is 555-0100”")
    with pytest.raises(ToolFailed, match="no memory with id"):
        await server.tool("get_memory", memory_id=memory_id)
    listed = await server.tool("list_memories", user_id=alice)
    assert [m["id"] for m in listed["results"]] == [keep]
    history = await server.tool("memory_history", memory_id=memory_id)
    assert history["results"][-1]["event"] == "DELETE"
    await page.reload()
    await expect(_memories(page)).to_have_text(["Alice likes tea"])


async def test_the_keyboard_alone_opens_history_and_edits(server: Server, tab: Tab) -> None:
    alice = _id("alice")
    memory_id = await server.add("Alice swims", user_id=alice)
    page = tab.page
    await page.goto(f"{server.url}/ui?user_id={alice}")
    item = page.locator(f"#memory-{memory_id}")
    history = item.get_by_role("button", name="History")
    await history.focus()
    await page.keyboard.press("Enter")
    await expect(item.locator("table")).to_be_visible()
    await expect(item.get_by_role("button", name="Close")).to_be_focused()  # focus follows
    await page.keyboard.press("Enter")
    await expect(item.locator("table")).to_have_count(0)
    await expect(history).to_be_focused()

    await page.keyboard.press("Tab")
    await expect(item.get_by_role("button", name="Edit")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(item.get_by_label("Memory text")).to_be_focused()
    await page.keyboard.press("End")
    await page.keyboard.type(" every morning")
    await page.keyboard.press("Tab")  # metadata
    await page.keyboard.press("Tab")  # Save
    await page.keyboard.press("Enter")
    await expect(item.get_by_role("status")).to_have_text("Saved.")
    assert await server.memory_text(memory_id) == "Alice swims every morning"


# --- exporting, reading on a phone -----------------------------------------------------------


async def test_export_downloads_the_scope_as_json_lines(server: Server, tab: Tab) -> None:
    alice = _id("alice")
    ids = [await server.add(f"Alice fact number {i}", user_id=alice) for i in range(3)]
    page = tab.page
    await page.goto(f"{server.url}/ui?user_id={alice}")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export JSONL").click()
    download = await download_info.value
    assert download.suggested_filename == f"memories-user_id-{alice}.jsonl"
    lines = [json.loads(line) for line in Path(await download.path()).read_text().splitlines()]
    assert [line["id"] for line in lines] == ids[::-1]


async def test_pages_fit_a_phone_and_a_laptop_screen_without_sideways_scrolling(
    server: Server, tab: Tab
) -> None:
    alice = _id("alice")
    memory_id = await server.add(
        "Alice keeps a long note: " + "remember-to-water-the-plants-" * 6,
        user_id=alice,
        agent_id="assistant-with-a-long-name",
        metadata={"topic": "home", "tags": ["plants", "chores"], "priority": 2},
    )
    page = tab.page
    for width, height, name in ((1280, 800, "laptop"), (390, 844, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(f"{server.url}/ui?user_id={alice}")
        await page.locator(f"#memory-{memory_id}").get_by_role("button", name="History").click()
        await expect(page.locator("table")).to_be_visible()
        overflow = await page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{name}: the page is {overflow}px wide"
        await tab.shot(f"{name}-history")


# --- tokens ----------------------------------------------------------------------------------


async def test_a_bound_token_signs_in_and_sees_only_its_scope(token_server: Server, tab: Tab):
    mine = await token_server.add("Alice keeps bees", user_id="alice")
    await token_server.add("Bob keeps secrets", user_id="bob")
    tab.allow(r"status of 40[13]")  # the refusals provoked below
    page = tab.page
    await page.goto(f"{token_server.url}/ui")
    await expect(page.get_by_role("heading", name="Sign in to your memories")).to_be_visible()
    await tab.shot("sign-in")
    await page.get_by_label("Access token").fill("alice-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator(f"#memory-{mine}")).to_be_visible()
    scopes = page.get_by_role("navigation", name="Scopes")
    await expect(scopes).not_to_contain_text("bob")
    await expect(page.get_by_text("Bob keeps secrets")).to_have_count(0)

    async with page.expect_download() as download_info:  # the token goes with it
        await page.get_by_role("link", name="Export JSONL").click()
    exported = Path(await (await download_info.value).path()).read_text().splitlines()
    assert {json.loads(line)["user_id"] for line in exported} == {"alice"}

    # Each page load asks again with the token kept in the tab: a deep link works...
    await page.goto(f"{token_server.url}/ui?user_id=alice")
    await expect(page.locator(f"#memory-{mine}")).to_be_visible()
    # ...and naming another scope is refused with the reason.
    await page.goto(f"{token_server.url}/ui?user_id=bob")
    await expect(page.get_by_role("alert")).to_contain_text(
        "this credential is bound to user_id='alice' and cannot act on user_id='bob'"
    )
    await expect(page.get_by_text("Bob keeps secrets")).to_have_count(0)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Access token")).to_be_visible()
    await page.get_by_label("Access token").fill("not-a-token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "That token was not accepted. Check it and sign in again."
    )
    await expect(page.get_by_text("Alice keeps bees")).to_have_count(0)
