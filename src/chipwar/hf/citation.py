"""How to cite the dataset: ``CITATION.cff`` (Citation File Format 1.2.0) and a BibTeX entry
made from the same facts, so the two cannot disagree.

Every fact comes from the repository, none is typed in here or taken from the clock:

- ``version`` from ``VERSION``;
- ``date-released`` only when ``CHANGELOG.md`` has a dated section for that very version (the
  release record ``chipwar release`` writes); otherwise it is left out, and so is the BibTeX
  ``year``;
- ``authors``: the chipwar project as an entity. No person is named: nobody is recorded as an
  author, and the annotations were made by language-model agents (``DATASHEET.md``);
- ``license``: the annotations' licence, CC BY 4.0 (``LICENSE``). The article texts are
  third-party copyrighted and under no licence; the message and abstract say so;
- ``repository-code`` / ``url``: only when recorded in :data:`REPOSITORY_URL` (today: none).

:func:`write_citation` writes the repository's ``CITATION.cff``: the project, without a version
or date, so a release never leaves it stale. A build writes its own (:func:`write_dataset_citation`):
that version, with its release date; :func:`bibtex` gives the card's BibTeX entry from the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import yaml

from ..corpus import Corpus
from ..versions.changelog import read_changelog
from ..versions.version import dataset_version
from ..writer import replace_file, write_files

CITATION_FILE = "CITATION.cff"
TITLE = "chipwar: chip-war news with entities, claims and bias markers"
AUTHOR = "The chipwar project"
#: SPDX id of the annotations' licence (LICENSE, part 2).
LICENSE_SPDX = "CC-BY-4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
#: The public address of the repository, once it has one that is recorded; None leaves it out.
REPOSITORY_URL: str | None = None
KEYWORDS = ("media bias", "propaganda techniques", "claim detection", "named entities", "semiconductors",
            "export controls", "standoff annotation")
ABSTRACT = ("A versioned, annotated corpus of news and commentary on the semiconductor 'chip war': entities, "
            "check-worthy claims with their attribution, and bias and persuasion markers, as standoff spans with "
            "exact Unicode code-point offsets.{machine} The annotations are CC BY 4.0; the article texts are "
            "third-party copyrighted journalism, under no licence, and not redistributable.")
#: Said in the abstract only while every annotator block of the set names a model (none a person).
MACHINE_MADE = " Every annotation was made by language-model agents; no human has annotated or reviewed it."
MESSAGE = ("If you use this dataset, please cite it as below. The annotations are CC BY 4.0; the article texts "
           "are third-party copyrighted and not covered by any licence of this project.")


@dataclass(frozen=True)
class CitationFacts:
    """What a citation says, each from its record in the repository."""

    title: str
    version: str | None  # None: the project as a whole (the repository's CITATION.cff)
    released: str | None  # YYYY-MM-DD of this version's release, when recorded
    machine_made: bool  # every annotator block of the annotation set names a model
    author: str
    license: str
    repository: str | None


def _iso_date(value: object) -> str | None:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return None


def release_date(corpus: Corpus, version: str) -> str | None:
    """The date of ``version``'s release: its section in CHANGELOG.md when the corpus has one (a
    checkout); else the ``date-released`` of a CITATION.cff of that same version beside it (a
    built folder carries CITATION.cff but no changelog, so a rehydration gives the same date);
    else None."""
    if (corpus.root / "CHANGELOG.md").is_file():
        _, changelog = read_changelog(corpus)
        section = next((s for s in changelog.sections if s.version == version and s.date), None)
        return _iso_date(section.date) if section is not None else None
    path = corpus.root / CITATION_FILE
    try:
        recorded = yaml.safe_load(path.read_text("utf-8")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        recorded = None
    if isinstance(recorded, dict) and str(recorded.get("version")) == version and recorded.get("date-released"):
        return _iso_date(recorded["date-released"])
    return None


def citation_facts(corpus: Corpus, version: str | None = None, set_name: str = "gold") -> CitationFacts:
    """The facts of the citation of ``version`` (default: ``VERSION``), its annotations being the set ``set_name``."""
    from .statement import annotator_facts, human_annotated

    version = version or dataset_version(corpus)
    annotators = annotator_facts(corpus, [set_name]) if set_name in corpus.set_names() else []
    machine_made = bool(annotators) and not human_annotated(annotators)
    return CitationFacts(TITLE, version, release_date(corpus, version), machine_made, AUTHOR, LICENSE_SPDX, REPOSITORY_URL)


def citation_data(facts: CitationFacts) -> dict:
    """The CFF 1.2.0 document as a mapping, keys in the order the format's guide shows them."""
    data: dict = {
        "cff-version": "1.2.0",
        "message": MESSAGE,
        "type": "dataset",
        "title": facts.title,
    }
    if facts.version:
        data["version"] = facts.version
    if facts.released:
        data["date-released"] = facts.released
    data["authors"] = [{"name": facts.author}]
    data["license"] = facts.license
    if facts.repository:
        data["repository-code"] = facts.repository
        data["url"] = facts.repository
    data["abstract"] = ABSTRACT.format(machine=MACHINE_MADE if facts.machine_made else "")
    data["keywords"] = list(KEYWORDS)
    return data


