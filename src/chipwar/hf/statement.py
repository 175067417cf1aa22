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
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..corpus import Corpus

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


#: While :func:`facts_read_once` is active: the facts already read, by what was asked (the corpus, the sets).
_READ: ContextVar[dict[tuple, list] | None] = ContextVar("chipwar_publication_facts", default=None)


@contextmanager
def facts_read_once() -> Iterator[None]:
    """Within this block the documents' and annotators' facts are read from the corpus once and then reused: a build
    writes the card, the Data Statement, the citation and Croissant from them, each a pass over 20,000 files otherwise."""
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def _once(key: tuple, read: Callable[[], list]) -> list:
    cache = _READ.get()
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


def document_facts(corpus: Corpus) -> list[DocumentFacts]:
    """Each document's facts, in document order."""
    return _once(("documents", corpus.root), lambda: _document_facts(corpus))


def _document_facts(corpus: Corpus) -> list[DocumentFacts]:
    out = []
    for doc_id in corpus.doc_ids():
        meta = corpus.read_metadata(doc_id)
        notes, intake, rights = _notes(meta), meta.get("intake") or {}, meta.get("rights") or {}
        out.append(DocumentFacts(
            doc_id=doc_id, language=meta.get("language"), language_note=notes.get("language"),
            publisher=meta.get("publisher"), authors=meta.get("authors"), authors_note=notes.get("authors"),
            published=meta.get("published"), genre=meta.get("genre"), split=meta.get("split"), url=meta.get("url"),
            title_source=(meta.get("title") or {}).get("source"), length=intake.get("length_codepoints"),
            received_file=intake.get("received_file"), intake_date=intake.get("intake_date"), text_sha256=intake.get("text_sha256"),
            rights=rights.get("statement"), redistributable=rights.get("redistributable"),
        ))
    return out


def annotator_facts(corpus: Corpus, set_names: list[str] | None = None) -> list[AnnotatorFacts]:
    """The distinct annotator blocks of each set (default: every set), in set order."""
    names = tuple(set_names if set_names is not None else corpus.set_names())
    return _once(("annotators", corpus.root, names), lambda: _annotator_facts(corpus, names))


def _annotator_facts(corpus: Corpus, set_names: tuple[str, ...]) -> list[AnnotatorFacts]:
    out = []
    for set_name in set_names:
        seen: Counter = Counter()
        for doc_id in corpus.annotated_doc_ids(set_name):
            ann = corpus.read_annotations(set_name, doc_id).get("annotator") or {}
            model = ann.get("model") or {}
            seen[(ann.get("name"), ann.get("kind"), model.get("name"), model.get("version"), ann.get("description"))] += 1
        out.extend(AnnotatorFacts(set_name, *key, files=n) for key, n in seen.items())
    return out


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
    languages = sorted({d.language for d in document_facts(corpus) if d.language})
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


def _cell(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


#: Up to this many documents the statement has a row per document; above, documents with the same values share a row
#: (a card of 20,000 rows would be megabytes, and the Hub and `load_dataset` read it whole).
LISTED_DOCUMENTS = 50
#: Rows of a grouped table shown at the most; the rest are counted.
LISTED_GROUPS = 50


def _table(docs: list[DocumentFacts], columns: Callable[[DocumentFacts], tuple[str, ...]]) -> list[str]:
    """A row per document (its id first), or, for a large corpus, a row per distinct set of values with how many
    documents have it and an example id, most frequent first."""
    if len(docs) <= LISTED_DOCUMENTS:
        return [f"| `{d.doc_id}` | " + " | ".join(columns(d)) + " |" for d in docs]
    groups: dict[tuple[str, ...], list[str]] = {}
    for d in docs:
        groups.setdefault(columns(d), []).append(d.doc_id)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))
    rows = [f"| {len(ids):,} documents, e.g. `{ids[0]}` | " + " | ".join(values) + " |" for values, ids in ordered[:LISTED_GROUPS]]
    if len(ordered) > LISTED_GROUPS:
        rest = ordered[LISTED_GROUPS:]
        count = sum(len(ids) for _, ids in rest)
        rows.append(f"| {count:,} documents in {len(rest):,} more groups | " + " | ".join("…" for _ in ordered[0][0]) + " |")
    return rows


def data_statement(corpus: Corpus, set_name: str = "gold") -> str:
    """The Data Statement section as markdown (headings of Bender & Friedman 2018, short form and long form)."""
    docs = document_facts(corpus)
    built = annotators = annotator_facts(corpus, [set_name])
    first = "document" if len(docs) <= LISTED_DOCUMENTS else "documents"  # the first column: an id, or how many share a row
    lines = [
        "## Data Statement", "",
        "Following *Data Statements for Natural Language Processing* (Bender & Friedman, 2018). Every fact below is read "
        "from the documents' metadata and the annotation files; what they do not record is said to be unknown.", "",
        "### A. Curation rationale", "",
        f"{len(docs)} article(s) about the semiconductor \"chip war\" (China's chip industry, US export controls, grey-market "
        "chip trade), picked by hand as seeds to fix the schema, guidelines and tooling before the corpus grows: not a random "
        "or representative sample of the chip-war press. See the datasheet's *Motivation* and *Composition*.", "",
        "### B. Language variety", "",
        "Each document's BCP 47 tag as recorded, and the note that says why it is what it is. A tag without a region means "
        "the variety is **not established**; no variety is inferred from a publisher's country.", "",
        f"| {first} | language tag | note |", "|---|---|---|",
    ]
    lines += _table(docs, lambda d: (f"`{_cell(d.language)}`", _cell(d.language_note)))
    lines += [
        "", "### C. Speaker (writer) demographic", "",
        "Who wrote and who published each text. Nothing is known of the writers' demographics (age, gender, "
        "nationality, first language): no author is recorded.", "",
        f"| {first} | publisher | authors | note on the authors |", "|---|---|---|---|",
    ]
    lines += _table(docs, lambda d: (_cell(d.publisher), _cell(", ".join(d.authors) if d.authors else "unknown"), _cell(d.authors_note)))
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
    genres = Counter(d.genre for d in docs)
    lines += [
        "", "### E. Speech situation", "",
        "Written, edited text published online by its publisher for a general readership, read asynchronously; the "
        "intended audience is not recorded beyond that.", "",
        f"| {first} | genre (intake) | published | address | title from |", "|---|---|---|---|---|",
    ]
    lines += _table(docs, lambda d: (_cell(d.genre), _cell(d.published), _cell(d.url), _cell(d.title_source)))
    lines += [
        "", "### F. Text characteristics", "",
        "Genres: " + ", ".join(f"{g} ({n})" for g, n in sorted(genres.items(), key=lambda kv: str(kv[0]))) + ". "
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
    if len(docs) <= LISTED_DOCUMENTS:
        lines += _table(docs, lambda d: (_cell(d.received_file), _cell(d.intake_date), f"`{_cell(d.text_sha256)}`", _cell(d.length),
                                         _cell({True: "yes", False: "no"}.get(d.redistributable)), _cell(d.rights)))
    else:  # each file's digest is in the `documents` config and in corpus/<doc_id>.json; the rights are grouped here
        lines[-2:] = ["Each document's received file, intake date, SHA-256 and length are in the `documents` config and in "
                      "`corpus/<doc_id>.json`; the rights statements:", "", "| documents | redistributable | rights |", "|---|---|---|"]
        lines += _table(docs, lambda d: (_cell({True: "yes", False: "no"}.get(d.redistributable)), _cell(d.rights)))
    return "\n".join(lines) + "\n"
