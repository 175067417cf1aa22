"""Bad input in annotation files: each case breaks a copy of a real annotation file and
must be reported with exit 1, its code, the file, the document, the annotation and the
JSON pointer; nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from .conftest import REPO, flat, run_chipwar

DOC = "reg-2023-qiming"
FILE = f"annotations/gold/{DOC}.json"


def _load(root: Path) -> dict:
    return json.loads((root / FILE).read_text("utf-8"))


def _save(root: Path, data: dict) -> None:
    (root / FILE).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")


def _edit(fn: Callable[[dict], object]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        data = _load(root)
        fn(data)
        _save(root, data)
    return apply


def _first(layer: str, pred: Callable[[dict], bool] = lambda s: True) -> Callable[[dict], dict]:
    return lambda d: next(s for s in d[layer] if pred(s))


E0 = _first("entities")
NON_ORG = _first("entities", lambda s: s["label"] != "ORG")
C_ENTITY = _first("claims", lambda s: s["claimant_type"] == "entity")
B0 = _first("bias_markers", lambda s: s["target_ids"])


def _dup(d: dict) -> None:
    d["entities"][1]["id"] = d["entities"][0]["id"]


# name: (break it, code, which annotation (function of the ORIGINAL file) or None, pointer suffix)
CASES: dict[str, tuple[Callable[[Path], None], str, Callable[[dict], dict] | None, str]] = {
    "offset_off_by_one": (_edit(lambda d: E0(d).update(start=E0(d)["start"] + 1)), "offset_text_mismatch", E0, "/start"),
    "span_text_mismatch": (_edit(lambda d: E0(d).update(text=E0(d)["text"] + "x")), "offset_text_mismatch", E0, "/start"),
    "unknown_label": (_edit(lambda d: E0(d).update(label="COMPANY")), "unknown_label", E0, "/label"),
    "unknown_attribute_value": (_edit(lambda d: B0(d).update(polarity="hostile")), "unknown_label", B0, "/polarity"),
    "attribute_on_wrong_label": (_edit(lambda d: NON_ORG(d).update(org_type="company")), "wrong_type", NON_ORG, "/org_type"),
    "duplicate_id": (_edit(_dup), "duplicate_id", lambda d: d["entities"][0], "/entities/1/id"),
    "id_prefix": (_edit(lambda d: E0(d).update(id="other-doc:e1")), "id_prefix_mismatch", None, "/id"),
    "dangling_reference": (_edit(lambda d: B0(d)["target_ids"].append("no-such-entity")), "dangling_reference", B0, "/target_ids"),
    "dangling_claimant": (_edit(lambda d: C_ENTITY(d).update(claimant_id="nobody")), "dangling_reference", C_ENTITY, "/claimant_id"),
    "end_before_start": (_edit(lambda d: E0(d).update(end=E0(d)["start"])), "offset_order", E0, "/end"),
    "end_past_text": (_edit(lambda d: E0(d).update(end=10**6)), "offset_out_of_range", E0, "/end"),
    "negative_start": (_edit(lambda d: E0(d).update(start=-1)), "schema_violation", E0, "/start"),
    "unknown_field": (_edit(lambda d: E0(d).update(confidence=0.9)), "unknown_field", E0, "/confidence"),
    "missing_field": (_edit(lambda d: E0(d).pop("provenance")), "missing_field", E0, "/provenance"),
    "bad_origin": (_edit(lambda d: E0(d)["provenance"].update(origin="guess")), "unknown_label", E0, "/provenance/origin"),
    "doc_id_mismatch": (_edit(lambda d: d.update(doc_id="tfi-2021-chip-crisis")), "doc_id_mismatch", None, "/doc_id"),
    "wrong_schema_version": (_edit(lambda d: d.update(schema_version="0.9")), "wrong_value", None, "/schema_version"),
    "duplicate_canonical": (_edit(lambda d: d["canonical_entities"].append(dict(d["canonical_entities"][0]))), "duplicate_id",
                            lambda d: d["canonical_entities"][0], "/id"),
}


@pytest.fixture
def gold_copy(corpus_copy: Path) -> Path:
    assert (corpus_copy / FILE).is_file(), "the gold annotations of the repository are the fixture"
    return corpus_copy


def _problems(root: Path) -> tuple[int, list[dict], str]:
    """Exit code, the errors (warnings left out) and the text."""
    js = run_chipwar("validate", str(root), "--format", "json")
    text = run_chipwar("validate", str(root))
    assert text.returncode == js.returncode
    return js.returncode, [p for p in flat(js.stdout)["problems"] if p["severity"] == "error"], text.stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_annotation_is_reported(case: str, gold_copy: Path) -> None:
    breaker, code, which, ptr_suffix = CASES[case]
    original = _load(gold_copy)
    expected_id = which(original)["id"] if which else None
    breaker(gold_copy)
    rc, problems, text = _problems(gold_copy)
    assert rc == 1
    hits = [p for p in problems if p["code"] == code]
    assert hits, f"expected {code}, got {[(p['code'], p['pointer']) for p in problems]}"
    hit = hits[0]
    assert hit["file"] == FILE and hit["doc_id"] == DOC
    assert hit["pointer"].endswith(ptr_suffix)
    assert hit["hint"], f"{code} says what is wrong but not what to do"
    if expected_id:
        assert hit["annotation_id"] == expected_id
        assert f"doc={DOC} ann={expected_id}" in text
    assert f"{FILE}#{hit['pointer']} [{code}]" in text


@pytest.mark.parametrize(("end", "code"), [(10**6, "offset_out_of_range"), (0, "offset_order")])
def test_offsets_out_of_order_or_range_say_where_the_span_text_is(end: int, code: str, gold_copy: Path) -> None:
    data = _load(gold_copy)
    span = data["entities"][0]
    start = span["start"]
    span["end"] = end if end else start
    _save(gold_copy, data)
    before = (gold_copy / FILE).read_bytes()
    rc, problems, text = _problems(gold_copy)
    assert rc == 1 and [p["code"] for p in problems] == [code]
    text_ = (gold_copy / "corpus" / f"{DOC}.txt").read_text("utf-8")
    at = min((i for i in range(len(text_)) if text_.startswith(span["text"], i)), key=lambda i: abs(i - start))
    assert problems[0]["hint"] == f"the span text occurs at start={at}, end={at + len(span['text'])}"
    assert f"hint: the span text occurs at start={at}" in text
    assert (gold_copy / FILE).read_bytes() == before


def test_whitespace_at_span_edge(gold_copy: Path) -> None:
    data = _load(gold_copy)
    text = (gold_copy / "corpus" / f"{DOC}.txt").read_text("utf-8")
    span = next(s for s in data["entities"] if s["start"] > 0 and text[s["start"] - 1] == " ")
    span["start"] -= 1
    span["text"] = text[span["start"]:span["end"]]
    _save(gold_copy, data)
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1
    assert [(p["code"], p["annotation_id"]) for p in problems] == [("span_whitespace_edge", span["id"])]


def test_stale_annotations_after_text_edit(gold_copy: Path) -> None:
    path = gold_copy / "corpus" / f"{DOC}.txt"
    path.write_text(path.read_text("utf-8").replace("Huawei", "HUAWEI"), "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1
    codes = {(p["code"], p["file"]) for p in problems}
    assert ("stale_annotations", FILE) in codes and ("text_sha256_mismatch", f"corpus/{DOC}.txt") in codes
    assert "offset_text_mismatch" not in {c for c, _ in codes}


def test_malformed_json(gold_copy: Path) -> None:
    (gold_copy / FILE).write_text((gold_copy / FILE).read_text("utf-8").replace('"start"', "'start'", 1), "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1 and problems[0]["code"] == "json_malformed" and problems[0]["file"] == FILE
    assert "line" in problems[0]["message"] or "char" in problems[0]["message"]


def test_annotation_without_document(gold_copy: Path) -> None:
    (gold_copy / "corpus" / f"{DOC}.txt").rename(gold_copy / "elsewhere.txt")
    (gold_copy / "corpus" / f"{DOC}.json").unlink()
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1
    assert ("missing_document", FILE, DOC) in {(p["code"], p["file"], p["doc_id"]) for p in problems}


def test_generated_file_out_of_date(gold_copy: Path) -> None:
    guide = gold_copy / "annotations" / "GUIDELINES.md"
    guide.write_text(guide.read_text("utf-8").replace("| `ORG` |", "| `ORGANISATION` |", 1), "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1 and [p["code"] for p in problems] == ["generated_stale"]
    assert "chipwar generate" in text


def test_every_problem_in_one_pass(gold_copy: Path) -> None:
    for case in ("offset_off_by_one", "unknown_label", "dangling_reference", "unknown_field"):
        CASES[case][0](gold_copy)
    rc, problems, _ = _problems(gold_copy)
    assert {"offset_text_mismatch", "unknown_label", "dangling_reference", "unknown_field"} <= {p["code"] for p in problems}


# --- values the schema lets through or cannot look at: every one a problem, never a crash -------------------------


def _set_literal(root: Path, field: str, literal: str) -> dict:
    """Set the first entity's ``field`` to a JSON literal Python would not write (``1e30``, 2**64); return the original entity."""
    data = _load(root)
    original = dict(E0(data))
    E0(data)[field] = 987_654_321
    _save(root, data)
    path = root / FILE
    path.write_text(path.read_text("utf-8").replace("987654321", literal), "utf-8")
    return original


