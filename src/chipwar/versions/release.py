"""Releases: what the next one would hold (:func:`changes_since`), checking one
(:func:`plan_release`), and making it (:func:`make_release`).

A release is the commit that moves the Unreleased entries of CHANGELOG.md under
``## [X.Y.Z] - date`` and writes ``VERSION``, tagged ``vX.Y.Z`` (annotated). Commit and
changelog together are its record, which a clone without tags still finds
(:mod:`chipwar.versions.history`).

A release is refused, with every reason at once and nothing written, for: a smaller bump
than the changes since the last release need (:func:`chipwar.versions.compat.required_bump`),
a version that is not the next major, minor or patch of the last release (or, for a first
release, below what VERSION and CHANGELOG.md already say), a tag that exists, an empty
Unreleased section, a malformed changelog, a dirty working tree, a detached HEAD, a corpus
that does not validate, changes that cannot be compared, and a last release that this clone
cannot know (a shallow clone). A bigger bump than needed is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..checks import check_all
from ..corpus import Corpus
from ..report import Problem, Report, short
from ..writer import write_files
from .changelog import read_changelog, release_changelog, unreleased_notes
from .compat import LEVELS, required_bump
from .diff import DatasetDiff, diff_revisions
from .git import DATA_FOLDERS, GitError, Repo, open_repo
from .history import CHANGELOG_FILE, LastRelease, find_last_release, find_release
from .version import VERSION_FILE, Version, VersionError, dataset_version


@dataclass
class ChangesSince:
    """``chipwar diff``: the changes between two sides, the last release, and the bump a release of them needs."""

    diff: DatasetDiff
    last: LastRelease
    required: str
    reasons: list[str]
    #: The version to release next, when the last release was compared with the working tree.
    suggestion: str | None
    report: Report


def changes_since(corpus: Corpus, rev_a: str | None, rev_b: str | None) -> ChangesSince:
    """Diff ``rev_a`` (default: the last release, by tag or record) with ``rev_b`` (default: the working tree).

    Raises :class:`chipwar.versions.git.GitError` for an unknown revision, and when ``rev_a`` is
    not given and this clone cannot know the last release (a shallow clone).
    """
    repo = open_repo(corpus.root)
    last = find_last_release(repo)
    report = Report(problems=[p for p in last.problems if p.severity == "warning"])
    since = last.release
    if rev_a is None and not last.known:
        raise GitError(last.note, hint=f"{last.problems[0].hint}; or name the revision to compare with: `chipwar diff REV`")
    b, b_name = _revision(repo, rev_b) if rev_b is not None else (None, None)
    if rev_a is None:
        diff = diff_revisions(repo, since.rev if since else None, b, since.label if since else None, b_name)
    else:
        a, a_name = _revision(repo, rev_a)
        diff = diff_revisions(repo, a, b, a_name, b_name)
    report.extend(diff.report.problems)
    required, reasons = required_bump(diff)
    suggestion = None
    if rev_a is None and rev_b is None and not diff.empty:
        if since is not None:
            suggestion = str(since.version.bump(required))
        else:
            try:
                suggestion = dataset_version(corpus)
            except VersionError:
                suggestion = "X.Y.Z"
    return ChangesSince(diff, last, required, reasons, suggestion, report)


def _revision(repo: Repo, rev: str) -> tuple[str, str]:
    """What to give git for ``rev``, and how the diff names it: a release tag this clone lacks
    (``v1.0.0`` in a clone without tags) is the release's recorded commit.

    Raises :class:`chipwar.versions.git.GitError` for a revision that is neither.
    """
    try:
        repo.resolve(rev)
        return rev, rev
    except GitError:
        version = Version.parse_or_none(rev[1:]) if rev.startswith("v") else None
        if version is None or version.tag != rev:
            raise
    release = find_release(repo, version)
    if release is None:
        raise GitError(f"{short(rev)} is not a revision or tag of this repository, nor a release it records (no commit sets "
                       f"VERSION to {version} with its CHANGELOG.md section)", hint="see `git tag --list 'v*'` and "
                       "`git log --oneline -- VERSION`; a shallow clone may need `git fetch --unshallow --tags`")
    return release.rev, release.label


@dataclass
class ReleasePlan:
    """A release checked but not yet made; ``report`` holds every reason to refuse it."""

    version: Version
    last: LastRelease
    required: str
    reasons: list[str]
    counts: dict[str, int]
    report: Report
    #: The commit checked: the release is made on it, or not at all.
    head: str | None = None

    @property
    def last_release(self) -> Version | None:
        return self.last.release.version if self.last.release else None


#: Held while a release writes, commits and tags (in the git folder): two releases at once go one after the other.
RELEASE_LOCK = "chipwar-release.lock"


class _Refusals:
    """Collects the reasons to refuse a release."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def __call__(self, code: str, message: str, expected: str, found: str, hint: str, file: str) -> None:
        self.report.add(Problem(code, message, file, expected=expected, found=found, hint=hint))


