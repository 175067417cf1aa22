"""The Data Statement section of the dataset card (Bender & Friedman, 2018) and the card YAML
fields the Hub's dataset-card metadata expects besides the ones ``card.py`` writes.

Everything is read from the corpus: each document's metadata (``language`` and
``notes.language``, publisher, authors and ``notes.authors``, genre, dates, address, rights) and
the ``annotator`` block of the annotation files. Nothing is guessed: a language tag is reported
as recorded with the note that says why it has no region; authors recorded as null are
"unknown"; a model version recorded as null is "not recorded".

:func:`card_fields` gives the YAML fields to merge into the card's header; :func:`data_statement`
the markdown section.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from ..corpus import Corpus
from ..grouped import Grouped

#: Allowed values of the Hub's dataset-card metadata (huggingface_hub ``DatasetCardData``, the Hub's
#: ``datasetcard.md`` template): the values below are chosen from these.
HUB_ANNOTATIONS_CREATORS = ("found", "crowdsourced", "expert-generated", "machine-generated", "no-annotation", "other")
HUB_LANGUAGE_CREATORS = ("found", "crowdsourced", "expert-generated", "machine-generated", "other")
HUB_MULTILINGUALITY = ("monolingual", "multilingual", "translation", "other")
HUB_SOURCE_DATASETS = ("original", "extended")

PRETTY_NAME = "chipwar: chip-war news with entities, claims and bias markers"


@dataclass(frozen=True)
class DocumentFacts:
    doc_id: str
    language: str
    language_note: str | None
    publisher: str | None
    authors: list[str] | None
    authors_note: str | None
    published: str | None
    genre: str | None
    split: str | None
    url: str | None
    title_source: str | None
    length: int | None
    received_file: str | None
    intake_date: str | None
    text_sha256: str | None
    rights: str | None
    redistributable: bool | None


@dataclass(frozen=True)
class AnnotatorFacts:
    """One distinct ``annotator`` block of an annotation set, and how many files carry it."""

    set_name: str
    name: str
    kind: str
    model: str | None
    model_version: str | None
    description: str | None
    files: int


def _notes(meta: dict) -> dict[str, str]:
    notes = meta.get("notes") or {}
    return notes if isinstance(notes, dict) else {}


#: Rows of a grouped table shown at the most; the rest are counted.
LISTED_GROUPS = 50


def document_facts_of(doc_id: str, meta: dict) -> DocumentFacts:
    """One document's facts, from its metadata."""
    notes, intake, rights = _notes(meta), meta.get("intake") or {}, meta.get("rights") or {}
    return DocumentFacts(
        doc_id=doc_id, language=meta.get("language"), language_note=notes.get("language"),
        publisher=meta.get("publisher"), authors=meta.get("authors"), authors_note=notes.get("authors"),
        published=meta.get("published"), genre=meta.get("genre"), split=meta.get("split"), url=meta.get("url"),
        title_source=(meta.get("title") or {}).get("source"), length=intake.get("length_codepoints"),
        received_file=intake.get("received_file"), intake_date=intake.get("intake_date"), text_sha256=intake.get("text_sha256"),
        rights=rights.get("statement"), redistributable=rights.get("redistributable"),
    )


