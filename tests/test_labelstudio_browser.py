"""Annotations made by hand in a real browser: Debian's chromium driven by Playwright.

Log in, open the task of a document with emoji, CJK and a combining mark, draw regions,
fill their attributes, draw and label relations, submit; then `chipwar labelstudio pull`
must bring the work back with code-point offsets that validate: an entity, a claim with its
attribution chain drawn through a cue, and the gold's chains, cues and restatements
submitted unchanged through the editor (which writes the annotation anew from what it shows).

The contract of the integration suite: for each real document, every pre-annotated region is
highlighted (its computed colour, not its presence in the DOM; a screenshot is kept under the
session's temporary folder, ``screens/pre-annotations-<doc>.png``), the predictions submitted
unchanged come back as the gold in every field, and a second pull writes nothing and says so.
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
from .labelstudio_data import EMOJI_DOC, EMOJI_TEXT, add_emoji_document, server_env

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never `playwright install`
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

#: Where a drag over one word starts and ends in the labeling editor's text (not the task list's preview of it),
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
    const rects = [...range.getClientRects()].filter(r => r.width > 0);  // one per line the word wraps over
    const first = rects[0], last = rects[rects.length - 1];
    return {left: first.left, y0: (first.top + first.bottom) / 2, right: last.right, y1: (last.top + last.bottom) / 2};
  }
  }
  return null;
}"""


def _push(root: Path, env: dict[str, str], set_name: str, doc_id: str = EMOJI_DOC) -> tuple[str, int, int]:
    """Push the corpus to a new project; its title, its id and the task id of ``doc_id``."""
    title = f"browser {uuid.uuid4().hex[:8]}"
    pushed = run_chipwar("labelstudio", "push", "--set", set_name, "--project", title, "--corpus", str(root), "--format", "json", env=env)
    assert pushed.returncode == 0, pushed.stderr
    project_id = flat(pushed.stdout)["project_id"]
    from label_studio_sdk import LabelStudio
    task_id = next(t.id for t in LabelStudio(base_url=env["LABEL_STUDIO_URL"], api_key=env["LABEL_STUDIO_API_KEY"]).tasks.list(
        project=project_id, fields="all") if t.data["doc_id"] == doc_id)
    return title, project_id, task_id


def _pull(root: Path, env: dict[str, str], server: Any, title: str, annotator: str, doc_id: str = EMOJI_DOC) -> dict:
    """Pull what the browser submitted into ``annotations/<annotator>/``; the file of ``doc_id``, validated."""
    pulled = run_chipwar("labelstudio", "pull", "--annotator", annotator, "--user", server.username, "--project", title,
                         "--corpus", str(root), "--format", "json", env=env)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert run_chipwar("validate", str(root / "annotations" / annotator)).returncode == 0
    return json.loads((root / "annotations" / annotator / f"{doc_id}.json").read_text("utf-8"))


@contextmanager
def _task_page(server: Any, project_id: int, task_id: int, shows: str = "Huawei said") -> Iterator[Page]:
    """The labeling editor on the task (once its text ``shows``), logged in as the admin; submits nothing by itself."""
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
            page.locator(".lsf-richtext__line", has_text=shows).first.wait_for(timeout=60_000)
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
    page.mouse.move(box["left"] + 1, box["y0"])
    page.mouse.down()
    page.mouse.move(box["right"] - 1, box["y1"], steps=10)
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
    for value in values:  # a choice shows its value, and after it a hotkey hint in brackets when it has one
        page.get_by_text(re.compile(rf"^{re.escape(value)}(\[[^\]]*\])?$")).locator("visible=true").click()


def _pick_canonical(page: Page, cid: str) -> None:
    """Open the selected entity's canonical-id list and pick the entity whose id is ``cid`` (each shows name · label · id)."""
    page.locator(".chipwar-column [data-testid=select-trigger]").locator("visible=true").first.click()
    page.locator("[role=option]", has_text=re.compile(rf"· {re.escape(cid)}$")).locator("visible=true").first.click()
    page.screenshot(path="/tmp/h/picked.png")


