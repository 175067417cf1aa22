"""Correcting a document's text without losing its annotations (``chipwar reanchor``).

Texts are immutable except through here. A correction replaces the text, moves every span of
every annotation set onto the new text, updates the SHA-256s and length, and records the
correction in the metadata (``corrections``). Offsets are code points, spans half-open
``[start, end)``, as everywhere.

How a span is placed, first rule that works:

1. **aligned** — old and new text are aligned with :mod:`difflib` (lines first, then word,
   space and punctuation tokens inside changed lines, so a changed word never leaves stray
   one-letter matches). The span's start maps when its first code point was kept (or the
   text just before it was), its end when its last code point was kept (or the text just
   after it was). Placed when the new text between them equals the span's text.
2. **context** — the span's exact text is searched in the new text and each occurrence is
   scored by how many of the up to 32 code points before and after it equal the old ones,
   as the W3C TextQuoteSelector (exact, prefix, suffix) does. The single best occurrence is
   taken when it matches at least half of the old context and no span of the same layer and
   label already sits there (moved paragraphs land here).
3. **edited** — both ends mapped and the text between them (white space at the edges
   trimmed) still shares at least half its code points with the old span text: the span
   keeps its place and takes the corrected text (a typo fixed inside a name). Reported.

Anything else is **unplaced**, with the reason. Nothing is written while a span is unplaced
unless the caller asks to drop those spans; each dropped span is then named in the file's
``decisions`` and the correction's ``dropped_annotation_ids``. All files are written or none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from os.path import commonprefix
from pathlib import Path
from typing import Any

from .align import Alignment, align
from .corpus import Corpus
from .errors import UsageError
from .files import dumps_json, sha256_text
from .ids import check_doc_id
from .intake import metadata_errors
from .layers import LAYERS
from .report import short
from .schema import load_schemas
from .textform import normalise, read_received
from .writer import write_files

#: Code points of context on each side of a span, as a TextQuoteSelector's prefix and suffix.
CONTEXT = 32


class ReanchorError(UsageError):
    """The correction cannot be planned or written as asked; nothing was written."""


@dataclass(frozen=True)
class Placement:
    """Where one span went: ``how`` is aligned, context, edited or unplaced; for unplaced, ``reason``
    says why, and ``new_*`` show the text now between its ends when that text was replaced."""

    set_name: str
    layer: str
    id: str
    label: str
    old_start: int
    old_end: int
    old_text: str
    how: str
    new_start: int | None = None
    new_end: int | None = None
    new_text: str | None = None
    reason: str | None = None

    @property
    def placed(self) -> bool:
        return self.how != "unplaced"


@dataclass
class ReanchorPlan:
    """A correction worked out in memory: the new text, and where every span goes."""

    doc_id: str
    old_sha256: str
    new_sha256: str
    old_length: int
    new_length: int
    normalised: list[str]
    placements: list[Placement]
    new_text: str = field(repr=False)
    annotation_files: dict[str, dict[str, Any]] = field(repr=False)

    @property
    def unplaced(self) -> list[Placement]:
        return [p for p in self.placements if not p.placed]

    @property
    def edited(self) -> list[Placement]:
        return [p for p in self.placements if p.how == "edited"]

    def counts(self) -> dict[str, int]:
        """Spans per outcome; ``moved`` counts placed spans whose offsets changed."""
        out = {"spans": len(self.placements), "aligned": 0, "context": 0, "edited": 0, "unplaced": 0, "moved": 0}
        for p in self.placements:
            out[p.how] += 1
            out["moved"] += p.placed and p.new_start != p.old_start
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "old_sha256": self.old_sha256, "new_sha256": self.new_sha256,
                "old_length": self.old_length, "new_length": self.new_length, "normalised": self.normalised,
                "counts": self.counts(), "placements": [asdict(p) for p in self.placements]}


def plan_reanchor(corpus: Corpus, doc_id: str, received: Path) -> ReanchorPlan:
    """Work out a correction of ``doc_id`` to the text in the file ``received``; read everything, write nothing.

    The id is checked before anything is read (an id that is a path, ``../corpus/x``, would
    otherwise find a text and no annotations, and leave every set stale). The new text gets
    the text form rules (:mod:`chipwar.textform`: BOM, CRLF, NFC; empty and control
    characters refused), recorded like at intake. Raises :class:`ReanchorError` when the
    document is missing, unchanged, or its annotations are already stale (they must match
    the current text to be moved from it).
    """
    check_doc_id(doc_id)
    text_path, meta_path = corpus.text_path(doc_id), corpus.metadata_path(doc_id)
    if not text_path.is_file() or not meta_path.is_file():
        raise ReanchorError(f"{corpus.rel(text_path)}: no document {doc_id!r}", hint="see `chipwar stats`, or ls corpus/")
    try:
        old = corpus.read_text(doc_id)
        meta = corpus.read_metadata(doc_id)
    except (OSError, ValueError) as exc:
        raise ReanchorError(f"{corpus.rel(text_path)}: the document cannot be read ({short(str(exc), 200)})",
                            hint="`chipwar validate` shows the problem; fix it first") from None
    old_sha = sha256_text(old)
    intake = meta.get("intake") if isinstance(meta, dict) else None
    if not isinstance(intake, dict) or intake.get("text_sha256") != old_sha:
        raise ReanchorError(f"{corpus.rel(text_path)}: the stored text already differs from the SHA-256 in its metadata; "
                            "restore it (git checkout) and give the corrected text as NEW_TEXT_FILE")
    new, steps = normalise(read_received(received, "new text file"), str(received))
    if new == old:
        raise ReanchorError(f"{received}: identical to the stored text of {doc_id!r}; nothing to correct")
    alignment = align(old, new)
    validator = load_schemas(corpus.schema_dir).annotations_validator
    files: dict[str, dict[str, Any]] = {}
    placements: list[Placement] = []
    for set_name in corpus.set_names():
        path = corpus.annotation_path(set_name, doc_id)
        if not path.is_file():
            continue
        try:
            data = corpus.read_annotations(set_name, doc_id)
        except (OSError, ValueError) as exc:
            raise ReanchorError(f"{corpus.rel(path)}: cannot be read ({short(str(exc), 200)}); nothing written",
                                hint="`chipwar validate` shows the problem; fix it first") from None
        if not validator.is_valid(data):
            raise ReanchorError(f"{corpus.rel(path)}: does not follow schema/annotations.schema.json; nothing written",
                                hint="`chipwar validate` shows the problem; fix it first")
        if data.get("text_sha256") != old_sha:
            raise ReanchorError(f"{corpus.rel(path)}: already stale (made against another text than the stored one); "
                                "fix it first — `chipwar validate` shows the problem")
        files[set_name] = data
        for layer in LAYERS:
            placed = [place_span(set_name, layer, span, old, new, alignment) for span in data.get(layer, ())]
            placements.extend(_refuse_duplicates(placed))
    return ReanchorPlan(doc_id, old_sha, sha256_text(new), len(old), len(new), steps, placements, new, files)


def place_span(set_name: str, layer: str, span: dict[str, Any], old: str, new: str, alignment: Alignment) -> Placement:
    """Place one span on the new text by the rules of this module."""
    start, end, text = span["start"], span["end"], span["text"]
    unplaced = Placement(set_name, layer, span["id"], span["label"], start, end, text, "unplaced")

    def at(how: str, s: int, e: int) -> Placement:
        return replace(unplaced, how=how, new_start=s, new_end=e, new_text=new[s:e])

    if old[start:end] != text:
        return replace(unplaced, reason="its text did not match the stored text before the correction (see `chipwar validate`)")
    s, e = alignment.map_start(start), alignment.map_end(end)
    if s is not None and e is not None and new[s:e] == text:
        return at("aligned", s, e)
    found, why = _find_by_context(old, start, end, new)
    if found is not None:
        return at("context", found, found + len(text))
    if s is None or e is None:
        covering = alignment.edit_covering(start, end)
        if covering is None:
            return replace(unplaced, reason=f"an edit crosses its {'start' if s is None else 'end'}; {why}")
        now = new[covering[2]:covering[3]]
        return replace(unplaced, reason=(f"its text was replaced by {short(now)}" if now.strip() else "its text was deleted") + f"; {why}")
    while s < e and new[s].isspace():
        s += 1
    while e > s and new[e - 1].isspace():
        e -= 1
    if s == e:
        return replace(unplaced, reason=f"its text was deleted; {why}")
    if 4 * alignment.shared(old, new, (start, end), (s, e)) < (end - start) + (e - s):
        return replace(at("unplaced", s, e), reason=f"its text was replaced by {short(new[s:e])}; {why}")
    return at("edited", s, e)


def _find_by_context(old: str, start: int, end: int, new: str) -> tuple[int | None, str]:
    """The one occurrence of the span text whose surroundings match the old ones; else why not."""
    text = old[start:end]
    prefix, suffix = old[max(0, start - CONTEXT):start], old[end:end + CONTEXT]
    scored = []
    at = new.find(text)
    while at >= 0:
        before, after = new[max(0, at - CONTEXT):at], new[at + len(text):at + len(text) + CONTEXT]
        scored.append((len(commonprefix([prefix[::-1], before[::-1]])) + len(commonprefix([suffix, after])), at))
        at = new.find(text, at + 1)
    if not scored:
        return None, "its text does not occur in the new text"
    scored.sort(reverse=True)
    best, at = scored[0]
    if 2 * best < len(prefix) + len(suffix):
        return None, f"its text occurs {len(scored)} time(s) in the new text, none with its old surroundings"
    if len(scored) > 1 and scored[1][0] == best:
        return None, f"its text occurs {sum(s == best for s, _ in scored)} times with equally good surroundings (ambiguous)"
    return at, ""


def _refuse_duplicates(placed: list[Placement]) -> list[Placement]:
    """A span found by context where another span of its label already sits was likely deleted: unplace it."""
    taken = {(p.new_start, p.new_end, p.label) for p in placed if p.how in ("aligned", "edited")}
    return [replace(p, how="unplaced", reason="its text was deleted; the only match is a copy already annotated")
            if p.how == "context" and (p.new_start, p.new_end, p.label) in taken else p for p in placed]


def write_reanchor(corpus: Corpus, plan: ReanchorPlan, reason: str, drop_unplaced: bool = False,
                   today: str | None = None) -> list[Path]:
    """Write the corrected text, metadata and every annotation file, all or none; return the paths.

    Refuses (:class:`ReanchorError`) while a span is unplaced, unless ``drop_unplaced``.
    """
    unplaced = plan.unplaced
    if unplaced and not drop_unplaced:
        raise ReanchorError(f"{len(unplaced)} span(s) of {plan.doc_id!r} could not be placed on the new text; nothing written")
    day = today or date.today().isoformat()
    placements = iter(plan.placements)  # in the order plan_reanchor made them: set, layer, span
    files: dict[Path, bytes] = {corpus.text_path(plan.doc_id): plan.new_text.encode("utf-8")}
    for set_name, data in plan.annotation_files.items():
        new_data = {**data, "text_sha256": plan.new_sha256}
        decisions = list(data.get("decisions", ()))
        for layer in LAYERS:
            kept = []
            for span in data.get(layer, ()):
                p = next(placements)
                if p.placed:
                    kept.append({**span, "start": p.new_start, "end": p.new_end, "text": p.new_text})
                else:
                    decisions.append({"annotation_ids": [p.id], "decision": (
                        f"Dropped by `chipwar reanchor` on {day}: {layer} {p.label} {short(p.old_text)} at [{p.old_start}, {p.old_end}) "
                        f"of the text with SHA-256 {plan.old_sha256} could not be placed on the corrected text ({p.reason}). "
                        "The span is in this file's git history.")})
            new_data[layer] = kept
        if decisions:
            new_data["decisions"] = decisions
        files[corpus.annotation_path(set_name, plan.doc_id)] = dumps_json(new_data)
    meta = corpus.read_metadata(plan.doc_id)
    meta["intake"] = {**meta["intake"], "text_sha256": plan.new_sha256, "length_codepoints": plan.new_length}
    meta["corrections"] = [*meta.get("corrections", ()), {
        "date": day, "previous_text_sha256": plan.old_sha256, "text_sha256": plan.new_sha256, "reason": reason,
        "normalised": plan.normalised, "dropped_annotation_ids": [p.id for p in unplaced],
    }]
    errors = metadata_errors(corpus, meta)
    if errors:
        raise ReanchorError(f"{corpus.rel(corpus.metadata_path(plan.doc_id))}: metadata would not validate, nothing written:\n  "
                            + "\n  ".join(errors))
    files[corpus.metadata_path(plan.doc_id)] = dumps_json(meta)
    write_files(corpus.root, files)
    return sorted(files)
