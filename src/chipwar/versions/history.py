"""Which release is the last one: found from its tag, or from the repository's own record.

Tags do not travel with every copy of a repository (source archives, mirrors, many CI
checkouts), so a release is known two ways:

- its **tag** ``vX.Y.Z``, reachable from HEAD;
- its **record**: the commit that set ``VERSION`` to X.Y.Z with a ``## [X.Y.Z] - date``
  section in its ``CHANGELOG.md`` — what ``chipwar release`` commits. When ``VERSION`` said
  X.Y.Z before the release (a first release), it is the first commit after that whose
  changelog gained the section.

The last release is the highest version either way knows, so ``diff``, ``changelog --check``
and ``release`` behave alike in a clone with tags and in one without. The tag wins when both
know a release and disagree, and a warning says so. A shallow clone may have lost the record
too: then the last release is *unknown* (never "none"), and the commands say to fetch the
history.

Usually HEAD's own VERSION and CHANGELOG.md name the last release, and its commit is found in
a few dozen reads however long the history (:func:`_walk_back`). Otherwise one ``git log`` of
``VERSION`` lists the commits that set it, and the highest version with a tag or a record wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..report import Problem
from .git import BlobReader, Repo
from .version import VERSION_FILE, Version

CHANGELOG_FILE = "CHANGELOG.md"

#: A release's dated section heading in CHANGELOG.md, as ``chipwar release`` writes it.
_DATED_SECTION = re.compile(rb"^## \[(\d{1,18}\.\d{1,18}\.\d{1,18})\] - ", re.MULTILINE)
_FETCH = "run `git fetch --unshallow --tags` (a CI checkout: fetch-depth 0), then run it again"


@dataclass(frozen=True)
class Release:
    """A release found in this clone: its version, its commit, and how it was found."""

    version: Version
    commit: str
    #: The tag it was found by; None when found by its record.
    tag: str | None
    #: How it was found, in words: "tag v1.0.0" or "commit … that set VERSION to 1.0.0; no tag in this clone".
    found_by: str

    @property
    def rev(self) -> str:
        """What to give git for it: the tag, else the commit."""
        return self.tag or self.commit

    @property
    def label(self) -> str:
        """How a diff names it."""
        return self.tag or f"{self.version} (commit {self.commit[:12]})"


@dataclass
class LastRelease:
    """The outcome of looking for the last release: ``release`` None with ``known`` True means none yet;
    ``known`` False means the history that would tell is missing (``problems`` says what to do)."""

    release: Release | None
    known: bool
    note: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The last release and how it was found, for a command's text output."""
        return f"{self.release.version}, found by {self.release.found_by}" if self.release else self.note

    def fields(self) -> dict[str, Any]:
        """What every command puts in its JSON result."""
        r = self.release
        return {"last_release": str(r.version) if r else None, "found_by": r.found_by if r else None,
                "last_release_commit": r.commit if r else None, "last_release_known": self.known}


def _headings(data: bytes | None) -> set[Version]:
    """The versions with a dated section in a CHANGELOG.md's bytes."""
    out = set()
    for m in _DATED_SECTION.finditer(data or b""):
        v = Version.parse_or_none(m[1].decode("ascii"))
        if v is not None:
            out.add(v)
    return out


def find_last_release(repo: Repo) -> LastRelease:
    """The last release reachable from HEAD, by tag or by record (see the module docstring).

    Raises :class:`chipwar.versions.git.GitError` when git itself fails.
    """
    if not repo.has_head():
        return LastRelease(None, True, "no release yet: nothing is committed")
    tags: dict[Version, str] = {}
    for name in repo.release_tags():
        v = Version.parse_or_none(name[1:])
        if v is not None and v.tag == name:
            tags[v] = name
    boundary = repo.shallow_boundary()
    with repo.blobs() as blobs:
        head = repo.head()
        recorded = _headings(blobs.find(f"{head}:./{CHANGELOG_FILE}"))
        current = _version_in(blobs.find(f"{head}:./{VERSION_FILE}"))
        found = None
        if current in recorded and all(v <= current for v in tags):
            record = _walk_back(blobs, head, current, boundary)
            found = _found(repo, current, tags.get(current), record) if record else None
        found = found or _search_history(repo, blobs, tags, boundary)
    if boundary and recorded and (found is None or max(recorded) > found.release.version):
        return _unknown(max(recorded))
    return found or LastRelease(None, True, "no release yet: no tag vX.Y.Z and no commit that set VERSION with its changelog section")


def _holds(blobs: BlobReader, commit: str, version: Version) -> bool:
    """Whether VERSION says ``version`` at ``commit`` and its CHANGELOG.md has the section of that release."""
    return _version_in(blobs.find(f"{commit}:./{VERSION_FILE}")) == version and version in _headings(blobs.find(f"{commit}:./{CHANGELOG_FILE}"))


