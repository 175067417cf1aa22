"""Every file chipwar writes goes through here: staged, then put in place all or nothing.

A :class:`Transaction` collects the files a command wants to write. :meth:`Transaction.commit`
then, holding an exclusive lock on the transaction's root (``.chipwar.lock``, released by the
kernel when the process dies, so it never goes stale):

(The lock and the journal live in ``.git/`` when the root is a git checkout, so they never
show as untracked files; otherwise in the root itself.)

1. finishes any earlier transaction that a crash interrupted (:func:`recover`) and removes
   stale staging files a killed run left behind;
2. refuses, before anything is written, a file marked ``create_only`` that already exists
   (two ``chipwar intake`` of one document id: the second fails), and a file that is no longer
   what the command read while planning (:meth:`Transaction.expect`: two ``chipwar reanchor``
   of one document at once, two imports into one set): every file the plan was made from is
   checked, so a plan is written only onto the files it was made from — never over another
   run's work. A file that already holds exactly what would be written is left as it is;
3. writes every file to a staging file beside its target (``.chipwar-tmp-…``), flushed to
   disk, with ordinary permissions (0644 under the usual umask, never mkstemp's 0600);
4. writes a journal (``.chipwar-journal.json``) naming each staging file and its target,
5. renames each staging file over its target, then removes the journal.

A crash before step 4 leaves every target as it was (the staging files are removed by the
next run); a crash after it leaves a journal that the next run — any command that writes, or
:func:`recover` — rolls forward, so the files always end up all old or all new. Readers that
meet a journal (``chipwar validate``) report it.

A target whose file name is too long for the file system, or where a folder stands, is refused
before step 3, since its rename would fail after the others.

Outputs outside the corpus (a build folder, a task file) are guarded by :mod:`chipwar.outputs`.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import orjson

from .errors import EnvironmentProblem, UsageError
from .report import cut

#: The usual file-name limit in bytes, for file systems that do not say theirs.
NAME_MAX = 255
LOCK_NAME = ".chipwar.lock"
JOURNAL_NAME = ".chipwar-journal.json"
TEMP_PREFIX = ".chipwar-tmp-"


#: What :func:`current` gives for a path that exists but is not a regular file (a folder, a link, a pipe).
NOT_A_FILE = "not a regular file"

#: A file's content as read (``None``: it does not exist; :data:`NOT_A_FILE`: something else is there).
Content = bytes | str | None


class AlreadyExists(UsageError):
    """A file that must be new already exists."""

    code = "already_exists"


class ChangedMeanwhile(EnvironmentProblem):
    """A file a command read while planning changed before it could write: nothing was written.

    ``found`` holds, for each such file, what it holds now (read under the lock).
    """

    code = "changed_meanwhile"

    def __init__(self, root: Path, expected: dict[Path, Content], found: dict[Path, Content]) -> None:
        def how(path: Path) -> str:
            now = found[path]
            what = ("now exists" if expected[path] is None else "was removed" if now is None
                    else "is no longer a regular file" if now == NOT_A_FILE else "was changed")
            return f"{path.relative_to(root)} ({what})"

        super().__init__(f"{', '.join(map(how, sorted(found)))}: changed while this command ran (by another chipwar, or an editor); "
                         "nothing written; run it again",
                         hint="run the same command again: it reads the files anew (check first that the other change is one to keep)")
        self.found = found


def current(path: Path) -> Content:
    """What ``path`` holds now, without following a link: its bytes, ``None`` when nothing is there, else :data:`NOT_A_FILE`."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot be read ({exc.strerror})", hint="check its permissions") from None
    if not stat.S_ISREG(mode):
        return NOT_A_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot be read ({exc.strerror})", hint="check its permissions") from None


def _state_dir(root: Path) -> Path:
    """Where a root's lock and journal live: ``.git/`` in a git checkout, else the root."""
    git = root / ".git"
    return git if git.is_dir() else root


