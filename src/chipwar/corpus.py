"""Where things live in a corpus checkout, and reading them document by document.

A corpus root holds ``corpus/<doc_id>.txt`` + ``corpus/<doc_id>.json``, ``schema/`` and
``annotations/<set>/<doc_id>.json``. Nothing here loads the whole corpus at once: callers
iterate, so memory stays flat as the corpus grows.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .errors import EnvironmentProblem
from .files import read_json
from .report import printable


class CorpusNotFound(EnvironmentProblem):
    """No corpus root (a folder with ``corpus/`` and ``schema/``) at or above a path."""


@dataclass(frozen=True)
class Corpus:
    """The files of one corpus checkout."""

    root: Path

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def schema_dir(self) -> Path:
        return self.root / "schema"

    @property
    def annotations_dir(self) -> Path:
        return self.root / "annotations"

    def text_path(self, doc_id: str) -> Path:
        return self.corpus_dir / f"{doc_id}.txt"

    def metadata_path(self, doc_id: str) -> Path:
        return self.corpus_dir / f"{doc_id}.json"

    def annotation_path(self, set_name: str, doc_id: str) -> Path:
        return self.annotations_dir / set_name / f"{doc_id}.json"

    def rel(self, path: Path) -> str:
        """A path as shown to people: relative to the root when inside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def doc_ids(self) -> list[str]:
        """Every document id that has a text or a metadata file, sorted."""
        return sorted(_stems(self.corpus_dir, (".txt", ".json")))

    def set_names(self) -> list[str]:
        """Annotation sets: the folders under ``annotations/``, sorted."""
        if not self.annotations_dir.is_dir():
            return []
        return sorted(e.name for e in os.scandir(self.annotations_dir) if e.is_dir() and not e.name.startswith("."))

    def annotated_doc_ids(self, set_name: str) -> list[str]:
        """Document ids with an annotation file in a set, sorted."""
        return sorted(_stems(self.annotations_dir / set_name, (".json",)))

    def read_text(self, doc_id: str) -> str:
        """A document's text exactly as stored (no newline translation)."""
        return self.text_path(doc_id).read_bytes().decode("utf-8")

    def read_metadata(self, doc_id: str) -> dict[str, Any]:
        return read_json(self.metadata_path(doc_id))

    def read_annotations(self, set_name: str, doc_id: str) -> dict[str, Any]:
        return read_json(self.annotation_path(set_name, doc_id))

    def iter_documents(self) -> Iterator[tuple[str, dict[str, Any], str]]:
        """(doc_id, metadata, text) for every document, one at a time."""
        for doc_id in self.doc_ids():
            yield doc_id, self.read_metadata(doc_id), self.read_text(doc_id)


def _stems(folder: Path, suffixes: tuple[str, ...]) -> set[str]:
    if not folder.is_dir():
        return set()
    out = set()
    for entry in os.scandir(folder):
        stem, dot, ext = entry.name.rpartition(".")
        if dot and "." + ext in suffixes and not entry.name.startswith(".") and entry.is_file():
            out.add(stem)
    return out


def inside(root: Path | str, real: str) -> bool:
    """Whether the resolved path ``real`` lies in (or is) the resolved folder ``root``."""
    root = str(root)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def kind_of(mode: int) -> str:
    """What a file mode is, in words, for messages."""
    for test, name in ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symlink"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a device"


def refusal(root: Path, path: Path | str, *, folder: bool = False) -> str | None:
    """Why ``path`` may not be read, or ``None`` when it may.

    A symlink is followed only when it stays inside the checkout ``root``: one that leaves it
    is refused unread. Anything but a regular file (a folder with ``folder``) is refused too:
    a named pipe would block a reader forever.
    """
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        if not inside(root, real):
            return f"a symlink to {printable(real)}, outside the repository"
        try:
            st = os.stat(real)
        except OSError:
            return f"a symlink to {printable(real)}, which does not exist"
    wanted, test = ("a folder", stat.S_ISDIR) if folder else ("a file", stat.S_ISREG)
    return None if test(st.st_mode) else f"{kind_of(st.st_mode)}, not {wanted}"


def find_corpus(path: Path) -> Corpus:
    """The corpus containing ``path``: the nearest folder at or above it with ``corpus/`` and ``schema/``.

    Parents are walked as written first, then resolved: ``annotations/<set>/x.json`` belongs to
    the checkout it is written in even when ``x.json`` (or ``<set>/``) is a symlink to elsewhere.
    """
    written = Path(os.path.normpath(os.path.abspath(path)))
    for start in (written, path.resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "corpus").is_dir() and (candidate / "schema").is_dir():
                return Corpus(candidate.resolve())
    raise CorpusNotFound(
        f"{path}: not inside a chipwar corpus (no folder with corpus/ and schema/ at or above it); "
        "run the command from a clone of the chipwar repository or pass its path"
    )
