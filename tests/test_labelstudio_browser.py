"""Annotations made by hand in a real browser: Debian's chromium driven by Playwright.

Log in, open the task of a document with emoji, CJK and a combining mark, draw regions,
fill their attributes, draw and label relations, submit; then `chipwar labelstudio pull`
must bring the work back with code-point offsets that validate: an entity, a claim with its
attribution chain drawn through a cue, and the gold's chains, cues and restatements
submitted unchanged through the editor (which writes the annotation anew from what it shows).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from .conftest import flat, run_chipwar
from .labelstudio_data import EMOJI_DOC, EMOJI_TEXT, add_emoji_document

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never `playwright install`
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

#: Viewport rectangle of one word in the labeling editor's text (not the task list's preview of it),
#: found through the DOM's own text nodes: the first text node holding ``after`` and, after it, ``needle``.
WORD_RECT = """([needle, after]) => {
  for (const line of document.querySelectorAll(".lsf-richtext__line")) {
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(after);
    if (at < 0) continue;
    const start = node.data.indexOf(needle, at);
    if (start < 0) continue;
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, start + needle.length);
    const r = range.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  }
  }
  return null;
}"""


def _push(root: Path, env: dict[str, str], set_name: str) -> tuple[str, int, int]:
    """Push the corpus to a new project; its title, its id and the emoji document's task id."""
    title = f"browser {uuid.uuid4().hex[:8]}"
    pushed = run_chipwar("labelstudio", "push", "--set", set_name, "--project", title, "--corpus", str(root), "--format", "json", env=env)
    assert pushed.returncode == 0, pushed.stderr
    project_id = flat(pushed.stdout)["project_id"]
    from label_studio_sdk import LabelStudio
    task_id = next(t.id for t in LabelStudio(base_url=env["LABEL_STUDIO_URL"], api_key=env["LABEL_STUDIO_API_KEY"]).tasks.list(
        project=project_id, fields="all") if t.data["doc_id"] == EMOJI_DOC)
    return title, project_id, task_id


def _pull(root: Path, env: dict[str, str], server: Any, title: str, annotator: str) -> dict:
    """Pull what the browser submitted into ``annotations/<annotator>/``; the emoji document's file, validated."""
    pulled = run_chipwar("labelstudio", "pull", "--annotator", annotator, "--user", server.username, "--project", title,
                         "--corpus", str(root), "--format", "json", env=env)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert run_chipwar("validate", str(root / "annotations" / annotator)).returncode == 0
    return json.loads((root / "annotations" / annotator / f"{EMOJI_DOC}.json").read_text("utf-8"))


@contextmanager
def _task_page(server: Any, project_id: int, task_id: int) -> Iterator[Page]:
    """The labeling editor on the task, logged in as the admin; submits nothing by itself."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(f"{server.url}/user/login/")
            page.fill("input[name=email]", server.username)
            page.fill("input[name=password]", server.password)
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_url(re.compile(r".*/(projects/?|)$"))
            page.goto(f"{server.url}/projects/{project_id}/data?task={task_id}")
            page.locator(".lsf-richtext__line", has_text="Huawei said").first.wait_for(timeout=60_000)
            yield page
        finally:
            browser.close()


def _submit(page: Page) -> None:
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)


def _draw(page: Page, label: str, needle: str, after: str = "") -> None:
    """Pick ``label`` and drag over ``needle`` (the first after ``after``), as an annotator does."""
    page.locator(".lsf-label", has=page.locator(".lsf-label__text", has_text=re.compile(f"^{label}$"))).first.click()
    page.locator(".lsf-richtext__line", has_text="Huawei said").first.scroll_into_view_if_needed()
    box = page.evaluate(WORD_RECT, [needle, after])
    assert box, f"{needle!r} is not rendered"
    y = (box["top"] + box["bottom"]) / 2
    page.mouse.move(box["left"] + 1, y)
    page.mouse.down()
    page.mouse.move((box["left"] + box["right"]) / 2, y, steps=5)
    page.mouse.move(box["right"] - 1, y, steps=5)
    page.mouse.up()
    page.wait_for_timeout(300)


def _tab(page: Page, name: str) -> None:
    """Open the side panel's Regions or Relations tab (the editor also keeps a hidden copy of each)."""
    page.locator(".lsf-panel-tabs__tab", has_text=name).locator("visible=true").first.click()