def plan_release(corpus: Corpus, version: Version) -> ReleasePlan:
    """Check a release of ``version``; every reason to refuse it is collected, nothing is written.

    Raises :class:`chipwar.versions.git.GitError` when the corpus is not in a git repository.
    """
    repo = open_repo(corpus.root)
    report = Report()
    refuse = _Refusals(report)
    if not repo.has_head():
        refuse("release_no_commit", "nothing is committed yet", "a commit to tag", "none", "commit the corpus first", "git history")
        return ReleasePlan(version, find_last_release(repo), "patch", [], {}, report)
    if repo.branch() is None:
        refuse("release_detached_head", "HEAD is detached: the release commit would be on no branch", "a branch checked out", "detached HEAD",
               "`git switch <branch>` (the branch the release belongs to), then release again", "git history")
    dirty = repo.uncommitted((*DATA_FOLDERS, CHANGELOG_FILE, VERSION_FILE))
    if dirty:
        refuse("release_uncommitted", f"uncommitted changes: {', '.join(dirty[:5])}" + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else ""),
               "a clean working tree for the dataset, CHANGELOG.md and VERSION", f"{len(dirty)} changed file(s)",
               "commit them (a release tags a commit), then run the release again"
               + ("; if a release was interrupted, `git checkout -- CHANGELOG.md VERSION` takes back what it wrote"
                  if {CHANGELOG_FILE, VERSION_FILE} & set(dirty) else ""), "working tree")
    if repo.tag_exists(version.tag):
        refuse("release_tag_exists", f"tag {version.tag} already exists", "a new version", version.tag,
               "pick the next version; see `git tag --list 'v*'`", "git tags")
    last = find_last_release(repo)
    report.extend(last.problems)
    since = last.release
    if since is not None:
        _check_order(version, since.version, since.found_by, refuse)
    elif last.known:
        _check_first(corpus, version, refuse)
    _check_version_file(corpus, version, since.version if since else None, refuse)
    diff = diff_revisions(repo, since.rev if since else None, "HEAD", since.label if since else None)
    for p in diff.report.problems:
        refuse("release_diff", f"the changes since the last release cannot all be rated: {p.message}", "files that can be compared",
               p.found or "", p.hint or "", p.file)
    required, reasons = required_bump(diff)
    if since is not None:
        level = since.version.level_of(version)
        if level is not None and LEVELS.index(level) < LEVELS.index(required):
            shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
            refuse("release_bump_too_small", f"the changes since {since.version} need a {required} version, {version} is a {level} one: {shown}",
                   f"{since.version.bump(required)} or higher", str(version),
                   f"release {since.version.bump(required)}; `chipwar diff {since.version.tag}` lists every change",
                   VERSION_FILE)
    if not _check_changelog_entry(corpus, version, refuse):
        # Validation reads every Markdown file at the root for generated blocks, and a CHANGELOG.md that is not text stops it.
        refuse("release_validation", "`chipwar validate` not run: CHANGELOG.md cannot be read as text", "a readable CHANGELOG.md",
               "see the problem above", "fix CHANGELOG.md, then release again", "corpus")
        return ReleasePlan(version, last, required, reasons, diff.counts(), report, repo.head())
    validation = check_all(corpus)
    if not validation.ok:
        refuse("release_validation", f"the corpus does not validate: {len(validation.problems)} problem(s)", "`chipwar validate` clean",
               ", ".join(sorted(set(validation.codes()))), "run `chipwar validate`, fix what it reports, commit, and release again", "corpus")
    return ReleasePlan(version, last, required, reasons, diff.counts(), report, repo.head())


def _check_order(version: Version, last: Version, found_by: str, refuse: _Refusals) -> None:
    if last.level_of(version) is None:
        refuse("release_version_order", f"{version} is not a next version of the last release {last} ({found_by})",
               last.next_versions(), str(version), "give one of the expected versions", VERSION_FILE)


def _check_first(corpus: Corpus, version: Version, refuse: _Refusals) -> None:
    """A first release may not go below, or jump past, what VERSION and CHANGELOG.md already say."""
    _, changelog = read_changelog(corpus)
    recorded = changelog.released()
    if recorded and version <= max(recorded):
        refuse("release_version_order", f"{version} is not above {max(recorded)}, which CHANGELOG.md already records as released",
               f"above {max(recorded)}", str(version), f"release {max(recorded).next_versions()}", CHANGELOG_FILE)
        return
    try:
        current = Version.parse(dataset_version(corpus))
    except VersionError:
        return  # reported by the VERSION check
    if version != current and current.level_of(version) is None:
        refuse("release_version_order", f"a first release is the version VERSION says ({current}) or the next after it; {version} is neither",
               f"{current}, {current.next_versions()}", str(version), f"release {current}", VERSION_FILE)


