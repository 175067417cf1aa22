"""The corpus's git history: revisions, release tags, files at a revision, commits and tags.

Only the git commands chipwar needs, each run as ``git -C <corpus root>``, so every path in
and out is relative to the corpus root (a corpus may sit in a sub-folder of its repository).
Files at a revision are listed with their blob ids (equal ids mean equal bytes, so unchanged
files are never read) and read through one ``git cat-file --batch`` process, file by file.

Every failure — git missing, not a repository, an unknown revision, a command git refuses —
is a :class:`GitError` (exit 2) with git's own words, never an exception of Python's.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import EnvironmentProblem
from ..report import short
from ..writer import exclusive_lock

#: Folders whose content is the dataset: a change in them is a data or schema change.
DATA_FOLDERS = ("corpus", "annotations", "schema")

_COMMIT_ID = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_NO_GIT = "git is not installed (or not on PATH)"
_INSTALL_GIT = "install git (e.g. `apt-get install git`) or put it on PATH"


class GitError(EnvironmentProblem):
    """A git command failed, or the corpus is not in a git repository."""


def blob_id(data: bytes) -> str:
    """The id git gives a file's bytes, so a working-tree file compares with a committed one unread."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class VersionChange:
    """A commit that set a file (``VERSION``) to the bytes of blob ``blob``."""

    commit: str
    blob: str


