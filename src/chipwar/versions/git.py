"""The corpus's git history: revisions, release tags, files at a revision, commits and tags.

Only the git commands chipwar needs, each run as ``git -C <corpus root>``, so every path in
and out is relative to the corpus root (a corpus may sit in a sub-folder of its repository).
Files at a revision are listed with their blob ids (equal ids mean equal bytes, so unchanged
files are never read) and read through one ``git cat-file --batch`` process, file by file.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import EnvironmentProblem

#: Folders whose content is the dataset: a change in them is a data or schema change.
DATA_FOLDERS = ("corpus", "annotations", "schema")

#: A release tag: ``vX.Y.Z``.
RELEASE_TAG = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


class GitError(EnvironmentProblem):
    """A git command failed, or the corpus is not in a git repository."""


def blob_id(data: bytes) -> str:
    """The id git gives a file's bytes, so a working-tree file compares with a committed one unread."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Repo:
    """The git repository holding a corpus checkout."""

    root: Path

    def git(self, *args: str) -> str:
        """Run git in the corpus root; raise :class:`GitError` with git's own message on failure."""
        try:
            done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise GitError("git is not installed (or not on PATH)") from None
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

    def resolve(self, rev: str) -> str:
        """The commit a revision or tag names; raise :class:`GitError` saying what to try."""
        try:
            return self.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").strip()
        except GitError:
            raise GitError(f"{rev!r} is not a revision or tag of this repository "
                           "(see `git tag --list 'v*'` and `git log --oneline`; a fresh clone may need `git fetch --tags`)") from None

    def release_tags(self) -> list[str]:
        """Tags named ``vX.Y.Z`` reachable from HEAD (unsorted)."""
        if not self.has_head():
            return []
        return [t for t in self.git("tag", "--list", "v*", "--merged", "HEAD").split() if RELEASE_TAG.match(t)]

    def tag_exists(self, tag: str) -> bool:
        return bool(self.git("tag", "--list", tag).strip())

    def is_shallow(self) -> bool:
        return self.git("rev-parse", "--is-shallow-repository").strip() == "true"

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
        return self.git("rev-parse", "HEAD").strip()

    def annotated_tag(self, tag: str, message: str) -> None:
        self.git("tag", "--annotate", tag, "-m", message)

    def blobs(self) -> BlobReader:
        """A reader of blob contents by id, for use in a ``with`` block."""
        return BlobReader(self.root)


class BlobReader:
    """One ``git cat-file --batch`` process: many files read without a process each."""

    def __init__(self, root: Path) -> None:
        self._proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def read(self, oid: str) -> bytes:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(oid.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) != 3:
            raise GitError(f"git cat-file: cannot read object {oid}: {b' '.join(header).decode()}")
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)
        return data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_repo(root: Path) -> Repo:
    """The repository holding ``root``; raise :class:`GitError` when there is none."""
    repo = Repo(root)
    try:
        repo.git("rev-parse", "--git-dir")
    except GitError:
        raise GitError(f"{root}: not inside a git repository; versions, diffs and releases need the corpus's git history "
                       "(clone it with git)") from None
    return repo

