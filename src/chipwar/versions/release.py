"""The dataset's version, its changelog, the bump rules, and releases.

- **One version**: semantic (``MAJOR.MINOR.PATCH``), in the file ``VERSION`` at the corpus
  root, read by :func:`dataset_version` — the dataset card and built files take it from there.
  It names the last release, or the one being prepared; ``chipwar release`` writes it. It is
  not the version of the ``chipwar`` package (``pyproject.toml``): tools and data move apart.
- **CHANGELOG.md**, in Keep a Changelog style: ``## [Unreleased]`` first, then
  ``## [X.Y.Z] - YYYY-MM-DD`` sections, newest first, each with ``### Added``, ``Changed``,
  ``Deprecated``, ``Removed``, ``Fixed`` or ``Security`` headings over ``- `` entries. Data,
  schema and tool changes all go there; changes since the last release under Unreleased.
- **A release** is an annotated git tag ``vX.Y.Z`` on the commit that moves the Unreleased
  entries under ``## [X.Y.Z] - date`` and writes ``VERSION``.

Bump rules — the changes since the last release (``chipwar diff``) need at least:

- **major**: a breaking schema change (rated in :mod:`chipwar.diff`: something removed,
  newly required or no longer required, a type or constraint changed or tightened);
- **minor**: documents added or removed; annotation files, annotations, canonical entities
  or document labels added; an additive schema change (optional field, label, definition);
- **patch**: anything else — corrected texts (``chipwar reanchor``), changed metadata,
  annotations changed or removed, schema descriptions — and a release of tool changes only.

A release refuses a smaller bump than the changes need, a version that is not the next
major, minor or patch of the last release, an empty Unreleased section, a dirty working
tree and a corpus that does not validate. A bigger bump than needed is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

from ..checks import check_all
from ..corpus import Corpus
from ..errors import UsageError
from ..report import Problem, Report
from ..writer import write_files
from .diff import LEVELS, DatasetDiff, diff_revisions
from .git import DATA_FOLDERS, GitError, Repo, open_repo

VERSION_FILE = "VERSION"
CHANGELOG_FILE = "CHANGELOG.md"

#: Keep a Changelog's kinds of change, the only ``###`` headings a section may have.
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_SECTION = re.compile(r"^## \[(?P<name>[^\]]*)\](?: - (?P<date>\S+))?\s*$")
_LINK_DEFINITION = re.compile(r"^\[[^\]]+\]:\s")

#: Collects a changelog format problem: (line, message, expected, found).
Complain = Callable[[int, str, str, str], None]
#: Collects a reason to refuse a release: (code, message, expected, found, hint[, file]).
Refuse = Callable[..., None]


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
        m = _SEMVER.match(text.strip())
        if not m:
            raise VersionError(f"{text.strip()!r} is not a version: expected MAJOR.MINOR.PATCH, e.g. 1.2.0")
        return cls(int(m[1]), int(m[2]), int(m[3]))

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


def dataset_version(corpus: Corpus) -> str:
    """The dataset's version, from ``VERSION``: what dataset cards and built files carry."""
    path = corpus.root / VERSION_FILE
    try:
        return str(Version.parse(path.read_text("utf-8")))
    except FileNotFoundError:
        raise VersionError(f"{path}: missing; it holds the dataset version (e.g. 0.1.0), restore it from git") from None


def last_release(repo: Repo) -> Version | None:
    """The highest ``vX.Y.Z`` tag reachable from HEAD, or None before the first release."""
    return max((Version.parse(tag[1:]) for tag in repo.release_tags()), default=None)


@dataclass
class Section:
    """One section of the changelog: ``version`` None for Unreleased; ``entries`` by kind."""

    version: str | None
    date: str | None
    line: int
    entries: dict[str, list[str]] = field(default_factory=dict)

    @property
    def entry_count(self) -> int:
        return sum(map(len, self.entries.values()))


@dataclass
class Changelog:
    """A parsed changelog and whatever in it does not follow the format."""

    sections: list[Section]
    problems: list[Problem]

    @property
    def unreleased(self) -> Section | None:
        return next((s for s in self.sections if s.version is None), None)

    def has_version(self, version: str) -> bool:
        return any(s.version == version for s in self.sections)