@pytest.mark.parametrize("literal", ["18446744073709551616", "1e30", "1e3", "38.0", "-0.0"])
def test_offsets_written_as_floats_are_wrong_type(literal: str, gold_copy: Path) -> None:
    """JSON Schema's ``integer`` admits 1.0 and 1e30 (and 2**64 arrives as a float): validate reports them, so build never sees them."""
    first = _set_literal(gold_copy, "start", literal)
    rc, problems, text = _problems(gold_copy)
    assert rc == 1, text
    assert [(p["code"], p["pointer"], p["annotation_id"]) for p in problems] == [("wrong_type", "/entities/0/start", first["id"])]
    assert "integer" in problems[0]["expected"]


def test_offset_past_64_bits_is_refused_by_build(gold_copy: Path, tmp_path: Path) -> None:
    """The reported crash: a 2**64 offset passed validate and crashed the build. Now both refuse it with exit 1."""
    _set_literal(gold_copy, "start", "18446744073709551616")
    _set_literal(gold_copy, "end", "18446744073709551621")
    (gold_copy / "VERSION").write_bytes((REPO / "VERSION").read_bytes())
    built = run_chipwar("build", "--corpus", str(gold_copy), "--out", str(tmp_path / "dist"))
    assert built.returncode == 1, built.stdout + built.stderr
    assert "validat" in built.stderr and not (tmp_path / "dist").exists()


