"""``chipwar review``: the static site's files, escaping, rights, errors and determinism (no browser here;
tests/test_review_browser.py opens the site in chromium)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chipwar.review.lanes import Mark, assign_lanes, segments

from .conftest import annotation_file, chain_link, entity, files_of, flat, run_chipwar, span_at, tree, write_set

HOSTILE_DOC = "test-hostile"
#: Markup, an event handler, a ``javascript:`` link and bidi controls (RLO, PDF, LRI, PDI) in the article text.
HOSTILE_TEXT = ('Chips <script>window.__pwned = 1</script> and Huawei said output "><img src="http://127.0.0.1:9/x.png" '
                'onerror="window.__pwned = 2"> would double.\n\nSee javascript:window.__pwned=3 or '
                '<a href="javascript:window.__pwned=4">this</a>; \u202eevil\u202c and \u2066isolated\u2069 text.\n')
HOSTILE_TITLE = '<script>window.__pwned = 5</script> "><img src="http://127.0.0.1:9/t.png" onerror="window.__pwned = 6"> \u202etitle'
HOSTILE_NOTE = '<img src="http://127.0.0.1:9/n.png" onerror="window.__pwned = 7"> <a href="javascript:window.__pwned = 8">x</a> \u202enote'
HOSTILE_URL = "javascript:window.__pwned=9"


def add_hostile_document(root: Path) -> dict[str, Any]:
    """Intake HOSTILE_DOC (hostile text, title and url) with a gold file whose claim has a chain and whose marker has a hostile note;
    pass-1 and pass-2 files too, pass-2 with a planted disagreement: ``Huawei`` labelled PERSON, and a marker pass-1 lacks."""
    from chipwar.corpus import Corpus
    from chipwar.intake import IntakeRequest, intake_document

    received = root / "received-hostile.txt"
    received.write_text(HOSTILE_TEXT, "utf-8")
    intake_document(Corpus(root), IntakeRequest(
        received=received, doc_id=HOSTILE_DOC, url=HOSTILE_URL, publisher="<b>Hostile Daily</b>", published="2024-01-02",
        title=HOSTILE_TITLE, title_source="text", language="en", genre=None, rights_statement="Test text <i>rights</i>.",
        notes={"title": HOSTILE_NOTE}))
    received.unlink()
    t = HOSTILE_TEXT
    huawei = entity(t, HOSTILE_DOC, "e1", "Huawei", "ORG", "huawei")
    claim = span_at(t, HOSTILE_DOC, "c1", 'output "><img', "prediction", check_worthiness="non_factual", claimant_type="entity",
                    claimant_id="huawei", attribution_form="reported",
                    attribution_chain=[chain_link(t, "named_organization", "huawei", "Huawei said")], restates=[], certainty="probable")
    marker = span_at(t, HOSTILE_DOC, "b1", "<script>", "loaded_language", target_ids=["huawei"], polarity="negative",
                     intensity="medium", in_quote=False, quote_speaker_id=None)
    marker["note"] = HOSTILE_NOTE
    gold = annotation_file(HOSTILE_DOC, t, annotator="gold", entities=[huawei], claims=[claim], bias_markers=[marker])
    gold["decisions"] = [{"annotation_ids": [f"{HOSTILE_DOC}:e1"], "decision": f"ORG, not PERSON {HOSTILE_NOTE}"}]
    write_set(root, "gold", gold)
    write_set(root, "pass-1", annotation_file(HOSTILE_DOC, t, annotator="pass-1", entities=[huawei], claims=[claim]))
    person = {**huawei, "label": "PERSON", "org_type": None}
    write_set(root, "pass-2", annotation_file(HOSTILE_DOC, t, annotator="pass-2", entities=[person], claims=[claim], bias_markers=[marker]))
    return gold


def review(root: Path, out: Path, *args: str) -> dict[str, Any]:
    ran = run_chipwar("review", "--corpus", str(root), "--out", str(out), "--format", "json", *args)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return flat(ran.stdout)


def pages(site: Path) -> dict[str, str]:
    return {name: data.decode("utf-8") for name, data in files_of(site).items() if name.endswith(".html")}


@pytest.fixture
def hostile(corpus_copy: Path) -> Path:
    add_hostile_document(corpus_copy)
    return corpus_copy


def test_site_of_the_repository(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = review(repo, out, "--compare", "pass-1", "pass-2")
    doc_ids = sorted(p.stem for p in (repo / "corpus").glob("*.txt"))
    assert result["documents"] == len(doc_ids) and result["compare"] == ["pass-1", "pass-2"] and result["disagreements"] > 0
    site = pages(out)
    for doc_id in doc_ids:
        assert f"doc/{doc_id}.html" in site and f"compare/{doc_id}.html" in site
    assert {"index.html", "entities.html", "entity/huawei.html"} <= set(site)
    assert (out / "static" / "review.css").is_file() and (out / "static" / "review.js").is_file()
    assert result["figures"] and all((out / src).is_file() and (out / src).read_text("utf-8").lstrip().startswith(("<?xml", "<svg"))
                                     for src in result["figures"])
    for name, html in site.items():
        assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in html, name
        # nothing loaded from outside the site: every src and stylesheet is relative
        assert not re.search(r'(?:src|href)="(?:https?:)?//[^"]*"(?![^<]*</a>)', html.replace('rel="noreferrer noopener"', "")), name
        assert "<script>" not in html and "<style" not in html and " style=" not in html, name
    gold = json.loads((repo / "annotations" / "gold" / "reg-2023-qiming.json").read_text("utf-8"))
    page = site["doc/reg-2023-qiming.html"]
    assert 'id="rights"' in page and "must not be redistributed" in page
    for layer in ("zones", "entities", "claims", "bias_markers"):
        for span in gold[layer]:
            assert f'id="card-{span["id"].partition(":")[2]}"' in page
    assert page.count('id="decision-') == len(gold["decisions"])
    compared = site["compare/reg-2023-qiming.html"]
    assert 'id="summary"' in compared and 'href="../doc/reg-2023-qiming.html#decision-' in compared


def test_every_attribute_on_the_card(hostile: Path, tmp_path: Path) -> None:
    review(hostile, tmp_path / "site")
    page = (tmp_path / "site" / "doc" / f"{HOSTILE_DOC}.html").read_text("utf-8")
    card = page[page.index('id="card-c1"'):page.index("</article>", page.index('id="card-c1"'))]
    for expected in ("prediction", "non_factual", "claimant_id (claimant)", 'href="../entity/huawei.html"', "reported", "probable",
                     "Huawei said", 'data-cue="c1-cue0"', "this outlet", "agent test"):
        assert expected in card, expected
    marker = page[page.index('id="card-b1"'):page.index("</article>", page.index('id="card-b1"'))]
    assert "Loaded_Language" in marker and "SemEval-2020 Task 11 (PTC)" in marker and "negative" in marker
    entity_card = page[page.index('id="card-e1"'):page.index("</article>", page.index('id="card-e1"'))]
    assert 'href="#decision-1"' in entity_card and "company" in entity_card


def test_hostile_text_is_escaped(hostile: Path, tmp_path: Path) -> None:
    review(hostile, tmp_path / "site", "--compare", "pass-1", "pass-2")
    for name, html in pages(tmp_path / "site").items():
        assert "<script>window" not in html and "<img src=\"http://127.0.0.1" not in html, name
        assert 'href="javascript:' not in html.lower() and "<b>Hostile" not in html and "<i>rights" not in html, name
    page = (tmp_path / "site" / "doc" / f"{HOSTILE_DOC}.html").read_text("utf-8")
    assert "&lt;script&gt;window.__pwned = 5&lt;/script&gt;" in page and "&lt;script&gt;" in page and "\u202eevil\u202c" in page
    assert HOSTILE_URL in page  # the url is shown as text, never as a link


def test_no_text_holds_no_article_text(hostile: Path, repo: Path, tmp_path: Path) -> None:
    result = review(hostile, tmp_path / "site", "--no-text", "--compare", "pass-1", "pass-2")
    assert result["with_text"] is False
    site = "\n".join(pages(tmp_path / "site").values())
    assert "no article text" in site
    ours = "\n".join(_annotators_words(json.loads(p.read_text("utf-8"))) for p in (hostile / "annotations").glob("*/*.json"))
    for text_file in (hostile / "corpus").glob("*.txt"):
        meta = json.loads(text_file.with_suffix(".json").read_text("utf-8"))
        text = text_file.read_text("utf-8")
        title = meta["title"]["text"] or ""
        body = text.replace(title, "")  # the title is metadata, kept as `chipwar build --no-text` keeps it
        windows = {body[i:i + 40] for i in range(0, max(len(body) - 40, 1), 7)}
        leaked = [w for w in windows if len(w.strip()) > 30 and "\n" not in w and w in site and w not in ours]
        assert not leaked, leaked[:3]
    gold = json.loads((repo / "annotations" / "gold" / "reg-2023-qiming.json").read_text("utf-8"))
    claim = next(c for c in gold["claims"] if len(c["text"]) > 60 and c["text"] not in gold["zones"][1]["text"])
    assert claim["text"] not in site and f'{claim["start"]}–{claim["end"]}' in site


def _annotators_words(data: dict[str, Any]) -> str:
    """What annotators wrote themselves (entity names, notes, decisions), which a --no-text review keeps as `chipwar build` does."""
    words = [e["name"] for e in data["canonical_entities"]] + [d["decision"] for d in data["decisions"]]
    words += [(data.get("document_labels") or {}).get("note") or ""]
    words += [span["note"] or "" for layer in ("zones", "entities", "claims", "bias_markers") for span in data[layer]]
    return "\n".join(words)


def test_same_sources_same_site(hostile: Path, tmp_path: Path) -> None:
    review(hostile, tmp_path / "one", "--compare", "pass-1", "pass-2")
    review(hostile, tmp_path / "two", "--compare", "pass-1", "pass-2")
    assert files_of(tmp_path / "one") == files_of(tmp_path / "two")
    again = review(hostile, tmp_path / "one")  # an earlier review is replaced whole
    assert again["files"] == len(files_of(tmp_path / "one")) - 1 and not (tmp_path / "one" / "compare").exists()


def test_a_file_that_does_not_pass_gets_a_page_saying_why(hostile: Path, tmp_path: Path) -> None:
    path = hostile / "annotations" / "gold" / f"{HOSTILE_DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    data["entities"][0]["end"] += 1
    path.write_text(json.dumps(data), "utf-8")
    ran = run_chipwar("review", "--corpus", str(hostile), "--out", str(tmp_path / "site"), "--format", "json")
    assert ran.returncode == 0, ran.stdout
    envelope = flat(ran.stdout)
    assert [p["doc_id"] for p in envelope["problems"]] == [HOSTILE_DOC] and envelope["problems"][0]["severity"] == "warning"
    page = (tmp_path / "site" / "doc" / f"{HOSTILE_DOC}.html").read_text("utf-8")
    assert 'class="status bad"' in page and "chipwar validate" in page


@pytest.mark.parametrize(("args", "message"), [
    (("--set", "nobody"), "no such annotation set"),
    (("--set", "../gold"), "annotation set name"),
    (("--compare", "pass-1"), "two or more"),
    (("pass-1", "pass-2"), "without --compare"),
    (("--compare", "pass-1", "nobody"), "no annotation set 'nobody'"),
    (("--compare", "pass-1", "pass-1"), "more than once"),
])
def test_bad_arguments(repo: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    ran = run_chipwar("review", "--corpus", str(repo), "--out", str(tmp_path / "site"), "--format", "json", *args)
    assert ran.returncode == 2, ran.stdout
    assert message in flat(ran.stdout)["error"]["message"]
    assert not (tmp_path / "site").exists()


def test_output_folder_refused(corpus_copy: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes", "utf-8")
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / ".chipwar-build.json").write_text(json.dumps({"made_by": "chipwar build", "files": []}), "utf-8")
    before = tree(mine, dataset, corpus_copy)
    for out, message in ((mine, "did not build"), (dataset, "output of chipwar build, not of chipwar review"),
                         (corpus_copy / "annotations" / "site", "would overwrite"), (corpus_copy, "would overwrite")):
        ran = run_chipwar("review", "--corpus", str(corpus_copy), "--out", str(out), "--format", "json")
        assert ran.returncode == 2 and message in flat(ran.stdout)["error"]["message"], ran.stdout
    assert tree(mine, dataset, corpus_copy) == before


def test_without_the_extra_says_what_to_install(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chipwar.review.site.EXTRA", ("jinja2", "chipwar_no_such_module"))
    ran = run_chipwar("review", "--corpus", str(repo), "--out", str(tmp_path / "site"), "--format", "json")
    assert ran.returncode == 2 and "chipwar[review]" in flat(ran.stdout)["error"]["hint"]


def test_text_output_says_what_and_next(repo: Path, tmp_path: Path) -> None:
    ran = run_chipwar("review", "--corpus", str(repo), "--out", str(tmp_path / "site"))
    assert ran.returncode == 0 and "document page(s)" in ran.stdout and "Next: open" in ran.stdout
    assert "chipwar review --compare pass-1 pass-2" in run_chipwar("review", "--help").stdout


def test_lanes_never_share_an_underline() -> None:
    spans = [("a", 0, 10), ("b", 2, 5), ("c", 5, 8), ("d", 6, 12), ("e", 10, 11), ("f", 0, 10)]
    lanes = assign_lanes(spans)
    for x in spans:
        for y in spans:
            if x != y and x[1] < y[2] and y[1] < x[2]:
                assert lanes[x[0]] != lanes[y[0]], (x, y)
    depth = max(sum(start <= x < end for _, start, end in spans) for x in range(12))
    assert max(lanes.values()) + 1 == depth == 4  # as many lanes as spans overlap at one point: no more


def test_segments_cover_the_text_once() -> None:
    text = "ab\u202ecd<e>f"
    marks = [Mark("x", "entities", "ORG", 1, 5, 0), Mark("z", "zones", "body", 0, 8), Mark("c", "cue", "", 4, 7),
             Mark("y", "claims", "quote", 3, 4, 1)]
    cut = segments(text, marks)
    assert "".join(s.text for s in cut) == text
    assert [(s.start, s.end) for s in cut] == [(0, 1), (1, 3), (3, 4), (4, 5), (5, 7), (7, 8), (8, 9)]
    assert [m.key for m in cut[2].underlines] == ["x", "y"] and cut[3].cues == ("c",) and cut[-2].zone is not None and cut[-1].zone is None


def _card(page: str, key: str) -> str:
    """The card of ``key`` on a page (each card is a hidden article ``card-KEY``)."""
    start = page.index(f'id="card-{key}" hidden>')
    return page[start:page.find("</article>", start)]


def test_a_decision_on_a_dropped_pass_span_never_points_at_the_gold_span_that_shares_its_id(repo: Path, tmp_path: Path) -> None:
    """tfi decision 14 drops pass-1's b6 ('flooding'); gold's b6 is another span ('pioneering'): the decision shows
    'pass-1 b6' without a link, gold b6's card does not cite it, and the compare unit of 'flooding' cites it."""
    out = tmp_path / "site"
    assert review(repo, out, "--compare", "pass-1", "pass-2", "pass-3")["exit_code"] == 0
    page = (out / "doc" / "tfi-2021-chip-crisis.html").read_text("utf-8")
    item = re.search(r'<li id="decision-14">(.*?)</li>', page, re.S)[1]
    assert '<span class="elsewhere">pass-1 b6</span>' in item and 'href="#b6"' not in item
    assert "pioneering" in _card(page, "b6") and "decision-14" not in _card(page, "b6")
    compare = (out / "compare" / "tfi-2021-chip-crisis.html").read_text("utf-8")
    [flooding] = [key for key in re.findall(r'id="card-(u[a-z]\d+)" hidden>', compare) if ">flooding</td>" in _card(compare, key)]
    assert re.findall(r"decision-(\d+)", _card(compare, flooding)) == ["14"]
    assert not re.findall(r'html#(b\d+)"', _card(compare, flooding))  # no gold span: the marker was dropped


def test_every_attribute_value_on_a_card_links_to_its_definition(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    review(repo, out)
    labels = (out / "labels.html").read_text("utf-8")
    page = (out / "doc" / "reg-2023-qiming.html").read_text("utf-8")
    anchors = set(re.findall(r'href="\.\./labels\.html#([A-Za-z]+-[a-z_]+)"', page))
    assert "ClaimantType-unidentified" in anchors and "AttributionForm-reported" in anchors
    assert all(f'id="{anchor}"' in labels for anchor in anchors)  # each lands on the value's definition
    assert "The values of claims.claimant_type." in labels
