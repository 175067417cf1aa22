"""Text corrections keep their annotations: `chipwar reanchor` on a real document with a
hand-made set, through insertions, deletions and replacements before, around and inside
spans, moved and duplicated paragraphs; claims' attribution cues move like spans, even one
in another paragraph; what it cannot place is reported and nothing is written unless
--drop-unplaced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from chipwar.align import align
from chipwar.corpus import Corpus
from chipwar.files import sha256_text
from chipwar.validation.run import validate_corpus
from chipwar.writer import LOCK_NAME

from .conftest import annotation_file, chain_link, entity, flat, run_chipwar, span_at, write_set

DOC = "reg-2023-qiming"
SET = "alice"
HEADLINE = "China cooks covert chips, recruits global geeks to dodge US restrictions"
PARA1 = ("China is looking to hire engineers from other nations to bolster local chip production in the face of crippling "
         "US sanctions, with Huawei – one of the country's largest tech giants – said to be creating a network of covert "
         "semiconductor plants across the country.")
CLAIM = "Huawei has taken possession at least two existing factories and is building a minimum of three others"
NIKKEI_PARA = ("China is not alone in its scramble to secure semiconductor prowess. Chip manufacturers around the globe have taken "
               "to buying up secondhand semi manufacturing kit to keep pace with their expansion plans, Nikkei Asia reports.")
QIMING = ("Qiming was set up to run in parallel with other recruitment initiatives from local and provincial authorities plus a "
          "government-backed hiring drive by Chinese chip companies themselves")
COVERT = "Huawei is building out a covert network of semiconductor facilities across China"
CLAIM_ATTRS = dict(check_worthiness="check_worthy", claimant_type="author", claimant_id=None, attribution_form="none",
                   attribution_chain=[], restates=[], certainty="certain")
BIAS_ATTRS = dict(target_ids=[], polarity="negative", intensity="medium", in_quote=False, quote_speaker_id=None)


def _annotations(text: str) -> dict:
    return annotation_file(
        DOC, text, annotator=SET,
        zones=[span_at(text, DOC, "z1", HEADLINE, "headline"), span_at(text, DOC, "z2", PARA1, "body")],
        entities=[entity(text, DOC, "e1", "Huawei", "ORG", "huawei"),
                  entity(text, DOC, "e2", "Washington", "GPE", "washington"),
                  entity(text, DOC, "e3", "Reuters", "ORG", "reuters"),
                  entity(text, DOC, "e4", "Semiconductor Industry Association", "ORG", "sia"),
                  entity(text, DOC, "e5", "Nikkei Asia", "ORG", "nikkei-asia"),
                  entity(text, DOC, "e6", "Huawei", "ORG", "huawei", occurrence=2)],
        claims=[span_at(text, DOC, "c1", CLAIM, "numerical", **{
                    **CLAIM_ATTRS, "claimant_type": "entity", "claimant_id": "sia", "attribution_form": "reported", "restates": [f"{DOC}:c3"],
                    "attribution_chain": [chain_link(text, "named_organization", "sia", "Semiconductor Industry Association")]}),
                # the cue of its original source is in the same sentence, the relaying outlet's in the paragraph before
                span_at(text, DOC, "c2", QIMING, "event_property", **{
                    **CLAIM_ATTRS, "claimant_type": "unidentified", "attribution_form": "indirect",
                    "attribution_chain": [chain_link(text, "anonymous", None, "the sources indicated"),
                                          chain_link(text, "named_organization", "reuters", "according to Reuters")]}),
                span_at(text, DOC, "c3", COVERT, "event_property", **{**CLAIM_ATTRS, "restates": [f"{DOC}:c1"]})],
        bias_markers=[span_at(text, DOC, "b1", "crippling", "loaded_language", **BIAS_ATTRS),
                      span_at(text, DOC, "b2", "choked off", "loaded_language", **BIAS_ATTRS)],
    )


@pytest.fixture
def root(corpus_copy: Path) -> Path:
    """The corpus copy with one hand-made set as the only annotations of DOC."""
    for other in (corpus_copy / "annotations").glob(f"*/{DOC}.json"):
        other.unlink()
    write_set(corpus_copy, SET, _annotations(_old(corpus_copy)))
    assert _problems(corpus_copy) == []
    return corpus_copy


def _old(root: Path) -> str:
    return (root / "corpus" / f"{DOC}.txt").read_text("utf-8")


def _problems(root: Path) -> list[str]:
    report = validate_corpus(Corpus(root), only=root / "corpus" / f"{DOC}.txt")
    return [f"{p.code} {p.annotation_id} {p.message}" for p in report.problems]


def _spans(root: Path) -> dict[str, dict]:
    data = json.loads((root / "annotations" / SET / f"{DOC}.json").read_text("utf-8"))
    return {s["id"].split(":")[1]: s for layer in ("zones", "entities", "claims", "bias_markers") for s in data[layer]}


def _snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _reanchor(root: Path, new_text: str | bytes, *extra: str) -> tuple[int, dict, str]:
    path = root.parent / "corrected.txt"
    path.write_bytes(new_text.encode("utf-8") if isinstance(new_text, str) else new_text)
    js = run_chipwar("reanchor", DOC, str(path), "--reason", "test correction", "--corpus", str(root), "--format", "json", *extra)
    assert js.returncode in (0, 1), js.stderr
    return js.returncode, flat(js.stdout), js.stderr


def _local(placement: dict) -> str:
    """A placement's span (``c1``) or cue (``c1/cue0``: the cue of the span's first attribution link)."""
    local = placement["id"].split(":")[1]
    return local if placement["cue"] is None else f"{local}/cue{placement['cue']}"


def _how(result: dict) -> dict[str, str]:
    return {_local(p): p["how"] for p in result["placements"]}


def _cues(root: Path) -> dict[str, dict]:
    """Every attribution cue of the set's file, as ``c1/cue0`` -> cue."""
    return {f"{local}/cue{j}": link["cue"] for local, span in _spans(root).items()
            for j, link in enumerate(span.get("attribution_chain", ())) if link["cue"] is not None}


