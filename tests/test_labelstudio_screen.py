"""The labeling screen as an annotator sees it, in Debian's chromium: what shows where, in which colour.

An annotator account is made with ``scripts/labelstudio_server.py accounts``, the gold is
pushed as predictions, and the editor opened as that annotator on the document with emoji
and CJK. The page is measured through computed styles and layout boxes, not the DOM alone;
each test keeps a screenshot under the session's temporary folder (``screens/``).
"""

from __future__ import annotations

import colorsys
import json
import re
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from label_studio_sdk import LabelStudio
from playwright.sync_api import Page, sync_playwright

from chipwar.labelstudio.config import FAMILY_HUES

from .conftest import REPO
from .labelstudio_data import EMOJI_DOC, add_emoji_document, server_env
from .test_labelstudio_browser import ARGS, CHROMIUM, _push, _tab

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser]

LONG_DOC = "reg-2023-qiming"

#: Per label of the column, its control's family (the header above it) and its colour as Label Studio draws it.
LABEL_COLOURS = """() => [...document.querySelectorAll('.lsf-label')].map(el => ({
  text: el.textContent.trim(), colour: getComputedStyle(el).borderLeftColor}))"""
#: The ticked choices of the column (the selected region's attributes and the document's labels).
CHECKED = """() => [...document.querySelectorAll('.chipwar-column input[type=checkbox]:checked')]
  .map(i => i.closest('label, .ant-checkbox-wrapper, div').textContent.trim())"""
#: Whether the browser draws "中" and "国" differently, and both and an emoji unlike an unassigned code point
#: (a missing font draws them all as the same box).
CJK_DRAWN = """() => {
  const draw = ch => { const c = document.createElement('canvas'); c.width = c.height = 40;
    const g = c.getContext('2d'); g.font = '32px ' + getComputedStyle(document.querySelector('.lsf-richtext__line')).fontFamily;
    g.fillText(ch, 2, 34); return c.toDataURL(); };
  const box = draw('\\u{10FFFD}');
  return draw('中') !== draw('国') && draw('中') !== box && draw('😀') !== box;
}"""