def _check_version_file(corpus: Corpus, version: Version, last: Version | None, refuse: _Refusals) -> None:
    try:
        current = Version.parse(dataset_version(corpus))
    except VersionError as exc:
        refuse("release_version_file", exc.message, "VERSION holding MAJOR.MINOR.PATCH", "missing or malformed",
               "restore VERSION from git", VERSION_FILE)
        return
    if last is not None and current not in (last, version):
        refuse("release_version_file", f"VERSION says {current}, which is neither the last release nor this one",
               f"{last} or {version}", str(current), f"set VERSION to {last} (release writes the new one)", VERSION_FILE)


def _check_changelog_entry(corpus: Corpus, version: Version, refuse: _Refusals) -> bool:
    """Refuse a changelog without entries or malformed; return whether it could be read as text at all."""
    text, changelog = read_changelog(corpus)
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
    return text is not None or not (corpus.root / CHANGELOG_FILE).exists()


def make_release(corpus: Corpus, plan: ReleasePlan, day: str | None = None) -> str:
    """Move Unreleased under the version, write VERSION, commit both and tag ``vX.Y.Z``; return the commit.

    Refuses a plan with problems, or one made on another HEAD. All or nothing: when the commit
    fails the two files are restored; when the tag fails the commit is taken back too (branch
    and index as before). Two releases at once run one after the other; the second is refused.
    """
    if not plan.report.ok:
        raise VersionError(f"release {plan.version} refused: {len(plan.report.errors)} problem(s)")
    repo = open_repo(corpus.root)
    with repo.locked(RELEASE_LOCK):
        return _make(repo, corpus, plan, day or date.today().isoformat())


def _make(repo: Repo, corpus: Corpus, plan: ReleasePlan, day: str) -> str:
    """:func:`make_release`, with the release lock held: nothing else chipwar does moves HEAD or the tags meanwhile."""
    parent = repo.head()
    if parent != plan.head or repo.tag_exists(plan.version.tag):
        raise VersionError(f"release {plan.version} not made: the repository changed since it was checked (another release at once?); "
                           "nothing written", hint="run the release again")
    changelog, version_file = corpus.root / CHANGELOG_FILE, corpus.root / VERSION_FILE
    try:
        before = {changelog: changelog.read_bytes(), version_file: version_file.read_bytes()}
        text = before[changelog].decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise VersionError("CHANGELOG.md or VERSION changed since the release was checked and cannot be read now; nothing written",
                           hint="restore them (`git status`) and release again") from None
    notes = unreleased_notes(text)
    write_files(corpus.root, {changelog: release_changelog(text, plan.version, day).encode("utf-8"), version_file: f"{plan.version}\n".encode()})
    try:
        commit = repo.commit_paths(f"Release {plan.version.tag}", (CHANGELOG_FILE, VERSION_FILE))
    except GitError as exc:
        if repo.head() != parent:  # a commit from outside chipwar meanwhile: the files are that commit's now, not ours to restore
            raise VersionError(f"could not commit the release, and HEAD moved meanwhile: {exc.message}",
                               hint="see `git log -1` and `git status`; CHANGELOG.md and VERSION are as that commit left them") from None
        write_files(corpus.root, before)
        raise VersionError(f"could not commit the release; CHANGELOG.md and VERSION restored, nothing changed: {exc.message}",
                           hint="fix what git says (e.g. `git config user.email …`), then release again") from None
    try:
        repo.annotated_tag(plan.version.tag, f"chipwar dataset {plan.version}\n\n{notes}\n")
    except GitError as exc:
        _take_back(repo, corpus, plan.version.tag, commit, parent, before, exc)
    return commit


def _take_back(repo: Repo, corpus: Corpus, tag: str, commit: str, parent: str, before: dict[Path, bytes], cause: GitError) -> None:
    """Undo a release commit whose tag failed: branch, index and files as they were; then raise."""
    try:
        repo.undo_commit(commit, parent, (CHANGELOG_FILE, VERSION_FILE))
    except GitError as exc:
        raise VersionError(f"committed {commit[:12]} but could not tag it ({cause.message}), nor take the commit back ({exc.message})",
                           hint=f"tag it yourself: `git tag -a {tag} {commit[:12]}`, or undo it: `git reset --hard {parent[:12]}`") from None
    write_files(corpus.root, before)
    raise VersionError(f"could not tag the release, so the release commit was taken back; nothing changed: {cause.message}",
                       hint="fix what git says, then release again")