Edit = Callable[[str], str]

# name: (edit of the old text, spans that must come out "edited" with their new text; all others "aligned", text unchanged)
PLACEABLE: dict[str, tuple[Edit, dict[str, str]]] = {
    "insert_before_all_spans": (lambda t: "UPDATED: " + t, {}),
    "insert_between_spans": (lambda t: t.replace("In related news,", "Separately, and in related news,"), {}),
    "insert_touching_span_edges": (lambda t: t.replace("crippling US", "truly crippling, US"),
                                   {"z2": PARA1.replace("crippling US", "truly crippling, US")}),
    "delete_before_spans": (lambda t: t.replace("This article is more than 1 year old\n\n", ""), {}),
    "delete_between_spans": (lambda t: t.replace(" SIA claims it is doing this under the names of other companies to conceal "
                                                 "its involvement, as reported by Bloomberg.", ""), {}),
    "replace_around_span": (lambda t: t.replace("According to the Semiconductor Industry Association (SIA)",
                                                "Per the Semiconductor Industry Association, or SIA"), {}),
    "insert_inside_span": (lambda t: t.replace("possession at least", "possession of at least"),
                           {"c1": CLAIM.replace("possession at", "possession of at")}),
    "delete_inside_span": (lambda t: t.replace("building a minimum of three", "building three"),
                           {"c1": CLAIM.replace("a minimum of ", "")}),
    "replace_inside_span": (lambda t: t.replace("Semiconductor Industry Association", "Semiconductor Industries Association"),
                            {"e4": "Semiconductor Industries Association", "c1/cue0": "Semiconductor Industries Association"}),
    "replace_whole_word_span": (lambda t: t.replace("according to Reuters", "according to reuters"),
                                {"e3": "reuters", "c2/cue1": "according to reuters"}),
    "insert_between_claim_and_its_cue": (lambda t: t.replace("Qiming was set up", "More below.\n\nQiming was set up"), {}),
    "replace_inside_zone_and_claim": (lambda t: t.replace("largest tech giants", "biggest technology firms")
                                      .replace("two existing", "2 existing"),
                                      {"z2": PARA1.replace("largest tech giants", "biggest technology firms"),
                                       "c1": CLAIM.replace("two existing", "2 existing")}),
}