def citation_cff(facts: CitationFacts) -> str:
    """``CITATION.cff``'s text (dates quoted, so every YAML reader keeps them as written)."""
    header = "# Written by chipwar (chipwar.hf.citation); do not edit by hand.\n"
    return header + yaml.safe_dump(citation_data(facts), sort_keys=False, allow_unicode=True, width=100, default_style=None)


def bibtex_key(facts: CitationFacts) -> str:
    return "chipwar_v" + (facts.version or "").replace(".", "_")


def _bib(value: str) -> str:
    """A BibTeX field value: braces kept literal (title case and the entity author are protected)."""
    return "{" + value.replace("\\", "\\textbackslash{}").replace("{", "\\{").replace("}", "\\}").replace("&", "\\&").replace("%", "\\%") + "}"


def bibtex(facts: CitationFacts) -> str:
    """A ``@misc`` entry (plain BibTeX has no dataset type) with the same title, author, version, year and licence."""
    fields = [("title", "{" + _bib(facts.title) + "}"), ("author", "{" + _bib(facts.author) + "}"), ("version", _bib(facts.version or ""))]
    if facts.released:
        fields.append(("year", _bib(facts.released[:4])))
        fields.append(("month", _bib(str(int(facts.released[5:7])))))
    if facts.repository:
        fields.append(("url", _bib(facts.repository)))
    fields.append(("note", _bib(f"Dataset, version {facts.version}. Annotations {facts.license.replace('-', ' ')}; "
                                "article texts are third-party copyrighted and not licensed")))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {value}" for name, value in fields)
    return f"@misc{{{bibtex_key(facts)},\n{body}\n}}\n"


def bibtex_section(facts: CitationFacts) -> str:
    """The card's "Citation" section: the BibTeX block, and where CITATION.cff is."""
    return "\n".join(["## Citation", "", "```bibtex", bibtex(facts).rstrip("\n"), "```", "",
                      f"The same facts are in this folder's `{CITATION_FILE}` (Citation File Format 1.2.0).", ""])


def project_facts(corpus: Corpus) -> CitationFacts:
    """The facts of the repository's citation: the project, no version and no release date."""
    return replace(citation_facts(corpus), version=None, released=None)


def citation_is_current(corpus: Corpus) -> bool:
    """Whether the corpus root's ``CITATION.cff`` is exactly what :func:`write_citation` would write now."""
    path = corpus.root / CITATION_FILE
    try:
        return path.is_file() and path.read_text("utf-8") == citation_cff(project_facts(corpus))
    except (OSError, UnicodeDecodeError):
        return False


def write_citation(corpus: Corpus) -> Path:
    """Write the repository's ``CITATION.cff`` at the corpus root (only when its content changed); return its path."""
    path = corpus.root / CITATION_FILE
    text = citation_cff(project_facts(corpus))
    if not (path.is_file() and path.read_text("utf-8") == text):
        write_files(corpus.root, {path: text.encode("utf-8")})
    return path


def write_dataset_citation(folder: Path, corpus: Corpus, version: str, set_name: str) -> None:
    """A build's ``CITATION.cff``: this version of the dataset, with its release date when recorded."""
    replace_file(folder / CITATION_FILE, citation_cff(citation_facts(corpus, version, set_name)).encode("utf-8"))
