"""Generated blocks inside Markdown files, so label tables and figures have one source.

A block is written between two markers on their own lines::

    <!-- BEGIN GENERATED: labels EntityLabel -->
    ...filled in by `chipwar generate`...
    <!-- END GENERATED -->

The word after ``GENERATED:`` names a renderer and the rest are its arguments:
``labels EntityLabel`` (a label set from ``schema/``), ``agreement SET_A SET_B`` (the
``chipwar agree`` table), ``label-counts SET`` (labels per layer in a set), ``documents`` (one
row per document: source, date, genre, split, length, rights). ``chipwar validate`` reports every block
whose content differs from what its renderer gives now.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from .agree import agree_sets, agreement_table
from .corpus import Corpus
from .layers import LAYER_LABEL_SET
from .report import Problem
from .schema import Schemas
from .stats import corpus_stats
from .writer import write_files

Renderer = Callable[[Corpus, Schemas, list[str]], str]

_BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- END GENERATED -->)", re.S)


def render_labels(corpus: Corpus, schemas: Schemas, args: list[str]) -> str:
    """A Markdown table of one label set: label, definition and any ``x-`` mapping columns."""
    (def_name,) = args
    labels = schemas.label_set(def_name)
    extra_cols = sorted({k for label in labels for k in label.extra if k != "x-extension"})
    header = ["label", "definition", *[c.removeprefix("x-") for c in extra_cols]]
    rows = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    for label in labels:
        name = f"`{label.name}`" + (" (extension)" if label.extra.get("x-extension") else "")
        cells = [name, label.definition.replace("|", "\\|"), *[_cell(label.extra.get(c)) for c in extra_cols]]
        rows.append(f"| {' | '.join(cells)} |")
    return "\n".join(rows) + "\n"


def _cell(value: object) -> str:
    return "—" if value is None else f"`{value}`"


def render_agreement(corpus: Corpus, schemas: Schemas, args: list[str]) -> str:
    """The agreement table between two sets, as ``chipwar agree A B`` computes it."""
    set_a, set_b = args
    return agreement_table(agree_sets(corpus, set_a, set_b))


def render_label_counts(corpus: Corpus, schemas: Schemas, args: list[str]) -> str:
    """Per-label counts of one set, every label of the schema listed (zeros included)."""
    (set_name,) = args
    counts = corpus_stats(corpus).labels.get(set_name, {})
    rows = ["| layer | label | count |", "|---|---|---|"]
    for layer, def_name in LAYER_LABEL_SET.items():
        layer_counts = counts.get(layer, {})
        rows += [f"| {layer} | `{name}` | {layer_counts.get(name, 0)} |" for name in schemas.label_names(def_name)]
        rows.append(f"| {layer} | **total** | {sum(layer_counts.values())} |")
    return "\n".join(rows) + "\n"


def render_documents(corpus: Corpus, schemas: Schemas, args: list[str]) -> str:
    """One row per document, from its metadata; unknown values show as "unknown", never guessed."""
    rows = ["| document | publisher | published | genre (intake) | split | code points | text redistributable |",
            "|---|---|---|---|---|---|---|"]
    for doc_id in corpus.doc_ids():
        meta = corpus.read_metadata(doc_id)
        cells = [f"`{doc_id}`", meta["publisher"], meta["published"], meta["genre"], meta["split"],
                 f"{meta['intake']['length_codepoints']:,}", {True: "yes", False: "no"}.get(meta["rights"]["redistributable"])]
        rows.append("| " + " | ".join("unknown" if c is None else str(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"


RENDERERS: dict[str, Renderer] = {
    "documents": render_documents,
    "labels": render_labels,
    "agreement": render_agreement,
    "label-counts": render_label_counts,
}


def generated_files(corpus: Corpus) -> list[Path]:
    """Markdown files that may hold generated blocks: top level, ``schema/``, ``annotations/``."""
    out: list[Path] = []
    for folder in (corpus.root, corpus.schema_dir, corpus.annotations_dir):
        if folder.is_dir():
            out.extend(p for p in sorted(folder.glob("*.md")) if "<!-- BEGIN GENERATED:" in p.read_text("utf-8"))
    return out


def _render_file(corpus: Corpus, schemas: Schemas, text: str, rel: str) -> tuple[str, list[Problem]]:
    problems: list[Problem] = []

    def fill(m: re.Match[str]) -> str:
        kind, *args = m["spec"].split()
        renderer = RENDERERS.get(kind)
        if renderer is None:
            problems.append(Problem("generated_unknown", f"unknown generated block {kind!r}", rel,
                                    expected=f"one of {', '.join(sorted(RENDERERS))}", found=repr(kind)))
            return m[0]
        try:
            body = renderer(corpus, schemas, args)
        except (KeyError, ValueError) as exc:
            problems.append(Problem("generated_unknown", f"cannot render {m['spec']!r}: {exc}", rel))
            return m[0]
        return m[1] + body + m[4]

    return _BLOCK.sub(fill, text), problems


def check_generated(corpus: Corpus, schemas: Schemas) -> list[Problem]:
    """A problem for each file whose generated blocks are out of date."""
    problems: list[Problem] = []
    for path in generated_files(corpus):
        rel = corpus.rel(path)
        text = path.read_text("utf-8")
        new, errs = _render_file(corpus, schemas, text, rel)
        problems.extend(errs)
        if new != text:
            stale = [m["spec"] for m, n in zip(_BLOCK.finditer(text), _BLOCK.finditer(new), strict=False) if m[0] != n[0]]
            problems.append(Problem("generated_stale", f"generated blocks are out of date: {', '.join(stale)}", rel,
                                    expected="blocks equal to what schema/ and the data give now", found="older content",
                                    hint="run `chipwar generate` and commit the result"))
    return problems


def update_generated(corpus: Corpus, schemas: Schemas) -> tuple[list[Path], list[Problem]]:
    """Rewrite stale generated blocks; return the files changed and any problems."""
    changed: dict[Path, bytes] = {}
    problems: list[Problem] = []
    for path in generated_files(corpus):
        text = path.read_text("utf-8")
        new, errs = _render_file(corpus, schemas, text, corpus.rel(path))
        problems.extend(errs)
        if new != text and not errs:
            changed[path] = new.encode("utf-8")
    return write_files(corpus.root, changed), problems
