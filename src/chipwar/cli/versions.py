"""Commands on the dataset's versions: diff, release, changelog."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ..report import Problem
from ._util import CORPUS, FORMAT, finish, open_corpus


@click.command("diff")
@click.argument("rev_a", metavar="[A]", required=False)
@click.argument("rev_b", metavar="[B]", required=False)
@CORPUS
@FORMAT
def diff_command(rev_a: str | None, rev_b: str | None, corpus_path: Path, fmt: str) -> None:
    """What changed in the dataset between two versions: documents, annotations, label counts, schema.

    A and B are git revisions or tags. Without them: the last release against the working
    tree (before the first release, against nothing: everything is new). With A alone: A
    against the working tree. Annotations are matched by id, then by span and label when ids
    changed; each change lists the fields that differ. Exit 0 (differences are not errors).

    \b
    Examples:
      chipwar diff                          # since the last release
      chipwar diff v0.1.0 v0.2.0
      chipwar diff HEAD --format json | jq '.result.annotations[] | select(.change == "removed")'
    """
    from ..versions.diff import diff_revisions, render_diff
    from ..versions.git import open_repo
    from ..versions.release import (
        VersionError,
        dataset_version,
        last_release,
        required_bump,
    )

    corpus = open_corpus(corpus_path)
    repo = open_repo(corpus.root)
    last = last_release(repo) if rev_a is None else None
    result = diff_revisions(repo, last.tag if last else rev_a, rev_b)
    level, reasons = required_bump(result)
    lines = [render_diff(result)]
    if not result.empty:
        lines.append(f"As a release after {result.a}: needs at least a {level} version ({reasons[0]}"
                     + (f", and {len(reasons) - 1} more)." if len(reasons) > 1 else ")."))
        if rev_a is None and rev_b is None:
            try:
                suggestion = str(last.bump(level)) if last else dataset_version(corpus)
            except VersionError:
                suggestion = "X.Y.Z"
            lines.append(f"Next: say what changed under '## [Unreleased]' in CHANGELOG.md, commit, then `chipwar release {suggestion}`.")
    finish(None, {**result.to_dict(), "required_bump": None if result.empty else level, "bump_reasons": reasons}, lines)


@click.command()
@click.argument("version")
@click.option("--dry-run", is_flag=True, help="Run every check and say what would happen; change nothing.")
@CORPUS
@FORMAT
def release(version: str, dry_run: bool, corpus_path: Path, fmt: str) -> None:
    """Release the dataset as VERSION (X.Y.Z): commit CHANGELOG.md and VERSION, tag vX.Y.Z.

    Refuses, giving every reason, unless: corpus/, annotations/, schema/, CHANGELOG.md and
    VERSION are committed; `chipwar validate` is clean; VERSION is the next major, minor or
    patch of the last release and at least the bump the changes since it need (a breaking
    schema change needs a major one, added documents or annotations a minor one); and
    CHANGELOG.md has entries under Unreleased. Then it moves those entries under
    '## [VERSION] - today', writes VERSION, commits both files and makes the annotated tag.
    Pushes nothing.

    \b
    Examples:
      chipwar release 0.2.0 --dry-run
      chipwar release 0.2.0 && git push --follow-tags
    """
    from ..versions.release import Version, VersionError, make_release, plan_release

    corpus = open_corpus(corpus_path)
    try:
        wanted = Version.parse(version)
    except VersionError as exc:
        raise UsageError(f"VERSION: {exc.message}") from None
    plan = plan_release(corpus, wanted)
    info = {"version": str(wanted), "tag": wanted.tag, "last_release": str(plan.last_release) if plan.last_release else None,
            "required_bump": plan.required, "bump_reasons": plan.reasons, "changes": plan.counts, "released": False,
            "dry_run": dry_run, "commit": None}
    if not plan.report.ok:
        finish(plan.report, info, failed=[f"release {wanted.tag}: refused, {len(plan.report.errors)} reason(s) above. "
                                          "Fix them and run it again (`--dry-run` checks without releasing)."])
    since = f"since {plan.last_release.tag}" if plan.last_release else "in the first release"
    if dry_run:
        finish(plan.report, info, [f"release {wanted.tag}: every check passes ({plan.required} changes {since}). Nothing changed.",
                                   f"Next: `chipwar release {wanted}` to commit CHANGELOG.md and VERSION and tag {wanted.tag}."])
    commit = make_release(corpus, plan)
    finish(plan.report, {**info, "released": True, "commit": commit},
           [f"released {wanted.tag} at {commit[:12]} ({plan.required} changes {since}): "
            f"CHANGELOG.md has '## [{wanted}]', VERSION says {wanted}.",
            f"Next: `git push origin HEAD {wanted.tag}`, then `chipwar build` and `chipwar publish --tag {wanted.tag}`."])


@click.command()
@click.option("--check", is_flag=True,
              help="CI: fail when corpus/, annotations/ or schema/ changed since the last release and Unreleased is empty.")
@CORPUS
@FORMAT
def changelog(check: bool, corpus_path: Path, fmt: str) -> None:
    """Show the dataset version and the changelog's Unreleased entries, or check them (--check).

    The check also fails on a malformed CHANGELOG.md.

    \b
    Examples:
      chipwar changelog
      chipwar changelog --check
    """
    from ..versions.release import (
        VersionError,
        check_changelog,
        dataset_version,
        read_changelog,
    )

    corpus = open_corpus(corpus_path)
    result = check_changelog(corpus)
    try:
        version = dataset_version(corpus)
    except VersionError as exc:
        version = None
        result.report.add(Problem("version_missing", exc.message, "VERSION", hint="restore VERSION from git"))
    unreleased = read_changelog(corpus)[1].unreleased
    entries = unreleased.entries if unreleased else {}
    lines = []
    if not check:
        lines.append(f"dataset version {version}; last release {result.last_release or 'none'}. Unreleased:")
        for kind, items in entries.items():
            lines.append(f"  {kind}:")
            lines.append("\n".join(f"    - {item}" for item in items) if items else "    (none)")
    lines.append(f"changelog: {result.note.rstrip('.')}.")
    if result.report.ok:
        lines.append("changelog: ok." + ("" if check else " Next: add entries under '## [Unreleased]' as you change things."))
    finish(result.report, {"version": version, "last_release": result.last_release, "changed": result.changed, "note": result.note,
                           "unreleased": entries}, lines,
           failed=[f"changelog: {len(result.report.errors)} problem(s); each says what to add or fix."],
           exit_code=None if check else 0)


COMMANDS = (diff_command, release, changelog)