@pytest.mark.parametrize("case", sorted(PLACEABLE))
def test_spans_survive_the_edit(case: str, root: Path) -> None:
    edit, edited = PLACEABLE[case]
    old, before, cues_before = _old(root), _spans(root), _cues(root)
    new = edit(old)
    assert new != old, "the edit must change the text"
    code, result, _ = _reanchor(root, new)
    assert code == 0, result
    assert {k: v for k, v in _how(result).items() if v != "aligned"} == {k: "edited" for k in edited}
    after, cues = _spans(root), _cues(root)
    assert after.keys() == before.keys() and cues.keys() == cues_before.keys() == {"c1/cue0", "c2/cue0", "c2/cue1"}
    for local, span in (*after.items(), *cues.items()):
        assert new[span["start"]:span["end"]] == span["text"]
        assert span["text"] == edited.get(local, (before.get(local) or cues_before[local])["text"]), local
    moved = ("start", "end", "text", "attribution_chain")
    for local, span in after.items():
        assert {k: v for k, v in span.items() if k not in moved} == {k: v for k, v in before[local].items() if k not in moved}
        assert [{**link, "cue": None} for link in span.get("attribution_chain", ())] == \
               [{**link, "cue": None} for link in before[local].get("attribution_chain", ())]
    assert _problems(root) == []


def test_every_offset_shifts_by_an_insertion_before_it(root: Path) -> None:
    before = {**_spans(root), **_cues(root)}
    code, _, _ = _reanchor(root, "UPDATED: " + _old(root))
    assert code == 0
    assert {k: (s["start"], s["end"]) for k, s in {**_spans(root), **_cues(root)}.items()} == \
           {k: (s["start"] + 9, s["end"] + 9) for k, s in before.items()}


def test_hashes_length_and_correction_are_recorded(root: Path) -> None:
    old = _old(root)
    new = old.replace("possession at least", "possession of at least")
    code, result, _ = _reanchor(root, new)
    assert code == 0
    assert (root / "corpus" / f"{DOC}.txt").read_text("utf-8") == new
    meta = json.loads((root / "corpus" / f"{DOC}.json").read_text("utf-8"))
    assert meta["intake"]["text_sha256"] == sha256_text(new) and meta["intake"]["length_codepoints"] == len(new)
    assert meta["corrections"] == [{"date": meta["corrections"][0]["date"], "previous_text_sha256": sha256_text(old),
                                    "text_sha256": sha256_text(new), "reason": "test correction", "normalised": [],
                                    "dropped_annotation_ids": []}]
    data = json.loads((root / "annotations" / SET / f"{DOC}.json").read_text("utf-8"))
    assert data["text_sha256"] == sha256_text(new)
    assert result["counts"]["moved"] == 1  # only e5 (Nikkei Asia) lies after the edit; c1 and e6 start before it
    assert _problems(root) == []


def test_moved_paragraph_is_found_by_context(root: Path) -> None:
    old = _old(root)
    new = old.replace(NIKKEI_PARA + "\n\n", "").replace("More about\n", NIKKEI_PARA + "\n\nMore about\n")
    code, result, _ = _reanchor(root, new)
    assert code == 0, result
    assert _how(result)["e5"] == "context"
    assert _spans(root)["e5"]["start"] == new.index("Nikkei Asia")
    assert _problems(root) == []


DELETED_E1 = (", with Huawei – one of the country's largest tech giants – said to be creating a network of covert "
              "semiconductor plants across the country")


def test_deleted_span_is_reported_and_nothing_is_written(root: Path) -> None:
    before = _snapshot(root)
    new = _old(root).replace(DELETED_E1, "")
    code, result, stderr = _reanchor(root, new)
    assert code == 1
    unplaced = [p for p in result["placements"] if p["how"] == "unplaced"]
    assert [p["id"] for p in unplaced] == [f"{DOC}:e1"]
    assert "deleted" in unplaced[0]["reason"]
    assert result["written"] == [] and _snapshot(root) == before
    text = run_chipwar("reanchor", DOC, str(root.parent / "corrected.txt"), "--reason", "x", "--corpus", str(root))
    assert text.returncode == 1
    assert f"annotations/{SET}/{DOC}.json#/entities/0 [span_unplaced]" in text.stdout and "nothing written" in text.stderr
    assert _snapshot(root) == before