def parse_changelog(text: str, file: str = CHANGELOG_FILE) -> Changelog:
    """Sections and entries of a Keep a Changelog file; format problems collected, not raised."""
    sections: list[Section] = []
    problems: list[Problem] = []

    def problem(n: int, message: str, expected: str, found: str) -> None:
        problems.append(Problem("changelog_malformed", f"line {n}: {message}", file, expected=expected, found=found,
                                hint="see the top of CHANGELOG.md and https://keepachangelog.com/en/1.1.0/"))

    current: Section | None = None
    kind: str | None = None
    under_unknown_heading = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("## "):
            kind, under_unknown_heading = None, False
            current = _section(n, line, problem)
            if current is not None:
                sections.append(current)
        elif line.startswith("### "):
            name = line[4:].strip()
            kind = name if name in KINDS else None
            under_unknown_heading = kind is None  # its entries are not reported again
            if current is None:
                problem(n, "change heading outside a version section", "a '## [...]' section above it", repr(line))
            elif kind is None:
                problem(n, "unknown kind of change", f"one of {', '.join(KINDS)}", repr(name))
            else:
                current.entries.setdefault(kind, [])
        elif line.startswith(("- ", "* ")) and current is not None and not under_unknown_heading:
            if kind is None:
                problem(n, "entry outside a '### ' heading", f"'### Added' (or {', '.join(KINDS[1:])}) above it", repr(line))
            else:
                current.entries[kind].append(line[2:].strip())
        elif line[:1] in (" ", "\t") and line.strip() and current is not None and kind and current.entries[kind]:
            current.entries[kind][-1] += " " + line.strip()
    _check_order(sections, problem)
    return Changelog(sections, problems)


def _section(n: int, line: str, problem: Complain) -> Section | None:
    m = _SECTION.match(line)
    if not m:
        problem(n, "section heading not understood", "'## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD'", repr(line))
        return None
    if m["name"].lower() == "unreleased":
        return Section(None, None, n)
    if not _SEMVER.match(m["name"]):
        problem(n, "version is not MAJOR.MINOR.PATCH", "e.g. '## [1.2.0] - 2025-01-31'", repr(m["name"]))
        return None
    try:
        date.fromisoformat(m["date"] or "")
    except ValueError:
        problem(n, f"release {m['name']} has no valid date", "' - YYYY-MM-DD' after the version", repr(line))
    return Section(m["name"], m["date"], n)


def _check_order(sections: list[Section], problem: Complain) -> None:
    unreleased = [s for s in sections if s.version is None]
    if not unreleased:
        problem(1, "no Unreleased section", "'## [Unreleased]' above the first release", "none")
    elif sections[0].version is not None or len(unreleased) > 1:
        problem(unreleased[-1].line, "Unreleased must be the first section, once", "'## [Unreleased]' first", f"{len(unreleased)} at line(s) "
                + ", ".join(str(s.line) for s in unreleased))
    released = [s for s in sections if s.version is not None]
    for newer, older in zip(released, released[1:], strict=False):
        if Version.parse(newer.version or "") <= Version.parse(older.version or ""):
            problem(older.line, f"release {older.version} is not older than {newer.version} above it",
                    "releases newest first, each once", older.version or "")


def read_changelog(corpus: Corpus) -> tuple[str | None, Changelog]:
    """The changelog's text (None when missing) and its parse; a missing file is a problem."""
    path = corpus.root / CHANGELOG_FILE
    if not path.is_file():
        return None, Changelog([], [Problem("changelog_missing", "there is no changelog", CHANGELOG_FILE, expected="CHANGELOG.md at the corpus root",
                                            found="no such file", hint="restore it from git, or start one with a '## [Unreleased]' section")])
    text = path.read_text("utf-8")
    return text, parse_changelog(text)


def _unreleased_bounds(lines: list[str]) -> tuple[int, int]:
    """Line indices of the Unreleased heading and of the line after its body."""
    start = next(i for i, line in enumerate(lines) if (m := _SECTION.match(line.rstrip("\n"))) and m["name"].lower() == "unreleased")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ") or _LINK_DEFINITION.match(lines[i])), len(lines))
    return start, end


def unreleased_notes(text: str) -> str:
    """The body of the Unreleased section, as written."""
    lines = text.splitlines(keepends=True)
    start, end = _unreleased_bounds(lines)
    return "".join(lines[start + 1:end]).strip("\n")


def release_changelog(text: str, version: Version, day: str) -> str:
    """The changelog with the Unreleased entries moved under ``## [version] - day`` and Unreleased left empty."""
    lines = text.splitlines(keepends=True)
    start, end = _unreleased_bounds(lines)
    body = "".join(lines[start + 1:end]).strip("\n")
    released = ["## [Unreleased]\n", "\n", f"## [{version}] - {day}\n", "\n", body + "\n"] + (["\n"] if end < len(lines) else [])
    return "".join(lines[:start] + released + lines[end:])


