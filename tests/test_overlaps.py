"""Span rules 4 and 5 of the guidelines, checked by `chipwar validate`: no overlap within zones, entities or claims,
and no span across a zone edge."""

from __future__ import annotations

from pathlib import Path

from .conftest import annotation_file, entity, flat, run_chipwar, span_at, write_set

DOC = "reg-2023-qiming"


def _text(root: Path) -> str:
    return (root / "corpus" / f"{DOC}.txt").read_text("utf-8")


def _errors(root: Path, data: dict) -> tuple[int, list[tuple[str, str, str]]]:
    write_set(root, "tester", data)
    ran = run_chipwar("validate", f"annotations/tester/{DOC}.json", "--format", "json", cwd=root)
    return ran.returncode, [(p["code"], p["annotation_id"], p["pointer"]) for p in flat(ran.stdout)["problems"] if p["severity"] == "error"]


def _zones(t: str) -> list[dict]:
    cut = t.index("China is looking")
    return [span_at(t, DOC, "z1", t[:cut].rstrip(), "boilerplate"), span_at(t, DOC, "z2", t[cut:].rstrip(), "body")]


def test_spans_inside_their_zones_validate(corpus_copy: Path) -> None:
    t = _text(corpus_copy)
    data = annotation_file(DOC, t, zones=_zones(t), entities=[entity(t, DOC, "e1", "Huawei", "ORG", "huawei")])
    assert _errors(corpus_copy, data) == (0, [])


def test_overlapping_zones_and_nested_entities_are_reported(corpus_copy: Path) -> None:
    t = _text(corpus_copy)
    zones = _zones(t)
    zones[0] = span_at(t, DOC, "z1", t[:t.index("China is looking") + 5], "boilerplate")
    inner = entity(t, DOC, "e2", "Industry", "ORG", "industry")
    outer = entity(t, DOC, "e1", "Ministry of Industry and Information Technology", "ORG", "miit")
    rc, errors = _errors(corpus_copy, annotation_file(DOC, t, zones=zones, entities=[outer, inner]))
    assert rc == 1
    assert ("span_overlap", f"{DOC}:z2", "/zones/1/start") in errors
    assert ("span_overlap", f"{DOC}:e2", "/entities/1/start") in errors


def test_a_span_across_a_zone_edge_is_reported(corpus_copy: Path) -> None:
    t = _text(corpus_copy)
    zones = _zones(t)
    across = span_at(t, DOC, "e1", t[zones[0]["end"] - 4:zones[1]["start"] + 5], "ORG", canonical_id="x", org_type="company", gpe_role=None)
    rc, errors = _errors(corpus_copy, annotation_file(DOC, t, zones=zones, entities=[across]))
    assert (rc, errors) == (1, [("crosses_zone", f"{DOC}:e1", "/entities/0/end")])