def test_each_unplaced_span_is_a_problem_naming_file_span_and_what_to_do(root: Path) -> None:
    before = _snapshot(root)
    code, result, _ = _reanchor(root, _old(root).replace(DELETED_E1, ""))
    assert code == 1 and result["ok"] is False and _snapshot(root) == before
    (problem,) = result["problems"]
    assert problem == {
        "code": "span_unplaced", "severity": "error", "file": f"annotations/{SET}/{DOC}.json", "doc_id": DOC,
        "annotation_id": f"{DOC}:e1", "pointer": "/entities/0",
        "message": "entities ORG span 'Huawei' at [269, 275) could not be placed on the new text",
        "expected": "its text kept by the correction, or found once in the new text with its surroundings",
        "found": problem["found"], "hint": problem["hint"]}
    assert "deleted" in problem["found"] and "--drop-unplaced" in problem["hint"] and "NEW_TEXT_FILE" in problem["hint"]
    span = json.loads((root / problem["file"]).read_text("utf-8"))["entities"][0]
    assert span["id"] == problem["annotation_id"] and span["text"] == "Huawei"
    code, result, _ = _reanchor(root, _old(root).replace(DELETED_E1, ""), "--drop-unplaced")
    assert code == 0 and [(p["code"], p["severity"]) for p in result["problems"]] == [("span_unplaced", "warning")]
    assert "dropped" in result["problems"][0]["message"] and _snapshot(root) != before


def test_drop_unplaced_writes_the_rest_and_records_the_drop(root: Path) -> None:
    new = _old(root).replace(DELETED_E1, "")
    code, result, _ = _reanchor(root, new, "--drop-unplaced")
    assert code == 0
    after = _spans(root)
    assert "e1" not in after and {"e2", "e3", "e4", "e5", "e6", "z2", "c1", "c2", "c3", "b1", "b2"} <= after.keys()
    assert after["z2"]["text"] == PARA1.replace(DELETED_E1, "")
    data = json.loads((root / "annotations" / SET / f"{DOC}.json").read_text("utf-8"))
    assert [d["annotation_ids"] for d in data["decisions"]] == [[f"{DOC}:e1"]]
    assert "Huawei" in data["decisions"][0]["decision"] and "reanchor" in data["decisions"][0]["decision"]
    meta = json.loads((root / "corpus" / f"{DOC}.json").read_text("utf-8"))
    assert meta["corrections"][-1]["dropped_annotation_ids"] == [f"{DOC}:e1"]
    assert _problems(root) == []


def test_replaced_span_is_not_moved_onto_the_replacement(root: Path) -> None:
    code, result, _ = _reanchor(root, _old(root).replace("according to Reuters", "according to Bloomberg News"))
    assert code == 1
    (p,) = [p for p in result["placements"] if p["how"] == "unplaced"]
    assert p["id"] == f"{DOC}:e3" and "replaced by 'Bloomberg News'" in p["reason"]


def test_edit_across_a_span_edge_is_unplaced(root: Path) -> None:
    code, result, _ = _reanchor(root, _old(root).replace("the Semiconductor Industry", "theSemiconductors Industry"))
    assert code == 1
    unplaced = [p for p in result["placements"] if p["how"] == "unplaced"]
    assert [_local(p) for p in unplaced] == ["e4", "c1/cue0"]  # the cue on the same words fares as the entity
    assert all("crosses its start" in p["reason"] for p in unplaced)