def file_mode() -> int:
    """The mode an ordinary new file gets here: 0666 less the umask (0644 under the usual 022)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def exclusive_lock(path: Path, *, folder: bool = False, shared: bool = False) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path``: a lock file (made when missing) or, with ``folder``,
    the folder itself. Waits for another holder; the kernel releases it when the process dies,
    so a lock never goes stale. ``shared``: a shared lock instead, held by any number of readers
    at once, which waits only for an exclusive holder."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY) if folder else os.open(path, os.O_RDWR | os.O_CREAT, file_mode())
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot be opened to lock it ({exc.strerror})", hint="check its permissions") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``root`` (waits for another chipwar writing there)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"{root}: cannot write here ({exc.strerror})", hint="check the folder's permissions") from None
    with exclusive_lock(_state_dir(root) / LOCK_NAME):
        yield


@contextmanager
def reading(root: Path) -> Iterator[None]:
    """Hold the lock of ``root`` shared while a command reads the files it will plan a write from:
    a transaction being committed there is waited for, so they are never seen half old and half
    new. (What changes after is caught by :meth:`Transaction.expect`.) Makes no lock file: where
    there is none, nothing was ever written by chipwar, and a command that ends up writing nothing
    leaves the checkout as it was."""
    lock = _state_dir(root) / LOCK_NAME
    if not lock.is_file():
        yield
        return
    with exclusive_lock(lock, shared=True):
        yield


def fsync_path(path: Path | str) -> None:
    """Flush a file's or a folder's content (a folder's: its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(path: Path, data: bytes, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}"  # short: the target name may be near the limit
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def recover(root: Path, folders: list[Path] | None = None) -> list[str]:
    """Finish an interrupted transaction under ``root`` and remove stale staging files.

    Call with the lock held. Returns what was done, a line each (empty when nothing was).
    ``folders`` are searched for stale staging files besides those the journal names.
    """
    done: list[str] = []
    journal = _state_dir(root) / JOURNAL_NAME
    entries: list[list[str]] = []
    if journal.is_file():
        try:
            entries = orjson.loads(journal.read_bytes())
        except ValueError:
            entries = []  # written before its renames only when complete; a torn journal means nothing was renamed
        for tmp_rel, target_rel in entries:
            tmp, target = root / tmp_rel, root / target_rel
            if tmp.is_file():
                os.replace(tmp, target)
                done.append(f"finished an interrupted write: {target_rel}")
        journal.unlink()
    search = {Path(root / t).parent for _, t in entries} | set(folders or ())
    for folder in search:
        if folder.is_dir():
            for entry in os.scandir(folder):
                if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    done.append(f"removed a staging file a killed run left: {Path(entry.path).relative_to(root)}")
    return done


def leftovers(root: Path, folders: list[Path]) -> list[Path]:
    """A journal or staging files under ``root`` that an interrupted write left (for checks to report)."""
    journal = _state_dir(root) / JOURNAL_NAME
    found = [journal] if journal.exists() else []
    for folder in folders:
        if folder.is_dir():
            found += [Path(e.path) for e in os.scandir(folder) if e.name.startswith(TEMP_PREFIX)]
    return sorted(found)


class Transaction:
    """Files to write together under ``root``: all of them or none (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: dict[Path, bytes] = {}
        self._create_only: set[Path] = set()
        self._expected: dict[Path, Content] = {}
        self.recovered: list[str] = []
        #: Files not written by :meth:`commit` because they already held what was to be written.
        self.unchanged: list[Path] = []

    def _inside(self, path: Path) -> Path:
        path = Path(os.path.abspath(path if path.is_absolute() else self.root / path))  # never through a link
        if not path.is_relative_to(self.root):
            raise UsageError(f"{path}: outside {self.root}; refused", hint="chipwar writes only inside the corpus checkout")
        return path

    def write(self, path: Path, data: bytes, *, create_only: bool = False) -> None:
        """Stage ``data`` for ``path`` (which must lie under the root); ``create_only``: refuse if it exists."""
        path = self._inside(path)
        self._files[path] = data
        if create_only:
            self._create_only.add(path)

    def expect(self, path: Path, content: Content) -> None:
        """Record that ``path`` held ``content`` (``None``: did not exist) when the command read it while planning.

        :meth:`commit` writes nothing (:class:`ChangedMeanwhile`) unless, under the lock, it
        still does — or already holds exactly what this transaction writes there, which is then
        left as it is (:attr:`unchanged`). ``path`` need not be written: a file the plan only
        read is checked the same way.
        """
        self._expected[self._inside(path)] = content

    def commit(self) -> list[Path]:
        """Put every staged file in place, all or nothing; return the paths written.

        With nothing to write, still checks under the lock what :meth:`expect` recorded, so a
        command that decides to write nothing (an import blocked by conflicts) decided on the
        files as they are.
        """
        if not self._files and not self._expected:
            return []
        folders = sorted({p.parent for p in self._files})
        with locked(self.root):
            self.recovered = recover(self.root, folders)
            _check_names(self._files)
            _check_no_links(self.root, self._files)
            exists = sorted(p for p in self._create_only if p.exists() or p.is_symlink())
            if exists:
                shown = ", ".join(str(p.relative_to(self.root)) for p in exists)
                raise AlreadyExists(f"{shown}: already exists; nothing written", hint="it was made by another run or earlier")
            _check_regular(self.root, self._files)
            self.unchanged = self._check_expected()
            files = {p: d for p, d in self._files.items() if p not in self.unchanged}
            if files:
                self._put(files)
        return list(files)

    def _check_expected(self) -> list[Path]:
        """Raise :class:`ChangedMeanwhile` when a file is no longer what was read; return those that already hold their new content."""
        already, changed = [], {}
        for path, expected in self._expected.items():
            now = current(path)
            if path in self._files and now == self._files[path]:
                already.append(path)
            elif now != expected:
                changed[path] = now
        if changed:
            raise ChangedMeanwhile(self.root, self._expected, changed)
        return already

    def _put(self, files: dict[Path, bytes]) -> None:
        """Stage, journal and rename ``files`` (the lock held)."""
        mode = file_mode()
        staged: list[tuple[Path, Path]] = []
        try:
            for path, data in files.items():
                staged.append((_stage(path, data, mode), path))
            journal = [[str(t.relative_to(self.root)), str(p.relative_to(self.root))] for t, p in staged]
            journal_path = _state_dir(self.root) / JOURNAL_NAME
            os.replace(_stage(journal_path, orjson.dumps(journal), mode), journal_path)
        except BaseException as exc:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise EnvironmentProblem(f"{exc.filename or self.root}: cannot write ({exc.strerror or exc}); nothing written",
                                         hint="check the free space and the folder's permissions") from None
            raise
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise EnvironmentProblem(f"{path.relative_to(self.root)}: write interrupted ({exc.strerror or exc}); the next "
                                         "chipwar command that writes here finishes it (all files or none)",
                                         hint="check the free space and the folder's permissions, then run it again") from None
        for folder in sorted({p.parent for p in files}):
            fsync_path(folder)
        journal_path.unlink()


def _check_regular(root: Path, paths: dict[Path, bytes]) -> None:
    """Refuse a target that exists and is no regular file (a folder): its rename would fail after others were done."""
    for path in paths:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue  # missing (made new), or unreadable (its staging fails with the reason)
        if not stat.S_ISREG(mode):
            raise UsageError(f"{path.relative_to(root)}: is a folder or another thing that is not a regular file; nothing written",
                             hint="move it out of the way, then run again")


def _check_no_links(root: Path, paths: dict[Path, bytes]) -> None:
    """Refuse a target that is a symbolic link, or whose folder leads out of ``root`` through one:
    a write must land where its path says, never in a file the link points at."""
    real_root = root.resolve()
    for path in paths:
        if path.is_symlink() or not path.parent.resolve().is_relative_to(real_root):
            raise UsageError(f"{path.relative_to(root)}: is a symbolic link or lies behind one that leaves {root}; nothing written",
                             hint="replace the link with a real file or folder inside the checkout")


def _check_names(paths: dict[Path, bytes]) -> None:
    """Refuse, before anything is staged, a target whose file name the file system cannot hold:
    its rename would fail after others were done, leaving a journal no run could finish."""
    for path in paths:
        limit = NAME_MAX
        with suppress(OSError):
            limit = os.pathconf(path.parent, "PC_NAME_MAX") if path.parent.is_dir() else NAME_MAX
        if len(os.fsencode(path.name)) > limit:
            raise UsageError(f"{cut(path.name, 60)}: file name too long ({len(os.fsencode(path.name))} bytes, at most {limit}); "
                             "nothing written", hint="use a shorter id or name")




def write_files(root: Path, files: dict[Path, bytes], *, create_only: bool = False) -> list[Path]:
    """Write ``files`` (all under ``root``) in one :class:`Transaction`; return the paths written."""
    tx = Transaction(root)
    for path, data in files.items():
        tx.write(path, data, create_only=create_only)
    return tx.commit()


def replace_file(path: Path, data: bytes) -> Path:
    """Write one file outside the corpus (an export, a task file) atomically: staged, then renamed."""
    try:
        tmp = _stage(path, data, file_mode())
    except OSError as exc:
        raise EnvironmentProblem(f"{path}: cannot write ({exc.strerror or exc})", hint="check the path, the free space and permissions") from None
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise EnvironmentProblem(f"{path}: cannot write ({exc.strerror or exc}); nothing written",
                                 hint="pass a file path (not a folder) in a folder you can write") from None
    return path