def _cell(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _yes_no(value: bool | None) -> str:
    return _cell({True: "yes", False: "no"}.get(value))  # type: ignore[call-overload]


def _host(url: str | None) -> str:
    return _cell(urlsplit(url).hostname if url else None)


#: The Data Statement's tables of documents: per table, its columns for a row per document, and (past
#: chipwar.grouped.LISTED_DOCUMENTS) the columns documents are grouped by, where a value every document has its own (an
#: address, a day) gives way to a shared one (the host, the year) so the groups stay few.
TABLES: dict[str, tuple[Callable[[DocumentFacts], tuple[str, ...]], Callable[[DocumentFacts], tuple[str, ...]]]] = {
    "language": (lambda d: (f"`{_cell(d.language)}`", _cell(d.language_note)),) * 2,  # type: ignore[dict-item]
    "writers": (lambda d: (_cell(d.publisher), _cell(", ".join(d.authors) if d.authors else "unknown"), _cell(d.authors_note)),) * 2,
    "situation": (lambda d: (_cell(d.genre), _cell(d.published), _cell(d.url), _cell(d.title_source)),
                  lambda d: (_cell(d.genre), _cell((d.published or "")[:4] or None), _host(d.url), _cell(d.title_source))),
    "provenance": (lambda d: (_cell(d.received_file), _cell(d.intake_date), f"`{_cell(d.text_sha256)}`", _cell(d.length),
                              _yes_no(d.redistributable), _cell(d.rights)),
                   lambda d: (_yes_no(d.redistributable), _cell(d.rights))),
}


@dataclass
class CorpusFacts:
    """What the card, the Data Statement, Croissant and the citation say of the documents and the
    annotators, counted document by document and mergeable (a build counts them in its one pass
    over the sources, chunk by chunk). Its size does not grow with the corpus: every document is
    kept only while there are few (:mod:`chipwar.grouped`); past that, only groups and counts."""

    tables: dict[str, Grouped[DocumentFacts]] = field(default_factory=lambda: {name: Grouped() for name in TABLES})
    languages: Counter = field(default_factory=Counter)  # (tag, note) -> documents
    publishers: set[str] = field(default_factory=set)
    genres: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)
    intake_dates: list[str] = field(default_factory=list)  # the first and the last
    annotators: dict[str, Counter] = field(default_factory=dict)  # set -> annotator block (as a tuple) -> files

    @property
    def documents(self) -> int:
        return self.tables["language"].documents

    @property
    def listed(self) -> list[DocumentFacts]:
        """Every document's facts while there are few, else none."""
        return self.tables["language"].listed

    def add_document(self, doc_id: str, meta: dict) -> None:
        d = document_facts_of(doc_id, meta)
        for name, (_, grouped) in TABLES.items():
            self.tables[name].add(d, grouped(d), doc_id)
        self.languages[(d.language, d.language_note)] += 1
        if d.publisher:
            self.publishers.add(d.publisher)
        self.genres[str(d.genre)] += 1
        self.splits[str(d.split)] += 1
        if d.intake_date:
            self._dates([d.intake_date])

    def add_annotations(self, set_name: str, data: dict) -> None:
        """One annotation file of ``set_name``: its annotator block is counted."""
        ann = data.get("annotator") or {}
        model = ann.get("model") or {}
        key = (ann.get("name"), ann.get("kind"), model.get("name"), model.get("version"), ann.get("description"))
        self.annotators.setdefault(set_name, Counter())[key] += 1

    def _dates(self, dates: list[str]) -> None:
        both = sorted(self.intake_dates + dates)
        self.intake_dates = [both[0], both[-1]]

    def merge(self, other: CorpusFacts) -> None:
        """Add what ``other`` counted (its documents all after these in doc-id order)."""
        for name, table in self.tables.items():
            table.merge(other.tables[name])
        self.languages.update(other.languages)
        self.publishers |= other.publishers
        self.genres.update(other.genres)
        self.splits.update(other.splits)
        if other.intake_dates:
            self._dates(other.intake_dates)
        for set_name, counts in other.annotators.items():
            self.annotators.setdefault(set_name, Counter()).update(counts)

    def annotators_of(self, set_names: list[str]) -> list[AnnotatorFacts]:
        """The distinct annotator blocks of each set, in set order, each in the order first met."""
        return [AnnotatorFacts(set_name, *key, files=n) for set_name in set_names for key, n in self.annotators.get(set_name, {}).items()]

    def table(self, name: str) -> list[str]:
        """A row per document (its id first), or, past 50 documents, a row per distinct set of values
        with how many documents have it and an example id, most frequent first."""
        per_document, _ = TABLES[name]
        table = self.tables[name]
        if not table.many:
            return [f"| `{d.doc_id}` | " + " | ".join(per_document(d)) + " |" for d in table.listed]
        ordered = table.ordered()
        rows = [f"| {g.documents:,} documents, e.g. `{g.first}` | " + " | ".join(values) + " |" for values, g in ordered[:LISTED_GROUPS]]
        if len(ordered) > LISTED_GROUPS:
            rest = ordered[LISTED_GROUPS:]
            rows.append(f"| {sum(g.documents for _, g in rest):,} documents in {len(rest):,} more groups | "
                        + " | ".join("…" for _ in ordered[0][0]) + " |")
        return rows


