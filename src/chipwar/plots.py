"""Figures of an annotated corpus as standalone SVG documents, for the review site and the dataset card.

Labels per layer, labels per publisher, bias markers by target and polarity, and (given two
or more sets) agreement per layer and attribute, drawn from the figures ``chipwar agree``
computes. Counts are over the files that pass every check ``chipwar validate`` makes of them
(:mod:`chipwar.validation.sound`), read document by document over workers; a figure's title
says how many files were left out.

Deterministic, so a rebuilt dataset card stays byte-identical: matplotlib's SVG backend with a
fixed hash salt, no date, text laid out with the metrics of the bundled DejaVu Sans and written
as ``<text>`` (drawn by the reader's own fonts, so CJK names show; no font is fetched), no text
from the data parsed as mathtext, and bidi controls in names shown as escapes, not obeyed. Each
SVG carries its title as ``<title>``, which screen readers read and :func:`read_figures` reads back.
"""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence
from xml.sax.saxutils import escape

from .corpus import Corpus
from .engines.local import chunked, ordered_map
from .layers import LAYER_LABEL_SET, LAYERS
from .report import Problem
from .schema import Schemas

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

    from .agreement import Agreement

#: Every figure's name, in the order readers see them.
FIGURE_NAMES = ("labels-per-layer", "labels-per-publisher", "markers-by-target-polarity", "agreement")
CHUNK_DOCS = 250
TOP_PUBLISHERS = 12
TOP_TARGETS = 15
NO_TARGET = "(no target)"
BAR = "#3465a4"
#: Okabe–Ito colours, told apart with any colour vision; unknown polarities get the grey.
POLARITY_COLOURS = {"negative": "#d55e00", "positive": "#0072b2", "neutral": "#999999"}
RC = {"svg.hashsalt": "chipwar", "svg.fonttype": "none", "text.parse_math": False, "font.family": "DejaVu Sans",
      "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


@dataclass(frozen=True)
class Figure:
    """One figure: ``name`` is its file stem, ``title`` a caption for people, ``svg`` a standalone
    SVG document (same input, same bytes; no external reference, no script)."""

    name: str
    title: str
    svg: str


@dataclass
class LabelCounts:
    """What the count figures draw: labels per layer, per publisher, and markers per (target, polarity)."""

    documents: int = 0
    labels: dict[str, Counter] = field(default_factory=lambda: {layer: Counter() for layer in LAYERS})
    publishers: dict[str, dict[str, Counter]] = field(default_factory=lambda: {layer: {} for layer in LAYERS})
    targets: Counter = field(default_factory=Counter)  # (canonical id or NO_TARGET, polarity) -> markers
    names: dict[str, str] = field(default_factory=dict)  # canonical id -> its name, as first met
    skipped: list[Problem] = field(default_factory=list)

    def add(self, meta: dict[str, Any], annotations: dict[str, Any]) -> None:
        """One document's metadata and annotation file (both passing validation)."""
        self.documents += 1
        publisher = meta["publisher"] or "unknown"
        for entity in annotations.get("canonical_entities") or []:
            self.names.setdefault(entity["id"], entity.get("name") or entity["id"])
        for layer in LAYERS:
            labels = Counter(span["label"] for span in annotations[layer])
            self.labels[layer].update(labels)
            self.publishers[layer].setdefault(publisher, Counter()).update(labels)
        for marker in annotations["bias_markers"]:
            for target in marker.get("target_ids") or [None]:
                self.targets[(target or NO_TARGET, marker.get("polarity") or "none")] += 1

    def merge(self, other: LabelCounts) -> None:
        self.documents += other.documents
        for layer in LAYERS:
            self.labels[layer].update(other.labels[layer])
            for publisher, counts in other.publishers[layer].items():
                self.publishers[layer].setdefault(publisher, Counter()).update(counts)
        self.targets.update(other.targets)
        for key, name in other.names.items():
            self.names.setdefault(key, name)
        self.skipped += other.skipped

    def target_name(self, target: str) -> str:
        """A target as readers know it: its name, with its id when another entity has the same name."""
        name = self.names.get(target, target)
        twins = sum(1 for other in self.names.values() if other == name)
        return name if twins < 2 else f"{name} ({target})"


@dataclass(frozen=True)
class _CountJob:
    corpus: Corpus
    schemas: Schemas
    set_name: str


def _count_chunk(job: _CountJob, doc_ids: list[str]) -> LabelCounts:
    from .validation.sound import load_annotations, load_document

    counts = LabelCounts()
    for doc_id in doc_ids:
        doc = load_document(job.corpus, job.schemas, doc_id)
        data, problem = load_annotations(job.corpus, job.schemas, job.corpus.annotation_path(job.set_name, doc_id), doc)
        if problem is not None:
            counts.skipped.append(problem)
        else:
            counts.add(doc.meta, data)
    return counts


def count_labels(corpus: Corpus, schemas: Schemas, set_name: str = "gold") -> LabelCounts:
    """Count one set's labels over the documents it annotates whose files pass validation (the others in ``skipped``)."""
    from .validation.sound import readable_files

    doc_ids, listed = readable_files(corpus, corpus.annotations_dir / set_name, ".json")
    total = LabelCounts(skipped=listed)
    for part in ordered_map(_count_chunk, _CountJob(corpus, schemas, set_name), chunked(doc_ids, CHUNK_DOCS)):
        total.merge(part)
    return total


def corpus_figures(corpus: Corpus, schemas: Schemas, set_name: str = "gold", agreement_sets: Sequence[str] = (),
                   counts: LabelCounts | None = None, agreement: Agreement | None = None) -> list[Figure]:
    """The figures of one set, and of the agreement of ``agreement_sets`` when two or more are named.

    ``counts`` and ``agreement`` save a pass over the sets when the caller has already read every
    file of them (as ``chipwar build`` does, in its one pass); else they are counted here.
    """
    counts = count_labels(corpus, schemas, set_name) if counts is None else counts
    figures = count_figures(counts, schemas, set_name)
    if len(agreement_sets) >= 2:
        from .agreement import agree_sets

        figures.append(agreement_figure(agreement or agree_sets(corpus, list(agreement_sets), schemas)))
    return figures


def count_figures(counts: LabelCounts, schemas: Schemas, set_name: str) -> list[Figure]:
    """Labels per layer, labels per publisher, markers by target and polarity."""
    left_out = f"; {len(counts.skipped)} file(s) left out: they do not pass `chipwar validate`" if counts.skipped else ""
    over = f"`{set_name}`, {counts.documents:,} document(s){left_out}"
    per_layer = f"Labels per layer in {over}. Every label of the schema is listed, zeros included."
    per_publisher = (f"Labels per publisher and layer in {over}. A cell gives the count; its shade is the label's share of the "
                     "publisher's spans in that layer.")
    by_target = f"Bias markers by target and polarity in {over}. A marker with several targets counts once for each."
    with _style():
        return [_labels_per_layer(counts, schemas, per_layer), _labels_per_publisher(counts, schemas, per_publisher),
                _markers_by_target(counts, schemas, by_target)]


def _labels_per_layer(counts: LabelCounts, schemas: Schemas, title: str) -> Figure:
    from matplotlib.figure import Figure as MplFigure

    columns = (("entities", "zones"), ("bias_markers", "claims"))  # the long label sets above the short ones, side by side
    rows = max(sum(len(schemas.label_names(LAYER_LABEL_SET[layer])) for layer in column) for column in columns)
    fig = MplFigure(figsize=(10, 1.4 + 0.2 * rows), layout="constrained")
    for sub, column in zip(fig.subfigures(1, 2), columns, strict=True):
        names = [schemas.label_names(LAYER_LABEL_SET[layer]) for layer in column]
        for ax, layer, labels in zip(sub.subplots(2, 1, height_ratios=[len(n) + 2 for n in names]), column, names, strict=True):
            values = [counts.labels[layer][label] for label in labels]
            _hbars(ax, labels, values)
            ax.set_title(f"{layer} ({sum(counts.labels[layer].values()):,} spans)", loc="left", fontsize=10)
    return _figure("labels-per-layer", title, fig)


def _hbars(ax: Axes, labels: list[str], values: list[int]) -> None:
    """Horizontal bars, first label on top, each with its count written beside it."""
    y = range(len(labels))
    ax.barh(y, values, color=BAR, height=0.7)
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    top = max(values, default=0) or 1
    ax.set_xlim(0, top * 1.18)
    for i, v in enumerate(values):
        ax.text(v + top * 0.01, i, f"{v:,}", va="center", fontsize=7, color="#222222")
    ax.tick_params(axis="y", length=0)


def _top(counter: Counter, n: int) -> list[str]:
    """The ``n`` keys with the highest counts, ties by name: the same order whatever the counter's insertion order."""
    return [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _labels_per_publisher(counts: LabelCounts, schemas: Schemas, title: str) -> Figure:
    from matplotlib.figure import Figure as MplFigure

    spans: Counter = Counter()
    for layer in LAYERS:
        spans.update({p: sum(c.values()) for p, c in counts.publishers[layer].items()})
    shown = _top(spans, TOP_PUBLISHERS)
    rest = sorted(set(spans) - set(shown))
    rows = shown + ([f"{len(rest)} other publisher(s)"] if rest else [])
    heights = [len(rows) + 4 for _ in LAYERS]
    fig = MplFigure(figsize=(10, 0.25 * sum(heights) + 1), layout="constrained")
    for ax, layer in zip(fig.subplots(len(LAYERS), 1, height_ratios=heights), LAYERS, strict=True):
        labels = schemas.label_names(LAYER_LABEL_SET[layer])
        by_publisher = counts.publishers[layer]
        grid = [[by_publisher.get(p, Counter())[label] for label in labels] for p in shown]
        if rest:
            grid.append([sum(by_publisher.get(p, Counter())[label] for p in rest) for label in labels])
        shares = [[v / (sum(row) or 1) for v in row] for row in grid]
        ax.pcolormesh(shares or [[0.0] * len(labels)], cmap="Blues", vmin=0, vmax=1, edgecolors="white", linewidth=0.5)  # vector cells
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if v:
                    ax.text(j + 0.5, i + 0.5, f"{v:,}", ha="center", va="center", fontsize=7, color="white" if shares[i][j] > 0.5 else "#222222")
        ax.set_xticks([j + 0.5 for j in range(len(labels))], labels, rotation=40, ha="right", rotation_mode="anchor", fontsize=8)
        ax.set_yticks([i + 0.5 for i in range(len(rows))], [_shown(r) for r in rows], fontsize=8.5)
        ax.invert_yaxis()
        ax.set_title(layer, loc="left", fontsize=10)
        ax.tick_params(length=0)
        ax.spines[:].set_visible(False)
    return _figure("labels-per-publisher", title, fig)


def _markers_by_target(counts: LabelCounts, schemas: Schemas, title: str) -> Figure:
    from matplotlib.figure import Figure as MplFigure

    polarities = schemas.label_names("Polarity")
    polarities += sorted({p for _, p in counts.targets} - set(polarities))
    totals: Counter = Counter()
    for (target, _), n in counts.targets.items():
        totals[target] += n
    shown = _top(totals, TOP_TARGETS)
    rest = sorted(set(totals) - set(shown))
    rows = [counts.target_name(t) for t in shown] + ([f"{len(rest)} other target(s)"] if rest else [])
    fig = MplFigure(figsize=(10, 1.6 + 0.26 * max(len(rows), 1)), layout="constrained")
    ax = fig.subplots()
    left = [0] * len(rows)
    for polarity in polarities:
        values = [counts.targets[(t, polarity)] for t in shown] + ([sum(counts.targets[(t, polarity)] for t in rest)] if rest else [])
        ax.barh(range(len(rows)), values, left=left, height=0.7, label=polarity, color=POLARITY_COLOURS.get(polarity, "#cccccc"))
        left = [a + b for a, b in zip(left, values, strict=True)]
    top = max(left, default=0) or 1
    for i, v in enumerate(left):
        ax.text(v + top * 0.01, i, f"{v:,}", va="center", fontsize=7, color="#222222")
    ax.set_yticks(range(len(rows)), [_shown(r) for r in rows])
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.set_xlim(0, top * 1.12)
    ax.set_xlabel("bias markers")
    ax.tick_params(axis="y", length=0)
    if rows:
        fig.legend(title="polarity", loc="outside upper center", ncols=len(polarities), frameon=False)
    else:
        ax.text(0.5, 0.5, "no bias markers in this set", transform=ax.transAxes, ha="center", va="center", color="#555555")
    return _figure("markers-by-target-polarity", title, fig)


def agreement_figure(result: Agreement) -> Figure:
    """Krippendorff's alpha per layer and field (u-α for where a layer's spans lie), with the mean raw agreement over pairs."""
    with _style():
        return _agreement(result)


def _agreement(result: Agreement) -> Figure:
    from matplotlib.figure import Figure as MplFigure

    rows: list[tuple[str, float | None, float | None, str]] = []  # label, alpha, mean agreement, n
    for layer, figures in result.layers.items():
        rows.append((f"{layer} · where spans lie (u-α)", figures.u_alpha.value, None, f"{figures.units} units"))
        rows += [(f"{layer} · {name}", f.alpha.value, f.mean_agreement, f"{f.alpha.units} units") for name, f in figures.fields.items()]
    rows += [(f"document · {name}", f.alpha.value, f.mean_agreement, f"{f.alpha.units} docs") for name, f in result.document_labels.items()]
    low = min([0.0, *(v for _, a, m, _ in rows for v in (a, m) if v is not None)])
    fig = MplFigure(figsize=(10, 1.6 + 0.22 * len(rows)), layout="constrained")
    ax = fig.subplots()
    y = range(len(rows))
    alphas = [(i, a) for i, (_, a, _, _) in enumerate(rows) if a is not None]
    agreements = [(i, m) for i, (_, _, m, _) in enumerate(rows) if m is not None]
    ax.hlines([i for i, _ in alphas], low, [a for _, a in alphas], color="#dddddd", linewidth=1)
    ax.plot([a for _, a in alphas], [i for i, _ in alphas], "o", color=BAR, label="α (Krippendorff; u-α for span positions)")
    ax.plot([m for _, m in agreements], [i for i, _ in agreements], "D", mfc="none", color="#d55e00", markersize=5,
            label="raw agreement, mean over pairs of sets")
    for i, (_, a, _, n) in enumerate(rows):
        ax.text(1.03, i, f"{'—' if a is None else f'{a:.2f}'}  ({n})", va="center", fontsize=7, transform=ax.get_yaxis_transform())
    ax.axvline(0, color="#888888", linewidth=0.8)
    ax.set_yticks(y, [label for label, *_ in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(low - 0.02, 1.02)
    ax.set_xlabel("1 = perfect agreement, 0 = chance; — = not defined")
    ax.tick_params(axis="y", length=0)
    fig.legend(loc="outside upper center", ncols=2, frameon=False)
    named = ", ".join(f"`{s}`" for s in result.sets)
    left_out = f"; {len(result.skipped)} left out: a file does not pass `chipwar validate`" if result.skipped else ""
    title = (f"Agreement of {named} per layer and attribute over {len(result.documents)} document(s){left_out}, "
             "as `chipwar agree` computes it.")
    return _figure("agreement", title, fig)


_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _shown(name: str) -> str:
    """A name from the data as a figure label: control and bidi characters as escapes (``\\u202e``), so they
    can neither reorder what is drawn nor make the SVG invalid XML."""
    return _UNSHOWN.sub(lambda m: f"\\u{ord(m[0]):04x}", name)


_DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>\n?")
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


@contextmanager
def _style() -> Iterator[None]:
    """matplotlib's settings while figures are made, not only saved: a text reads them when it is created."""
    import matplotlib

    with matplotlib.rc_context(RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)  # the reader's own fonts draw it
        yield


def _figure(name: str, title: str, fig: MplFigure) -> Figure:
    """The SVG document of a figure: no DOCTYPE (its DTD is an external reference), the title as ``<title>``."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.id": f"chipwar-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = _DOCTYPE.sub("", buf.getvalue())
    opening = _SVG_OPEN.search(svg)
    assert opening is not None, "matplotlib wrote no <svg> element"
    svg = f"{svg[:opening.end()]}\n <title>{escape(title)}</title>{svg[opening.end():]}"
    return Figure(name, title, svg)


def read_figures(folder: Path) -> list[Figure]:
    """The figures written as ``<name>.svg`` into ``folder``, in :data:`FIGURE_NAMES` order (a rebuild from a build carries them)."""
    figures = []
    for name in FIGURE_NAMES:
        path = folder / f"{name}.svg"
        if path.is_file():
            svg = path.read_text("utf-8")
            found = _TITLE.search(svg)
            figures.append(Figure(name, unescape(found[1]) if found else name, svg))
    return figures