def test_an_unplaced_cue_is_a_problem_and_dropping_it_leaves_the_source_without_a_cue(root: Path) -> None:
    before = _snapshot(root)
    new = _old(root).replace(", the sources indicated.", ".")
    code, result, _ = _reanchor(root, new)
    assert code == 1 and _snapshot(root) == before
    (problem,) = result["problems"]
    assert (problem["code"], problem["annotation_id"], problem["pointer"]) == ("span_unplaced", f"{DOC}:c2", "/claims/1/attribution_chain/0/cue")
    assert problem["message"] == (f"attribution cue of link 0 of the claims event_property span {DOC}:c2 'the sources indicated' at "
                                  f"[{_old(root).index('the sources indicated')}, {_old(root).index('the sources indicated') + 21}) "
                                  "could not be placed on the new text")
    assert "deleted" in problem["found"] and "set to null" in problem["hint"]
    code, result, _ = _reanchor(root, new, "--drop-unplaced")
    assert code == 0 and [(p["code"], p["severity"]) for p in result["problems"]] == [("span_unplaced", "warning")]
    c2 = _spans(root)["c2"]
    assert c2["attribution_chain"][0] == {"kind": "anonymous", "entity_id": None, "cue": None}
    assert c2["attribution_chain"][1]["cue"]["start"] == new.index("according to Reuters")
    data = json.loads((root / "annotations" / SET / f"{DOC}.json").read_text("utf-8"))
    (decision,) = data["decisions"]
    assert decision["annotation_ids"] == [f"{DOC}:c2"] and decision["decision"].startswith("Cue set to null by `chipwar reanchor`")
    meta = json.loads((root / "corpus" / f"{DOC}.json").read_text("utf-8"))
    assert meta["corrections"][-1]["dropped_annotation_ids"] == []  # the claim stays
    assert _problems(root) == []


def test_a_dropped_claim_is_taken_out_of_the_restates_of_the_others(root: Path) -> None:
    new = _old(root).replace(CLAIM, "Huawei grows")
    code, result, _ = _reanchor(root, new, "--drop-unplaced")
    assert code == 0 and [p["annotation_id"] for p in result["problems"]] == [f"{DOC}:c1"]
    after = _spans(root)
    assert "c1" not in after and after["c3"]["restates"] == []
    meta = json.loads((root / "corpus" / f"{DOC}.json").read_text("utf-8"))
    assert meta["corrections"][-1]["dropped_annotation_ids"] == [f"{DOC}:c1"]
    assert _problems(root) == []


def test_span_inside_a_replaced_word_group_is_unplaced(root: Path) -> None:
    code, result, _ = _reanchor(root, _old(root).replace("the face of crippling", "the face ofcrippled"))
    assert code == 1
    (p,) = [p for p in result["placements"] if p["how"] == "unplaced"]
    assert p["id"] == f"{DOC}:b1" and "replaced by 'ofcrippled'" in p["reason"]


def test_ambiguous_context_is_unplaced(root: Path) -> None:
    old = _old(root)
    new = old.replace(NIKKEI_PARA + "\n\n", "").replace("More about\n", f"{NIKKEI_PARA}\n\n{NIKKEI_PARA}\n\nMore about\n")
    code, result, _ = _reanchor(root, new)
    assert code == 1
    (p,) = [p for p in result["placements"] if p["how"] == "unplaced"]
    assert p["id"] == f"{DOC}:e5" and "ambiguous" in p["reason"]


def test_copy_of_a_deleted_span_is_not_annotated_twice(corpus_copy: Path) -> None:
    line = "Officials said that Huawei is building covert plants across the country.\n"
    received = corpus_copy.parent / "dup.txt"
    received.write_text(line + "\n" + line, "utf-8")
    intake = run_chipwar("intake", str(received), "--doc-id", "dup-doc", "--rights", "Test text.", "--corpus", str(corpus_copy))
    assert intake.returncode == 0, intake.stderr
    text = received.read_text("utf-8")
    write_set(corpus_copy, SET, annotation_file("dup-doc", text, annotator=SET, entities=[
        entity(text, "dup-doc", "x1", "Huawei", "ORG", "huawei"), entity(text, "dup-doc", "x2", "Huawei", "ORG", "huawei", occurrence=1)]))
    corrected = corpus_copy.parent / "corrected.txt"
    corrected.write_text(line, "utf-8")  # one copy goes; its words survive only in the other, annotated, copy
    js = run_chipwar("reanchor", "dup-doc", str(corrected), "--reason", "x", "--corpus", str(corpus_copy), "--format", "json")
    assert js.returncode == 1
    how = {p["id"]: (p["how"], p["reason"]) for p in flat(js.stdout)["placements"]}
    assert sorted(h for h, _ in how.values()) == ["aligned", "unplaced"]
    assert "copy already annotated" in next(r for h, r in how.values() if h == "unplaced")


