"""Generated blocks inside Markdown files, so label tables and figures have one source.

A block is written between two markers on their own lines::

    <!-- BEGIN GENERATED: labels EntityLabel -->
    ...filled in by `chipwar generate`...
    <!-- END GENERATED -->

The word after ``GENERATED:`` names a renderer and the rest are its arguments:
``labels EntityLabel`` (a label set from ``schema/``), ``agreement SET_A SET_B [SET ...]`` (the
``chipwar agree`` tables), ``label-counts SET`` (labels per layer in a set), ``documents`` (one
row per document: source, date, genre, split, length, rights; past 50 documents one row per group). ``chipwar validate`` reports every block
whose content differs from what its renderer gives now.

Figures are computed from the data, counted in the validation pass itself
(:mod:`chipwar.generated_facts`), so ``chipwar generate`` first finishes what an interrupted
write left, then validates, and writes nothing (all files or none) unless the data is sound
and every block renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .agreement import markdown_tables
from .corpus import Corpus, refusal
from .errors import ChipwarError
from .generated_facts import BlockFacts, data_specs
from .ids import check_set_name
from .layers import LAYER_LABEL_SET
from .report import Problem, cut, printable
from .schema import Schemas
from .writer import leftovers, locked, recover, write_files

#: (corpus, schemas, the block's arguments, the facts counted in the validation pass) -> the block's body.
Renderer = Callable[[Corpus, Schemas, list[str], BlockFacts], str]


class _Unrendered(Exception):
    """A block cannot be rendered from the data as it is; ``problems`` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _set_name(corpus: Corpus, name: str) -> str:
    """A set named in a block: well formed and present under annotations/ (else a ``KeyError``)."""
    check_set_name(name)
    if not (corpus.annotations_dir / name).is_dir():
        raise KeyError(f"no annotation set {name!r} under annotations/")
    return name

_BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- END GENERATED -->)", re.S)


def block_specs(text: str) -> list[list[str]]:
    """The spec of every generated block in ``text`` that has one, in order, as words (``["agreement", "pass-1", "pass-2"]``)."""
    return [spec for m in _BLOCK.finditer(text) if (spec := m["spec"].split())]


def render_labels(corpus: Corpus, schemas: Schemas, args: list[str], facts: BlockFacts | None = None) -> str:
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


def render_agreement(corpus: Corpus, schemas: Schemas, args: list[str], facts: BlockFacts) -> str:
    """The agreement tables of two or more sets (per layer, per attribute and reference, document labels), as ``chipwar agree`` computes them."""
    from .agreement.run import check_sets, nothing_compared

    sets = check_sets(corpus, [_set_name(corpus, name) for name in args])
    tally = facts.agreements[tuple(sets)]
    if not tally.compared:
        annotated = {name: set(corpus.annotated_doc_ids(name)) for name in sets}
        raise _Unrendered([nothing_compared(sets, annotated, [])])
    return markdown_tables(tally.result([], []))


def render_label_counts(corpus: Corpus, schemas: Schemas, args: list[str], facts: BlockFacts) -> str:
    """Per-label counts of one set, every label of the schema listed (zeros included)."""
    (set_name,) = args
    counts = facts.labels[_set_name(corpus, set_name)]
    rows = ["| layer | label | count |", "|---|---|---|"]
    for layer, def_name in LAYER_LABEL_SET.items():
        layer_counts = counts.get(layer, {})
        rows += [f"| {layer} | `{name}` | {layer_counts.get(name, 0)} |" for name in schemas.label_names(def_name)]
        rows.append(f"| {layer} | **total** | {sum(layer_counts.values())} |")
    return "\n".join(rows) + "\n"


def render_documents(corpus: Corpus, schemas: Schemas, args: list[str], facts: BlockFacts) -> str:
    """One row per document, from its metadata, or past 50 documents one per group of documents
    (:meth:`chipwar.generated_facts.BlockFacts.document_rows`)."""
    if args:
        raise ValueError("`documents` takes no arguments")
    grouped = facts.documents.many
    head = ("| documents | publisher | published (year) | genre (intake) | split | code points | text redistributable |" if grouped
            else "| document | publisher | published | genre (intake) | split | code points | text redistributable |")
    rows = [head, "|---|---|---|---|---|---|---|", *facts.document_rows()]
    return "\n".join(rows) + "\n"


RENDERERS: dict[str, Renderer] = {
    "documents": render_documents,
    "labels": render_labels,
    "agreement": render_agreement,
    "label-counts": render_label_counts,
}


