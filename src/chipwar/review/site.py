"""``chipwar review``: the static site, written whole, document by document over workers.

Layout of the folder (every link relative, so it opens from ``file://`` and from any copy)::

    index.html, index-<n>.html     corpus overview, figures, documents paginated
    labels.html                    every label set of schema/, defined, with its mappings
    doc/<doc_id>.html              one page per document in the reviewed set
    compare/<doc_id>.html          with --compare: the sets merged, differences marked
    entities.html, entities-<n>.html, entity/<id>.html, entity/<id>.p<n>.html
    figures/<name>.svg             the plots of :mod:`chipwar.plots`, made at build time
    static/review.css, static/review.js

Pages are rendered by Jinja2 with autoescaping from templates compiled once, in the parent
before the workers fork; each worker writes its documents' pages and returns one small row
per document for the index and its entity mentions, so the corpus is never held whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import __version__
from ..agreement.run import check_sets
from ..corpus import Corpus
from ..engines.local import chunked, ordered_map
from ..errors import UsageError, require
from ..ids import check_set_name
from ..layers import CHAIN_FIELD, LAYERS, REFERENCE_ROLES, referenced_ids
from ..outputs import FolderBuild, check_out
from ..plots import LabelCounts, corpus_figures
from ..report import Problem, Report
from ..schema import load_schemas
from ..validation.sound import load_annotations, load_document
from .compare import compare_view
from .documents import MAPPINGS, Legend, document_view, legend, local

CHUNK_DOCS = 200
#: Rows per index page, and documents per page of an entity.
PAGE_ROWS = 100
ENTITY_ROWS = 500
ASSETS = ("review.css", "review.js")
MADE_BY = "chipwar review"
#: The modules of the ``review`` extra.
EXTRA = ("jinja2", "matplotlib")


@dataclass(frozen=True)
class IndexRow:
    """What the index says of one document."""

    doc_id: str
    title: str
    publisher: str
    published: str
    split: str
    counts: tuple[int, ...]
    problem: str | None
    disagreements: int | None


@dataclass
class Entity:
    """A canonical entity and its mentions and references across documents."""

    entity_id: str
    names: dict[str, None] = field(default_factory=dict)
    labels: dict[str, None] = field(default_factory=dict)
    documents: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # doc -> (key, role)
    titles: dict[str, str] = field(default_factory=dict)
    surfaces: dict[str, int] = field(default_factory=dict)  # how the text writes it -> mentions

    @property
    def mentions(self) -> int:
        return sum(len(v) for v in self.documents.values())


@dataclass
class ReviewResult:
    """What ``chipwar review`` wrote."""

    out: Path
    set_name: str
    compare: list[str]
    with_text: bool
    documents: int = 0
    entities: int = 0
    disagreements: int | None = None
    figures: list[str] = field(default_factory=list)
    files: int = 0
    replaced: bool = False
    recovered: list[str] = field(default_factory=list)
    report: Report = field(default_factory=Report)


@cache
def environment() -> Any:
    """The Jinja2 environment, autoescaping every template (article text, notes and metadata are untrusted)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("chipwar.review", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(LAYERS=LAYERS, chipwar_version=__version__, safe_url=safe_url)
    return env


def safe_url(value: Any) -> str | None:
    """A metadata URL that may be a link: ``http(s)://`` only (never ``javascript:`` or ``data:``)."""
    return value if isinstance(value, str) and value.lower().startswith(("https://", "http://")) and "\n" not in value else None


@dataclass(frozen=True)
class _Job:
    """What every chunk needs (reaching the workers by fork)."""

    corpus: Corpus
    schemas: Any
    legend: Legend
    set_name: str
    compare: tuple[str, ...]
    with_text: bool
    staging: Path


def write_review_site(corpus: Corpus, out: Path, *, set_name: str = "gold", compare: Sequence[str] = (), with_text: bool = True,
                      progress: Callable[[int, int], None] | None = None) -> ReviewResult:
    """Write the review site of ``set_name`` (and, with ``compare``, the sets compared) to ``out``.

    ``out`` is refused unless new, empty or an earlier build; the site is written beside it and
    swapped in whole. Documents whose files do not pass validation's checks get a page saying
    why (and are listed as warnings); the site is still written.
    """
    require("chipwar review", EXTRA, "review")
    check_set_name(set_name)
    here = corpus.set_names()
    if set_name not in here:
        raise UsageError(f"annotations/{set_name}/: no such annotation set", hint=f"pass --set with one of: {', '.join(here) or 'none'}")
    sets = tuple(check_sets(corpus, compare)) if compare else ()
    check_out(out, corpus.root, MADE_BY)
    schemas = load_schemas(corpus.schema_dir)
    env = environment()
    for name in ("index.html", "document.html", "compare.html", "entities.html", "entity.html", "labels.html"):
        env.get_template(name)  # compiled once, before the workers fork
    info = {"made_by": MADE_BY, "chipwar_version": __version__, "annotation_set": set_name, "compare": list(sets),
            "with_text": with_text}
    folder = FolderBuild(out, info)
    result = ReviewResult(folder.out, set_name, list(sets), with_text)
    doc_ids = corpus.doc_ids()
    rows: list[IndexRow] = []
    entities: dict[str, Entity] = {}
    with folder as staging:
        for sub in ("doc", "entity", "static", *(("compare",) if sets else ())):
            (staging / sub).mkdir()
        for name in ASSETS:
            (staging / "static" / name).write_bytes((files("chipwar.review") / "static" / name).read_bytes())
        labels = legend(schemas)
        (staging / "labels.html").write_text(env.get_template("labels.html").render(legend=labels, mappings=MAPPINGS, root="",
                                                                                    title="Labels"), "utf-8")
        job = _Job(corpus, schemas, labels, set_name, sets, with_text, staging)
        counts = LabelCounts()
        for chunk_rows, mentions, problems, chunk_counts in ordered_map(_chunk, job, chunked(doc_ids, CHUNK_DOCS)):
            rows += chunk_rows
            result.report.extend(problems)
            counts.merge(chunk_counts)
            _gather(entities, mentions)
            if progress:
                progress(len(rows), len(doc_ids))
        result.figures = _figures(corpus, schemas, set_name, sets, counts, staging)
        _write_index(corpus, staging, rows, result)
        _write_entities(staging, entities, with_text)
    result.documents, result.entities = len(rows), len(entities)
    result.disagreements = sum(r.disagreements or 0 for r in rows) if sets else None
    result.files, result.replaced, result.recovered = len(folder.files), folder.replaced, folder.recovered
    return result


def _chunk(job: _Job, doc_ids: list[str]) -> tuple[list[IndexRow], list[tuple], list[Problem], LabelCounts]:
    """Write the pages of some documents; their index rows, entity mentions, problems and label counts (for the plots)."""
    env = environment()
    page, compared = env.get_template("document.html"), env.get_template("compare.html")
    corpus = job.corpus
    rows, mentions, problems = [], [], []
    counts = LabelCounts()
    for doc_id in doc_ids:
        doc = load_document(corpus, job.schemas, doc_id)
        if doc.problem is not None:
            problems.append(_warning(doc.problem))
        loaded: dict[str, tuple[Any, Problem | None]] = {}
        for set_name in dict.fromkeys((job.set_name, *job.compare)):
            path = corpus.annotation_path(set_name, doc_id)
            loaded[set_name] = load_annotations(corpus, job.schemas, path, doc) if path.exists() else (None, None)
            problem = loaded[set_name][1]
            if problem is not None and doc.problem is None:
                problems.append(_warning(problem))
        data, problem = loaded[job.set_name]
        why = doc.why or (problem.message if problem else None)
        if problem is not None:
            counts.skipped.append(problem)
        elif data is not None:
            counts.add(doc.meta, data)
        view = document_view(doc_id, job.set_name, doc.meta, doc.text, data, why, job.legend, with_text=job.with_text)
        disagreements = None
        if job.compare:
            cmp = compare_view(doc_id, job.compare, [loaded[s][0] for s in job.compare],
                               [loaded[s][1].message if loaded[s][1] else None for s in job.compare], doc.text, data,
                               with_text=job.with_text)
            disagreements = cmp.disagreements
            (job.staging / "compare" / f"{doc_id}.html").write_text(
                compared.render(view=view, cmp=cmp, root="../", title=f"{view.title} — compared"), "utf-8")
        (job.staging / "doc" / f"{doc_id}.html").write_text(
            page.render(view=view, compare=job.compare, root="../", title=view.title), "utf-8")
        meta = view.meta
        rows.append(IndexRow(doc_id, view.title, _text(meta.get("publisher")), _text(meta.get("published")), _text(meta.get("split")),
                             tuple(view.count(layer) for layer in LAYERS), why, disagreements))
        mentions += _mentions(doc_id, view.title, data, job.with_text)
    return rows, mentions, problems, counts


def _warning(problem: Problem) -> Problem:
    """A file left out of the site is a warning: its page says why, and the rest of the site is written."""
    return Problem(problem.code, problem.message, problem.file, problem.doc_id, hint="run `chipwar validate` for every problem in it; "
                   "its page in the site says why it is not shown", severity="warning")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "—"


def _mentions(doc_id: str, title: str, data: dict[str, Any] | None, with_text: bool) -> list[tuple]:
    """(entity id, name, label, doc, title, key, role, surface text or None) for every mention of and reference to a canonical entity."""
    if data is None:
        return []
    names = {e["id"]: (e.get("name", ""), e.get("label", "")) for e in data.get("canonical_entities") or ()}
    out = []
    for layer in LAYERS:
        for span in data.get(layer) or ():
            for name, ref in referenced_ids(layer, span):
                role = "source" if name.startswith(CHAIN_FIELD) else REFERENCE_ROLES.get(name, "mention")
                text = span.get("text") if with_text and role == "mention" else None
                out.append((ref, *names.get(ref, ("", "")), doc_id, title, local(span["id"]), role, text))
    return out


def _gather(entities: dict[str, Entity], mentions: list[tuple]) -> None:
    for entity_id, name, label, doc_id, title, key, role, text in mentions:
        entity = entities.get(entity_id) or entities.setdefault(entity_id, Entity(entity_id))
        if name:
            entity.names[name] = None
        if label:
            entity.labels[label] = None
        entity.documents.setdefault(doc_id, []).append((key, role))
        entity.titles[doc_id] = title
        if text is not None:
            entity.surfaces[text] = entity.surfaces.get(text, 0) + 1


def _figures(corpus: Corpus, schemas: Any, set_name: str, sets: tuple[str, ...], counts: LabelCounts, staging: Path) -> list[tuple[str, str]]:
    """The plots as SVG files beside the pages (from the labels counted while the pages were written); (file, caption) for each."""
    (staging / "figures").mkdir()
    made = []
    for figure in corpus_figures(corpus, schemas, set_name, sets, counts=counts):
        (staging / "figures" / f"{figure.name}.svg").write_text(figure.svg, "utf-8")
        made.append((f"figures/{figure.name}.svg", figure.title))
    return made


def _pages(items: list[Any], first: str, stem: str, size: int) -> list[tuple[str, list[Any]]]:
    """Items cut into pages of ``size``: (file name, items); the first page is ``first``."""
    cut = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    return [(first if n == 1 else f"{stem}{n}.html", part) for n, part in enumerate(cut, start=1)]


def _write_index(corpus: Corpus, staging: Path, rows: list[IndexRow], result: ReviewResult) -> None:
    from ..versions.version import VersionError, dataset_version

    try:
        version = dataset_version(corpus)
    except VersionError:
        version = None
    publishers: dict[str, int] = {}
    splits: dict[str, int] = {}
    for row in rows:
        publishers[row.publisher] = publishers.get(row.publisher, 0) + 1
        splits[row.split] = splits.get(row.split, 0) + 1
    dates = sorted(r.published for r in rows if r.published != "—")
    overview = {"documents": len(rows), "publishers": sorted(publishers.items(), key=lambda kv: (-kv[1], kv[0])),
                "splits": sorted(splits.items()), "dates": (dates[0], dates[-1]) if dates else None, "version": version,
                "totals": [sum(r.counts[i] for r in rows) for i in range(len(LAYERS))],
                "problems": sum(r.problem is not None for r in rows)}
    pages = _pages(rows, "index.html", "index-", PAGE_ROWS)
    nav = [(name, part[0].doc_id if part else "", part[-1].doc_id if part else "") for name, part in pages]
    template = environment().get_template("index.html")
    for number, (name, part) in enumerate(pages, start=1):
        (staging / name).write_text(template.render(rows=part, nav=nav, number=number, overview=overview, result=result, root="",
                                                    title=f"corpus overview, set {result.set_name}"), "utf-8")


def _write_entities(staging: Path, entities: dict[str, Entity], with_text: bool) -> None:
    """The entity index (paginated) in the parent; each entity's pages over the workers."""
    ordered = sorted(entities.values(), key=lambda e: e.entity_id)
    pages = _pages(ordered, "entities.html", "entities-", PAGE_ROWS)
    nav = [(name, part[0].entity_id if part else "", part[-1].entity_id if part else "") for name, part in pages]
    listing = environment().get_template("entities.html")
    for number, (name, part) in enumerate(pages, start=1):
        (staging / name).write_text(listing.render(entities=part, nav=nav, number=number, root="", title="Entities"), "utf-8")
    for _ in ordered_map(_entity_pages, (staging, ordered, with_text), chunked(list(range(len(ordered))), 1)):
        pass


def _entity_pages(shared: tuple[Path, list[Entity], bool], indexes: list[int]) -> None:
    """The pages of some entities: every document mentioning or referring to it, :data:`ENTITY_ROWS` a page."""
    staging, ordered, with_text = shared
    page = environment().get_template("entity.html")
    for entity in (ordered[i] for i in indexes):
        docs = _pages(list(entity.documents.items()), f"{entity.entity_id}.html", f"{entity.entity_id}.p", ENTITY_ROWS)
        nav = [(name, part[0][0], part[-1][0]) for name, part in docs]
        surfaces = sorted(entity.surfaces.items(), key=lambda kv: (-kv[1], kv[0]))
        for number, (name, part) in enumerate(docs, start=1):
            (staging / "entity" / name).write_text(page.render(entity=entity, docs=part, nav=nav, number=number, root="../",
                                                               surfaces=surfaces, with_text=with_text,
                                                               title=" / ".join(entity.names) or entity.entity_id), "utf-8")