def required_bump(diff: DatasetDiff) -> tuple[str, list[str]]:
    """The least bump the changes in ``diff`` need, and the changes that need it (see the module docstring)."""
    reasons: dict[str, list[str]] = {level: [] for level in LEVELS}
    for s in diff.schema:
        reasons[s.level].append(f"{s.file}{'#' + s.pointer if s.pointer else ''}: {s.message}")
    for d in diff.documents:
        if d.change != "changed":
            reasons["minor"].append(f"document {d.doc_id} {d.change}")
        if d.text_changed:
            reasons["patch"].append(f"text of {d.doc_id} changed")
        if d.metadata:
            reasons["patch"].append(f"metadata of {d.doc_id} changed")
    for f in diff.files:
        reasons["minor" if f.change == "added" else "patch"].append(f"annotation file {f.set_name}/{f.doc_id} {f.change}")
    for a in diff.annotations:
        reasons["minor" if a.change == "added" else "patch"].append(f"{a.set_name} {a.layer} {a.id or a.doc_id} {a.change}")
    level = next((lv for lv in reversed(LEVELS) if reasons[lv]), "patch")
    return level, reasons[level]


@dataclass
class ChangelogCheck:
    """The CI check: data changed since the last release means an Unreleased entry."""

    report: Report
    last_release: str | None
    changed: list[str]
    note: str


def check_changelog(corpus: Corpus) -> ChangelogCheck:
    """Check the changelog's format and that changes to corpus/, annotations/ or schema/ since the
    last release tag have an Unreleased entry. Without git history or a tag there is nothing to
    compare, and ``note`` says so."""
    _, changelog = read_changelog(corpus)
    report = Report(problems=list(changelog.problems))
    try:
        repo = open_repo(corpus.root)
        last = last_release(repo)
    except GitError as exc:
        return ChangelogCheck(report, None, [], f"not compared with a release: {exc}")
    if last is None:
        shallow = " This clone is shallow or has no tags; `git fetch --tags --unshallow` fetches them." if repo.is_shallow() else ""
        return ChangelogCheck(report, None, [], f"no release tag (vX.Y.Z) reachable from HEAD yet: nothing to compare.{shallow}")
    changed = repo.changed_since(last.tag)
    unreleased = changelog.unreleased
    if changed and unreleased is not None and not unreleased.entry_count:
        report.add(Problem(
            "changelog_entry_missing",
            f"{len(changed)} file(s) under {', '.join(f'{d}/' for d in DATA_FOLDERS)} changed since {last.tag}, "
            "and the Unreleased section of CHANGELOG.md has no entry for them",
            CHANGELOG_FILE, expected="an entry under '## [Unreleased]'", found="none",
            hint="add under '## [Unreleased]' a heading '### Added' (documents or annotations added), '### Fixed' (corrections) "
                 "or '### Changed' (schema), and a line '- what changed'; `chipwar diff` lists the changes",
        ))
    return ChangelogCheck(report, last.tag, changed, f"compared the working tree with {last.tag}: {len(changed)} data file(s) changed")


@dataclass
class ReleasePlan:
    """A release checked but not yet made; ``report`` holds every reason to refuse it."""

    version: Version
    last_release: Version | None
    required: str
    reasons: list[str]
    counts: dict[str, int]
    report: Report


def plan_release(corpus: Corpus, version: Version) -> ReleasePlan:
    """Check a release of ``version``; every reason to refuse it is collected, nothing is written.

    Raises :class:`chipwar.gitrepo.GitError` when the corpus is not in a git repository.
    """
    repo = open_repo(corpus.root)
    report = Report()

    def refuse(code: str, message: str, expected: str, found: str, hint: str, file: str) -> None:
        report.add(Problem(code, message, file, expected=expected, found=found, hint=hint))

    if not repo.has_head():
        refuse("release_no_commit", "nothing is committed yet", "a commit to tag", "none", "commit the corpus first", "git history")
        return ReleasePlan(version, None, "patch", [], {}, report)
    dirty = repo.uncommitted((*DATA_FOLDERS, CHANGELOG_FILE, VERSION_FILE))
    if dirty:
        refuse("release_uncommitted", f"uncommitted changes: {', '.join(dirty[:5])}" + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else ""),
               "a clean working tree for the dataset, CHANGELOG.md and VERSION", f"{len(dirty)} changed file(s)",
               "commit them (a release tags a commit), then run the release again", "working tree")
    if repo.tag_exists(version.tag):
        refuse("release_tag_exists", f"tag {version.tag} already exists", "a new version", version.tag,
               "pick the next version; see `git tag --list 'v*'`", "git tags")
    last = last_release(repo)
    _check_version_file(corpus, version, last, refuse)
    diff = diff_revisions(repo, last.tag if last else None, "HEAD")
    required, reasons = required_bump(diff)
    if last is not None:
        level = last.level_of(version)
        if level is None:
            refuse("release_version_order", f"{version} is not a next version of the last release {last}",
                   f"{last.bump('patch')}, {last.bump('minor')} or {last.bump('major')}", str(version), "give one of the expected versions",
                   VERSION_FILE)
        elif LEVELS.index(level) < LEVELS.index(required):
            shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
            refuse("release_bump_too_small", f"the changes since {last.tag} need a {required} version, {version} is a {level} one: {shown}",
                   f"{last.bump(required)} or higher", str(version), f"release {last.bump(required)}; `chipwar diff {last.tag}` lists every change",
                   VERSION_FILE)
    _check_changelog_entry(corpus, version, refuse)
    validation = check_all(corpus)
    if not validation.ok:
        refuse("release_validation", f"the corpus does not validate: {len(validation.problems)} problem(s)", "`chipwar validate` clean",
               ", ".join(sorted(set(validation.codes()))), "run `chipwar validate`, fix what it reports, commit, and release again", "corpus")
    return ReleasePlan(version, last, required, reasons, diff.counts(), report)


