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

The attribution cues of claims (``attribution_chain[j].cue``, spans of the text like any
other) are placed by the same rules, each on its own: a cue may sit far from its claim.

Anything else is **unplaced**, with the reason. Nothing is written while a span or cue is
unplaced unless the caller asks to drop them; each dropped span is then named in the file's
``decisions`` and the correction's ``dropped_annotation_ids`` (and removed from the
``restates`` of the claims that listed it), and a dropped cue becomes null — the link keeps
its source — with a decision saying so. All files are written or none,
and only onto the files the plan was read from: a file changed meanwhile (a second
``chipwar reanchor`` of the document at once) stops the write (:meth:`chipwar.writer.Transaction.expect`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from os.path import commonprefix
from pathlib import Path
from typing import Any, Callable

from .align import Alignment, align
from .corpus import Corpus
from .errors import UsageError
from .files import dumps_json, loads_json, sha256_text
from .ids import check_doc_id
from .intake import metadata_errors
from .layers import CHAIN_FIELD, LAYERS, RESTATES_FIELD
from .report import Problem, Report, pointer, short
from .schema import load_schemas
from .textform import normalise, read_received
from .validation.annotations import check_annotation_data
from .validation.schema_problems import schema_problems, whole_float_problems
from .writer import NOT_A_FILE, Content, Transaction, current, reading

#: Code points of context on each side of a span, as a TextQuoteSelector's prefix and suffix.
CONTEXT = 32


class ReanchorError(UsageError):
    """The correction cannot be planned or written as asked; nothing was written."""


def check_reason(reason: str) -> str:
    """The reason recorded with a correction: it must say something (checked before anything is read)."""
    if not reason.strip():
        raise UsageError(f"--reason {reason!r}: empty; say what was corrected and why (it is recorded in the metadata)",
                         hint='e.g. --reason "Huawai -> Huawei (typo in the received copy)"')
    return reason


@dataclass(frozen=True)
class Placement:
    """Where one span went: ``how`` is aligned, context, edited or unplaced; for unplaced, ``reason``
    says why, and ``new_*`` show the text now between its ends when that text was replaced.
    ``cue`` is None for the span itself, or ``j`` for the cue of the span's ``j``-th attribution link."""

    set_name: str
    layer: str
    index: int
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
    cue: int | None = None

    @property
    def placed(self) -> bool:
        return self.how != "unplaced"

    @property
    def key(self) -> tuple[str, str, int, int | None]:
        """Which span or cue this is: set, layer, index in the layer, attribution link (or None)."""
        return self.set_name, self.layer, self.index, self.cue

    @property
    def path(self) -> tuple[str | int, ...]:
        """Where the span or cue sits in its annotation file, as JSON pointer parts."""
        return (self.layer, self.index) if self.cue is None else (self.layer, self.index, CHAIN_FIELD, self.cue, "cue")

    @property
    def what(self) -> str:
        """The span or cue in words, for messages and decisions."""
        span = f"{self.layer} {self.label} span"
        return span if self.cue is None else f"attribution cue of link {self.cue} of the {span} {self.id}"


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
    metadata: dict[str, Any] = field(repr=False)
    #: Every file the plan was made from, as read (``None``: absent); the write goes ahead only onto these.
    read: dict[Path, Content] = field(repr=False)

    @property
    def unplaced(self) -> list[Placement]:
        return [p for p in self.placements if not p.placed]

    @property
    def edited(self) -> list[Placement]:
        return [p for p in self.placements if p.how == "edited"]

    def counts(self) -> dict[str, int]:
        """Spans (attribution cues included) per outcome; ``moved`` counts placed spans whose offsets changed."""
        out = {"spans": len(self.placements), "aligned": 0, "context": 0, "edited": 0, "unplaced": 0, "moved": 0}
        for p in self.placements:
            out[p.how] += 1
            out["moved"] += p.placed and p.new_start != p.old_start
        return out

    def report(self, *, dropping: bool = False) -> Report:
        """A problem per unplaced span, where it is in its annotation file; warnings when ``dropping`` (written without them)."""
        report = Report()
        for p in self.unplaced:
            dropped = "set to null" if p.cue is not None else "dropped"
            report.add(Problem(
                "span_unplaced", f"{p.what} {short(p.old_text, 60)} at [{p.old_start}, {p.old_end}) could not be "
                "placed on the new text" + (f"; {dropped}" if dropping else ""),
                f"annotations/{p.set_name}/{self.doc_id}.json", self.doc_id, p.id, pointer(*p.path),
                expected="its text kept by the correction, or found once in the new text with its surroundings", found=p.reason,
                hint="recorded in the file's decisions; it stays in the file's git history" if dropping else
                f"fix NEW_TEXT_FILE so its text is there, or run again with --drop-unplaced: it is then {dropped} "
                "(recorded in the file's decisions)",
                severity="warning" if dropping else "error"))
        return report

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
    document is missing or unchanged, when its metadata or an annotation file fails a check of
    ``chipwar validate``, or when its annotations are already stale (they must match the
    current text to be moved from it).
    """
    check_doc_id(doc_id)
    text_path, meta_path = corpus.text_path(doc_id), corpus.metadata_path(doc_id)
    with reading(corpus.root):  # a correction being written is waited for: never half of it read
        sets = corpus.set_names()
        # every set's file, also those that are absent: a set without the document must still be without it when writing
        read = {path: current(path) for path in (text_path, meta_path, *(corpus.annotation_path(s, doc_id) for s in sets))}
    if read[text_path] is None or read[meta_path] is None:
        raise ReanchorError(f"{corpus.rel(text_path)}: no document {doc_id!r}", hint="see `chipwar stats`, or ls corpus/")
    odd = next((path for path, raw in read.items() if raw == NOT_A_FILE), None)
    if odd is not None:
        raise ReanchorError(f"{corpus.rel(odd)}: not a regular file (a link or a folder); nothing written",
                            hint="`chipwar validate` shows the problem; fix it first")
    try:
        path = text_path
        old = read[text_path].decode("utf-8")
        path = meta_path
        meta = loads_json(read[meta_path])
    except ValueError as exc:
        raise ReanchorError(f"{corpus.rel(path)}: the document cannot be read ({short(str(exc), 200)})",
                            hint="`chipwar validate` shows the problem; fix it first") from None
    schemas = load_schemas(corpus.schema_dir)
    rel = corpus.rel(meta_path)
    problems = [*schema_problems(schemas, schemas.document_validator, meta, rel, doc_id), *whole_float_problems("document", meta, rel, doc_id)]
    if problems:  # validate's own checks: a value nested past reason is a problem, not a crash
        raise ReanchorError(f"{problems[0].location()}: does not follow schema/document.schema.json ({problems[0].message}); "
                            "nothing written", hint="`chipwar validate` shows the problem; fix it first")
    old_sha = sha256_text(old)
    intake = meta.get("intake") if isinstance(meta, dict) else None
    if not isinstance(intake, dict) or intake.get("text_sha256") != old_sha:
        raise ReanchorError(f"{corpus.rel(text_path)}: the stored text already differs from the SHA-256 in its metadata; "
                            "restore it (git checkout) and give the corrected text as NEW_TEXT_FILE")
    new, steps = normalise(read_received(received, "new text file"), str(received))
    if new == old:
        raise ReanchorError(f"{received}: identical to the stored text of {doc_id!r}; nothing to correct")
    alignment = align(old, new)
    files: dict[str, dict[str, Any]] = {}
    placements: list[Placement] = []
    for set_name in sets:
        path = corpus.annotation_path(set_name, doc_id)
        raw = read[path]
        if raw is None:
            continue
        try:
            data = loads_json(raw)
        except ValueError as exc:
            raise ReanchorError(f"{corpus.rel(path)}: cannot be read ({short(str(exc), 200)}); nothing written",
                                hint="`chipwar validate` shows the problem; fix it first") from None
        if isinstance(data, dict) and data.get("text_sha256") != old_sha:
            raise ReanchorError(f"{corpus.rel(path)}: already stale (made against another text than the stored one); "
                                "fix it first — `chipwar validate` shows the problem")
        checked = Report()  # every check of `chipwar validate`: spans are moved only from a sound file
        check_annotation_data(schemas, data, corpus.rel(path), doc_id, old, old_sha, checked)
        if checked.errors:
            first = checked.errors[0]
            raise ReanchorError(f"{first.location()}: {first.message}"
                                + (f" (and {len(checked.errors) - 1} more problem(s))" if len(checked.errors) > 1 else "")
                                + "; nothing written", hint="`chipwar validate` shows every problem; fix them first")
        files[set_name] = data
        for layer in LAYERS:
            spans = data.get(layer, ())
            placements.extend(_refuse_duplicates([place_span(set_name, layer, i, span, old, new, alignment) for i, span in enumerate(spans)]))
            # cues on their own: several claims may share one cue, so a cue on another's place is no sign of a deletion
            placements.extend(place_span(set_name, layer, i, span, old, new, alignment, cue=j) for i, span in enumerate(spans)
                              for j, link in enumerate(span.get(CHAIN_FIELD, ())) if link["cue"] is not None)
    return ReanchorPlan(doc_id, old_sha, sha256_text(new), len(old), len(new), steps, placements, new, files, meta, read)


def place_span(set_name: str, layer: str, index: int, span: dict[str, Any], old: str, new: str, alignment: Alignment,
               cue: int | None = None) -> Placement:
    """Place one span (the ``index``-th of its layer) on the new text by the rules of this module; with
    ``cue``, the cue of its ``cue``-th attribution link instead."""
    placed = span if cue is None else span[CHAIN_FIELD][cue]["cue"]
    start, end, text = placed["start"], placed["end"], placed["text"]
    unplaced = Placement(set_name, layer, index, span["id"], span["label"], start, end, text, "unplaced", cue=cue)

    def at(how: str, s: int, e: int) -> Placement:
        return replace(unplaced, how=how, new_start=s, new_end=e, new_text=new[s:e])

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

    Refuses (:class:`ReanchorError`) while a span is unplaced, unless ``drop_unplaced``; and
    (:class:`chipwar.writer.ChangedMeanwhile`) when a file the plan was read from changed since.
    """
    check_reason(reason)
    unplaced = plan.unplaced
    if unplaced and not drop_unplaced:
        raise ReanchorError(f"{len(unplaced)} span(s) of {plan.doc_id!r} could not be placed on the new text; nothing written")
    day = today or date.today().isoformat()
    placements = {p.key: p for p in plan.placements}
    files: dict[Path, bytes] = {corpus.text_path(plan.doc_id): plan.new_text.encode("utf-8")}
    for set_name, data in plan.annotation_files.items():
        files[corpus.annotation_path(set_name, plan.doc_id)] = dumps_json(_moved_file(plan, set_name, data, placements, day))
    meta = dict(plan.metadata)
    meta["intake"] = {**meta["intake"], "text_sha256": plan.new_sha256, "length_codepoints": plan.new_length}
    meta["corrections"] = [*meta.get("corrections", ()), {
        "date": day, "previous_text_sha256": plan.old_sha256, "text_sha256": plan.new_sha256, "reason": reason,
        "normalised": plan.normalised, "dropped_annotation_ids": [p.id for p in unplaced if p.cue is None],
    }]
    errors = metadata_errors(corpus, meta)
    if errors:
        raise ReanchorError(f"{corpus.rel(corpus.metadata_path(plan.doc_id))}: metadata would not validate, nothing written:\n  "
                            + "\n  ".join(errors))
    files[corpus.metadata_path(plan.doc_id)] = dumps_json(meta)
    tx = Transaction(corpus.root)
    for path, raw in plan.read.items():
        tx.expect(path, raw)
    for path, data in files.items():
        tx.write(path, data)
    tx.commit()
    return sorted(files)


def _moved_file(plan: ReanchorPlan, set_name: str, data: dict[str, Any], placements: dict[tuple, Placement], day: str) -> dict[str, Any]:
    """One annotation file on the new text: spans and cues placed, the unplaced dropped (cues: null) with a decision each."""
    out = {**data, "text_sha256": plan.new_sha256}
    decisions = list(data.get("decisions", ()))

    def decide(p: Placement, outcome: str) -> None:
        decisions.append({"annotation_ids": [p.id], "decision": (
            f"{outcome} by `chipwar reanchor` on {day}: {p.what} {short(p.old_text)} at [{p.old_start}, {p.old_end}) "
            f"of the text with SHA-256 {plan.old_sha256} could not be placed on the corrected text ({p.reason}). "
            "It is in this file's git history.")})

    for layer in LAYERS:
        kept, gone = [], set()
        for i, span in enumerate(data.get(layer, ())):
            p = placements[(set_name, layer, i, None)]
            if not p.placed:
                decide(p, "Dropped")
                gone.add(span["id"])
                continue
            moved = {**span, "start": p.new_start, "end": p.new_end, "text": p.new_text}
            if CHAIN_FIELD in span:
                moved[CHAIN_FIELD] = [_moved_link(link, placements.get((set_name, layer, i, j)), decide) for j, link in enumerate(span[CHAIN_FIELD])]
            kept.append(moved)
        out[layer] = [{**span, RESTATES_FIELD: [other for other in span[RESTATES_FIELD] if other not in gone]}
                      if gone and RESTATES_FIELD in span else span for span in kept]  # no link to a dropped claim
    if decisions:
        out["decisions"] = decisions
    return out


def _moved_link(link: dict[str, Any], p: Placement | None, decide: Callable[[Placement, str], None]) -> dict[str, Any]:
    """An attribution link with its cue placed on the new text; an unplaced cue becomes null (the source stays), with a decision."""
    if p is None:
        return link
    if not p.placed:
        decide(p, "Cue set to null")
        return {**link, "cue": None}
    return {**link, "cue": {**link["cue"], "start": p.new_start, "end": p.new_end, "text": p.new_text}}
