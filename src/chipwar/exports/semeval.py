"""SemEval span files: SemEval-2020 Task 11 and SemEval-2023 Task 3 (subtask 3, spans), for their scorers.

Both tasks give one article per file, ``article<ID>.txt``, and tab-separated label lines
``<ID><TAB><technique><TAB><start><TAB><end>`` with character (code point) offsets into that
file, end-exclusive. The numeric ``<ID>`` is derived from the doc id (a hash, so it stays put
as the corpus grows); ``doc-ids.tsv`` maps it back. Splits are named as the tasks name them
(``validation`` -> ``dev``). Layouts::

    semeval2020:  <split>-articles/article<ID>.txt
                  <split>-labels-task-flc-tc/article<ID>.task-flc-tc.labels   (ID, technique, start, end)
                  <split>-labels-task-si/article<ID>.task-si.labels           (ID, start, end)
    semeval2023:  <lang>/<split>-articles-subtask-3/article<ID>.txt
                  <lang>/<split>-labels-subtask-3-spans/article<ID>-labels-subtask-3.txt

Bias markers are mapped to techniques through the schema's ``x-semeval2020`` /
``x-semeval2023`` columns. Keeps: bias markers whose label maps, as technique spans.
Cannot hold: labels the task has no technique for (left out and counted per label, with
the schema's ``x-unmapped-reason``), two markers that map to the same technique on the
same span (written once, counted), marker attributes and targets, and every other layer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..layers import LAYER_LABEL_SET, LAYERS
from .formats import ExportFormat, ExportInput, ExportResult

#: The tasks' split names.
SPLIT_NAMES = {"train": "train", "validation": "dev", "test": "test"}


@dataclass(frozen=True)
class Layout:
    """Where one task puts its files, and the schema column mapping labels to its techniques."""

    column: str
    articles: str   # folder pattern, {split} and {lang}
    labels: str     # folder pattern
    label_file: str  # file name pattern, {id}
    si_labels: str | None = None  # 2020's span-identification folder
    si_file: str | None = None


LAYOUT_2020 = Layout("x-semeval2020", "{split}-articles", "{split}-labels-task-flc-tc", "article{id}.task-flc-tc.labels",
                     "{split}-labels-task-si", "article{id}.task-si.labels")
LAYOUT_2023 = Layout("x-semeval2023", "{lang}/{split}-articles-subtask-3", "{lang}/{split}-labels-subtask-3-spans",
                     "article{id}-labels-subtask-3.txt")


def article_id(doc_id: str) -> str:
    """A 9-digit article id for a doc id, as the tasks number articles (stable: a hash of the doc id)."""
    return str(int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % 900_000_000 + 100_000_000)


def write_layout(layout: Layout, inp: ExportInput, out: Path) -> ExportResult:
    """Article and label files for every document, plus ``doc-ids.tsv``."""
    labels = inp.schemas.label_set(LAYER_LABEL_SET["bias_markers"])
    technique = {label.name: label.extra.get(layout.column) for label in labels}
    task = layout.column.removeprefix("x-")
    result = ExportResult()
    ids: dict[str, str] = {}
    for doc in inp.documents():
        aid = article_id(doc.doc_id)
        if aid in ids:
            raise DataError(f"documents {ids[aid]} and {doc.doc_id} hash to the same {task} article id {aid}",
                            hint="rename one of them (an id collision is one in a hundred million)")
        ids[aid] = doc.doc_id
        where = {"split": SPLIT_NAMES.get(doc.metadata["split"], doc.metadata["split"]), "lang": doc.metadata["language"]}
        rows: set[tuple[int, int, str]] = set()
        for marker in doc.annotations["bias_markers"]:
            name = technique.get(marker["label"])
            if name is None:
                result.drop(f"bias marker {marker['label']} (no {task} technique)")
                continue
            row = (marker["start"], marker["end"], name)
            if row in rows:
                result.drop(f"bias marker mapped to {name} twice on one span (written once)")
            rows.add(row)
        lines = sorted(rows)
        _write(out / layout.articles.format(**where) / f"article{aid}.txt", doc.text)
        _write(out / layout.labels.format(**where) / layout.label_file.format(id=aid),
               "".join(f"{aid}\t{name}\t{s}\t{e}\n" for s, e, name in lines))
        if layout.si_labels and layout.si_file:
            spans = sorted({(s, e) for s, e, _ in lines})
            _write(out / layout.si_labels.format(**where) / layout.si_file.format(id=aid),
                   "".join(f"{aid}\t{s}\t{e}\n" for s, e in spans))
        result.documents += 1
        result.spans += len(lines)
        for layer in LAYERS:
            if layer != "bias_markers" and doc.annotations[layer]:
                result.drop(f"{layer} ({task} holds technique spans only)", len(doc.annotations[layer]))
    _write(out / "doc-ids.tsv", "article_id\tdoc_id\n" + "".join(f"{a}\t{d}\n" for a, d in sorted(ids.items())))
    return result


def _write(path: Path, text: str) -> None:
    """Write UTF-8 exactly (no newline translation: offsets count the text as stored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def _write_2020(inp: ExportInput, out: Path) -> ExportResult:
    return write_layout(LAYOUT_2020, inp, out)


def _write_2023(inp: ExportInput, out: Path) -> ExportResult:
    return write_layout(LAYOUT_2023, inp, out)


_CANNOT = ("bias-marker labels with no technique in the task (counted per label; see x-unmapped-reason in schema/), "
           "marker attributes and targets, and the zones, entities and claims")

FORMAT_2020 = ExportFormat(
    name="semeval2020",
    summary="SemEval-2020 Task 11 articles with technique-classification and span-identification label files",
    keeps="bias markers whose label maps to a Task 11 technique (x-semeval2020), as technique spans",
    cannot_hold=_CANNOT,
    write=_write_2020,
)
FORMAT_2023 = ExportFormat(
    name="semeval2023",
    summary="SemEval-2023 Task 3 subtask-3 articles with span-label files",
    keeps="bias markers whose label maps to a Task 3 technique (x-semeval2023), as technique spans",
    cannot_hold=_CANNOT,
    write=_write_2023,
)