@pytest.mark.parametrize("value", [True, "12", None, -1, 10**6])
def test_offsets_of_other_types_and_ranges(value: object, gold_copy: Path) -> None:
    data = _load(gold_copy)
    data["entities"][0]["start"] = value
    _save(gold_copy, data)
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1 and problems and all(p["pointer"].startswith("/entities/0/") for p in problems)


@pytest.mark.parametrize("content", ["null", "[1]", '"annotations"', "5", "true", "{}"])
def test_file_that_is_not_an_annotation_object(content: str, gold_copy: Path) -> None:
    """``null`` used to be skipped by validate (and dropped by build); any non-object is a problem."""
    (gold_copy / FILE).write_text(content, "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1, text
    assert {p["file"] for p in problems} == {FILE}
    assert problems[0]["code"] in {"wrong_type", "missing_field"}


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deep_nesting_is_one_problem(depth: int, gold_copy: Path) -> None:
    """300 passes the JSON parser but not the schema checker's recursion; 100,000 stops the parser. Both: one problem."""
    (gold_copy / FILE).write_text("[" * depth + "]" * depth, "utf-8")
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1 and [(p["code"], p["file"]) for p in problems] == [("too_deep", FILE)]


def test_deep_value_given_by_an_importer_is_one_problem() -> None:
    """check_annotation_data takes Python values from importers: a 100,000-deep list must not recurse."""
    from chipwar.report import Report
    from chipwar.schema import load_schemas
    from chipwar.validation.annotations import check_annotation_data

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    report = Report()
    check_annotation_data(load_schemas(REPO / "schema"), {"doc_id": deep}, FILE, DOC, "text", "sha", report)
    assert report.codes() == ["too_deep"]


def test_huge_values_are_bounded_in_messages(gold_copy: Path) -> None:
    data = _load(gold_copy)
    huge = "x" * 5_000_000
    data["doc_id"] = huge
    data["entities"][0]["label"] = huge
    data["entities"][0][huge] = 1
    _save(gold_copy, data)
    js = run_chipwar("validate", str(gold_copy), "--format", "json")
    text = run_chipwar("validate", str(gold_copy))
    assert js.returncode == text.returncode == 1
    assert len(js.stdout) < 100_000 and len(text.stdout) < 100_000
    problems = flat(js.stdout)["problems"]
    assert {"doc_id_mismatch", "unknown_label", "unknown_field"} <= {p["code"] for p in problems}
    assert all(len(v) <= 600 for p in problems for v in p.values() if isinstance(v, str))


# --- canonical entities: one id, one record per set ---------------------------------------------------------------

OTHER = "tfi-2021-chip-crisis"


def _entity_record(root: Path, set_name: str, doc: str, cid: str) -> tuple[Path, dict, dict]:
    path = root / "annotations" / set_name / f"{doc}.json"
    data = json.loads(path.read_text("utf-8"))
    return path, data, next(e for e in data["canonical_entities"] if e["id"] == cid)


def _shared_id(root: Path) -> str:
    """A canonical entity the gold files of both documents define (the corpus's shared entities, e.g. a country)."""
    ids = [{e["id"] for e in json.loads((root / "annotations" / "gold" / f"{doc}.json").read_text("utf-8"))["canonical_entities"]}
           for doc in (DOC, OTHER)]
    assert ids[0] & ids[1], "both gold files refer to some entity in common"
    return sorted(ids[0] & ids[1])[0]


def test_canonical_label_conflict_across_documents_is_an_error(gold_copy: Path) -> None:
    cid = _shared_id(gold_copy)
    path, data, record = _entity_record(gold_copy, "gold", OTHER, cid)
    was, record["label"] = record["label"], ("GPE" if record["label"] != "GPE" else "LOC")
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    rc, problems, text = _problems(gold_copy)
    assert rc == 1, text
    [hit] = [p for p in problems if p["code"] == "canonical_conflict"]
    other = f"annotations/gold/{OTHER}.json"
    assert hit["file"] == other and hit["annotation_id"] == cid and hit["pointer"].endswith("/label")
    assert FILE in hit["message"] and record["label"] in hit["message"] and was in hit["message"]  # both files, both records


def test_canonical_names_differ_warning(gold_copy: Path) -> None:
    """One id named two ways across documents: a warning naming both files; exit 0."""
    cid = _shared_id(gold_copy)
    path, data, record = _entity_record(gold_copy, "gold", OTHER, cid)
    record["name"] = record["name"].lower() if record["name"] != record["name"].lower() else record["name"].upper()
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    js = run_chipwar("validate", str(gold_copy), "--format", "json")
    assert js.returncode == 0
    warnings = [p for p in flat(js.stdout)["problems"] if p["code"] == "canonical_conflict"]
    assert warnings and all(p["severity"] == "warning" for p in warnings)
    hit = next(p for p in warnings if p["file"] == f"annotations/gold/{OTHER}.json")
    assert hit["annotation_id"] == cid and FILE in hit["message"]


def test_canonical_records_are_compared_across_worker_chunks(gold_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The two documents in two chunks (and two workers): the conflict is still found, the same as in one."""
    from chipwar.corpus import Corpus
    from chipwar.engines import local as parallel
    from chipwar.validation import run

    path, data, record = _entity_record(gold_copy, "gold", OTHER, _shared_id(gold_copy))
    record["label"] = "GPE" if record["label"] != "GPE" else "LOC"
    path.write_text(json.dumps(data), "utf-8")
    one = run.validate_corpus(Corpus(gold_copy)).problems
    monkeypatch.setattr(run, "CHUNK_DOCS", 1)
    monkeypatch.setattr(parallel, "MAX_WORKERS", 2)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    assert run.validate_corpus(Corpus(gold_copy)).problems == one
    assert "canonical_conflict" in [p.code for p in one if p.severity == "error"]


# --- symlinks: followed inside the repository, refused (and not read) when they leave it ------------------------


def test_annotation_symlink_out_of_the_repository_is_refused(gold_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{not even json", "utf-8")  # were it read, it would be json_malformed
    (gold_copy / FILE).unlink()
    (gold_copy / FILE).symlink_to(outside)
    for path in (gold_copy, gold_copy / FILE):  # the whole corpus, and the file named
        result = run_chipwar("validate", str(path), "--format", "json")
        problems = [p for p in flat(result.stdout)["problems"] if p["severity"] == "error"]
        assert result.returncode == 1
        assert [(p["code"], p["file"]) for p in problems] == [("symlink_outside", FILE)]
        assert str(outside) in problems[0]["message"]


def test_set_folder_symlink_out_of_the_repository_is_refused(gold_copy: Path, tmp_path: Path) -> None:
    import shutil

    shutil.move(gold_copy / "annotations" / "gold", tmp_path / "gold-elsewhere")
    (gold_copy / "annotations" / "gold").symlink_to(tmp_path / "gold-elsewhere")
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1 and [(p["code"], p["file"]) for p in problems] == [("symlink_outside", "annotations/gold")]
    scoped = run_chipwar("validate", str(gold_copy / "annotations" / "gold"), "--format", "json")
    assert scoped.returncode == 1 and [p["code"] for p in flat(scoped.stdout)["problems"]] == ["symlink_outside"]


def test_symlink_inside_the_repository_is_followed(gold_copy: Path) -> None:
    kept = gold_copy / "annotations" / "kept.json"
    (gold_copy / FILE).rename(kept)
    (gold_copy / FILE).symlink_to(Path("..") / "kept.json")
    rc, problems, _ = _problems(gold_copy)
    assert rc == 0 and problems == []
    data = json.loads(kept.read_text("utf-8"))
    data["entities"][0]["start"] += 1
    kept.write_text(json.dumps(data), "utf-8")  # read through the symlink: its problem is found
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1 and problems[0]["code"] == "offset_text_mismatch" and problems[0]["file"] == FILE


def test_folder_in_place_of_an_annotation_file(gold_copy: Path) -> None:
    (gold_copy / FILE).unlink()
    (gold_copy / FILE).mkdir()
    rc, problems, _ = _problems(gold_copy)
    assert rc == 1 and [(p["code"], p["file"]) for p in problems] == [("not_a_file", FILE)]


# --- what an interrupted write left ----------------------------------------------------------------------------


def test_interrupted_write_is_a_warning_and_generate_finishes_it(gold_copy: Path) -> None:
    staged = gold_copy / "annotations" / "gold" / ".chipwar-tmp-0123456789ab"
    staged.write_text("half written", "utf-8")
    result = run_chipwar("validate", str(gold_copy), "--format", "json")
    assert result.returncode == 0
    [hit] = [p for p in flat(result.stdout)["problems"] if p["code"] == "interrupted_write"]
    assert hit["severity"] == "warning" and hit["file"] == "annotations/gold/.chipwar-tmp-0123456789ab"
    assert "chipwar generate" in hit["hint"]
    generated = run_chipwar("generate", "--corpus", str(gold_copy))
    assert generated.returncode == 0 and "removed a staging file" in generated.stdout
    assert not staged.exists()
    again = flat(run_chipwar("validate", str(gold_copy), "--format", "json").stdout)
    assert "interrupted_write" not in [p["code"] for p in again["problems"]]


def test_interrupted_journal_is_a_warning(gold_copy: Path) -> None:
    (gold_copy / ".chipwar-journal.json").write_text("[]", "utf-8")
    result = run_chipwar("validate", str(gold_copy), "--format", "json")
    assert result.returncode == 0
    assert [p["file"] for p in flat(result.stdout)["problems"] if p["code"] == "interrupted_write"] == [".chipwar-journal.json"]


# --- the fast path and the slow path say the same -----------------------------------------------------------------


def _semantic_variants(data: dict, text: str) -> dict[str, dict]:
    """Broken variants that pass the schema (where the fast path decides), one per kind of mistake and layer."""
    out: dict[str, dict] = {}

    def variant(name: str, fn: Callable[[dict], object]) -> None:
        copy = json.loads(json.dumps(data))
        fn(copy)
        out[name] = copy

    for layer in ("zones", "entities", "claims", "bias_markers"):
        def span(d: dict, layer: str = layer) -> dict:
            return d[layer][len(d[layer]) // 2]

        variant(f"{layer}-start+1", lambda d, s=span: s(d).update(start=s(d)["start"] + 1))
        variant(f"{layer}-end-1", lambda d, s=span: s(d).update(end=s(d)["end"] - 1))
        variant(f"{layer}-end-past-text", lambda d, s=span: s(d).update(end=len(text) + 1))
        variant(f"{layer}-empty", lambda d, s=span: s(d).update(end=s(d)["start"]))
        variant(f"{layer}-float-start", lambda d, s=span: s(d).update(start=float(s(d)["start"])))
        variant(f"{layer}-float-end-1e30", lambda d, s=span: s(d).update(end=1e30))
        variant(f"{layer}-int-past-64-bits", lambda d, s=span: s(d).update(end=2**70))
        variant(f"{layer}-surface", lambda d, s=span: s(d).update(text=s(d)["text"][::-1] + "x"))
        variant(f"{layer}-id-prefix", lambda d, s=span: s(d).update(id="other-doc:x1"))
        variant(f"{layer}-id-duplicate", lambda d, layer=layer: d[layer][-1].update(id=d["entities"][0]["id"]))
        variant(f"{layer}-whitespace", lambda d, s=span: s(d).update(start=s(d)["start"] - 1,
                                                                      text=text[s(d)["start"] - 1:s(d)["end"]]))
    variant("canonical-dangling", lambda d: d["entities"][0].update(canonical_id="nobody"))
    variant("claimant-dangling", lambda d: C_ENTITY(d).update(claimant_id="nobody"))
    variant("target-dangling", lambda d: B0(d)["target_ids"].append("nobody"))
    variant("canonical-duplicate", lambda d: d["canonical_entities"].append(dict(d["canonical_entities"][0])))
    variant("stale", lambda d: d.update(text_sha256="0" * 64))
    return out


def test_fast_and_slow_paths_agree_on_every_broken_variant() -> None:
    from chipwar.files import sha256_text
    from chipwar.report import Report
    from chipwar.schema import load_schemas
    from chipwar.validation.annotations import check_annotation_data

    schemas = load_schemas(REPO / "schema")
    text = (REPO / "corpus" / f"{DOC}.txt").read_text("utf-8")
    data = json.loads((REPO / FILE).read_text("utf-8"))
    variants = _semantic_variants(data, text)
    assert len(variants) > 40
    for name, variant in [("clean", data), *variants.items()]:
        found = {}
        for fast in (True, False):
            report = Report()
            check_annotation_data(schemas, variant, FILE, DOC, text, sha256_text(text), report, fast=fast)
            found[fast] = [(p.code, p.pointer, p.annotation_id) for p in report.problems]
        assert found[True] == found[False], name
        assert bool(found[True]) == (name != "clean"), (name, found[True])
