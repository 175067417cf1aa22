"""Where a command may put its output, and output folders written whole.

- :func:`check_output`: an output never is, contains or sits inside ``corpus/``,
  ``annotations/``, ``schema/``, ``.git`` or the checkout itself.
- :func:`check_output_file`: a file output (a task file, a labeling config) is a file, and
  inside the checkout never replaces one of the checkout's own files: a file git tracks, the
  code and checks (``src/``, ``scripts/``, ``tests/``, ``.ci/``) or the top-level
  :data:`CHECKOUT_FILES`. An earlier output that git does not track may be replaced.
- :class:`FolderBuild` (``chipwar build`` and ``rehydrate``): the folder is staged beside its
  target, marked with the list of files made (:data:`BUILD_MARKER`) and swapped in with one
  atomic exchange; :func:`check_output_folder` lets a folder be replaced only when it is new,
  empty or such a build. ``chipwar publish`` sends exactly the files the marker lists.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import stat
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import orjson

from .corpus import CorpusNotFound, find_corpus
from .errors import EnvironmentProblem, UsageError
from .writer import NAME_MAX, exclusive_lock, fsync_path, replace_file

#: Folders of a corpus checkout that an output must never be, contain or sit inside.
PROTECTED = ("corpus", "annotations", "schema", ".git")
#: Folders of the checkout's code and checks, into which a file output never writes.
CHECKOUT_CODE = ("src", "scripts", "tests", ".ci")
#: Top-level files of the checkout that a file output never replaces (checked with or without git).
CHECKOUT_FILES = ("VERSION", "CHANGELOG.md", "README.md", "DATASHEET.md", "LICENSE", "pyproject.toml")


def check_output(path: Path, root: Path, what: str) -> Path:
    """Refuse an output path that would touch the corpus: it may not be, contain or sit inside
    ``corpus/``, ``annotations/``, ``schema/`` or ``.git/``, nor be or contain the checkout
    itself (``root``). Returns the resolved path."""
    target = path.resolve()
    root = root.resolve()
    guarded = [root / name for name in PROTECTED]
    bad = next((g for g in guarded if target == g or g.is_relative_to(target) or target.is_relative_to(g)), None)
    if bad is None and root.is_relative_to(target):
        bad = root
    if bad is not None:
        raise UsageError(f"{what} {path}: refused, it would overwrite {bad} (the corpus checkout's own files)",
                         hint="write it outside corpus/, annotations/ and schema/, e.g. under dist/")
    return target


def check_output_file(path: Path, root: Path, what: str) -> Path:
    """Refuse a file output that is a folder or a device, that would touch the corpus
    (:func:`check_output`), or that would replace one of the checkout's own files: inside the
    checkout (``root``), a file git tracks, anything under :data:`CHECKOUT_CODE`, or a top-level
    :data:`CHECKOUT_FILES`. Returns the resolved path. Reads only; writes nothing."""
    target = path.resolve()
    if target.is_dir():
        raise UsageError(f"{what} {path}: refused, it is a folder; a file path is needed",
                         hint=f"name the file to write, e.g. {what} {path / 'NAME'}")
    if target.exists() and not target.is_file():
        raise UsageError(f"{what} {path}: refused, it is a device or another thing that is not a regular file; a file path is needed",
                         hint="name a regular file, e.g. dist/tasks.json")
    blocker = next((folder for folder in target.parents if folder.exists() and not folder.is_dir()), None)
    if blocker is not None:
        raise UsageError(f"{what} {path}: refused, {blocker} is a file, not a folder", hint="name a file in a folder")
    check_output(path, root, what)
    root = root.resolve()
    if not target.is_relative_to(root):
        return target
    rel = target.relative_to(root)
    own = (rel.parts[0] in CHECKOUT_CODE if len(rel.parts) > 1 else rel.name.casefold() in {n.casefold() for n in CHECKOUT_FILES})
    if own or _tracked(root, rel):
        why = "a file git tracks in this checkout" if not own else "one of the checkout's own files"
        raise UsageError(f"{what} {path}: refused, it would overwrite {rel}, {why}",
                         hint="write it elsewhere, e.g. under dist/ (an earlier output git does not track may be replaced)")
    return target


def _tracked(root: Path, rel: Path) -> bool:
    """Whether git tracks ``rel`` in the checkout at ``root`` (False without git, or outside a repository)."""
    try:
        done = subprocess.run(["git", "ls-files", "--error-unmatch", "--", str(rel)], cwd=root, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


# --- Output folders written whole (``chipwar build``, ``chipwar rehydrate``) -----------------------------------

#: The file a folder written by :class:`FolderBuild` holds: what made it and every file it made, so that
#: only such a folder is ever replaced, and only the files it lists are published.
BUILD_MARKER = ".chipwar-build.json"
STAGING_TAG = ".chipwar-staging-"
OLD_TAG = ".chipwar-old-"
#: Room a folder's name leaves for the staging suffix inside :data:`NAME_MAX`.
_SUFFIX_ROOM = len(STAGING_TAG) + 16


def _safe_member(name: object) -> bool:
    """A marker entry names a plain file inside the folder: relative, no ``..``, nothing hidden."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name:
        return False
    return all(part and not part.startswith(".") for part in name.split("/"))