def generated_files(corpus: Corpus) -> tuple[list[tuple[Path, str]], list[Problem]]:
    """Markdown files holding generated blocks (top level, ``schema/``, ``annotations/``) with
    their text; a warning for each that is not read (not UTF-8, a folder, a symlink out of the
    repository), since blocks it may hold are then neither checked nor rewritten."""
    out: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for folder in (corpus.root, corpus.schema_dir, corpus.annotations_dir):
        if not folder.is_dir() or refusal(corpus.root, folder, folder=True) is not None:
            continue  # validation reports a folder that may not be read
        for path in sorted(folder.glob("*.md")):
            rel = printable(corpus.rel(path))
            why = refusal(corpus.root, path)
            if why is None:
                try:
                    text = path.read_bytes().decode("utf-8")
                except OSError as exc:
                    why = f"cannot be read ({exc.strerror})"
                except UnicodeDecodeError as exc:
                    why = f"not UTF-8 at byte {exc.start}"
            if why is not None:
                problems.append(Problem("generated_unreadable", f"not read, so not checked for generated blocks: {why}", rel,
                                        hint="if it holds generated blocks, make it a UTF-8 file inside the repository",
                                        severity="warning"))
            elif "<!-- BEGIN GENERATED:" in text:
                out.append((path, text))
    return out, problems


def needed_facts(sources: list[tuple[Path, str]]) -> tuple[tuple[str, ...], ...]:
    """The data specs the blocks of ``sources`` need counted (see :mod:`chipwar.generated_facts`)."""
    return data_specs([spec for _, text in sources for spec in block_specs(text)])


def _render_file(corpus: Corpus, schemas: Schemas, text: str, rel: str, facts: BlockFacts) -> tuple[str, list[Problem]]:
    problems: list[Problem] = []

    def fill(m: re.Match[str]) -> str:
        kind, *args = m["spec"].split()
        renderer = RENDERERS.get(kind)
        if renderer is None:
            problems.append(Problem("generated_unknown", f"unknown generated block {kind!r}", rel,
                                    expected=f"one of {', '.join(sorted(RENDERERS))}", found=repr(kind)))
            return m[0]
        try:
            body = renderer(corpus, schemas, args, facts)
        except _Unrendered as exc:
            problems.extend(exc.problems)
            problems.append(Problem("generated_unrendered", f"cannot render {cut(m['spec'], 100)!r}: the data it counts has problems",
                                    rel, hint="run `chipwar validate` and fix what it reports"))
            return m[0]
        except (KeyError, ValueError, ChipwarError) as exc:
            problems.append(Problem("generated_unknown", f"cannot render {cut(m['spec'], 100)!r}: {cut(str(exc), 300)}", rel,
                                    hint="fix the block's marker: see the list of renderers in chipwar.generated"))
            return m[0]
        return m[1] + body + m[4]

    return _BLOCK.sub(fill, text), problems


def check_generated(corpus: Corpus, schemas: Schemas, sources: list[tuple[Path, str]], facts: BlockFacts) -> list[Problem]:
    """A problem for each of ``sources`` (:func:`generated_files`) whose generated blocks are out of
    date, rendered from ``facts`` (counted by a clean validation of the whole corpus)."""
    problems: list[Problem] = []
    for path, text in sources:
        rel = corpus.rel(path)
        new, errs = _render_file(corpus, schemas, text, rel, facts)
        problems.extend(errs)
        if new != text:
            stale = [m["spec"] for m, n in zip(_BLOCK.finditer(text), _BLOCK.finditer(new), strict=False) if m[0] != n[0]]
            problems.append(Problem("generated_stale", cut(f"generated blocks are out of date: {', '.join(stale)}", 300), rel,
                                    expected="blocks equal to what schema/ and the data give now", found="older content",
                                    hint="run `chipwar generate` and commit the result"))
    return problems


@dataclass
class Generated:
    """What ``chipwar generate`` did: files rewritten, interrupted writes finished, and the problems that stopped it."""

    changed: list[Path] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def update_generated(corpus: Corpus, schemas: Schemas) -> Generated:
    """Finish interrupted writes, validate (counting what the blocks need), then rewrite every stale
    generated block, all files or none."""
    from .validation.run import validate_scope
    from .validation.scope import scope_of
    from .validation.sound import readable_sets

    result = Generated(recovered=finish_interrupted(corpus, [corpus.annotations_dir / s for s in readable_sets(corpus)[0]]))
    sources, unreadable = generated_files(corpus)
    validation = validate_scope(corpus, scope_of(corpus, None), facts=needed_facts(sources))
    if not validation.report.ok:
        result.problems = validation.report.errors
        return result
    assert validation.facts is not None
    result.problems = unreadable
    changed: dict[Path, bytes] = {}
    for path, text in sources:
        new, errs = _render_file(corpus, schemas, text, corpus.rel(path), validation.facts)
        result.problems.extend(errs)
        if new != text:
            changed[path] = new.encode("utf-8")
    if not any(p.severity == "error" for p in result.problems):
        result.changed = write_files(corpus.root, changed)
    return result


def finish_interrupted(corpus: Corpus, set_dirs: list[Path]) -> list[str]:
    """Roll forward or remove what an interrupted write left (see :mod:`chipwar.writer`); a line per thing done."""
    folders = [corpus.root, corpus.corpus_dir, corpus.schema_dir, corpus.annotations_dir, *set_dirs]
    if not leftovers(corpus.root, folders):
        return []
    with locked(corpus.root):
        return recover(corpus.root, folders)