def _walk_back(blobs: BlobReader, head: str, version: Version, boundary: set[str]) -> str | None:
    """The release commit of the version HEAD carries: the first commit where VERSION says it with its section.

    Once true, that stays true up to HEAD (a released version is not taken back), so the commit is
    found by galloping back along first parents, then halving: a few dozen reads, however long the
    history. A merge that brought the release in is followed into the merged branch. None when the
    walk ends at a shallow clone's cut (what came before is unknown).
    """
    base = head
    while True:
        step = 1
        while (probe := blobs.lookup(f"{base}~{step}")) and _holds(blobs, probe[0], version):
            base, step = probe[0], step * 2
        while step > 1:  # true at base, not at base~step (or there is no such commit)
            half = step // 2
            probe = blobs.lookup(f"{base}~{half}")
            if probe and _holds(blobs, probe[0], version):
                base, step = probe[0], step - half
            else:
                step = half
        merged = blobs.lookup(f"{base}^2")
        if not (merged and _holds(blobs, merged[0], version)):
            return None if base in boundary else base
        base = merged[0]


def find_release(repo: Repo, version: Version) -> Release | None:
    """Release ``version`` as this clone knows it — by its tag reachable from HEAD, else by its record — or None.

    Raises :class:`chipwar.versions.git.GitError` when git itself fails.
    """
    if not repo.has_head():
        return None
    tag = version.tag if version.tag in repo.release_tags() else None
    with repo.blobs() as blobs:
        record = _record(repo, blobs, version, _setters(repo, blobs).get(version, []), repo.shallow_boundary())
    return _found(repo, version, tag, record).release if tag or record else None


def _setters(repo: Repo, blobs: BlobReader) -> dict[Version, list[str]]:
    """Each version VERSION has said, with the commits that set it, oldest first."""
    setters: dict[Version, list[str]] = {}
    for change in reversed(repo.changes_of(VERSION_FILE)):  # oldest first
        v = _version_in(blobs.find(change.blob))
        if v is not None:
            setters.setdefault(v, []).append(change.commit)
    return setters


def _search_history(repo: Repo, blobs: BlobReader, tags: dict[Version, str], boundary: set[str]) -> LastRelease | None:
    """The highest release known by tag or record, from the whole history of VERSION (when HEAD's own files do not name it)."""
    setters = _setters(repo, blobs)
    for v in sorted(tags.keys() | setters.keys(), reverse=True):
        record = _record(repo, blobs, v, setters.get(v, []), boundary)
        if v in tags or record:
            return _found(repo, v, tags.get(v), record)
    return None


def _version_in(data: bytes | None) -> Version | None:
    if data is None or len(data) > 256:
        return None
    return Version.parse_or_none(data.decode("utf-8", "replace"))


def _record(repo: Repo, blobs: BlobReader, version: Version, setters: list[str], boundary: set[str]) -> str | None:
    """The commit recording ``version``'s release, or None. ``setters``: the commits that set VERSION to it, oldest first."""
    for commit in setters:
        if _holds(blobs, commit, version):
            if commit not in boundary:  # at a shallow clone's cut VERSION may have said it long before: not this commit
                return commit
            continue
        later = repo.git("log", "--reverse", "--ancestry-path", "--format=%H", "-S", f"## [{version}] - ",
                         f"{commit}..HEAD", "--", CHANGELOG_FILE).split()
        for candidate in later:
            if _holds(blobs, candidate, version):
                return candidate
    return None


def _found(repo: Repo, version: Version, tag: str | None, record: str | None) -> LastRelease:
    problems: list[Problem] = []
    if tag is None:
        assert record is not None
        elsewhere = repo.tag_exists(version.tag)
        release = Release(version, record, None, f"commit {record[:12]} that set VERSION to {version}; "
                                                 + (f"tag {version.tag} is not on this branch" if elsewhere else "no tag in this clone"))
    else:
        commit = repo.resolve(tag)
        release = Release(version, commit, tag, f"tag {tag}")
        if record is None:
            problems.append(Problem(
                "release_tag_unrecorded",
                f"tag {tag} has no record in the history: no commit sets VERSION to {version} with a '## [{version}] - date' section "
                f"in CHANGELOG.md, so a clone without tags does not know this release",
                VERSION_FILE, expected=f"VERSION {version} and '## [{version}] - date' at the tagged commit", found=f"tag {tag} only",
                hint=f"releases made with `chipwar release` have both; see `git show {tag}:VERSION`", severity="warning"))
        elif record != commit:
            problems.append(Problem(
                "release_tag_disagrees",
                f"tag {tag} is on commit {commit[:12]}, but the commit that set VERSION to {version} with its changelog section is "
                f"{record[:12]}; this clone compares with the tag, a clone without tags with {record[:12]}",
                "git tags", expected=f"{tag} on {record[:12]}", found=f"{tag} on {commit[:12]}",
                hint=f"if {record[:12]} is the release, move the tag: `git tag -f -a {tag} {record[:12]}` and push it with --force",
                severity="warning"))
    return LastRelease(release, True, f"last release {version}, found by {release.found_by}", problems)


def _unknown(latest: Version) -> LastRelease:
    note = (f"cannot tell the last release: CHANGELOG.md records release {latest}, but this clone is shallow and has "
            f"neither tag {latest.tag} nor the commit that set VERSION to {latest}")
    return LastRelease(None, False, note, [Problem("release_history_missing", note, "git history",
                                                   expected=f"tag {latest.tag}, or the history back to the commit that released it",
                                                   found="a shallow clone without them", hint=_FETCH)])
