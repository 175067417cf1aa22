"""The review site in a real browser: Debian's chromium driven by Playwright, from ``file://``.

Layer and label toggles hide and show underlines, a click shows the right card, a chain's cue
links light up their cue spans, the compare view marks a planted disagreement and links it to
gold's decision, hostile text (markup, event handlers, ``javascript:`` links, bidi controls)
runs nothing and shows as written; on every page, no console error and no request but the
site's own files. Screenshots of a document, the compare view and the index at laptop and
phone widths are kept under pytest's temporary folder (``screens/``) and copied to
``/tmp/h/screens/``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .conftest import REPO
from .test_review import HOSTILE_DOC, HOSTILE_NOTE, HOSTILE_TEXT, HOSTILE_TITLE, add_hostile_document, review

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never `playwright install`
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHARED_SCREENS = Path("/tmp/h/screens")
REAL_DOC = "reg-2023-qiming"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review site of a copy of the repository plus the hostile document, pass-1 and pass-2 compared."""
    root = tmp_path_factory.mktemp("review") / "repo"
    for name in ("corpus", "schema", "annotations"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "VERSION", root / "VERSION")
    add_hostile_document(root)
    out = root.parent / "site"
    review(root, out, "--compare", "pass-1", "pass-2")
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, site: Path) -> Iterator[Page]:
    """A page at laptop width that records every request and console message; after the test, none may be an
    error and every request must be for a file of the site."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    yield page
    context.close()
    assert not errors, errors
    outside = [url for url in requests if not url.startswith(site.as_uri() + "/")]
    assert not outside, outside


def open_page(page: Page, site: Path, rel: str) -> None:
    page.goto(f"{site.as_uri()}/{rel}")
    page.wait_for_load_state("load")


def decoration(page: Page, key: str) -> str:
    return page.evaluate("(k) => getComputedStyle([...document.querySelectorAll('.u')].find(e => e.dataset.k === k))"
                         ".textDecorationLine", key)


def visible_cards(page: Page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.card:not([hidden])')].map(c => c.id)")


def test_toggles_hide_and_show_layers_and_labels(page: Page, site: Path) -> None:
    open_page(page, site, f"doc/{REAL_DOC}.html")
    entity, claim = "e1", "c1"  # 'China' in the headline, and the headline's claim
    assert decoration(page, entity) == "underline" and decoration(page, claim) == "underline"
    page.locator('input[data-layer="entities"]:not([data-label])').uncheck()
    assert decoration(page, entity) == "none" and decoration(page, claim) == "underline"
    assert page.evaluate("() => [...document.querySelectorAll('.u.entities')].every(e => getComputedStyle(e).textDecorationLine === 'none')")
    page.locator('input[data-layer="entities"]:not([data-label])').check()
    assert decoration(page, entity) == "underline"
    page.locator("details.layer.entities > summary").click(position={"x": 5, "y": 5})  # open the labels, not the box
    page.locator('input[data-layer="entities"][data-label="GPE"]').uncheck()
    assert decoration(page, entity) == "none"
    assert page.evaluate("() => [...document.querySelectorAll('.u.entities')].filter(e => e.dataset.lab !== 'GPE')"
                         ".every(e => getComputedStyle(e).textDecorationLine === 'underline')")


def test_a_click_shows_the_right_card(page: Page, site: Path) -> None:
    open_page(page, site, f"doc/{HOSTILE_DOC}.html")
    assert visible_cards(page) == []
    page.locator('.u[data-k="e1"]').click()
    assert visible_cards(page) == ["card-e1"]
    card = page.locator("#card-e1")
    assert "ORG" in card.inner_text() and "company" in card.inner_text() and "decision 1" in card.inner_text()
    page.locator('.u[data-k="c1"]').first.click()
    assert visible_cards(page) == ["card-c1"] and page.url.endswith("#c1")
    open_page(page, site, f"doc/{HOSTILE_DOC}.html#b1")  # a link from elsewhere opens the card too
    assert visible_cards(page) == ["card-b1"]
    open_page(page, site, f"doc/{REAL_DOC}.html")
    page.locator('.s[data-z="z1"]').first.click(position={"x": 3, "y": 5})  # page furniture outside any span: its zone's card
    assert visible_cards(page) == ["card-z1"] and "boilerplate" in page.locator("#card-z1").inner_text()


def test_chain_links_light_up_their_cue_spans(page: Page, site: Path) -> None:
    open_page(page, site, f"doc/{HOSTILE_DOC}.html#c1")
    lit = "() => [...document.querySelectorAll('.s.cue-on')].map(e => e.textContent).join('')"
    assert page.evaluate(lit) == "Huawei said"  # the claim's cues light up with its card
    page.locator('#card-c1 a.cue[data-cue="c1-cue0"]').click()
    # the link's hashchange is handled after the click: wait for it
    page.wait_for_function("() => document.querySelectorAll('.s.flash').length >= 1", timeout=5000)
    assert page.evaluate(lit) == "Huawei said"
    open_page(page, site, f"doc/{REAL_DOC}.html#c2")
    cues = page.evaluate("() => [...document.querySelectorAll('#card-c2 a.cue')].map(a => a.dataset.cue)")
    assert len(cues) == 2
    for cue, words in zip(cues, ("cites anonymous sources", "according to Reuters"), strict=True):
        page.locator(f'#card-c2 a.cue[data-cue="{cue}"]').click()
        flashed = "() => [...document.querySelectorAll('.s.flash')].map(e => e.textContent).join('')"
        page.wait_for_function(f"() => ({flashed})() === {json.dumps(words)}", timeout=5000)  # fails after the timeout with the last value
        assert page.evaluate(flashed) == words


def test_compare_marks_the_planted_disagreement(page: Page, site: Path) -> None:
    open_page(page, site, f"compare/{HOSTILE_DOC}.html")
    marks = page.evaluate("() => [...document.querySelectorAll('.u')].map(e => [e.dataset.k, e.dataset.lab, e.textContent])")
    assert ["ue1", "label", "Huawei"] in marks  # ORG in pass-1, PERSON in pass-2
    assert any(lab == "only" for _, lab, _ in marks)  # the marker pass-1 lacks
    assert page.evaluate("() => getComputedStyle([...document.querySelectorAll('.u')].find(e => e.dataset.lab === 'label'))"
                         ".textDecorationColor") == "rgb(188, 76, 0)"
    page.locator('.u[data-k="ue1"]').click()
    card = page.locator("#card-ue1")
    assert card.is_visible() and "differs: label" in card.inner_text()
    assert "ORG" in card.inner_text() and "PERSON" in card.inner_text()
    card.locator("a.decision").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"doc/{HOSTILE_DOC}.html#decision-1")
    assert "ORG, not PERSON" in page.locator("#decision-1").inner_text()


def test_hostile_text_runs_nothing_and_shows_as_written(page: Page, site: Path) -> None:
    for rel in (f"doc/{HOSTILE_DOC}.html", f"compare/{HOSTILE_DOC}.html", "index.html", "entity/huawei.html"):
        open_page(page, site, rel)
        assert page.evaluate("() => window.__pwned") is None, rel
        assert page.evaluate("() => [...document.links].filter(a => a.protocol === 'javascript:').length") == 0, rel
        assert page.evaluate("() => document.querySelectorAll('main img:not(.figures img), main script').length") == 0, rel
    open_page(page, site, f"doc/{HOSTILE_DOC}.html#b1")
    assert page.locator("#text").text_content() == HOSTILE_TEXT
    assert page.locator("h1").text_content() == HOSTILE_TITLE
    assert HOSTILE_NOTE in page.locator("#card-b1").text_content()
    assert page.evaluate("() => window.__pwned") is None
    open_page(page, site, f"compare/{HOSTILE_DOC}.html")
    assert page.locator("#text").text_content() == HOSTILE_TEXT


def test_screenshots_of_the_three_views(browser: Browser, site: Path, tmp_path: Path) -> None:
    """A document with a claim's card open, the compare view with a disagreement open, and the index, at 1366x768 and 390x844."""
    shots = tmp_path / "screens"
    shots.mkdir()
    for width, height, device in ((1366, 768, "laptop"), (390, 844, "phone")):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        for view, rel in (("document", f"doc/{REAL_DOC}.html#c2"), ("compare", f"compare/{REAL_DOC}.html"), ("index", "index.html")):
            open_page(page, site, rel)
            if view == "compare":
                page.locator('.u:not([data-lab="same"])').first.click()
            page.screenshot(path=shots / f"{view}-{device}.png")
            assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), (view, device)  # no sideways scroll
        context.close()
    SHARED_SCREENS.mkdir(parents=True, exist_ok=True)
    for shot in sorted(shots.iterdir()):
        assert shot.stat().st_size > 10_000, shot
        shutil.copy(shot, SHARED_SCREENS / f"review-{shot.name}")
