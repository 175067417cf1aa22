"""Listing the corpus folders once, safely: which files may be read, and a problem for each one refused.

A symlink that leaves the repository, a folder or pipe where a file belongs, and a file name
that is not a document id are reported and never read. What an interrupted write left in a
folder is noted while listing it.
"""

from __future__ import annotations

import os
import sys
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..corpus import Corpus, kind_of, refusal
from ..ids import DOC_ID, MAX_LENGTH, SET_NAME
from ..report import Problem, printable, short
from ..writer import TEMP_PREFIX
from .scope import Scope, valid


class Names(tuple):
    """Names, sorted, with ``in`` by bisection: 8 bytes a name where a set takes some 50."""

    __slots__ = ()

    def __new__(cls, names: Iterable[str]) -> Names:
        return super().__new__(cls, sorted(names))

    def __contains__(self, name: object) -> bool:
        i = bisect_left(self, name)  # type: ignore[call-overload]
        return i < len(self) and self[i] == name


class Files:
    """The readable files of a folder, as a mapping name -> whether it is a symlink inside the
    repository, held small: a corpus of 200,000 documents lists 600,000 files, and every worker
    holds the listing. A plain file is its stem (interned: one string per document across the
    corpus and every set) in the set of its suffix; the rare symlinks are kept by name."""

    def __init__(self) -> None:
        self._plain: dict[str, set[str]] = {}  # suffix (".json") -> stems
        self._links: dict[str, bool] = {}

    def add(self, name: str, stem: str, link: bool) -> None:
        if link:
            self._links[name] = True
        else:
            self._plain.setdefault(name[len(stem):], set()).add(sys.intern(stem))

    def freeze(self) -> None:
        """Listing done: the sets become sorted :class:`Names`, far smaller."""
        self._plain = {suffix: Names(stems) for suffix, stems in self._plain.items()}  # type: ignore[misc]

    def get(self, name: str, default: bool | None = None) -> bool | None:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem in self._plain.get(dot + suffix, ()):
            return False
        return self._links.get(name, default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        for suffix, stems in self._plain.items():
            yield from (stem + suffix for stem in stems)
        yield from self._links

    def __len__(self) -> int:
        return sum(map(len, self._plain.values())) + len(self._links)


@dataclass
class Folder:
    """A folder of the corpus, listed once: the files that may be read (name -> whether it is a
    symlink inside the repository) and, by file name, the problem of each one refused.

    Paths are plain strings: building and relativising a ``Path`` per file cost as much as
    parsing the file. ``file(name)`` equals ``(str(folder / name), corpus.rel(folder / name))``.
    """

    path: str
    rel: str
    files: Files = field(default_factory=Files)
    refused: dict[str, Problem] = field(default_factory=dict)
    staging: list[str] = field(default_factory=list)  # what an interrupted write left (see chipwar.writer)
    stems: set[str] | Names = field(default_factory=set)  # document ids with a file here, read or refused

    def file(self, name: str) -> tuple[str, str]:
        return os.path.join(self.path, name), f"{self.rel}/{name}"


def folder_refusal(root: str, path: str) -> str | None:
    """Why a corpus folder may not be listed; ``None`` also when it does not exist (it is then empty)."""
    return None if not os.path.lexists(path) else refusal(Path(root), path, folder=True)


def list_folder(root: str, path: str, rel: str, suffix: tuple[str, ...]) -> Folder:
    """List a folder of documents or annotation files (names ending in ``suffix``)."""
    folder = Folder(path, rel)
    try:
        entries = os.scandir(path) if os.path.isdir(path) else iter(())  # read lazily: one entry at a time in memory
    except OSError as exc:
        folder.refused[""] = Problem("unreadable", f"cannot list the folder ({exc.strerror})", rel, hint="check its permissions")
        return folder
    is_id = DOC_ID.fullmatch
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            if name.startswith(TEMP_PREFIX):
                folder.staging.append(name)
            continue
        if not name.endswith(suffix):
            continue
        stem = sys.intern(name.rpartition(".")[0])
        folder.stems.add(stem)
        if len(stem) <= MAX_LENGTH and is_id(stem) and entry.is_file(follow_symlinks=False):
            folder.files.add(name, stem, False)  # the usual entry: a plain file with a good name
        elif len(stem) > MAX_LENGTH or not is_id(stem):
            folder.refused[name] = Problem("bad_file_name", "file name is not '<doc_id>' plus its extension", f"{rel}/{printable(name)}",
                                           expected=f"a document id matching {DOC_ID.pattern}", found=short(printable(stem)),
                                           hint="rename it to its document id (lowercase letters, digits, hyphens), or move it out")
        elif entry.is_symlink():
            why = refusal(Path(root), entry.path)
            if why is None:
                folder.files.add(name, stem, True)
            else:
                folder.refused[name] = refused(f"{rel}/{name}", stem, why)
        else:
            try:
                kind = kind_of(entry.stat(follow_symlinks=False).st_mode)
            except OSError:
                kind = "not a file"
            folder.refused[name] = refused(f"{rel}/{name}", stem, f"{kind}, not a file")
    folder.files.freeze()
    folder.stems = Names(folder.stems)
    return folder


def refused(rel: str, doc_id: str | None, why: str) -> Problem:
    """The problem for a file or folder refused, not read, for the reason ``why``."""
    code = "symlink_outside" if "outside the repository" in why else "not_a_file"
    return Problem(code, f"refused, not read: {why}", rel, doc_id, expected="a regular file or folder (a symlink only inside the repository)",
                   found=why.partition(",")[0], hint="replace it with the file or folder itself, inside the repository")


def list_sets(corpus: Corpus, scope: Scope, root: str) -> tuple[list[Folder], list[Problem]]:
    """The annotation sets in scope, listed; problems for those that may not be read."""
    problems: list[Problem] = []
    base = str(corpus.annotations_dir)
    why = folder_refusal(root, base)
    if why is not None:
        return [], [refused("annotations", None, why)]
    if not os.path.isdir(base):
        return [], []
    names = sorted(e.name for e in os.scandir(base) if not e.name.startswith(".") and e.is_dir())
    if scope.sets is not None:
        missing = [s for s in scope.sets if s not in names]
        problems += [Problem("missing_set", "no such annotation set", f"annotations/{s}", hint="check the set name") for s in missing]
        names = [s for s in names if s in scope.sets]
    folders = []
    for name in names:
        rel, path = f"annotations/{printable(name)}", os.path.join(base, name)
        if not valid(name, SET_NAME):
            problems.append(Problem("bad_set_name", "annotation set folder name is not a valid set name", rel,
                                    expected=f"a name matching {SET_NAME.pattern}", found=short(printable(name)),
                                    hint="rename the folder (lowercase letters, digits, '-', '_'), or move it out of annotations/"))
            continue
        why = folder_refusal(root, path)
        if why is not None:
            problems.append(refused(rel, None, why))
            continue
        folders.append(list_folder(root, path, rel, (".json",)))
    return folders, problems
