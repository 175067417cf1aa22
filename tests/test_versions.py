"""Versions, the changelog and releases: `chipwar release` refuses each bad case with its
reason and changes nothing, tags the good ones; `chipwar changelog --check` (CI) fails on
data changes since the last tag without an Unreleased entry."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Callable

import pytest

from chipwar.corpus import Corpus
from chipwar.versions.release import Version, VersionError, dataset_version, parse_changelog, release_changelog

from .conftest import GIT_ENV, REPO, annotation_file, entity, flat, git, run_chipwar, write_set

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


@pytest.fixture
def unreleased(git_corpus: Path) -> Path:
    """The corpus at VERSION 0.1.0 with one Unreleased entry and no release, whatever the repository's own history."""
    (git_corpus / "VERSION").write_text("0.1.0\n", "utf-8")
    (git_corpus / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n\n### Added\n- The corpus.\n", "utf-8")
    _commit(git_corpus, "start the changelog")
    return git_corpus


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


def test_changelog_check_before_any_release_passes_and_says_so(git_corpus: Path) -> None:
    _annotate(git_corpus, ("e1", "Huawei", ""))
    result = _check(git_corpus)
    assert result.returncode == 0 and "no release tag" in result.stdout


def test_changelog_check_needs_an_entry_for_data_changes(first: Path) -> None:
    assert _check(first).returncode == 0
    (first / "NOTES.txt").write_text("not data\n", "utf-8")
    assert _check(first).returncode == 0
    _annotate(first, ("e1", "Huawei", ""))
    result = _check(first)
    assert result.returncode == 1
    assert "changed since v0.1.0" in result.stdout and "## [Unreleased]" in result.stdout and "### Added" in result.stdout
    _commit(first)
    assert _check(first).returncode == 1
    _entry(first, "Added", "alice annotates one entity")
    result = _check(first)
    assert result.returncode == 0 and "1 data file(s) changed" in result.stdout


def test_changelog_check_without_tags_in_a_shallow_clone(first: Path, tmp_path: Path) -> None:
    _annotate(first, ("e1", "Huawei", ""))
    _commit(first)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-tags", f"file://{first}", str(clone))
    result = _check(clone)
    assert result.returncode == 0 and "shallow" in result.stdout
    assert _check(first).returncode == 1  # the same change fails where the tag is known


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
