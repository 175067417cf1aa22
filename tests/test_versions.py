"""Versions, the changelog and releases: `chipwar release` refuses each bad case with its
reason and changes nothing, tags the good ones; `chipwar changelog --check` (CI) fails on
data changes since the last tag without an Unreleased entry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Callable

import pytest

from chipwar.corpus import Corpus
from chipwar.versions.changelog import parse_changelog, release_changelog
from chipwar.versions.release import make_release, plan_release
from chipwar.versions.version import Version, VersionError, dataset_version

from .conftest import CHIPWAR, GIT_ENV, REPO, annotation_file, entity, flat, git, run_chipwar, write_set

DOC = "reg-2023-qiming"


def _release(root: Path, version: str, *extra: str) -> tuple[int, dict]:
    result = run_chipwar("release", version, "--corpus", str(root), "--format", "json", *extra, env=GIT_ENV)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, flat(result.stdout)


def _codes(payload: dict) -> set[str]:
    return {p["code"] for p in payload.get("problems", [])}


def _state(root: Path) -> tuple[str, str, bytes, bytes, str]:
    """Everything a refused release must leave as it was."""
    return (git(root, "rev-parse", "HEAD"), git(root, "tag", "--list"), (root / "CHANGELOG.md").read_bytes(),
            (root / "VERSION").read_bytes(), git(root, "status", "--porcelain"))


def _entry(root: Path, kind: str, text: str) -> None:
    path = root / "CHANGELOG.md"
    path.write_text(path.read_text("utf-8").replace("## [Unreleased]\n", f"## [Unreleased]\n\n### {kind}\n- {text}\n", 1), "utf-8")


def _commit(root: Path, message: str = "change") -> None:
    git(root, "add", "--all")
    git(root, "commit", "-qm", message)


def _annotate(root: Path, *mentions: tuple[str, str, str]) -> Path:
    text = (root / "corpus" / f"{DOC}.txt").read_text("utf-8")
    return write_set(root, "alice", annotation_file(DOC, text, annotator="alice",
                                                    entities=[entity(text, DOC, local, surface, "ORG", surface.lower())
                                                              for local, surface, _ in mentions]))


def _break_schema(root: Path) -> str:
    """Remove an entity label no annotation uses: a breaking change; regenerate the label tables as a maintainer would."""
    used = {s["label"] for p in (root / "annotations").glob("*/*.json") for s in json.loads(p.read_text("utf-8"))["entities"]}
    path = root / "schema" / "annotations.schema.json"
    schema = json.loads(path.read_text("utf-8"))
    labels = schema["$defs"]["EntityLabel"]["oneOf"]
    gone = next(o["const"] for o in labels if o["const"] not in used)
    schema["$defs"]["EntityLabel"]["oneOf"] = [o for o in labels if o["const"] != gone]
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert run_chipwar("generate", "--corpus", str(root)).returncode == 0
    return gone


def start_history(root: Path) -> Path:
    """Make a ``git_corpus`` a history before any release: its one commit rewritten to hold VERSION 0.1.0
    and a changelog with one Unreleased entry (the repository's own files record release 1.0.0)."""
    (root / "VERSION").write_text("0.1.0\n", "utf-8")
    (root / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n\n### Added\n- The corpus.\n", "utf-8")
    git(root, "commit", "--quiet", "--amend", "--all", "-m", "corpus")
    return root


@pytest.fixture
def unreleased(git_corpus: Path) -> Path:
    """The corpus at VERSION 0.1.0 with one Unreleased entry and no release."""
    return start_history(git_corpus)


@pytest.fixture
def first(unreleased: Path) -> Path:
    """The corpus released as v0.1.0."""
    code, payload = _release(unreleased, "0.1.0")
    assert code == 0, payload
    return unreleased


def test_first_release_moves_unreleased_commits_and_tags(unreleased: Path) -> None:
    code, payload = _release(unreleased, "0.1.0")
    assert code == 0 and payload["released"] and payload["last_release"] is None
    assert git(unreleased, "cat-file", "-t", "v0.1.0").strip() == "tag"
    assert git(unreleased, "rev-parse", "v0.1.0^{commit}") == git(unreleased, "rev-parse", "HEAD")
    assert git(unreleased, "log", "-1", "--format=%s").strip() == "Release v0.1.0"
    assert git(unreleased, "status", "--porcelain") == ""
    assert (unreleased / "CHANGELOG.md").read_text("utf-8") == (
        f"# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - {date.today().isoformat()}\n\n### Added\n- The corpus.\n")
    assert (unreleased / "VERSION").read_text("utf-8") == "0.1.0\n"
    assert dataset_version(Corpus(unreleased)) == "0.1.0"
    assert "- The corpus." in git(unreleased, "tag", "-l", "--format=%(contents)", "v0.1.0")


def test_release_bump_follows_the_changes(first: Path) -> None:
    _annotate(first, ("e1", "Huawei", ""))
    _entry(first, "Added", "alice annotates one entity")
    _commit(first)
    code, payload = _release(first, "0.1.1")
    assert code == 1 and _codes(payload) == {"release_bump_too_small"}
    assert payload["required_bump"] == "minor" and "alice entities reg-2023-qiming:e1 added" in payload["bump_reasons"]
    state = _state(first)
    code, payload = _release(first, "0.2.0", "--dry-run")
    assert code == 0 and not payload["released"] and _state(first) == state
    assert _release(first, "0.2.0")[0] == 0

    path = first / "annotations" / "alice" / f"{DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    data["entities"][0]["org_type"] = "state_owned_enterprise"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    _entry(first, "Fixed", "org_type of the Huawei mention")
    _commit(first)
    code, payload = _release(first, "0.2.1")
    assert code == 0 and payload["required_bump"] == "patch"

    gone = _break_schema(first)
    _entry(first, "Removed", f"entity label {gone}")
    _commit(first)
    code, payload = _release(first, "0.3.0")
    assert code == 1 and _codes(payload) == {"release_bump_too_small"}
    assert any(f"label '{gone}' removed" in r for r in payload["bump_reasons"])
    code, payload = _release(first, "1.0.0")
    assert code == 0, payload
    assert git(first, "tag", "--list").split() == ["v0.1.0", "v0.2.0", "v0.2.1", "v1.0.0"]
    assert [s.version for s in parse_changelog((first / "CHANGELOG.md").read_text("utf-8")).sections] == [
        None, "1.0.0", "0.2.1", "0.2.0", "0.1.0"]


def _valid_change(root: Path) -> None:
    """A committed minor change with its entry: on its own, 0.2.0 may be released."""
    _annotate(root, ("e1", "Huawei", ""))
    _entry(root, "Added", "alice annotates one entity")
    _commit(root)


def _dirty(root: Path) -> None:
    _valid_change(root)
    _annotate(root, ("e1", "Huawei", ""), ("e2", "Reuters", ""))


def _invalid(root: Path) -> None:
    path = _annotate(root, ("e1", "Huawei", ""))
    data = json.loads(path.read_text("utf-8"))
    data["entities"][0]["start"] += 1
    path.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    _entry(root, "Added", "alice annotates one entity")
    _commit(root)


def _no_entry(root: Path) -> None:
    _annotate(root, ("e1", "Huawei", ""))
    _commit(root)


def _malformed_changelog(root: Path) -> None:
    _valid_change(root)
    _entry(root, "Misc", "something")
    _commit(root)


def _version_file(root: Path) -> None:
    _valid_change(root)
    (root / "VERSION").write_text("0.5.0\n", "utf-8")
    _commit(root)


# name: (prepare after v0.1.0, version asked, the problem code that must refuse it)
REFUSALS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "uncommitted_changes": (_dirty, "0.2.0", "release_uncommitted"),
    "validation_fails": (_invalid, "0.2.0", "release_validation"),
    "no_changelog_entry": (_no_entry, "0.2.0", "release_changelog"),
    "malformed_changelog": (_malformed_changelog, "0.2.0", "release_changelog"),
    "not_a_next_version": (_valid_change, "0.3.0", "release_version_order"),
    "lower_version": (_valid_change, "0.0.9", "release_version_order"),
    "tag_exists": (_valid_change, "0.1.0", "release_tag_exists"),
    "bump_too_small": (_valid_change, "0.1.1", "release_bump_too_small"),
    "breaking_schema_needs_major": (lambda r: (_entry(r, "Removed", f"label {_break_schema(r)}"), _commit(r)),
                                    "0.2.0", "release_bump_too_small"),
    "version_file_disagrees": (_version_file, "0.2.0", "release_version_file"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_release_refuses_with_the_reason_and_changes_nothing(case: str, first: Path) -> None:
    prepare, version, code = REFUSALS[case]
    prepare(first)
    state = _state(first)
    status, payload = _release(first, version)
    assert status == 1 and not payload["released"]
    assert code in _codes(payload), payload["problems"]
    assert all(p["message"] and p["hint"] for p in payload["problems"])
    assert _state(first) == state
    text = run_chipwar("release", version, "--corpus", str(first), env=GIT_ENV)
    assert text.returncode == 1 and f"[{code}]" in text.stdout and "refused" in text.stderr
    assert _state(first) == state


def test_release_usage_errors(git_corpus: Path, corpus_copy: Path) -> None:
    assert run_chipwar("release", "1.0", "--corpus", str(git_corpus)).returncode == 2
    no_git = run_chipwar("release", "0.1.0", "--corpus", str(corpus_copy))
    assert no_git.returncode == 2 and "not inside a git repository" in no_git.stderr


def _check(root: Path) -> subprocess.CompletedProcess:
    return run_chipwar("changelog", "--check", "--corpus", str(root))


def test_changelog_check_before_any_release_passes_and_says_so(unreleased: Path) -> None:
    _annotate(unreleased, ("e1", "Huawei", ""))
    result = _check(unreleased)
    assert result.returncode == 0 and "no release yet" in result.stdout


def test_changelog_check_needs_an_entry_for_data_changes(first: Path) -> None:
    assert _check(first).returncode == 0
    (first / "NOTES.txt").write_text("not data\n", "utf-8")
    assert _check(first).returncode == 0
    _annotate(first, ("e1", "Huawei", ""))
    result = _check(first)
    assert result.returncode == 1
    assert "changed since release 0.1.0 (tag v0.1.0)" in result.stdout and "## [Unreleased]" in result.stdout and "### Added" in result.stdout
    _commit(first)
    assert _check(first).returncode == 1
    _entry(first, "Added", "alice annotates one entity")
    result = _check(first)
    assert result.returncode == 0 and "1 data file(s) changed" in result.stdout


def test_changelog_check_fails_on_a_malformed_changelog(git_corpus: Path) -> None:
    _entry(git_corpus, "Misc", "something")
    result = run_chipwar("changelog", "--check", "--corpus", str(git_corpus), "--format", "json")
    assert result.returncode == 1
    assert [p["code"] for p in flat(result.stdout)["problems"]] == ["changelog_malformed"]


def test_ci_runs_the_changelog_check_before_the_tests() -> None:
    lines = (REPO / ".ci" / "run").read_text("utf-8").splitlines()
    check = next(i for i, line in enumerate(lines) if "chipwar changelog --check" in line)
    assert check < next(i for i, line in enumerate(lines) if "scripts/test.sh" in line)


def test_repository_changelog_and_version_are_well_formed() -> None:
    changelog = parse_changelog((REPO / "CHANGELOG.md").read_text("utf-8"))
    assert changelog.problems == [] and changelog.unreleased is not None
    Version.parse((REPO / "VERSION").read_text("utf-8"))


def test_version_rules() -> None:
    v = Version.parse("1.2.3")
    assert (str(v), v.tag) == ("1.2.3", "v1.2.3")
    assert [str(v.bump(level)) for level in ("patch", "minor", "major")] == ["1.2.4", "1.3.0", "2.0.0"]
    assert [v.level_of(Version.parse(s)) for s in ("1.2.4", "1.3.0", "2.0.0", "1.4.0", "1.2.3", "1.2.2")] == [
        "patch", "minor", "major", None, None, None]
    for bad in ("1.2", "v1.2.3", "01.2.3", "1.2.3-rc1"):
        with pytest.raises(VersionError):
            Version.parse(bad)


CHANGELOG = """# Changelog

## [Unreleased]

### Added
- one
  continued
- two

## [0.2.0] - 2025-02-01

### Fixed
- three

[0.2.0]: https://example.org/v0.2.0
"""


def test_changelog_parse_and_release() -> None:
    parsed = parse_changelog(CHANGELOG)
    assert parsed.problems == []
    assert [(s.version, s.entries) for s in parsed.sections] == [
        (None, {"Added": ["one continued", "two"]}), ("0.2.0", {"Fixed": ["three"]})]
    released = release_changelog(CHANGELOG, Version(0, 3, 0), "2025-03-01")
    assert released == CHANGELOG.replace("## [Unreleased]\n\n", "## [Unreleased]\n\n## [0.3.0] - 2025-03-01\n\n")
    again = parse_changelog(released)
    assert [(s.version, s.entry_count) for s in again.sections] == [(None, 0), ("0.3.0", 2), ("0.2.0", 1)]


@pytest.mark.parametrize("broken, found", [
    (CHANGELOG.replace("## [Unreleased]", "## Unreleased"), "'## Unreleased'"),
    (CHANGELOG.replace("### Added", "### Misc"), "'Misc'"),
    (CHANGELOG.replace(" - 2025-02-01", ""), "'## [0.2.0]'"),
    (CHANGELOG.replace("0.2.0] - 2025", "two] - 2025"), "'two'"),
    (CHANGELOG + "\n## [0.3.0] - 2025-01-01\n### Fixed\n- x\n", "0.3.0"),
    (CHANGELOG.replace("## [Unreleased]\n", ""), "none"),
])
def test_changelog_format_problems(broken: str, found: str) -> None:
    problems = parse_changelog(broken).problems
    assert problems and {p.code for p in problems} == {"changelog_malformed"}
    assert any(p.found == found for p in problems), [p.found for p in problems]


def test_dataset_version_is_read_from_one_file(corpus_copy: Path) -> None:
    shutil.copy(REPO / "VERSION", corpus_copy / "VERSION")
    assert dataset_version(Corpus(corpus_copy)) == (REPO / "VERSION").read_text("utf-8").strip()
    (corpus_copy / "VERSION").write_text("2.0.1\n", "utf-8")
    assert dataset_version(Corpus(corpus_copy)) == "2.0.1"
    (corpus_copy / "VERSION").unlink()
    with pytest.raises(VersionError, match="missing"):
        dataset_version(Corpus(corpus_copy))


# --- Releases known from the repository itself: a clone without tags behaves as one with them ---


def _clone(source: Path, dest: Path, *options: str) -> Path:
    git(dest.parent, "clone", "--quiet", *options, f"file://{source}", str(dest))
    return dest


def _json(root: Path, *args: str) -> tuple[int, dict]:
    result = run_chipwar(*args, "--corpus", str(root), "--format", "json", env=GIT_ENV)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, flat(result.stdout)


def _behaviour(root: Path) -> dict:
    """What diff, changelog --check and release decide in a checkout; how the release was found left out."""
    diff_code, diff = _json(root, "diff")
    check_code, check = _json(root, "changelog", "--check")
    wild_code, wild = _json(root, "release", "9.9.9", "--dry-run")
    next_code, nxt = _json(root, "release", "0.3.0", "--dry-run")
    return {
        "diff": (diff_code, diff["last_release"], diff["last_release_commit"], diff["counts"], diff["required_bump"], diff["bump_reasons"]),
        "check": (check_code, _codes(check), check["last_release"], check["changed"]),
        "release 9.9.9": (wild_code, _codes(wild), wild["last_release"]),
        "release 0.3.0": (next_code, _codes(nxt), nxt["last_release"], nxt["required_bump"]),
    }


@pytest.fixture
def two_releases(first: Path) -> Path:
    """v0.1.0 (a first release: VERSION said 0.1.0 before it), v0.2.0 (its commit sets VERSION), then an annotation
    added and committed without a changelog entry."""
    _valid_change(first)
    assert _release(first, "0.2.0")[0] == 0
    _annotate(first, ("e1", "Huawei", ""), ("e2", "Reuters", ""))
    _commit(first, "alice annotates Reuters")
    return first


def test_a_clone_without_tags_finds_the_releases_by_their_record(two_releases: Path, tmp_path: Path) -> None:
    tagged = _clone(two_releases, tmp_path / "tagged")
    untagged = _clone(two_releases, tmp_path / "untagged", "--no-tags")
    assert git(tagged, "tag").split() == ["v0.1.0", "v0.2.0"] and git(untagged, "tag") == ""
    behaviour = _behaviour(tagged)
    assert _behaviour(untagged) == behaviour
    release_commit = git(two_releases, "rev-parse", "v0.2.0^{commit}").strip()
    assert behaviour["diff"][:4] == (0, "0.2.0", release_commit, {"annotations_added": 2})
    assert behaviour["check"] == (1, {"changelog_entry_missing"}, "0.2.0", ["annotations/alice/reg-2023-qiming.json"])
    assert behaviour["release 9.9.9"] == (1, {"release_version_order", "release_changelog"}, "0.2.0")
    assert behaviour["release 0.3.0"] == (1, {"release_changelog"}, "0.2.0", "minor")

    assert _json(tagged, "diff")[1]["found_by"] == "tag v0.2.0"
    record = f"commit {release_commit[:12]} that set VERSION to 0.2.0; no tag in this clone"
    assert _json(untagged, "diff")[1]["found_by"] == record
    for args in (("diff",), ("changelog", "--check"), ("changelog",), ("release", "9.9.9")):
        assert record in run_chipwar(*args, "--corpus", str(untagged), env=GIT_ENV).stdout, args
        assert "found by tag v0.2.0" in run_chipwar(*args, "--corpus", str(tagged), env=GIT_ENV).stdout.replace("(tag v0.2.0)", "found by tag v0.2.0")


def test_a_release_tag_a_clone_lacks_is_diffed_from_its_record(two_releases: Path, tmp_path: Path) -> None:
    """`chipwar diff v0.1.0` in a clone without tags compares from the commit that recorded 0.1.0, as the tag would."""
    tagged = _clone(two_releases, tmp_path / "tagged")
    untagged = _clone(two_releases, tmp_path / "untagged", "--no-tags")
    commit = git(two_releases, "rev-parse", "v0.1.0^{commit}").strip()
    for args in (("diff", "v0.1.0"), ("diff", "v0.1.0", "v0.2.0")):
        (_, with_tags), (_, without) = _json(tagged, *args), _json(untagged, *args)
        assert with_tags["a"] == "v0.1.0" and without["a"] == f"0.1.0 (commit {commit[:12]})"
        named = ("a", "b", "found_by")
        assert {k: v for k, v in without.items() if k not in named} == {k: v for k, v in with_tags.items() if k not in named}
        assert with_tags["counts"] and with_tags["required_bump"] == "minor"
    missing = run_chipwar("diff", "v0.3.0", "--corpus", str(untagged), "--format", "json")
    assert missing.returncode == 2 and "nor a release it records" in flat(missing.stdout)["error"]["message"]


def test_a_first_release_is_found_by_the_commit_that_added_its_section(first: Path, tmp_path: Path) -> None:
    """VERSION said 0.1.0 before v0.1.0 was made, so its commit changed only CHANGELOG.md: still its record."""
    untagged = _clone(first, tmp_path / "untagged", "--no-tags")
    commit = git(first, "rev-parse", "v0.1.0^{commit}").strip()
    _, check = _json(untagged, "changelog", "--check")
    assert (check["last_release"], check["last_release_commit"]) == ("0.1.0", commit)
    assert _json(untagged, "release", "0.1.0", "--dry-run")[0] == 1


def test_a_release_merged_from_a_branch_is_found_on_the_branch(first: Path, tmp_path: Path) -> None:
    git(first, "switch", "--quiet", "-c", "release-0.2")
    _valid_change(first)
    assert _release(first, "0.2.0")[0] == 0
    git(first, "switch", "--quiet", "main")
    (first / "NOTES.md").write_text("meanwhile on main\n", "utf-8")
    _commit(first, "notes")
    git(first, "merge", "--quiet", "--no-ff", "-m", "merge the release", "release-0.2")
    untagged = _clone(first, tmp_path / "untagged", "--no-tags")
    assert _json(untagged, "diff")[1]["last_release_commit"] == git(first, "rev-parse", "v0.2.0^{commit}").strip()
    assert _behaviour(untagged) == _behaviour(first)


def test_a_tag_deleted_locally_changes_nothing(two_releases: Path) -> None:
    before = _behaviour(two_releases)
    git(two_releases, "tag", "-d", "v0.2.0")
    assert _behaviour(two_releases) == before
    code, payload = _release(two_releases, "0.2.0")
    assert code == 1 and {"release_version_order", "release_changelog"} <= _codes(payload)
    assert payload["found_by"].endswith("that set VERSION to 0.2.0; no tag in this clone")


def test_version_changed_without_a_changelog_section_is_not_a_release(first: Path, tmp_path: Path) -> None:
    _valid_change(first)
    (first / "VERSION").write_text("0.2.0\n", "utf-8")
    _commit(first, "VERSION says 0.2.0, not released yet")
    untagged = _clone(first, tmp_path / "untagged", "--no-tags")
    for root in (first, untagged):
        _, diff = _json(root, "diff")
        assert (diff["last_release"], diff["last_release_commit"]) == ("0.1.0", git(first, "rev-parse", "v0.1.0^{commit}").strip())
    assert _behaviour(untagged) == _behaviour(first)
    assert _release(first, "0.2.0")[0] == 0  # the release commit leaves VERSION as it was: the section makes the record
    again = _clone(first, tmp_path / "again", "--no-tags")
    assert _json(again, "diff")[1]["last_release_commit"] == git(first, "rev-parse", "HEAD").strip()


def test_a_tag_that_disagrees_with_the_record_is_used_and_flagged(two_releases: Path, tmp_path: Path) -> None:
    untagged = _clone(two_releases, tmp_path / "untagged", "--no-tags")
    git(two_releases, "tag", "--force", "--annotate", "v0.2.0", "-m", "moved", "HEAD")
    code, check = _json(two_releases, "changelog", "--check")
    assert code == 0 and check["found_by"] == "tag v0.2.0" and check["changed"] == []
    assert {(p["code"], p["severity"]) for p in check["problems"]} == {("release_tag_disagrees", "warning")}
    text = run_chipwar("diff", "--corpus", str(two_releases)).stdout
    assert "[release_tag_disagrees]" in text and "a clone without tags with" in text
    assert _json(untagged, "changelog", "--check")[0] == 1  # the record still says 0.2.0 was the commit before

    git(two_releases, "tag", "--annotate", "v0.3.0", "-m", "by hand", "HEAD")  # VERSION there says 0.2.0
    code, diff = _json(two_releases, "diff")
    assert code == 0 and diff["last_release"] == "0.3.0" and diff["found_by"] == "tag v0.3.0"
    assert [p["code"] for p in diff["problems"]] == ["release_tag_unrecorded"]


def test_the_repository_own_record_is_its_release(git_corpus: Path) -> None:
    """The repository's VERSION and CHANGELOG.md record its last release; with no tag, that is still the last release."""
    version = (git_corpus / "VERSION").read_text("utf-8").strip()
    _, diff = _json(git_corpus, "diff")
    assert diff["last_release"] == version and diff["found_by"].endswith(f"that set VERSION to {version}; no tag in this clone")
    code, payload = _release(git_corpus, "9.9.9")
    assert code == 1 and "release_version_order" in _codes(payload)
    assert f"9.9.9 is not a next version of the last release {version}" in next(p["message"] for p in payload["problems"])


def test_a_shallow_clone_without_the_record_fails_and_says_to_fetch(two_releases: Path, tmp_path: Path) -> None:
    clone = _clone(two_releases, tmp_path / "shallow", "--depth", "1", "--no-tags")
    state = _state(clone)
    check = _check(clone)
    assert check.returncode == 1 and "[release_history_missing]" in check.stdout and "git fetch --unshallow" in check.stdout
    code, payload = _json(clone, "changelog", "--check")
    assert code == 1 and payload["last_release"] is None and payload["last_release_known"] is False
    diff = run_chipwar("diff", "--corpus", str(clone))
    assert diff.returncode == 2 and "this clone is shallow" in diff.stderr and "git fetch --unshallow" in diff.stderr
    assert run_chipwar("diff", "HEAD", "--corpus", str(clone)).returncode == 0  # a named revision needs no release
    code, payload = _release(clone, "0.3.0")
    assert code == 1 and "release_history_missing" in _codes(payload)
    assert _state(clone) == state
    git(clone, "fetch", "--quiet", "--unshallow")
    assert _behaviour(clone) == _behaviour(two_releases)


def test_a_shallow_clone_that_holds_the_record_needs_nothing_more(two_releases: Path, tmp_path: Path) -> None:
    clone = _clone(two_releases, tmp_path / "shallow", "--depth", "3", "--no-tags")
    assert _behaviour(clone) == _behaviour(two_releases)


# --- Malformed inputs: a problem (exit 1) or a clear error (exit 2), never an internal error, nothing written ---


def _snapshot(root: Path) -> tuple:
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
             if p.is_file() and ".git" not in p.relative_to(root).parts}
    if not (root / ".git").exists():
        return files, None
    refs = subprocess.run(["git", "for-each-ref"], cwd=root, capture_output=True, text=True).stdout
    head = subprocess.run(["git", "rev-parse", "--symbolic-full-name", "HEAD", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    return files, refs, head, status


def _commit_then_restore(path: str, data: bytes) -> Callable[[Path, Path], tuple[Path, dict]]:
    """The file committed holding ``data`` (with a changelog entry), then put back as it was in the working tree:
    an old revision (HEAD) with a malformed file."""
    def prepare(root: Path, _tmp: Path) -> tuple[Path, dict]:
        target = root / path
        good = target.read_bytes() if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        _entry(root, "Fixed", "something")
        _commit(root, "a malformed file")
        if good is None:
            target.unlink()
        else:
            target.write_bytes(good)
        return root, {}
    return prepare


def _committed(path: str, data: bytes) -> Callable[[Path, Path], tuple[Path, dict]]:
    """The file committed holding ``data``, working tree clean."""
    def prepare(root: Path, _tmp: Path) -> tuple[Path, dict]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        _commit(root, f"{path} malformed")
        return root, {}
    return prepare


def _in_tree(path: str, data: bytes) -> Callable[[Path, Path], tuple[Path, dict]]:
    def prepare(root: Path, _tmp: Path) -> tuple[Path, dict]:
        (root / path).write_bytes(data)
        return root, {}
    return prepare


def _no_repository(root: Path, tmp: Path) -> tuple[Path, dict]:
    plain = tmp / "plain"
    shutil.copytree(root, plain, ignore=shutil.ignore_patterns(".git"))
    return plain, {}


def _empty_repository(root: Path, tmp: Path) -> tuple[Path, dict]:
    fresh = tmp / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns(".git"))
    git(fresh, "init", "--quiet")
    return fresh, {}


def _no_git(root: Path, tmp: Path) -> tuple[Path, dict]:
    (tmp / "bin").mkdir()
    return root, {"PATH": str(tmp / "bin")}


def _detached(root: Path, _tmp: Path) -> tuple[Path, dict]:
    _valid_change(root)
    git(root, "checkout", "--quiet", "--detach")
    return root, {}


def _version_history(root: Path, _tmp: Path) -> tuple[Path, dict]:
    """VERSION committed as garbage, as a huge number and as binary, then put back: the history is searched, not trusted."""
    for data in (b"garbage\n", b"9" * 5000 + b".0.0\n", bytes(range(256)) * 4, b"0.1.0\n"):
        (root / "VERSION").write_bytes(data)
        _commit(root, "VERSION")
    return root, {}


DOC_PATH = f"annotations/alice/{DOC}.json"
NESTED = b"[" * 200 + b"]" * 200
#: Which argument each command gets, by the names the cases use.
RUNS = {"diff": ("diff",), "diff HEAD": ("diff", "HEAD"), "changelog": ("changelog",), "check": ("changelog", "--check"),
        "release": ("release", "0.2.0")}
# case: (prepare after v0.1.0, {run: (exit code, words the output must hold)}); a run not named must not exit 3.
MALFORMED: dict[str, tuple[Callable[[Path, Path], tuple[Path, dict]], dict[str, tuple[int, str]]]] = {
    "unknown_revision": (lambda r, t: (r, {}), {"diff HEAD": (0, ""), "bad revision": (2, "'no-such-rev' is not a revision or tag")}),
    "annotation_not_json_at_HEAD": (_commit_then_restore(DOC_PATH, b'{"doc_id": '), {"diff HEAD": (1, f"{DOC_PATH} in HEAD: not valid JSON")}),
    "annotation_null_at_HEAD": (_commit_then_restore(DOC_PATH, b"null"), {"diff HEAD": (1, "holds null, not a JSON object")}),
    "annotation_list_at_HEAD": (_commit_then_restore(DOC_PATH, b"[1, 2]"), {"diff HEAD": (1, "not a JSON object")}),
    "annotation_nested_at_HEAD": (_commit_then_restore(DOC_PATH, NESTED), {"diff HEAD": (1, "nested deeper than")}),
    "layers_of_the_wrong_shape_at_HEAD": (_commit_then_restore(DOC_PATH, json.dumps(
        {"doc_id": DOC, "entities": [1, {"id": [1], "label": {"x": 1}, "start": "0"}], "claims": 5, "canonical_entities": [{"id": {}}],
         "document_labels": [1]}).encode()), {"diff HEAD": (1, "entities is not a list of objects")}),
    "text_not_utf8_at_HEAD": (_commit_then_restore(f"corpus/{DOC}.txt", b"\xff\xfe broken"), {"diff HEAD": (1, "not UTF-8 text")}),
    "metadata_null_at_HEAD": (_commit_then_restore(f"corpus/{DOC}.json", b"null"), {"diff HEAD": (1, f"corpus/{DOC}.json in HEAD")}),
    "schema_not_json_at_HEAD": (_commit_then_restore("schema/annotations.schema.json", b"{]"), {"diff HEAD": (1, "not valid JSON")}),
    "annotation_null_committed": (_committed(DOC_PATH, b"null"), {"diff": (1, "not a JSON object"), "release": (1, "release_validation")}),
    "schema_not_json_in_tree": (_in_tree("schema/annotations.schema.json", b"not json"),
                                {"diff": (1, "schema/annotations.schema.json in working tree: not valid JSON"),
                                 "release": (1, "schema/annotations.schema.json: not valid JSON")}),
    "changelog_binary": (_committed("CHANGELOG.md", b"\xff\xfe\x00\x01 binary \x80"),
                         {"check": (1, "changelog_unreadable"), "release": (1, "not UTF-8 text"), "diff": (0, "")}),
    "version_garbage": (_committed("VERSION", b"garbage\n"), {"check": (1, "'garbage' is not a version"), "release": (1, "release_version_file")}),
    "version_huge": (_committed("VERSION", b"9" * 5000 + b".0.0\n"), {"check": (1, "more than 256 bytes, not a version"),
                                                                      "release": (1, "release_version_file")}),
    "version_binary": (_committed("VERSION", bytes(range(256)) * 400), {"check": (1, "more than 256 bytes, not a version"),
                                                                       "release": (1, "release_version_file")}),
    "version_history_garbage": (_version_history, {"diff": (0, "found by tag v0.1.0"), "check": (0, "")}),
    "not_a_git_repository": (_no_repository, {"diff": (2, "not inside a git repository"), "check": (1, "release_history_missing"),
                                              "changelog": (0, "not inside a git repository"), "release": (2, "not inside a git repository")}),
    "git_not_on_path": (_no_git, {"diff": (2, "git is not installed"), "check": (1, "git is not installed"), "release": (2, "git is not installed")}),
    "detached_head": (_detached, {"diff": (0, ""), "check": (0, ""), "release": (1, "release_detached_head")}),
    "empty_repository": (_empty_repository, {"diff": (0, "nothing is committed"), "diff HEAD": (2, "'HEAD' is not a revision"),
                                             "check": (0, "no release yet"), "release": (1, "release_no_commit")}),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_inputs_are_problems_or_errors_never_crashes(case: str, first: Path, tmp_path: Path) -> None:
    prepare, expected = MALFORMED[case]
    root, env = prepare(first, tmp_path)
    runs = {**RUNS, "bad revision": ("diff", "no-such-rev"), "bad second revision": ("diff", "HEAD", "no-such-rev"),
            "revision like an option": ("diff", "--", "--output=x")}
    before = _snapshot(root)
    for name, (command, *rest) in runs.items():
        for fmt in ("text", "json"):
            result = run_chipwar(command, "--corpus", str(root), "--format", fmt, *rest, env={**GIT_ENV, **env})
            out = result.stdout + result.stderr
            assert result.returncode != 3 and "Traceback" not in out and "internal error" not in out, (name, fmt, out)
            if fmt == "json":
                envelope = json.loads(result.stdout)
                assert envelope["exit_code"] == result.returncode, (name, envelope)
            if name in expected:
                code, words = expected[name]
                assert result.returncode == code and (fmt == "json" or words in out), (name, fmt, out)
            elif name.startswith(("bad", "revision")) and case not in ("git_not_on_path", "not_a_git_repository"):
                assert result.returncode == 2 and "is not a revision or tag" in out, (name, fmt, out)
            else:
                assert result.returncode in (0, 1, 2), (name, fmt, out)
            assert _snapshot(root) == before, (name, fmt)


# --- A release that fails half-way leaves nothing behind ---


def test_a_release_whose_commit_fails_restores_the_files(first: Path) -> None:
    _valid_change(first)
    hook = first / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by the hook' >&2\nexit 1\n", "utf-8")
    hook.chmod(0o755)
    state = _state(first)
    result = run_chipwar("release", "0.2.0", "--corpus", str(first), env=GIT_ENV)
    assert result.returncode == 2 and "could not commit the release" in result.stderr and "refused by the hook" in result.stderr
    assert _state(first) == state
    hook.unlink()
    assert _release(first, "0.2.0")[0] == 0


def test_a_release_whose_tag_fails_takes_its_commit_back(first: Path) -> None:
    _valid_change(first)
    lock = first / ".git" / "refs" / "tags" / "v0.2.0.lock"  # another git holds the tag: creating it fails
    lock.write_bytes(b"")
    state = _state(first)
    result = run_chipwar("release", "0.2.0", "--corpus", str(first), "--format", "json", env=GIT_ENV)
    assert result.returncode == 2 and "could not tag the release, so the release commit was taken back" in flat(result.stdout)["error"]["message"]
    assert _state(first) == state and git(first, "diff", "--cached", "--name-only") == ""
    lock.unlink()
    assert _release(first, "0.2.0")[0] == 0
    assert git(first, "rev-parse", "v0.2.0^{commit}") == git(first, "rev-parse", "HEAD")


def test_version_parse_is_bounded() -> None:
    assert Version.parse("123456789012345678.0.0").major == 123456789012345678
    for bad in ("1234567890123456789.0.0", "9" * 5000 + ".0.0", "\x00", ""):
        with pytest.raises(VersionError):
            Version.parse(bad)


def test_a_release_checked_on_another_head_is_not_made(first: Path) -> None:
    _valid_change(first)
    corpus = Corpus(first)
    plan = plan_release(corpus, Version(0, 2, 0))
    assert plan.report.ok
    (first / "NOTES.md").write_text("a commit after the check\n", "utf-8")
    _commit(first, "notes")
    state = _state(first)
    with pytest.raises(VersionError, match="the repository changed since it was checked"):
        make_release(corpus, plan)
    assert _state(first) == state


def test_two_releases_at_once_make_one(first: Path) -> None:
    _valid_change(first)
    env = {**os.environ, **GIT_ENV}
    procs = [subprocess.Popen([*CHIPWAR, "release", "0.2.0", "--corpus", str(first)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    outcomes = sorted((p.wait(timeout=300), p.stdout.read() + p.stderr.read()) for p in procs)
    assert outcomes[0][0] == 0 and outcomes[1][0] in (1, 2), outcomes
    assert "Traceback" not in outcomes[1][1]
    assert git(first, "status", "--porcelain") == "" and git(first, "tag", "--list").split() == ["v0.1.0", "v0.2.0"]
    assert git(first, "rev-parse", "v0.2.0^{commit}") == git(first, "rev-parse", "HEAD")
    assert git(first, "log", "--format=%s", "v0.1.0..HEAD").splitlines() == ["Release v0.2.0", "change"]