#: While :func:`facts_read_once` is active: the facts already counted, by corpus root.
_READ: ContextVar[dict[Path, CorpusFacts] | None] = ContextVar("chipwar_publication_facts", default=None)


@contextmanager
def facts_read_once(corpus: Corpus | None = None, counted: CorpusFacts | None = None) -> Iterator[None]:
    """Within this block a corpus's facts are counted once and then reused (a build writes the card, the Data
    Statement, the citation and Croissant from them); ``counted``: the facts of ``corpus`` as its build counted them."""
    token = _READ.set({corpus.root: counted} if corpus is not None and counted is not None else {})
    try:
        yield
    finally:
        _READ.reset(token)


def corpus_facts(corpus: Corpus) -> CorpusFacts:
    """The corpus's facts: counted by the build running now, else read document by document."""
    cache = _READ.get()
    if cache is not None and corpus.root in cache:
        return cache[corpus.root]
    facts = CorpusFacts()
    for doc_id in corpus.doc_ids():
        facts.add_document(doc_id, corpus.read_metadata(doc_id))
    for set_name in corpus.set_names():
        for doc_id in corpus.annotated_doc_ids(set_name):
            facts.add_annotations(set_name, corpus.read_annotations(set_name, doc_id))
    if cache is not None:
        cache[corpus.root] = facts
    return facts


def annotator_facts(corpus: Corpus, set_names: list[str] | None = None) -> list[AnnotatorFacts]:
    """The distinct annotator blocks of each set (default: every set), in set order."""
    return corpus_facts(corpus).annotators_of(list(set_names if set_names is not None else corpus.set_names()))


def human_annotated(annotators: list[AnnotatorFacts]) -> bool:
    """Whether any annotator block records a person: a block with no model is taken as possibly human."""
    return any(a.model is None for a in annotators)


def card_fields(corpus: Corpus, set_name: str = "gold") -> dict[str, Any]:
    """The Hub card fields ``card.py`` does not write yet, to merge into its YAML header.

    ``annotations_creators`` is ``machine-generated`` when every annotator block of the built
    set names a model, ``other`` otherwise (a person recorded there would make it crowdsourced
    or expert-generated, which the files cannot tell). Texts were ``found`` (published journalism
    taken in as received); one language tag over all documents is ``monolingual``.
    """
    annotators = annotator_facts(corpus, [set_name])
    languages = sorted({tag for tag, _ in corpus_facts(corpus).languages if tag})
    return {
        "pretty_name": PRETTY_NAME,
        "annotations_creators": ["other" if human_annotated(annotators) or not annotators else "machine-generated"],
        "language_creators": ["found"],
        "multilinguality": ["monolingual" if len({lang.split("-")[0] for lang in languages}) <= 1 else "multilingual"],
        "source_datasets": ["original"],
    }