@dataclass(frozen=True)
class Repo:
    """The git repository holding a corpus checkout."""

    root: Path

    def git(self, *args: str) -> str:
        """Run git in the corpus root; raise :class:`GitError` with git's own message on failure."""
        if any("\0" in a for a in args):
            raise GitError(f"git {' '.join(map(short, args))}: an argument holds a NUL character", hint="pass plain revision names")
        try:
            done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, encoding="utf-8", errors="replace", check=False)
        except FileNotFoundError:
            raise GitError(_NO_GIT, hint=_INSTALL_GIT) from None
        except OSError as exc:
            raise GitError(f"git could not be run: {exc.strerror}", hint=_INSTALL_GIT) from None
        if done.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {done.stderr.strip() or f'exit {done.returncode}'}")
        return done.stdout

    def has_head(self) -> bool:
        """Whether there is a commit yet."""
        try:
            self.git("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        except GitError:
            return False
        return True

    def head(self) -> str:
        """The commit HEAD names."""
        return self.git("rev-parse", "--verify", "HEAD^{commit}").strip()

    def branch(self) -> str | None:
        """The branch HEAD is on, or None on a detached HEAD."""
        try:
            return self.git("symbolic-ref", "--quiet", "--short", "HEAD").strip() or None
        except GitError:
            return None

    def resolve(self, rev: str) -> str:
        """The commit a revision or tag names; raise :class:`GitError` saying what to try."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").strip()
        except GitError:
            raise GitError(f"{short(rev)} is not a revision or tag of this repository",
                           hint="see `git tag --list 'v*'` and `git log --oneline`; a fresh clone may need `git fetch --tags`") from None

    def release_tags(self) -> list[str]:
        """Tags named ``v*`` reachable from HEAD (unsorted; the caller keeps the ``vX.Y.Z`` ones)."""
        if not self.has_head():
            return []
        return self.git("tag", "--list", "v*", "--merged", "HEAD").split()

    def tag_exists(self, tag: str) -> bool:
        return bool(self.git("tag", "--list", tag).strip())

    def is_shallow(self) -> bool:
        return self.git("rev-parse", "--is-shallow-repository").strip() == "true"

    def shallow_boundary(self) -> set[str]:
        """The commits a shallow clone was cut at: their parents are missing, so what they changed is unknown."""
        if not self.is_shallow():
            return set()
        path = Path(self.git("rev-parse", "--git-path", "shallow").strip())
        try:
            return set((path if path.is_absolute() else self.root / path).read_text("ascii", errors="replace").split())
        except OSError:
            return set()

    def changes_of(self, path: str) -> list[VersionChange]:
        """Commits reachable from HEAD that set ``path`` (relative to the corpus root), newest first.

        One ``git log`` walk limited to the path: fast on a long history, whose few matching
        commits are all it returns. Merges and deletions of the file are left out.
        """
        if not self.has_head():
            return []
        out: list[VersionChange] = []
        commit = None
        for line in self.git("log", "--no-merges", "--full-history", "--format=%H", "--raw", "--no-abbrev", "--no-renames",
                             "HEAD", "--", path).splitlines():
            if _COMMIT_ID.match(line):
                commit = line
            elif line.startswith(":") and commit:
                fields = line.split("\t", 1)[0].split()
                if len(fields) >= 5 and fields[4] != "D":
                    out.append(VersionChange(commit, fields[3]))
        return out

    def tree(self, rev: str, folders: tuple[str, ...] = DATA_FOLDERS) -> dict[str, str]:
        """``{path: blob id}`` of every file under ``folders`` at ``rev``."""
        out: dict[str, str] = {}
        for row in self.git("ls-tree", "-r", "-z", self.resolve(rev), "--", *folders).split("\0"):
            meta, tab, path = row.partition("\t")
            if tab and meta.split()[1] == "blob":
                out[path] = meta.split()[2]
        return out

    def changed_since(self, rev: str, folders: tuple[str, ...] = DATA_FOLDERS) -> list[str]:
        """Files under ``folders`` that differ between ``rev`` and the working tree, untracked ones included."""
        changed = set(self.git("diff", "--name-only", "--relative", "-z", self.resolve(rev), "--", *folders).split("\0"))
        changed |= set(self.git("ls-files", "--others", "--exclude-standard", "-z", "--", *folders).split("\0"))
        return sorted(changed - {""})

    def uncommitted(self, paths: tuple[str, ...]) -> list[str]:
        """Paths under ``paths`` with uncommitted changes (staged, unstaged or untracked)."""
        rows = self.git("status", "--porcelain", "-z", "--untracked-files=all", "--", *paths).split("\0")
        return sorted(row[3:] for row in rows if len(row) > 3)

    def commit_paths(self, message: str, paths: tuple[str, ...]) -> str:
        """Commit exactly ``paths`` as they are in the working tree (other staged work stays staged)."""
        self.git("commit", "--quiet", "-m", message, "--only", "--", *paths)
        return self.head()

    def undo_commit(self, commit: str, parent: str, paths: tuple[str, ...]) -> None:
        """Take back a commit of :meth:`commit_paths`: the branch to ``parent`` (only while it is still
        at ``commit``) and the index entries of ``paths`` to ``parent``'s; the working tree is the caller's."""
        self.git("update-ref", "-m", "chipwar: undo a release commit", "HEAD", parent, commit)
        self.git("reset", "--quiet", parent, "--", *paths)

    @contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold the exclusive lock ``<git dir>/name`` (waits for another chipwar holding it; the kernel frees it if the process dies)."""
        with exclusive_lock(Path(self.git("rev-parse", "--absolute-git-dir").strip()) / name):
            yield

    def annotated_tag(self, tag: str, message: str) -> None:
        self.git("tag", "--annotate", tag, "-m", message)

    def blobs(self) -> BlobReader:
        """A reader of blob contents by id, for use in a ``with`` block."""
        return BlobReader(self.root)


class BlobReader:
    """One ``git cat-file --batch`` process: many files read without a process each."""

    def __init__(self, root: Path) -> None:
        try:
            self._proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            raise GitError(_NO_GIT, hint=_INSTALL_GIT) from None
        except OSError as exc:
            raise GitError(f"git could not be run: {exc.strerror}", hint=_INSTALL_GIT) from None

    def lookup(self, name: str) -> tuple[str, bytes] | None:
        """An object's id and bytes — by id, or by a name such as ``<commit>:./<path>`` (relative to the
        corpus root) or ``<commit>~3`` — or None when there is no such object in this clone."""
        if "\n" in name or "\0" in name:
            return None
        assert self._proc.stdin and self._proc.stdout
        try:
            self._proc.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
            self._proc.stdin.flush()
            header = self._proc.stdout.readline().split()
            if header[-1:] in ([b"missing"], [b"ambiguous"]):
                return None
            if len(header) != 3 or not header[2].isdigit():
                raise GitError(f"git cat-file: cannot read {short(name)}: {short(b' '.join(header).decode('utf-8', 'replace'))}")
            data = self._proc.stdout.read(int(header[2]))
            self._proc.stdout.read(1)
        except OSError as exc:
            raise GitError(f"git cat-file stopped while reading {short(name)}: {exc.strerror or exc}") from None
        return header[0].decode("ascii", "replace"), data

    def find(self, name: str) -> bytes | None:
        """The bytes of an object (see :meth:`lookup`), or None."""
        found = self.lookup(name)
        return found[1] if found else None

    def read(self, oid: str) -> bytes:
        """The bytes of a blob that must exist."""
        data = self.find(oid)
        if data is None:
            raise GitError(f"git cat-file: object {oid} is missing from this clone", hint="`git fetch` the missing history")
        return data

    def close(self) -> None:
        if self._proc.stdin:
            try:
                self._proc.stdin.close()
            except OSError:
                pass  # the process is gone already: nothing left to tell it
        self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_repo(root: Path) -> Repo:
    """The repository holding ``root``; raise :class:`GitError` when there is none (or no git)."""
    repo = Repo(root)
    try:
        repo.git("rev-parse", "--git-dir")
    except GitError as exc:
        if exc.message == _NO_GIT:
            raise
        raise GitError(f"{root}: not inside a git repository; versions, diffs and releases need the corpus's git history",
                       hint="run it in a clone made with `git clone` (a source archive has no history)") from None
    return repo