def _select(page: Page, surface: str) -> None:
    """Select a region from the outliner: its attributes show below the text."""
    _tab(page, "Regions")
    page.locator(".lsf-outliner-item", has_text=surface).first.click()


def _choose(page: Page, *values: str) -> None:
    """Tick the visible per-region choices (several controls offer the same kinds; only the selected region's show)."""
    for value in values:
        page.get_by_text(value, exact=True).locator("visible=true").click()


def test_annotation_drawn_in_chromium_comes_back_with_code_point_offsets(labelstudio_server, corpus_copy: Path) -> None:
    _, server, token = labelstudio_server
    env = {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": token}
    add_emoji_document(corpus_copy)
    title, project_id, task_id = _push(corpus_copy, env, "")
    with _task_page(server, project_id, task_id) as page:
        _draw(page, "ORG", "Huawei", "q\u0307 — ")
        page.locator(".htx-highlight", has_text="Huawei").first.click()  # select the new region: its attributes show
        _choose(page, "company")
        canonical = page.get_by_placeholder("canonical_id")
        canonical.fill("huawei")
        canonical.press("Enter")
        _submit(page)
    [span] = _pull(corpus_copy, env, server, title, "browser")["entities"]
    start = EMOJI_TEXT.index("Huawei")
    assert (span["start"], span["end"], span["text"], span["label"]) == (start, start + 6, "Huawei", "ORG")
    assert (span["canonical_id"], span["org_type"], span["provenance"]["origin"]) == ("huawei", "company", "labelstudio")


def test_a_chain_drawn_through_a_cue_comes_back(labelstudio_server, corpus_copy: Path) -> None:
    """A claim, a cue with its kind, and a relation labelled source-1 from the claim to the cue, all drawn by hand."""
    _, server, token = labelstudio_server
    env = {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": token}
    add_emoji_document(corpus_copy)
    title, project_id, task_id = _push(corpus_copy, env, "")
    with _task_page(server, project_id, task_id) as page:
        _draw(page, "event_property", "Chips are scarce")
        _draw(page, "cue", "analysts say")
        _select(page, "Chips are scarce")
        _choose(page, "check_worthy", "unidentified", "indirect", "certain")
        page.get_by_role("button", name="Create Relation").click()
        page.locator(".htx-highlight", has_text="analysts say").first.click()
        _tab(page, "Relations")
        relation = page.locator(".lsf-relations__item").first
        relation.hover()
        relation.get_by_role("button", name="Show Relation Labels").click()
        page.get_by_role("button", name="Select labels").click()
        page.get_by_test_id("select-option-source-1").click()
        page.keyboard.press("Escape")
        _select(page, "analysts say")
        _choose(page, "vague_collective")
        _submit(page)
    [claim] = _pull(corpus_copy, env, server, title, "drawn")["claims"]
    start = EMOJI_TEXT.index("analysts say")
    assert claim["text"] == "Chips are scarce" and claim["restates"] == []
    assert claim["attribution_chain"] == [{"kind": "vague_collective", "entity_id": None,
                                           "cue": {"start": start, "end": start + 12, "text": "analysts say"}}]


def test_pre_annotations_submitted_in_the_editor_keep_chains_cues_and_restatements(labelstudio_server, corpus_copy: Path) -> None:
    """The editor loads the gold's regions and relations (two labels on one pair among them) and writes them anew."""
    _, server, token = labelstudio_server
    env = {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": token}
    add_emoji_document(corpus_copy)
    gold = json.loads((corpus_copy / "annotations/gold" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    title, project_id, task_id = _push(corpus_copy, env, "gold")
    with _task_page(server, project_id, task_id) as page:
        page.locator(".lsf-outliner-item", has_text="analysts say").first.wait_for(timeout=60_000)
        _submit(page)
    back = _pull(corpus_copy, env, server, title, "editor")
    assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in gold.items() if k != "annotator"}