def _check_version_file(corpus: Corpus, version: Version, last: Version | None, refuse: Refuse) -> None:
    try:
        current = Version.parse(dataset_version(corpus))
    except VersionError as exc:
        refuse("release_version_file", str(exc), "VERSION holding MAJOR.MINOR.PATCH", "missing or malformed",
               "restore VERSION from git", VERSION_FILE)
        return
    if last is not None and current not in (last, version):
        refuse("release_version_file", f"VERSION says {current}, which is neither the last release nor this one",
               f"{last} or {version}", str(current), f"set VERSION to {last} (release writes the new one)", VERSION_FILE)
    elif last is None and version < current:
        refuse("release_version_order", f"{version} is lower than the version the files already carry", f"{current} or higher",
               str(version), f"release {current}", VERSION_FILE)


def _check_changelog_entry(corpus: Corpus, version: Version, refuse: Refuse) -> None:
    _, changelog = read_changelog(corpus)
    for p in changelog.problems:
        refuse("release_changelog", p.message, p.expected or "", p.found or "", p.hint or "", p.file)
    unreleased = changelog.unreleased
    if unreleased is not None and not unreleased.entry_count:
        refuse("release_changelog", "the Unreleased section has no entry: a release says what changed", "entries under '## [Unreleased]'",
               "none", "add '### Added|Changed|Fixed|Removed' headings with '- ' entries under '## [Unreleased]', commit, and release again",
               CHANGELOG_FILE)
    if changelog.has_version(str(version)):
        refuse("release_changelog", f"CHANGELOG.md already has a section for {version}", "the entries under Unreleased",
               f"## [{version}]", "move them back under '## [Unreleased]' or pick another version", CHANGELOG_FILE)


def make_release(corpus: Corpus, plan: ReleasePlan, day: str | None = None) -> str:
    """Move Unreleased under the version, write VERSION, commit both and tag ``vX.Y.Z``; return the commit.

    Refuses a plan with problems. When the commit fails the two files are restored.
    """
    if not plan.report.ok:
        raise VersionError(f"release {plan.version} refused: {len(plan.report.problems)} problem(s)")
    repo = open_repo(corpus.root)
    changelog, version_file = corpus.root / CHANGELOG_FILE, corpus.root / VERSION_FILE
    before = {changelog: changelog.read_bytes(), version_file: version_file.read_bytes()}
    text = before[changelog].decode("utf-8")
    notes = unreleased_notes(text)
    write_files(corpus.root, {changelog: release_changelog(text, plan.version, day or date.today().isoformat()).encode("utf-8"),
                        version_file: f"{plan.version}\n".encode()})
    try:
        commit = repo.commit_paths(f"Release {plan.version.tag}", (CHANGELOG_FILE, VERSION_FILE))
    except GitError as exc:
        write_files(corpus.root, before)
        raise VersionError(f"could not commit the release, CHANGELOG.md and VERSION restored: {exc}") from None
    try:
        repo.annotated_tag(plan.version.tag, f"chipwar dataset {plan.version}\n\n{notes}\n")
    except GitError as exc:
        raise VersionError(f"committed {commit[:12]} but could not tag it: {exc}; "
                           f"tag it with `git tag -a {plan.version.tag} {commit[:12]} -m 'chipwar dataset {plan.version}'`") from None
    return commit
