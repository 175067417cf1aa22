"""The dataset's version: semantic (``MAJOR.MINOR.PATCH``), kept in the file ``VERSION``.

``VERSION`` at the corpus root names the last release, or the one being prepared;
``chipwar release`` writes it, and the dataset card and built files take it from there
(:func:`dataset_version`). It is not the version of the ``chipwar`` package
(``pyproject.toml``): tools and data move apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..corpus import Corpus
from ..errors import UsageError
from ..report import short
from .compat import LEVELS

VERSION_FILE = "VERSION"

#: ``MAJOR.MINOR.PATCH``, each part at most 18 digits (so any version is an ordinary integer triple).
SEMVER = re.compile(r"^(0|[1-9]\d{0,17})\.(0|[1-9]\d{0,17})\.(0|[1-9]\d{0,17})$")

#: A ``VERSION`` file longer than this holds no version (and is not read further).
_MAX_VERSION_FILE = 256


class VersionError(UsageError):
    """A version is malformed or missing, or a release step failed; the message says what to do."""


@dataclass(frozen=True, order=True)
class Version:
    """A semantic version."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        m = SEMVER.match(text.strip())
        if not m:
            raise VersionError(f"{short(text.strip())} is not a version: expected MAJOR.MINOR.PATCH, e.g. 1.2.0")
        return cls(int(m[1]), int(m[2]), int(m[3]))

    @classmethod
    def parse_or_none(cls, text: str) -> Version | None:
        """The version, or None for anything else (a stray tag, a file holding garbage)."""
        try:
            return cls.parse(text)
        except VersionError:
            return None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def tag(self) -> str:
        return f"v{self}"

    def bump(self, level: str) -> Version:
        """The next version at ``level`` (patch, minor or major)."""
        if level == "major":
            return Version(self.major + 1, 0, 0)
        if level == "minor":
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    def level_of(self, new: Version) -> str | None:
        """Which bump ``new`` is from this version, or None when it is not a next version."""
        return next((level for level in reversed(LEVELS) if self.bump(level) == new), None)

    def next_versions(self) -> str:
        """The three versions that may follow this one, for messages."""
        return f"{self.bump('patch')}, {self.bump('minor')} or {self.bump('major')}"


def read_version_bytes(data: bytes, where: str) -> Version:
    """The version a ``VERSION`` file's bytes hold; :class:`VersionError` naming ``where`` otherwise."""
    if len(data) > _MAX_VERSION_FILE:
        raise VersionError(f"{where}: more than {_MAX_VERSION_FILE} bytes, not a version",
                           hint="it holds one line, MAJOR.MINOR.PATCH; restore it from git")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise VersionError(f"{where}: not text (not UTF-8), not a version",
                           hint="it holds one line, MAJOR.MINOR.PATCH; restore it from git") from None
    try:
        return Version.parse(text)
    except VersionError as exc:
        raise VersionError(f"{where}: {exc.message}", hint="restore it from git, or write the last release's version") from None


def dataset_version(corpus: Corpus) -> str:
    """The dataset's version, from ``VERSION``: what dataset cards and built files carry."""
    path = corpus.root / VERSION_FILE
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_VERSION_FILE + 1)
    except FileNotFoundError:
        raise VersionError(f"{path}: missing; it holds the dataset version (e.g. 0.1.0)", hint="restore it from git") from None
    except OSError as exc:
        raise VersionError(f"{path}: cannot be read ({exc.strerror})", hint="it must be a readable file holding MAJOR.MINOR.PATCH") from None
    return str(read_version_bytes(data, str(path)))