def test_annotation_drawn_in_chromium_comes_back_with_code_point_offsets(labelstudio_server, corpus_copy: Path) -> None:
    _, server, token = labelstudio_server
    env = server_env(server, token)
    add_emoji_document(corpus_copy)
    title, project_id, task_id = _push(corpus_copy, env, "")
    with _task_page(server, project_id, task_id) as page:
        _draw(page, "ORG", "Huawei", "q\u0307 — ")
        page.locator(".htx-highlight", has_text="Huawei").first.click()  # select the new region: its attributes show
        _choose(page, "company")
        _pick_canonical(page, "huawei")
        _submit(page)
    [span] = _pull(corpus_copy, env, server, title, "browser")["entities"]
    start = EMOJI_TEXT.index("Huawei")
    assert (span["start"], span["end"], span["text"], span["label"]) == (start, start + 6, "Huawei", "ORG")
    assert (span["canonical_id"], span["org_type"], span["provenance"]["origin"]) == ("huawei", "company", "labelstudio")


def test_a_chain_drawn_through_a_cue_comes_back(labelstudio_server, corpus_copy: Path) -> None:
    """A claim, a cue with its kind, and a relation labelled source-1 from the claim to the cue, all drawn by hand."""
    _, server, token = labelstudio_server
    env = server_env(server, token)
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
    env = server_env(server, token)
    add_emoji_document(corpus_copy)
    gold = json.loads((corpus_copy / "annotations/gold" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    title, project_id, task_id = _push(corpus_copy, env, "gold")
    with _task_page(server, project_id, task_id) as page:
        page.locator(".lsf-outliner-item", has_text="analysts say").first.wait_for(timeout=60_000)
        _submit(page)
    back = _pull(corpus_copy, env, server, title, "editor")
    assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in gold.items() if k != "annotator"}


#: Per region of the editor's text: its class naming the region, and whether every span of it has a colour.
HIGHLIGHTS = """() => {
  const regions = {};
  for (const el of document.querySelectorAll(".lsf-richtext__line .htx-highlight")) {
    const name = [...el.classList].find(c => c.startsWith("htx-highlight-") && c !== "htx-highlight-last");
    const colour = getComputedStyle(el).backgroundColor;
    const shown = !/^(transparent|rgba\\(\\d+, \\d+, \\d+, 0\\))$/.test(colour);
    regions[name] = (regions[name] ?? true) && shown;
  }
  return regions;
}"""


@pytest.mark.parametrize("doc_id", ["reg-2023-qiming", "tfi-2021-chip-crisis"])
def test_each_document_shows_every_pre_annotation_and_comes_back_as_gold(doc_id: str, labelstudio_server, corpus_copy: Path,
                                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    """The contract of the integration suite: the gold, pushed as predictions, is seen highlighted, submitted unchanged in the
    editor, pulled, and is the gold again in every field; a second pull finds nothing changed and writes nothing."""
    _, server, token = labelstudio_server
    env = server_env(server, token)
    gold = json.loads((corpus_copy / "annotations/gold" / f"{doc_id}.json").read_text("utf-8"))
    regions = {(s["start"], s["end"]) for layer in ("zones", "entities", "claims", "bias_markers") for s in gold[layer]}
    cues = {(link["cue"]["start"], link["cue"]["end"]) for c in gold["claims"] for link in c["attribution_chain"] if link["cue"]}
    count = sum(len(gold[layer]) for layer in ("zones", "entities", "claims", "bias_markers")) + len(cues)
    assert regions and cues  # what the document must hold for the round trip to prove anything
    title, project_id, task_id = _push(corpus_copy, env, "gold", doc_id)
    folder = tmp_path_factory.getbasetemp() / "screens"
    folder.mkdir(exist_ok=True)
    with _task_page(server, project_id, task_id, "") as page:
        page.wait_for_function(f"() => Object.keys(({HIGHLIGHTS})()).length >= {count}", timeout=60_000)
        highlights = page.evaluate(HIGHLIGHTS)
        page.screenshot(path=str(folder / f"pre-annotations-{doc_id}.png"), full_page=True)
        assert len(highlights) == count and all(highlights.values()), {k: v for k, v in highlights.items() if not v}
        _submit(page)
    back = _pull(corpus_copy, env, server, title, "editor", doc_id)
    assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in gold.items() if k != "annotator"}
    before = (corpus_copy / "annotations/editor" / f"{doc_id}.json").read_bytes()
    again = run_chipwar("labelstudio", "pull", "--annotator", "editor", "--user", server.username, "--project", title,
                        "--corpus", str(corpus_copy), env=env)
    assert again.returncode == 0 and "nothing changed since the last import; no file written" in again.stdout, again.stderr
    assert (corpus_copy / "annotations/editor" / f"{doc_id}.json").read_bytes() == before
