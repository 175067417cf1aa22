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
    tree (before the first release, against nothing: everything is new). A release is found
    by its tag vX.Y.Z or, in a clone without tags, by the commit that set VERSION to it with
    its CHANGELOG.md section (so `chipwar diff v1.0.0` works there too); the output says
    which. With A alone: A against the working tree. Annotations are matched by id, then by
    span and label when ids changed; each change lists the fields that differ, inside nested
    fields too (attribution_chain[1].entity_id), and fields one side lacks (files of an older
    schema). Exit 0 (differences are not errors); 1 when a file could not be compared (not
    JSON, not UTF-8; the rest is still shown).

    \b
    Examples:
      chipwar diff                          # since the last release
      chipwar diff v0.1.0 v0.2.0
      chipwar diff HEAD --format json | jq '.result.annotations[] | select(.change == "removed")'
    """
    from ..versions.diff import render_diff
    from ..versions.release import changes_since

    corpus = open_corpus(corpus_path)
    found = changes_since(corpus, rev_a, rev_b)
    result = found.diff
    lines = [render_diff(result), f"last release: {found.last.summary}"]
    if not result.empty:
        reasons = found.reasons
        lines.append(f"As a release after {result.a}: needs at least a {found.required} version ({reasons[0]}"
                     + (f", and {len(reasons) - 1} more)." if len(reasons) > 1 else ")."))
        if found.suggestion:
            lines.append(f"Next: say what changed under '## [Unreleased]' in CHANGELOG.md, commit, then `chipwar release {found.suggestion}`.")
    finish(found.report, {**result.to_dict(), **found.last.fields(), "required_bump": None if result.empty else found.required,
                          "bump_reasons": found.reasons}, lines,
           failed=[f"diff: {len(found.report.errors)} file(s) could not be compared (above); the rest is shown."])


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
    '## [VERSION] - today', writes VERSION, commits both files and makes the annotated tag;
    if the commit or the tag fails, nothing is left changed. Pushes nothing. The last release
    is found by its tag or, without tags, by the commit that set VERSION to it.

    \b
    Examples:
      chipwar release 0.2.0 --dry-run
      chipwar release 0.2.0 && git push --follow-tags
    """
    from ..versions.release import make_release, plan_release
    from ..versions.version import Version, VersionError

    corpus = open_corpus(corpus_path)
    try:
        wanted = Version.parse(version)
    except VersionError as exc:
        raise UsageError(f"VERSION: {exc.message}") from None
    plan = plan_release(corpus, wanted)
    info = {"version": str(wanted), "tag": wanted.tag, **plan.last.fields(),
            "required_bump": plan.required, "bump_reasons": plan.reasons, "changes": plan.counts, "released": False,
            "dry_run": dry_run, "commit": None}
    last_line = [f"last release: {plan.last.summary}"]
    if not plan.report.ok:
        finish(plan.report, info, last_line, failed=[f"release {wanted.tag}: refused, {len(plan.report.errors)} reason(s) above. "
                                          "Fix them and run it again (`--dry-run` checks without releasing)."])
    since = f"since {plan.last_release}" if plan.last_release else "in the first release"
    if dry_run:
        finish(plan.report, info, [*last_line, f"release {wanted.tag}: every check passes ({plan.required} changes {since}). Nothing changed.",
                                   f"Next: `chipwar release {wanted}` to commit CHANGELOG.md and VERSION and tag {wanted.tag}."])
    commit = make_release(corpus, plan)
    finish(plan.report, {**info, "released": True, "commit": commit},
           [*last_line, f"released {wanted.tag} at {commit[:12]} ({plan.required} changes {since}): "
            f"CHANGELOG.md has '## [{wanted}]', VERSION says {wanted}.",
            f"Next: `git push origin HEAD {wanted.tag}`, then `chipwar build` and `chipwar publish --tag {wanted.tag}`."])


@click.command()
@click.option("--check", is_flag=True,
              help="CI: fail when corpus/, annotations/ or schema/ changed since the last release and Unreleased is empty.")
@CORPUS
@FORMAT
def changelog(check: bool, corpus_path: Path, fmt: str) -> None:
    """Show the dataset version and the changelog's Unreleased entries, or check them (--check).

    The check also fails on a malformed CHANGELOG.md, and when it cannot tell the last
    release (not a git clone, or a shallow one without the release: `git fetch --unshallow`).

    \b
    Examples:
      chipwar changelog
      chipwar changelog --check
    """
    from ..versions.changelog import check_changelog
    from ..versions.version import VersionError, dataset_version

    corpus = open_corpus(corpus_path)
    result = check_changelog(corpus)
    try:
        version = dataset_version(corpus)
    except VersionError as exc:
        version = None
        result.report.add(Problem("version_missing", exc.message, "VERSION", hint=exc.hint or "restore VERSION from git"))
    lines = []
    if not check:
        lines.append(f"dataset version {version}; last release: {result.last.summary if result.last else 'unknown'}. Unreleased:")
        for kind, items in result.unreleased.items():
            lines.append(f"  {kind}:")
            lines.append("\n".join(f"    - {item}" for item in items) if items else "    (none)")
    lines.append(f"changelog: {result.note.rstrip('.')}.")
    if result.report.ok:
        lines.append("changelog: ok." + ("" if check else " Next: add entries under '## [Unreleased]' as you change things."))
    finish(result.report, {"version": version, **result.fields()}, lines,
           failed=[f"changelog: {len(result.report.errors)} problem(s); each says what to add or fix."],
           exit_code=None if check else 0)


COMMANDS = (diff_command, release, changelog)
