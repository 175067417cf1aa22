"""Listing the corpus folders once, safely: which files may be read, and a problem for each one refused.

A symlink that leaves the repository, a folder or pipe where a file belongs, and a file name
that is not a document id are reported and never read. What an interrupted write left in a
folder is noted while listing it.
"""

from __future__ import annotations

import heapq
import os
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..corpus import Corpus, kind_of, refusal
from ..ids import DOC_ID, MAX_LENGTH, SET_NAME
from ..report import Problem, printable, short
from ..writer import TEMP_PREFIX
from .scope import Scope, valid


class Names(Sequence[str]):
    """Names, sorted, held as one UTF-8 blob and its offsets (some 14 bytes a name, where a set of
    strings takes over 150): ``in`` by bisection, items and slices decoded when taken. A corpus of
    200,000 documents is listed in every worker, so the listing must not grow with it by much."""

    def __init__(self, names: Iterable[str], *, ordered: bool = False) -> None:
        blob, offsets = bytearray(), array("I", [0])  # a listing of names under 4 GiB
        for name in names if ordered else sorted(names):
            blob += name.encode("utf-8", "surrogateescape")  # a file name the file system gave undecoded
            offsets.append(len(blob))
        self._blob, self._offsets = bytes(blob), offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _at(self, i: int) -> str:
        return self._blob[self._offsets[i]:self._offsets[i + 1]].decode("utf-8", "surrogateescape")

    def __getitem__(self, i: int | slice) -> Any:  # type: ignore[override]
        if isinstance(i, slice):
            return [self._at(k) for k in range(*i.indices(len(self)))]
        return self._at(i if i >= 0 else len(self) + i)

    def __contains__(self, name: object) -> bool:
        i = bisect_left(self, name)  # type: ignore[arg-type]
        return i < len(self) and self._at(i) == name

    def __iter__(self) -> Iterator[str]:
        return (self._at(k) for k in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Names) and self._offsets == other._offsets and self._blob == other._blob

    __hash__ = None  # type: ignore[assignment]

    def same_as(self, others: Iterable[Names]) -> Names:
        """This, or an equal one of ``others`` to hold instead (a clean corpus lists the same ids
        for every suffix and every set: they are then held once)."""
        return next((other for other in others if other == self), self)


class _Runs:
    """Names gathered unsorted, kept as sorted :class:`Names` runs of :data:`RUN` names each (an
    external sort): listing a folder of 200,000 files never holds more than a run as strings."""

    RUN = 8192

    def __init__(self) -> None:
        self.runs: list[Names] = []
        self.pending: list[str] = []

    def add(self, name: str) -> None:
        self.pending.append(name)
        if len(self.pending) >= self.RUN:
            self.runs.append(Names(self.pending))
            self.pending = []

    def merged(self) -> Iterator[str]:
        """Every name, sorted, each once."""
        return (name for name, _ in groupby(heapq.merge(*self.runs, sorted(self.pending))))


class Files:
    """The readable files of a folder, as a mapping name -> whether it is a symlink inside the
    repository, held small: a corpus of 200,000 documents lists 600,000 files, and every worker
    holds the listing. Plain files are their stems, by suffix, as :class:`Names` once listing is
    done; the rare symlinks are kept by name."""

    def __init__(self) -> None:
        self._plain: dict[str, Names] = {}  # suffix (".json") -> stems, once listing is done
        self._runs: dict[str, _Runs] = {}  # while listing
        self._links: dict[str, bool] = {}

    def add(self, name: str, stem: str, link: bool) -> None:
        if link:
            self._links[name] = True
        else:
            self._runs.setdefault(name[len(stem):], _Runs()).add(stem)

    def freeze(self) -> None:
        """Listing done: each suffix's stems become one sorted :class:`Names`."""
        while self._runs:  # one suffix at a time, its runs let go as soon as they are merged
            suffix, runs = self._runs.popitem()
            merged = Names(runs.merged(), ordered=True)
            del runs
            self._plain[suffix] = merged.same_as(self._plain.values())

    def listed(self) -> list[Names]:
        """The stems of each suffix."""
        return list(self._plain.values())

    def links(self) -> list[str]:
        """The names of the symlinks (inside the repository) among the files."""
        return list(self._links)

    def stems(self) -> Iterator[str]:
        """Every plain file's stem, sorted, each once."""
        return (stem for stem, _ in groupby(heapq.merge(*self._plain.values())))

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
    stems: Names = field(default_factory=lambda: Names(()))  # document ids with a file here, read or refused

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
        stem = name.rpartition(".")[0]
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
    others = sorted({name.rpartition(".")[0] for name in (*folder.refused, *folder.files.links())})  # the rare ones
    listed = folder.files.listed()
    if not others and len({id(names) for names in listed}) == 1:  # the usual folder: every suffix has the same stems
        folder.stems = listed[0]
    else:
        folder.stems = Names((s for s, _ in groupby(heapq.merge(folder.files.stems(), others))), ordered=True).same_as(listed)
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
