"""CHANGELOG.md: its format, reading it, moving Unreleased under a release, and the CI check.

Keep a Changelog style: ``## [Unreleased]`` first, then ``## [X.Y.Z] - YYYY-MM-DD`` sections,
newest first, each with ``### Added``, ``Changed``, ``Deprecated``, ``Removed``, ``Fixed`` or
``Security`` headings over ``- `` entries. Data, schema and tool changes all go there;
changes since the last release under Unreleased.

``chipwar changelog --check`` (CI) fails on a malformed changelog, on data changed since the
last release (:mod:`chipwar.versions.history`: by tag or by record) without an Unreleased
entry, and when it cannot tell which release is the last one — a check that cannot look
must not pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from ..corpus import Corpus
from ..report import Problem, Report, short
from .git import DATA_FOLDERS, GitError, open_repo
from .history import CHANGELOG_FILE, LastRelease, find_last_release
from .version import SEMVER, Version, VersionError

#: Keep a Changelog's kinds of change, the only ``###`` headings a section may have.
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")

_SECTION = re.compile(r"^## \[(?P<name>[^\]]*)\](?: - (?P<date>\S+))?\s*$")
_LINK_DEFINITION = re.compile(r"^\[[^\]]+\]:\s")
_FORMAT_HINT = "see the top of CHANGELOG.md and https://keepachangelog.com/en/1.1.0/"

#: Collects a changelog format problem: (line, message, expected, found).
Complain = Callable[[int, str, str, str], None]


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

    def released(self) -> list[Version]:
        """The versions it has a section for."""
        return [Version.parse(s.version) for s in self.sections if s.version is not None]


def parse_changelog(text: str, file: str = CHANGELOG_FILE) -> Changelog:
    """Sections and entries of a Keep a Changelog file; format problems collected, not raised."""
    sections: list[Section] = []
    problems: list[Problem] = []

    def problem(n: int, message: str, expected: str, found: str) -> None:
        problems.append(Problem("changelog_malformed", f"line {n}: {message}", file, expected=expected, found=found, hint=_FORMAT_HINT))

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
                problem(n, "change heading outside a version section", "a '## [...]' section above it", short(line))
            elif kind is None:
                problem(n, "unknown kind of change", f"one of {', '.join(KINDS)}", short(name))
            else:
                current.entries.setdefault(kind, [])
        elif line.startswith(("- ", "* ")) and current is not None and not under_unknown_heading:
            if kind is None:
                problem(n, "entry outside a '### ' heading", f"'### Added' (or {', '.join(KINDS[1:])}) above it", short(line))
            else:
                current.entries[kind].append(line[2:].strip())
        elif line[:1] in (" ", "\t") and line.strip() and current is not None and kind and current.entries[kind]:
            current.entries[kind][-1] += " " + line.strip()
    _check_order(sections, problem)
    return Changelog(sections, problems)


def _section(n: int, line: str, problem: Complain) -> Section | None:
    m = _SECTION.match(line)
    if not m:
        problem(n, "section heading not understood", "'## [Unreleased]' or '## [X.Y.Z] - YYYY-MM-DD'", short(line))
        return None
    if m["name"].lower() == "unreleased":
        return Section(None, None, n)
    if not SEMVER.match(m["name"]):
        problem(n, "version is not MAJOR.MINOR.PATCH", "e.g. '## [1.2.0] - 2025-01-31'", short(m["name"]))
        return None
    try:
        date.fromisoformat(m["date"] or "")
    except ValueError:
        problem(n, f"release {m['name']} has no valid date", "' - YYYY-MM-DD' after the version", short(line))
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
    """The changelog's text (None when it cannot be read) and its parse; a missing or unreadable file is a problem."""
    path = corpus.root / CHANGELOG_FILE

    def unreadable(message: str, found: str, hint: str) -> tuple[None, Changelog]:
        return None, Changelog([], [Problem("changelog_unreadable", message, CHANGELOG_FILE, expected="CHANGELOG.md, UTF-8 text at the corpus root",
                                            found=found, hint=hint)])

    if not path.is_file():
        return None, Changelog([], [Problem("changelog_missing", "there is no changelog", CHANGELOG_FILE, expected="CHANGELOG.md at the corpus root",
                                            found="no such file", hint="restore it from git, or start one with a '## [Unreleased]' section")])
    try:
        data = path.read_bytes()
    except OSError as exc:
        return unreadable(f"cannot be read ({exc.strerror})", exc.strerror or "an error", "check the file's permissions")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return unreadable(f"not UTF-8 text: byte {exc.start:,} cannot be read", short(data[exc.start:exc.start + 8]),
                          "save it as UTF-8 text, or restore it from git (`git checkout -- CHANGELOG.md`)")
    return text, parse_changelog(text)


def _unreleased_bounds(lines: list[str]) -> tuple[int, int]:
    """Line indices of the Unreleased heading and of the line after its body."""
    start = next((i for i, line in enumerate(lines) if (m := _SECTION.match(line.rstrip("\n"))) and m["name"].lower() == "unreleased"), None)
    if start is None:
        raise VersionError("CHANGELOG.md has no '## [Unreleased]' section", hint="add one above the first release, with the entries under it")
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


@dataclass
class ChangelogCheck:
    """The CI check: data changed since the last release means an Unreleased entry."""

    report: Report
    last: LastRelease | None
    changed: list[str]
    note: str
    unreleased: dict[str, list[str]]

    def fields(self) -> dict[str, Any]:
        last = self.last.fields() if self.last else LastRelease(None, False, "").fields()
        return {**last, "changed": self.changed, "note": self.note, "unreleased": self.unreleased}


def check_changelog(corpus: Corpus) -> ChangelogCheck:
    """Check the changelog's format and that changes to corpus/, annotations/ or schema/ since the
    last release have an Unreleased entry. When the last release cannot be known (no git, not a
    repository, a shallow clone without the record) that is an error: the check cannot pass."""
    _, changelog = read_changelog(corpus)
    report = Report(problems=list(changelog.problems))
    unreleased = changelog.unreleased
    entries = unreleased.entries if unreleased else {}
    try:
        repo = open_repo(corpus.root)
        last = find_last_release(repo)
    except GitError as exc:
        note = f"cannot tell the last release: {exc.message}"
        report.add(Problem("release_history_missing", note, "git history", expected="a git clone with the corpus's history",
                           found="none", hint=exc.hint or "run it in a clone made with `git clone`"))
        return ChangelogCheck(report, None, [], note, entries)
    report.extend(last.problems)
    if last.release is None:
        return ChangelogCheck(report, last, [], f"{last.note}: nothing to compare" if last.known else last.note, entries)
    since = last.release
    changed = repo.changed_since(since.rev)
    if changed and unreleased is not None and not unreleased.entry_count:
        report.add(Problem(
            "changelog_entry_missing",
            f"{len(changed)} file(s) under {', '.join(f'{d}/' for d in DATA_FOLDERS)} changed since release {since.version} "
            f"({since.found_by}), and the Unreleased section of CHANGELOG.md has no entry for them",
            CHANGELOG_FILE, expected="an entry under '## [Unreleased]'", found="none",
            hint="add under '## [Unreleased]' a heading '### Added' (documents or annotations added), '### Fixed' (corrections) "
                 "or '### Changed' (schema), and a line '- what changed'; `chipwar diff` lists the changes",
        ))
    return ChangelogCheck(report, last, changed, f"compared the working tree with release {since.version} ({since.found_by}): "
                                                 f"{len(changed)} data file(s) changed", entries)