def read_build_marker(folder: Path) -> dict | None:
    """The marker of a folder chipwar built, or ``None`` when it has none (or one that is not ours)."""
    path = folder / BUILD_MARKER
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list) or not all(map(_safe_member, data["files"])):
        return None
    return data


def _walk_error(exc: OSError) -> None:
    raise EnvironmentProblem(f"{exc.filename}: cannot be read ({exc.strerror})", hint="check the folder's permissions")


def _members(folder: Path) -> Iterator[str]:
    """Every non-folder entry under ``folder`` (files, links, pipes), relative, without following links."""
    for dirpath, dirnames, filenames in os.walk(folder, onerror=_walk_error):
        base = Path(dirpath).relative_to(folder)
        for name in sorted(filenames) + sorted(d for d in dirnames if os.path.islink(os.path.join(dirpath, d))):
            yield (base / name).as_posix()


def check_output_folder(path: Path, what: str, made_by: str | None = None) -> Path:
    """Refuse an output folder that a build must not replace; return it resolved.

    A folder is replaced only when it is missing, empty, or an earlier chipwar build that still
    holds only the files it made (its :data:`BUILD_MARKER` lists them) and, given ``made_by``,
    was made by that command (a review never replaces a dataset, nor an export a review):
    anything else would be lost. Nor may it be a file, or sit inside a chipwar build. Reads
    only; writes nothing.
    """
    out = path.resolve()
    if len(os.fsencode(out.name)) > NAME_MAX - _SUFFIX_ROOM:
        raise UsageError(f"{what} {path}: folder name too long for its staging folder beside it", hint="use a shorter name")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{what} {path}: is a file, not a folder; refused", hint="pass a folder, e.g. dist/chipwar")
    inside = next((p for p in out.parents if read_build_marker(p) is not None), None)
    if inside is not None:
        raise UsageError(f"{what} {path}: sits inside the chipwar build {inside}; refused (the next build there would lose it)",
                         hint="write it beside that folder, not inside it")
    if not out.is_dir():
        return out
    marker = read_build_marker(out)
    try:
        with os.scandir(out) as entries:
            present = sorted(e.name for _, e in zip(range(4), entries, strict=False))
    except OSError as exc:
        raise EnvironmentProblem(f"{what} {path}: cannot be read ({exc.strerror})", hint="check the folder's permissions") from None
    if marker is None and present:
        shown = ", ".join(present[:3]) + (", …" if len(present) > 3 else "")
        raise UsageError(f"{what} {path}: refused, the folder holds files chipwar did not build ({shown}); replacing it would lose them",
                         hint="pass a new or empty folder, or one an earlier `chipwar build` wrote (a build by a chipwar "
                              f"too old to write {BUILD_MARKER} must be removed by hand first)")
    if marker is None:
        return out
    if made_by is not None and marker.get("made_by", made_by) != made_by:
        raise UsageError(f"{what} {path}: refused, it holds the output of {marker.get('made_by')}, not of {made_by}; replacing it "
                         "would lose it", hint="pass a new or empty folder, or one an earlier run of this command wrote")
    listed = {BUILD_MARKER, *marker["files"]}
    extra = []
    for member in _members(out):
        if member not in listed:
            extra.append(member)
            if len(extra) > 3:
                break
    if extra:
        shown = ", ".join(extra[:3]) + (", …" if len(extra) > 3 else "")
        raise UsageError(f"{what} {path}: refused, this earlier chipwar build now also holds files it did not make ({shown}); "
                         "replacing it would lose them", hint="move them out of the folder (or remove them), then run again")
    return out


def check_out(out: Path, corpus_root: Path | None, made_by: str, what: str = "--out") -> Path:
    """Refuse an output folder before anything is read or written; return it resolved.

    It may not be, contain or sit inside the files of the corpus at ``corpus_root`` nor of any
    checkout around it (:func:`check_output`), and must be new, empty or an earlier output of
    the command ``made_by`` (:func:`check_output_folder`).
    """
    roots = [corpus_root] if corpus_root is not None else []
    try:
        roots.append(find_corpus(out).root)
    except CorpusNotFound:
        pass
    for root in roots:
        check_output(out, root, what)
    return check_output_folder(out, what, made_by)