def merge_card_yaml(meta: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``meta`` (the card's YAML mapping) with ``fields`` merged in: a key it has keeps its place and
    takes the new value; new keys go just before ``configs`` (else at the end)."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key == "configs":
            out.update({k: v for k, v in fields.items() if k not in meta})
        out[key] = fields.get(key, value)
    out.update({k: v for k, v in fields.items() if k not in out})
    return out


def data_statement(corpus: Corpus, set_name: str = "gold") -> str:
    """The Data Statement section as markdown (headings of Bender & Friedman 2018, short form and long form)."""
    facts = corpus_facts(corpus)
    built = annotators = facts.annotators_of([set_name])
    grouped = facts.tables["language"].many
    first = "documents" if grouped else "document"  # the first column: an id, or how many share a row
    lines = [
        "## Data Statement", "",
        "Following *Data Statements for Natural Language Processing* (Bender & Friedman, 2018). Every fact below is read "
        "from the documents' metadata and the annotation files; what they do not record is said to be unknown.", "",
        "### A. Curation rationale", "",
        f"{facts.documents} article(s) about the semiconductor \"chip war\" (China's chip industry, US export controls, grey-market "
        "chip trade), picked by hand as seeds to fix the schema, guidelines and tooling before the corpus grows: not a random "
        "or representative sample of the chip-war press. See the datasheet's *Motivation* and *Composition*.", "",
        "### B. Language variety", "",
        "Each document's BCP 47 tag as recorded, and the note that says why it is what it is. A tag without a region means "
        "the variety is **not established**; no variety is inferred from a publisher's country.", "",
        f"| {first} | language tag | note |", "|---|---|---|",
    ]
    lines += facts.table("language")
    lines += [
        "", "### C. Speaker (writer) demographic", "",
        "Who wrote and who published each text. Nothing is known of the writers' demographics (age, gender, "
        "nationality, first language): no author is recorded.", "",
        f"| {first} | publisher | authors | note on the authors |", "|---|---|---|---|",
    ]
    lines += facts.table("writers")
    lines += ["", "### D. Annotator demographic", ""]
    if built and not human_annotated(built):
        lines.append(f"**No human annotated or reviewed the `{set_name}` annotations.** They were made by language-model "
                     "agents: every annotator block of the set names a model and none a person (the schema's `model` is null for a "
                     "person). How they worked (blind passes, adjudication) is in each block's description below and in the "
                     "datasheet's *Who annotated, and how*. Model annotators have no demographics; the models are named as the "
                     "files record them. Other annotation sets of the repository (such as the blind passes) are not part of this "
                     "build; the datasheet describes them.")
    else:
        lines.append("The annotator blocks of the files are below; a block that names no model may be a person, whose "
                     "demographics are not recorded.")
    lines += ["", "| annotation set | annotator | kind | model | model version | files | description |", "|---|---|---|---|---|---|---|"]
    lines += [f"| `{a.set_name}` | {_cell(a.name)} | {_cell(a.kind)} | {_cell(a.model or 'none recorded')} | "
              f"{_cell(a.model_version or 'not recorded')} | {a.files} | {_cell(a.description)} |" for a in annotators]
    genres = facts.genres
    lines += [
        "", "### E. Speech situation", "",
        "Written, edited text published online by its publisher for a general readership, read asynchronously; the "
        "intended audience is not recorded beyond that.", "",
        f"| {first} | genre (intake) | published{' (year)' if grouped else ''} | address{' (host)' if grouped else ''} | title from |",
        "|---|---|---|---|---|",
    ]
    lines += facts.table("situation")
    lines += [
        "", "### F. Text characteristics", "",
        "Genres: " + ", ".join(f"{g} ({n})" for g, n in sorted(genres.items())) + ". "
        "Each text is kept exactly as received, page furniture included (page notices, \"Read more\" links, an embedded "
        "post), marked by the `zones` layer rather than removed.", "",
        "### G. Recording quality", "",
        "Not speech. The texts were received as plain-text files already extracted from the web pages by a process the "
        "project did not see; images, captions, links and comments were not received.", "",
        "### H. Other", "",
        "Article texts are third-party copyrighted journalism under no licence to this project; the annotations are "
        "CC BY 4.0. Rights per document are in the provenance table below.", "",
        "### I. Provenance appendix", "",
        "| document | received file | intake date | text SHA-256 | code points | redistributable | rights |", "|---|---|---|---|---|---|---|",
    ]
    if not grouped:
        lines += facts.table("provenance")
    else:  # each file's digest is in the `documents` config and in corpus/<doc_id>.json; the rights are grouped here
        lines[-2:] = ["Each document's received file, intake date, SHA-256 and length are in the `documents` config and in "
                      "`corpus/<doc_id>.json`; the rights statements:", "", "| documents | redistributable | rights |", "|---|---|---|"]
        lines += facts.table("provenance")
    return "\n".join(lines) + "\n"
