"""The corpus figures: standalone deterministic SVG, the counts of ``chipwar stats``, the figures of ``chipwar agree``, inert hostile names."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chipwar.agreement import agree_sets
from chipwar.corpus import Corpus
from chipwar.layers import LAYERS
from chipwar.plots import FIGURE_NAMES, Figure, LabelCounts, corpus_figures, count_labels, read_figures
from chipwar.schema import load_schemas
from chipwar.stats import corpus_stats

from .conftest import REPO

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
PASSES = ("pass-1", "pass-2", "pass-3")


@pytest.fixture(scope="module")
def repo_figures() -> list[Figure]:
    corpus = Corpus(REPO)
    return corpus_figures(corpus, load_schemas(corpus.schema_dir), "gold", PASSES)


def texts(figure: Figure) -> list[str]:
    """Every ``<text>`` of a figure, as a reader's SVG viewer shows it (entities decoded)."""
    return ["".join(t.itertext()) for t in ET.fromstring(figure.svg.encode()).iter(f"{SVG}text")]


def test_figures_are_standalone_svg(repo_figures: list[Figure]) -> None:
    assert [f.name for f in repo_figures] == list(FIGURE_NAMES)
    for figure in repo_figures:
        root = ET.fromstring(figure.svg.encode())  # well-formed XML, no DOCTYPE to fetch
        assert root.tag == f"{SVG}svg" and "<!DOCTYPE" not in figure.svg
        assert root.find(f"{SVG}title").text == figure.title
        tags = {el.tag.split("}")[-1] for el in root.iter()}
        assert not tags & {"script", "foreignObject", "image", "a", "iframe"}, figure.name
        for el in root.iter():
            assert not any(k.startswith("on") for k in el.attrib), (figure.name, el.attrib)
            for key in ("href", XLINK_HREF):
                assert el.attrib.get(key, "#").startswith("#"), (figure.name, el.attrib)
        assert "@import" not in figure.svg and "@font-face" not in figure.svg
        assert figure.svg.count("url(") == figure.svg.count("url(#"), figure.name


def test_figures_are_deterministic(repo_figures: list[Figure]) -> None:
    corpus = Corpus(REPO)
    assert corpus_figures(corpus, load_schemas(corpus.schema_dir), "gold", PASSES) == repo_figures


def test_counts_are_the_stats_of_the_set() -> None:
    corpus = Corpus(REPO)
    schemas = load_schemas(corpus.schema_dir)
    counts = count_labels(corpus, schemas, "gold")
    stats = corpus_stats(corpus, schemas)
    assert not counts.skipped and counts.documents == stats.files["gold"]
    assert counts.labels == stats.labels["gold"]
    for layer in LAYERS:
        per_publisher = sum((c for c in counts.publishers[layer].values()), start=type(counts.labels[layer])())
        assert per_publisher == counts.labels[layer]
    markers = [m for doc_id in corpus.annotated_doc_ids("gold") for m in corpus.read_annotations("gold", doc_id)["bias_markers"]]
    assert sum(counts.targets.values()) == sum(max(1, len(m["target_ids"] or [])) for m in markers)
    assert {p for _, p in counts.targets} <= set(schemas.label_names("Polarity"))


def test_agreement_figure_draws_what_chipwar_agree_computes(repo_figures: list[Figure]) -> None:
    corpus = Corpus(REPO)
    result = agree_sets(corpus, list(PASSES), load_schemas(corpus.schema_dir))
    figure = repo_figures[-1]
    assert figure.name == "agreement" and f"over {len(result.documents)} document(s)" in figure.title
    shown = texts(figure)
    for layer, figures in result.layers.items():
        for name, field in figures.fields.items():
            value = "—" if field.alpha.value is None else f"{field.alpha.value:.2f}"
            assert f"{layer} · {name}" in shown and f"{value}  ({field.alpha.units} units)" in shown, (layer, name)
        assert f"{figures.u_alpha.value:.2f}  ({figures.units} units)" in shown


def test_agreement_needs_two_sets() -> None:
    corpus = Corpus(REPO)
    figures = corpus_figures(corpus, load_schemas(corpus.schema_dir), "gold", ("pass-1",))
    assert [f.name for f in figures] == list(FIGURE_NAMES[:3])


HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> javascript:alert(3) $x^2$ \u202eevil\u202c'


def test_hostile_names_are_drawn_as_written_and_run_nothing(corpus_copy: Path) -> None:
    """A publisher and a target named with markup, mathtext and a bidi override: shown as text, never obeyed."""
    corpus = Corpus(corpus_copy)
    doc_id = corpus.annotated_doc_ids("gold")[0]
    meta_path, ann_path = corpus.metadata_path(doc_id), corpus.annotation_path("gold", doc_id)
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["publisher"] = HOSTILE
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", "utf-8")
    data = json.loads(ann_path.read_text("utf-8"))
    target = next(t for m in data["bias_markers"] for t in m["target_ids"] or [])
    for entity in data["canonical_entities"]:
        if entity["id"] == target:
            entity["name"] = HOSTILE
    ann_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    schemas = load_schemas(corpus.schema_dir)
    assert not count_labels(corpus, schemas, "gold").skipped
    figures = {f.name: f for f in corpus_figures(corpus, schemas, "gold")}
    written = HOSTILE.replace("\u202e", "\\u202e").replace("\u202c", "\\u202c")
    for name in ("labels-per-publisher", "markers-by-target-polarity"):
        svg = figures[name].svg
        assert written in texts(figures[name]), name
        assert "<script" not in svg and "<img" not in svg and "\u202e" not in svg, name


def test_read_figures_gives_back_what_was_written(repo_figures: list[Figure], tmp_path: Path) -> None:
    for figure in reversed(repo_figures):
        (tmp_path / f"{figure.name}.svg").write_text(figure.svg, "utf-8")
    (tmp_path / "notes.svg").write_text("<svg/>", "utf-8")
    assert read_figures(tmp_path) == repo_figures


def test_targets_are_counted_per_entity_and_shown_by_name() -> None:
    counts = LabelCounts(names={"china": "China", "china-gov": "China", "tsmc": "TSMC"})
    assert counts.target_name("tsmc") == "TSMC" and counts.target_name("unnamed") == "unnamed"
    assert counts.target_name("china-gov") == "China (china-gov)"  # two entities named alike stay apart


def test_an_empty_set_gives_empty_figures_not_an_error(corpus_copy: Path) -> None:
    (corpus_copy / "annotations" / "empty").mkdir()
    corpus = Corpus(corpus_copy)
    figures = corpus_figures(corpus, load_schemas(corpus.schema_dir), "empty")
    assert [f.name for f in figures] == list(FIGURE_NAMES[:3]) and all("0 document(s)" in f.title for f in figures)
    assert "no bias markers in this set" in texts(figures[2])