@contextmanager
def locked_folder(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (``flock`` on its descriptor; waits for another
    holder). No lock file is made, and the kernel releases it when the process dies."""
    with exclusive_lock(folder, folder=True):
        yield


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); ``False`` when the
    system or the file system cannot, so the caller falls back to two renames."""
    func = getattr(_libc(), "renameat2", None)
    if func is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


#: Files flushed at once by :func:`_sync_tree`: the disk queues the flushes, and a site of 20,000 pages is not flushed
#: one file after another (measured: 2,269 files took 5.5 s in turn, 0.3 s 16 at a time).
SYNC_THREADS = 16


def _sync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` to disk, so the swap never shows a torn build."""
    folders, files = [], []
    for dirpath, _, filenames in os.walk(folder):
        folders.append(Path(dirpath))
        files += [os.path.join(dirpath, name) for name in filenames]
    with ThreadPoolExecutor(max_workers=SYNC_THREADS) as pool:
        list(pool.map(fsync_path, files))  # list(): an error of any flush is raised here
    for path in folders:
        fsync_path(path)


class FolderBuild:
    """A folder written whole beside its target, then put in its place.

    ``with FolderBuild(out, info) as staging:`` — the caller writes into ``staging``. On
    entry, holding the lock of ``out``'s parent folder (:func:`locked_folder`; a concurrent
    build there waits), it finishes what a killed build left: a previous build moved aside
    by an interrupted two-rename swap is put back, stale staging folders are removed
    (``.<name>.chipwar-staging-…``; no live build's, since each holds the lock). On a clean
    exit it writes :data:`BUILD_MARKER` (``info`` plus the files made), flushes everything
    and swaps the staging folder in with one atomic exchange, so ``out`` is at every moment
    the old build or the new one; the old one is then removed. On an error the staging
    folder is removed and ``out`` is untouched. ``out`` must have passed
    :func:`check_output_folder`; it is checked again under the lock.
    """

    def __init__(self, out: Path, info: dict, what: str = "--out") -> None:
        self.out = out.resolve()
        self.info = info
        self.what = what
        self.files: list[str] = []
        self.recovered: list[str] = []
        self.replaced = False
        self._stack = ExitStack()
        self._staging: Path | None = None

    def _siblings(self, tag: str) -> list[Path]:
        prefix = f".{self.out.name}{tag}"
        return sorted(Path(e.path) for e in os.scandir(self.out.parent) if e.name.startswith(prefix))

    def _made_by(self) -> str:
        """The command whose output this is, as messages name it (``chipwar review``), or "build"."""
        return str(self.info.get("made_by") or "build")

    def _recover(self) -> None:
        olds = self._siblings(OLD_TAG)
        if olds and not self.out.exists():
            os.rename(olds[0], self.out)
            self.recovered.append(f"put back {self.out}, moved aside by a {self._made_by()} killed while swapping")
            olds = olds[1:]
        for stale in olds + self._siblings(STAGING_TAG):
            shutil.rmtree(stale)
            self.recovered.append(f"removed {stale.name}, left by a killed {self._made_by()}")

    def __enter__(self) -> Path:
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EnvironmentProblem(f"{self.what} {self.out}: cannot make its folder ({exc.strerror})",
                                     hint="check the path and its permissions") from None
        self._stack.enter_context(locked_folder(self.out.parent))
        try:
            self._recover()
            check_output_folder(self.out, self.what, self.info.get("made_by"))
            self._staging = self.out.with_name(f".{self.out.name}{STAGING_TAG}{secrets.token_hex(6)}")
            self._staging.mkdir(mode=0o777)  # less the umask, like any new folder (never mkdtemp's 0700)
        except BaseException as exc:
            self._stack.close()
            self._environment(exc)
            raise
        return self._staging

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        staging = self._staging
        assert staging is not None
        with self._stack:
            if exc_type is not None:
                shutil.rmtree(staging, ignore_errors=True)
                self._environment(exc)
                return
            try:
                self.files = sorted(m for m in _members(staging) if m != BUILD_MARKER)
                marker = orjson.dumps({**self.info, "files": self.files}, option=orjson.OPT_INDENT_2) + b"\n"
                replace_file(staging / BUILD_MARKER, marker)
                _sync_tree(staging)
                self.replaced = read_build_marker(self.out) is not None
                self._swap(staging)
            except BaseException as failed:
                shutil.rmtree(staging, ignore_errors=True)
                self._environment(failed)
                raise

    def _environment(self, exc: BaseException | None) -> None:
        """A file system error while writing (no space, no permission) is the environment's, not a bug."""
        if isinstance(exc, OSError):
            raise EnvironmentProblem(f"{self.what} {self.out}: writing it failed ({exc.strerror or exc}); the earlier folder, "
                                     "if any, is unchanged", hint="check the free space and the folder's permissions") from None

    def _swap(self, staging: Path) -> None:
        """Put ``staging`` in place of ``out``; remove what was there."""
        if not self.out.exists():
            os.rename(staging, self.out)
            fsync_path(self.out.parent)
            return
        if _exchange(staging, self.out):
            old = staging  # after the exchange it holds the previous build
        else:
            old = self.out.with_name(f".{self.out.name}{OLD_TAG}{secrets.token_hex(6)}")
            os.rename(self.out, old)  # a crash here leaves the old build aside; the next build puts it back
            os.rename(staging, self.out)
        fsync_path(self.out.parent)
        shutil.rmtree(old)
