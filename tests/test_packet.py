"""`chipwar packet`: what a blind annotator is given, checked, and how the finished pass comes back."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .conftest import chain_link, entity, flat, run_chipwar, span_at, tree

DOC = "reg-2023-qiming"
CLEAN_GUIDE = "# Guidelines\n\nMark 'Ostmark has agreed' as a place standing for its government.\n"


@pytest.fixture
def root(corpus_copy: Path) -> Path:
    """A corpus whose guidelines quote nothing of its texts."""
    (corpus_copy / "annotations" / "GUIDELINES.md").write_text(CLEAN_GUIDE, "utf-8")
    return corpus_copy


def _prepare(root: Path, out: Path, *extra: str) -> tuple[int, dict]:
    ran = run_chipwar("packet", "prepare", DOC, "--annotator", "pass-9", "--model-name", "test-model", "--model-version", "1.2",
                      "--out", str(out), *extra, "--format", "json", cwd=root)
    return ran.returncode, flat(ran.stdout)


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_packet_holds_exactly_what_the_annotator_may_see(root: Path, tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    rc, out = _prepare(root, tmp_path / "p")
    after = datetime.now(UTC)
    assert rc == 0, out
    folder = tmp_path / "p"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["GUIDELINES.md", "annotations.schema.json", "document.schema.json", f"{DOC}.txt", f"{DOC}.json"])
    assert (folder / f"{DOC}.txt").read_bytes() == (root / "corpus" / f"{DOC}.txt").read_bytes()
    data = json.loads((folder / f"{DOC}.json").read_text("utf-8"))
    given = data["annotator"]["given"]
    sha = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
           for name in ("GUIDELINES.md", "annotations.schema.json", "document.schema.json", f"{DOC}.txt")}
    assert given == {"guidelines_sha256": sha["GUIDELINES.md"], "annotations_schema_sha256": sha["annotations.schema.json"],
                     "document_schema_sha256": sha["document.schema.json"], "text_sha256": sha[f"{DOC}.txt"]}
    assert data["annotator"]["model"] == {"name": "test-model", "version": "1.2"}
    assert before <= _stamp(data["annotator"]["prepared"]) <= after and data["annotator"]["submitted"] is None
    assert [data[layer] for layer in ("zones", "entities", "claims", "bias_markers", "canonical_entities")] == [[]] * 5
    assert run_chipwar("packet", "check", str(folder), cwd=tmp_path).returncode == 0


def test_guidelines_that_quote_the_text_are_refused_and_nothing_is_written(root: Path, tmp_path: Path) -> None:
    text = (root / "corpus" / f"{DOC}.txt").read_text("utf-8")
    sentence = text.split("\n\n")[3][:80]
    (root / "annotations" / "GUIDELINES.md").write_text(f"Example: '{sentence}'\n", "utf-8")
    rc, out = _prepare(root, tmp_path / "p")
    assert rc == 1 and "quote" in out["error"]["message"] and "GUIDELINES.md" in out["error"]["message"]
    assert [p.name for p in tmp_path.iterdir()] == ["repo"]  # no packet, no half-written staging folder


@pytest.mark.parametrize("args, needle", [
    (("--kind", "model", "--model-name", ""), "--model-name"),
    (("--kind", "person", "--model-name", "x"), "--kind model"),
])
def test_model_options_must_fit_the_kind(args: tuple[str, ...], needle: str, root: Path, tmp_path: Path) -> None:
    ran = run_chipwar("packet", "prepare", DOC, "--annotator", "pass-9", "--out", str(tmp_path / "p"), *args, cwd=root)
    assert ran.returncode == 2 and needle in ran.stderr and not (tmp_path / "p").exists()


def test_an_unknown_document_or_a_bad_name_is_a_usage_error(root: Path, tmp_path: Path) -> None:
    for doc, name in (("no-such-doc", "pass-9"), (DOC, "Bad Name")):
        ran = run_chipwar("packet", "prepare", doc, "--annotator", name, "--model-name", "m", "--out", str(tmp_path / "p"), cwd=root)
        assert ran.returncode == 2, ran.stderr
    assert not (tmp_path / "p").exists()


def test_a_folder_with_files_is_never_replaced(root: Path, tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "mine.txt").write_text("keep me", "utf-8")
    before = tree(tmp_path / "p")
    rc, out = _prepare(root, tmp_path / "p")
    assert rc == 2 and "refused" in out["error"]["message"] and tree(tmp_path / "p") == before


def test_a_killed_prepare_leaves_no_staging_folder_behind_the_next_one(root: Path, tmp_path: Path) -> None:
    packets = tmp_path / "packets"
    stale = packets / ".p.k1ll3d.partial"  # what a prepare killed while writing leaves beside its --out
    stale.mkdir(parents=True)
    (stale / "GUIDELINES.md").write_text("half", "utf-8")
    rc, out = _prepare(root, packets / "p")
    assert rc == 0, out
    assert sorted(p.name for p in packets.iterdir()) == ["p"] and (packets / "p" / f"{DOC}.json").is_file()


def _fill(folder: Path) -> None:
    path = folder / f"{DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    text = (folder / f"{DOC}.txt").read_text("utf-8")
    reuters = entity(text, DOC, "e1", "Reuters", "ORG", "reuters")
    reuters["org_type"] = "media"
    for span in (reuters,):
        span["provenance"] = {"agent": "pass-9", "origin": "manual", "created": None}
    claim = span_at(text, DOC, "c1", "is overseen by the Ministry of Industry and Information Technology", "event_property",
                    check_worthiness="check_worthy", claimant_type="entity", claimant_id="reuters", attribution_form="reported",
                    attribution_chain=[chain_link(text, "named_organization", "reuters", "according to Reuters")], restates=[],
                    certainty="certain")
    claim["provenance"] = {"agent": "pass-9", "origin": "manual", "created": None}
    data["canonical_entities"] = [{"id": "reuters", "name": "Reuters", "label": "ORG", "kb_ids": []}]
    data["entities"], data["claims"] = [reuters], [claim]
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def test_check_reports_a_wrong_span_and_an_edited_given_file(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _prepare(root, folder)
    _fill(folder)
    data = json.loads((folder / f"{DOC}.json").read_text("utf-8"))
    data["claims"][0]["attribution_chain"][0]["cue"]["start"] += 1
    (folder / f"{DOC}.json").write_text(json.dumps(data), "utf-8")
    (folder / "GUIDELINES.md").write_text(CLEAN_GUIDE + "A rule I added.\n", "utf-8")
    ran = run_chipwar("packet", "check", str(folder), "--format", "json", cwd=tmp_path)
    codes = {(p["code"], p["pointer"]) for p in flat(ran.stdout)["problems"]}
    assert ran.returncode == 1
    assert ("offset_text_mismatch", "/claims/0/attribution_chain/0/cue/start") in codes
    assert ("packet_file_changed", "/annotator/given/guidelines_sha256") in codes


def test_check_names_broken_json(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _prepare(root, folder)
    (folder / f"{DOC}.json").write_text("{ not json", "utf-8")
    ran = run_chipwar("packet", "check", str(folder), cwd=tmp_path)
    assert ran.returncode == 1 and "invalid_json" in ran.stdout and f"{DOC}.json" in ran.stdout


def test_check_refuses_a_folder_that_is_not_a_packet(tmp_path: Path) -> None:
    ran = run_chipwar("packet", "check", str(tmp_path), cwd=tmp_path)
    assert ran.returncode == 2 and "not an annotation packet" in ran.stderr


def test_submit_writes_the_pass_once_stamped_with_the_time_of_receipt(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _prepare(root, folder)
    _fill(folder)
    before = datetime.now(UTC).replace(microsecond=0)
    ran = run_chipwar("packet", "submit", str(folder), "--format", "json", cwd=root)
    assert ran.returncode == 0, ran.stdout
    target = root / "annotations" / "pass-9" / f"{DOC}.json"
    data = json.loads(target.read_text("utf-8"))
    assert before <= _stamp(data["annotator"]["submitted"]) <= datetime.now(UTC)
    assert data["claims"][0]["attribution_chain"][0]["entity_id"] == "reuters"
    assert run_chipwar("validate", str(target), cwd=root).returncode == 0
    kept = target.read_bytes()
    again = run_chipwar("packet", "submit", str(folder), cwd=root)
    assert again.returncode == 2 and "already exists" in again.stderr and target.read_bytes() == kept


def test_submit_with_problems_writes_nothing(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _prepare(root, folder)
    _fill(folder)
    data = json.loads((folder / f"{DOC}.json").read_text("utf-8"))
    data["claims"][0]["attribution_form"] = "none"
    (folder / f"{DOC}.json").write_text(json.dumps(data), "utf-8")
    ran = run_chipwar("packet", "submit", str(folder), cwd=root)
    assert ran.returncode == 1 and "attribution_form_mismatch" in ran.stdout and "nothing written" in ran.stderr
    assert "Next" not in ran.stdout
    assert not (root / "annotations" / "pass-9").exists()


def test_submit_under_another_annotators_name_is_refused(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    _prepare(root, folder)
    _fill(folder)
    ran = run_chipwar("packet", "submit", str(folder), "--set", "pass-8", cwd=root)
    assert ran.returncode == 1 and "set_name_mismatch" in ran.stdout
    assert not (root / "annotations" / "pass-8").exists()


def test_a_packet_missing_or_breaking_a_given_file_cannot_be_checked(root: Path, tmp_path: Path) -> None:
    for name, damage in (("annotations.schema.json", "remove"), ("document.schema.json", "{"), (f"{DOC}.txt", "remove")):
        folder = tmp_path / name
        _prepare(root, folder)
        target = folder / name
        target.unlink() if damage == "remove" else target.write_text(damage, "utf-8")
        ran = run_chipwar("packet", "check", str(folder), cwd=tmp_path)
        expected = 2 if name.endswith(".txt") else 1  # without its text the folder is not a packet at all
        assert ran.returncode == expected and "packet" in ran.stderr and "git" not in ran.stderr, (name, ran.stderr)