def test_dry_run_writes_nothing(root: Path) -> None:
    before = _snapshot(root)
    code, result, _ = _reanchor(root, "UPDATED: " + _old(root), "--dry-run")
    assert code == 0 and result["written"] == [] and result["counts"]["moved"] == len(_spans(root)) + len(_cues(root))
    assert _snapshot(root) == before


def test_new_text_is_normalised_like_intake(root: Path) -> None:
    code, _, _ = _reanchor(root, ("UPDATED: " + _old(root)).replace("\n", "\r\n").encode("utf-8"))
    assert code == 0
    assert "\r" not in _old(root)
    meta = json.loads((root / "corpus" / f"{DOC}.json").read_text("utf-8"))
    assert meta["corrections"][-1]["normalised"] == ["crlf_to_lf"]
    assert _problems(root) == []


def test_refusals(root: Path) -> None:
    before = _snapshot(root)
    path = root.parent / "corrected.txt"
    path.write_text(_old(root), "utf-8")
    same = run_chipwar("reanchor", DOC, str(path), "--reason", "x", "--corpus", str(root))
    assert same.returncode == 2 and "identical" in same.stderr
    missing = run_chipwar("reanchor", "no-such-doc", str(path), "--reason", "x", "--corpus", str(root))
    assert missing.returncode == 2 and "no document" in missing.stderr
    assert run_chipwar("reanchor", DOC, str(path), "--corpus", str(root)).returncode == 2  # --reason is required
    assert _snapshot(root) == before


def test_alignment_maps_edits_exactly() -> None:
    old, new = "the covert plant of Huawai here", "a secret plant of Huawei here"
    a = align(old, new)
    assert [(old[i1:i2], new[j1:j2]) for i1, i2, j1, j2 in a.edits] == [("the", "a"), ("covert", "secret"), ("Huawai", "Huawei")]
    assert a.map_start(old.index("plant")) == new.index("plant")
    assert a.map_end(old.index("Huawai") + 6) == new.index("Huawei") + 6
    assert a.map_start(old.index("covert") + 1) is None


@pytest.mark.parametrize("doc_id", [f"../corpus/{DOC}", f"{DOC}/../{DOC}", f"/{DOC}", DOC.upper(), "x" * 201])
def test_an_id_that_is_a_path_is_refused_before_anything_is_read(root: Path, doc_id: str) -> None:
    path = root.parent / "corrected.txt"
    path.write_text("UPDATED: " + _old(root), "utf-8")
    before = _snapshot(root)
    result = run_chipwar("reanchor", doc_id, str(path), "--reason", "x", "--corpus", str(root))
    assert result.returncode == 2 and "document id" in result.stderr and "is not valid" in result.stderr
    assert _snapshot(root) == before


def test_unknown_document_is_refused(root: Path) -> None:
    path = root.parent / "corrected.txt"
    path.write_text("Some text.\n", "utf-8")
    before = _snapshot(root)
    js = run_chipwar("reanchor", "no-such-doc", str(path), "--reason", "x", "--corpus", str(root), "--format", "json")
    assert js.returncode == 2
    error = flat(js.stdout)["error"]
    assert error["message"] == "corpus/no-such-doc.txt: no document 'no-such-doc'" and "chipwar stats" in error["hint"]
    assert _snapshot(root) == before


@pytest.mark.parametrize("name, content, says", [
    ("empty", b"", "holds no text"),
    ("nul", b"China\x00 chips", "holds U+0000 (NUL) at code point 5"),
    ("latin1", "caf\xe9".encode("latin-1"), "not UTF-8 at byte 3"),
    ("folder", None, "is a folder, not a new text file"),
    ("missing", ..., "no such new text file"),
])
def test_a_new_text_that_is_not_a_text_is_refused(root: Path, name: str, content: bytes | None, says: str) -> None:
    path = root.parent / name
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    before = _snapshot(root)
    result = run_chipwar("reanchor", DOC, str(path), "--reason", "x", "--corpus", str(root))
    assert result.returncode == 2 and f"{path}: {says}" in result.stderr and "hint:" in result.stderr
    assert _snapshot(root) == before