@pytest.fixture(scope="module")
def annotator(labelstudio_server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An annotator's login made by the server script, a project with the gold as predictions, and a screenshot folder."""
    script, server, token = labelstudio_server
    [(email, password)] = script.create_accounts(Path(server.data_dir), ["ann.screen@example.org"])
    root = tmp_path_factory.mktemp("screen") / "repo"
    for name in ("corpus", "schema", "annotations"):
        shutil.copytree(REPO / name, root / name)
    add_emoji_document(root)
    _, project_id, task_id = _push(root, server_env(server, token), "gold", EMOJI_DOC)
    long_task = next(t.id for t in LabelStudio(base_url=server.url, api_key=token).tasks.list(project=project_id, fields="all")
                     if t.data["doc_id"] == LONG_DOC)
    folder = tmp_path_factory.getbasetemp() / "screens"
    folder.mkdir(exist_ok=True)
    return {"url": server.url, "email": email, "password": password, "project": project_id, "task": task_id,
            "long_task": long_task, "screens": folder}


@contextmanager
def _logged_in(annotator: dict[str, Any], path: str) -> Iterator[Page]:
    """A page of the server at ``path``, logged in as the annotator."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{annotator['url']}/user/login/")
            page.fill("input[name=email]", annotator["email"])
            page.fill("input[name=password]", annotator["password"])
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_url(re.compile(r".*/(projects/?|)$"))
            page.goto(f"{annotator['url']}{path}")
            yield page
        finally:
            browser.close()


@contextmanager
def _editor(annotator: dict[str, Any], task: str = "task", shows: str = "analysts say") -> Iterator[Page]:
    """The labeling editor on a task (the emoji document's), logged in as the annotator, once the region ``shows`` is listed."""
    with _logged_in(annotator, f"/projects/{annotator['project']}/data?task={annotator[task]}") as page:
        page.locator(".lsf-outliner-item", has_text=shows).first.wait_for(timeout=60_000)
        yield page


def _select(page: Page, surface: str) -> None:
    _tab(page, "Regions")
    page.locator(".lsf-outliner-item", has_text=surface).first.click()
    page.wait_for_timeout(300)


def _headers(page: Page) -> list[str]:
    """The titles shown in the column beside the text."""
    return page.locator(", ".join(f".chipwar-column h{n}" for n in range(1, 7))).locator("visible=true").all_inner_texts()


def _visible_box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).locator("visible=true").first.bounding_box()
    assert box, f"{selector} is not shown"
    return box


def test_the_selected_regions_attributes_show_beside_the_text_titled_and_defined(annotator) -> None:
    with _editor(annotator) as page:
        _select(page, "Huawei")
        page.screenshot(path=str(annotator["screens"] / "attributes-beside-the-text.png"))
        text, column = _visible_box(page, ".chipwar-text"), _visible_box(page, ".chipwar-column")
        assert column["x"] >= text["x"] + text["width"] and column["y"] < 200  # beside the text, at the top
        headers = _headers(page)
        assert "Entities: attributes" in headers and "Org type" in headers and "Canonical id" in headers
        assert "The canonical entity this mention refers to." in headers  # the field's definition from schema/
        picked = page.locator(".chipwar-column [data-testid=select-display-value]").locator("visible=true")
        assert picked.inner_text().strip() == "Huawei · ORG · huawei"  # the mention's canonical entity, by name
        # Label Studio's own panel lists the region's values as "Choices: company", without the field: it is hidden, the
        # column above shows each value under its field's title.
        assert not page.get_by_text(re.compile(r"^(Choices|Text):")).locator("visible=true").count()
        assert not any(h.startswith(("Claims:", "Bias markers:")) for h in headers)  # only the selected layer's
        _select(page, "Chips are scarce")
        headers = _headers(page)
        assert "Claims: attributes" in headers and "Entities: attributes" not in headers


def test_the_column_stays_in_view_beside_a_long_article(annotator) -> None:
    """A region near the end of an article: the text scrolls to it, its attributes stay beside it, whole."""
    with _editor(annotator, "long_task", "Other stories you might like") as page:
        _select(page, "Other stories you might like")
        page.screenshot(path=str(annotator["screens"] / "long-article.png"))
        column = _visible_box(page, ".chipwar-column")
        assert column["y"] >= 0 and column["y"] + column["height"] <= page.viewport_size["height"], column
        assert "Zones: attributes" in _headers(page)


def test_each_layer_has_its_own_family_of_colours(annotator) -> None:
    with _editor(annotator) as page:
        page.screenshot(path=str(annotator["screens"] / "label-colours.png"))
        colours = {label["text"]: label["colour"] for label in page.evaluate(LABEL_COLOURS)}
    families = {"zones": "headline", "entities": "ORG", "claims": "quote", "bias_markers": "loaded_language",
                "attribution_cues": "cue"}
    hues = {}
    for family, label in families.items():
        r, g, b = (int(c) / 255 for c in re.findall(r"\d+", colours[label])[:3])
        hues[family] = colorsys.rgb_to_hls(r, g, b)[0] * 360
        assert abs((hues[family] - FAMILY_HUES[family] + 180) % 360 - 180) <= 10, (family, colours[label])
    apart = [abs((a - b + 180) % 360 - 180) for i, a in enumerate(hues.values()) for b in list(hues.values())[i + 1:]]
    assert min(apart) >= 40, hues


def test_no_key_changes_a_label(annotator) -> None:
    """Label Studio binds 1-9, 0 and letters to labels and choices by itself; each would relabel the selected region."""
    with _editor(annotator) as page:
        _select(page, "Huawei")
        before = page.evaluate(CHECKED)
        for key in "1234567890qwetasdfgzxcvbyiopjklnm":
            page.keyboard.press(key)
        page.wait_for_timeout(300)
        assert "ORG" in page.locator(".lsf-outliner-item", has_text="Huawei").first.inner_text()
        assert page.evaluate(CHECKED) == before and any(c.startswith("company") for c in before)  # no attribute or document label changed
        assert page.locator(".lsf-label__hotkey, .lsf-hint").locator("visible=true").count() == 0


def test_relation_arrows_show_only_for_the_relation_pointed_at(annotator) -> None:
    with _editor(annotator) as page:
        arrows = page.locator("svg.relations-overlay g[class*=relationItem]")
        arrows.first.wait_for(state="attached")
        assert arrows.count() > 0 and arrows.locator("visible=true").count() == 0  # drawn, but none covers the text
        _tab(page, "Relations")
        page.locator(".lsf-relations__item").first.hover()
        page.wait_for_timeout(300)
        assert arrows.locator("visible=true").count() == 1
        page.screenshot(path=str(annotator["screens"] / "relation-pointed-at.png"))


def test_the_task_list_shows_title_publisher_and_progress_not_internal_fields(annotator) -> None:
    """Push sets up the project's "Documents" tab; an annotator picks a document by its headline and sees how far it is."""
    with _logged_in(annotator, f"/projects/{annotator['project']}/data") as page:
        page.locator(".lsf-table__row-wrapper").nth(2).wait_for(timeout=60_000)
        page.screenshot(path=str(annotator["screens"] / "task-list.png"))
        tabs = page.locator(".lsf-tabs-dm__item-left").all_inner_texts()
        columns = page.evaluate("() => [...document.querySelectorAll('.lsf-th[data-id]')].map(th => th.dataset.id)")
        rows = page.locator(".lsf-table__row-wrapper").all_inner_texts()
    assert [t.strip() for t in tabs] == ["Documents"]
    assert columns == ["tasks:id", "tasks:completed_at", "tasks:total_annotations", "tasks:cancelled_annotations",
                       "tasks:annotators", "tasks:data.title", "tasks:data.publisher"]
    assert any("China cooks covert chips" in r and "The Register" in r for r in rows)
    assert not any("analysts say" in r or "gold" in r for r in rows)  # no text, no set, no digest


def test_cjk_text_and_emoji_are_drawn_with_a_font_not_boxes(annotator) -> None:
    with _editor(annotator) as page:
        page.locator(".lsf-richtext__line", has_text="中国芯片").first.screenshot(path=str(annotator["screens"] / "cjk.png"))
        assert page.evaluate(CJK_DRAWN), "install Debian's fonts-noto-cjk and fonts-noto-color-emoji (scripts/test.sh does)"


def test_accounts_print_a_login_once_and_the_password_file_holds_no_secret_key(labelstudio_server) -> None:
    script, server, _ = labelstudio_server
    data = Path(server.data_dir)
    state, key = data / script.STATE_FILE, data / script.SECRET_KEY_FILE
    assert server.secret_key() not in state.read_text("utf-8") and server.password in state.read_text("utf-8")
    assert key.read_text("utf-8").strip() == server.secret_key()
    assert stat.S_IMODE(key.stat().st_mode) == stat.S_IMODE(state.stat().st_mode) == 0o600
    [(email, password)] = script.create_accounts(data, ["ann.once@example.org"])
    assert script.personal_access_token(server.url, email, password)  # the printed login works
    assert password not in state.read_text("utf-8") + key.read_text("utf-8")  # and is kept nowhere
    with pytest.raises(script.ServerError, match="ann.once@example.org: already has an account"):
        script.create_accounts(data, ["ann.once@example.org"])
    with pytest.raises(script.ServerError, match="twice"):
        script.create_accounts(data, ["ann.twice@example.org", "ann.twice@example.org"])
    assert "ann.twice@example.org" not in script._user_emails(data)  # refused before any account was made
    with pytest.raises(script.ServerError, match="not an email address: bob"):
        script.create_accounts(data, ["bob"])


def test_a_password_file_from_before_gives_up_its_secret_key(tmp_path: Path) -> None:
    """A data folder started before the split: its key moves to its own file, so existing tokens stay valid."""
    from .conftest import _server_module

    script = _server_module()
    (tmp_path / script.STATE_FILE).write_text(json.dumps(
        {"data_dir": str(tmp_path), "username": "admin@chipwar.local", "password": "pw", "secret_key": "k" * 64}), "utf-8")
    server = script.Server.load(tmp_path)
    assert server.secret_key() == "k" * 64 and "k" * 64 not in (tmp_path / script.STATE_FILE).read_text("utf-8")
    assert stat.S_IMODE((tmp_path / script.SECRET_KEY_FILE).stat().st_mode) == 0o600
