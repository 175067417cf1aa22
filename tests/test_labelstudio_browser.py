"""One annotation made by hand in a real browser: Debian's chromium driven by Playwright.

Log in, open the task of a document with emoji, CJK and a combining mark, pick the ORG label,
drag over the word after them, fill the region's attributes, submit; then `chipwar
labelstudio pull` must bring the span back with code-point offsets that validate.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from .conftest import flat, run_chipwar
from .labelstudio_data import EMOJI_DOC, EMOJI_TEXT, add_emoji_document

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never `playwright install`
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

#: Viewport rectangle of one word in the labeling editor's text (not the task list's preview of it),
#: found through the DOM's own text nodes.
WORD_RECT = """([needle, after]) => {
  for (const line of document.querySelectorAll(".lsf-richtext__line")) {
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(after);
    if (at < 0) continue;
    const start = node.data.indexOf(needle, at);
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, start + needle.length);
    const r = range.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  }
  }
  return null;
}"""


def test_annotation_drawn_in_chromium_comes_back_with_code_point_offsets(labelstudio_server, corpus_copy: Path) -> None:
    _, server, token = labelstudio_server
    env = {"LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": token}
    add_emoji_document(corpus_copy)
    title = f"browser {uuid.uuid4().hex[:8]}"
    pushed = run_chipwar("labelstudio", "push", "--set", "", "--project", title, "--corpus", str(corpus_copy), "--format", "json", env=env)
    assert pushed.returncode == 0, pushed.stderr
    project_id = flat(pushed.stdout)["project_id"]
    from label_studio_sdk import LabelStudio
    task_id = next(t.id for t in LabelStudio(base_url=server.url, api_key=token).tasks.list(project=project_id, fields="all")
                   if t.data["doc_id"] == EMOJI_DOC)

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
            page.locator(".lsf-label", has=page.locator(".lsf-label__text", has_text=re.compile(r"^ORG$"))).first.click()
            page.locator(".lsf-richtext__line", has_text="Huawei said").first.scroll_into_view_if_needed()
            box = page.evaluate(WORD_RECT, ["Huawei", "q\u0307 — "])
            assert box, "the word is not rendered"
            y = (box["top"] + box["bottom"]) / 2
            page.mouse.move(box["left"] + 1, y)
            page.mouse.down()
            page.mouse.move((box["left"] + box["right"]) / 2, y, steps=5)
            page.mouse.move(box["right"] - 1, y, steps=5)
            page.mouse.up()
            page.locator(".htx-highlight", has_text="Huawei").first.click()  # select the new region: its attributes show
            page.get_by_text("company", exact=True).click()
            canonical = page.get_by_placeholder("canonical_id")
            canonical.fill("huawei")
            canonical.press("Enter")
            page.get_by_role("button", name="Submit").click()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)
        finally:
            browser.close()

    pulled = run_chipwar("labelstudio", "pull", "--annotator", "browser", "--user", server.username, "--project", title,
                         "--corpus", str(corpus_copy), "--format", "json", env=env)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    data = json.loads((corpus_copy / "annotations/browser" / f"{EMOJI_DOC}.json").read_text("utf-8"))
    [span] = data["entities"]
    start = EMOJI_TEXT.index("Huawei")
    assert (span["start"], span["end"], span["text"], span["label"]) == (start, start + 6, "Huawei", "ORG")
    assert (span["canonical_id"], span["org_type"], span["provenance"]["origin"]) == ("huawei", "company", "labelstudio")
    assert run_chipwar("validate", str(corpus_copy / "annotations/browser")).returncode == 0