def test_unreadable_annotations_are_refused_not_a_crash(root: Path) -> None:
    path = root.parent / "corrected.txt"
    path.write_text("UPDATED: " + _old(root), "utf-8")
    ann = root / "annotations" / SET / f"{DOC}.json"
    for broken in (b"{not json", b"[]", json.dumps({**json.loads(ann.read_bytes()), "entities": "none"}).encode()):
        ann.write_bytes(broken)
        before = _snapshot(root)
        result = run_chipwar("reanchor", DOC, str(path), "--reason", "x", "--corpus", str(root))
        assert result.returncode == 2 and f"annotations/{SET}/{DOC}.json" in result.stderr and "chipwar validate" in result.stderr
        assert _snapshot(root) == before


@pytest.mark.parametrize("reason", ["", " ", "\t\n"])
@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry_run"])
def test_a_blank_reason_is_refused_before_planning(root: Path, reason: str, dry_run: bool) -> None:
    """Refused even for a dry run, and before the (here missing) new text is looked at."""
    before = _snapshot(root)
    for new_text in ("UPDATED: " + _old(root), None):
        path = root.parent / "corrected.txt"
        path.unlink(missing_ok=True)
        if new_text is not None:
            path.write_text(new_text, "utf-8")
        js = run_chipwar("reanchor", DOC, str(path), "--reason", reason, "--corpus", str(root), "--format", "json",
                         *(["--dry-run"] if dry_run else []))
        error = flat(js.stdout)["error"]
        assert js.returncode == 2 and error["code"] == "usage_error", js.stdout
        assert error["message"].startswith(f"--reason {reason!r}: empty") and "--reason" in error["hint"]
    assert _snapshot(root) == before


def _changed_meanwhile(root: Path, change: Callable[[Path], None]) -> tuple[Exception, dict[Path, bytes]]:
    """Plan a correction, let ``change`` happen to the files, then write it: what it raises, and the files after ``change``."""
    from chipwar.reanchor import plan_reanchor, write_reanchor
    from chipwar.writer import ChangedMeanwhile

    corpus = Corpus(root)
    path = root.parent / "corrected.txt"
    path.write_text("UPDATED: " + _old(root), "utf-8")
    plan = plan_reanchor(corpus, DOC, path)
    change(root)
    after = _snapshot(root)
    with pytest.raises(ChangedMeanwhile) as raised:
        write_reanchor(corpus, plan, "test correction")
    return raised.value, after


def _unlocked(files: dict[Path, bytes]) -> dict[Path, bytes]:
    """Files without the writer's lock file (made by the write that was refused; it holds nothing)."""
    return {path: data for path, data in files.items() if path.name != LOCK_NAME}


def _edit(rel: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        path.write_bytes(path.read_bytes() + b"\n")
    return change


def _removed(root: Path) -> None:
    (root / "annotations" / SET / f"{DOC}.json").unlink()


@pytest.mark.parametrize("change, says", [
    (_edit(f"corpus/{DOC}.txt"), f"corpus/{DOC}.txt (was changed)"),
    (_edit(f"corpus/{DOC}.json"), f"corpus/{DOC}.json (was changed)"),
    (_edit(f"annotations/{SET}/{DOC}.json"), f"annotations/{SET}/{DOC}.json (was changed)"),
    (_removed, f"annotations/{SET}/{DOC}.json (was removed)"),
], ids=["text", "metadata", "annotations", "annotations_removed"])
def test_a_file_changed_after_planning_stops_the_write(root: Path, change: Callable[[Path], None], says: str) -> None:
    """What another run (or an editor) did between the plan and the write is never overwritten: nothing is written."""
    exc, after = _changed_meanwhile(root, change)
    assert exc.exit_code == 2 and exc.code == "changed_meanwhile"
    assert exc.message.startswith(says) and "changed while this command ran" in exc.message
    assert "nothing written; run it again" in exc.message and "run the same command again" in exc.hint
    assert _unlocked(_snapshot(root)) == after


def test_a_set_folder_that_gained_the_document_after_planning_stops_the_write(root: Path) -> None:
    """A set folder that had no file for the document when planned must still have none: it would be left stale."""
    (root / "annotations" / "bob").mkdir()
    exc, after = _changed_meanwhile(root, lambda r: write_set(r, "bob", _annotations(_old(r))))
    assert exc.message.startswith(f"annotations/bob/{DOC}.json (now exists)") and _unlocked(_snapshot(root)) == after
