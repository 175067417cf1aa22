"""Malformed input of every kind into every file and field that validate, stats, agree and generate read.

Each case breaks one thing in a small copy of the real corpus (one document, two sets, a
Markdown file with every kind of generated block) and runs the commands that read it,
in-process. Whatever the input: the exit code is 0, 1 or 2 (never 3, never a traceback), and
nothing is written; ``generate`` may write only when the data still validates. Cases are
generated from a fixed seed, so a failure names a case that fails again.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Callable

import pytest

from .conftest import REPO, flat, run_chipwar, tree

DOC = "reg-2023-qiming"
GOLD = f"annotations/gold/{DOC}.json"
OTHER_SET = f"annotations/pass-1/{DOC}.json"
META = f"corpus/{DOC}.json"
TEXT = f"corpus/{DOC}.txt"
README = "README.md"

#: Every kind of generated block, so generate and validate run every renderer.
BLOCKS = ["labels ZoneLabel", "agreement pass-1 gold", "label-counts gold", "documents"]

SENTINEL = "@@fuzz@@"

#: Raw JSON put in place of a value: every JSON type and the edges of each, and what is not JSON at all.
VALUES: dict[str, bytes] = {
    "null": b"null",
    "true": b"true",
    "zero": b"0",
    "negative": b"-1",
    "huge_int": b"18446744073709551616",
    "huge_negative": b"-9223372036854775809",
    "float": b"1.5",
    "whole_float": b"7.0",
    "exponent": b"1e30",
    "nan_string": b'"NaN"',
    "string": b'"x"',
    "huge_string": b'"' + b"y" * 1_000_000 + b'"',
    "control_string": b'"a\\u0000b\\u001b"',
    "list": b"[1, \"a\", null]",
    "object": b'{"x": {"y": []}}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "middle_deep": b"[" * 300 + b"]" * 300,
    "invalid_utf8": b'"\xff\xfe"',
    "not_json": b"{nope",
}

#: In the small corpus's gold file (:func:`_trim`): a claim whose attribution chain has a cue, then a link without one;
#: claims 0 and 1 restate each other.
CHAINED = ("claims", 2, "attribution_chain")

#: Fields of each JSON file, as paths into it.
FIELDS: dict[str, list[tuple]] = {
    GOLD: [(), ("schema_version",), ("doc_id",), ("text_sha256",), ("annotator",), ("annotator", "name"), ("annotator", "model"),
           ("annotator", "given"), ("annotator", "submitted"), ("document_labels",),
           ("document_labels", "genre"), ("canonical_entities",), ("canonical_entities", 0), ("canonical_entities", 0, "id"),
           ("canonical_entities", 0, "label"), ("canonical_entities", 0, "name"), ("canonical_entities", 0, "kb_ids"),
           ("zones",), ("zones", 0, "start"), ("zones", 0, "label"), ("entities",), ("entities", 0), ("entities", 0, "id"),
           ("entities", 0, "start"), ("entities", 0, "end"), ("entities", 0, "text"), ("entities", 0, "label"),
           ("entities", 0, "canonical_id"), ("entities", 0, "org_type"), ("entities", 0, "provenance"),
           ("entities", 0, "provenance", "created"), ("entities", 0, "note"), ("claims", 0, "claimant_id"), ("claims", 0, "end"),
           ("claims", 0, "restates"), ("claims", 0, "restates", 0), CHAINED, (*CHAINED, 0), (*CHAINED, 0, "kind"),
           (*CHAINED, 0, "entity_id"), (*CHAINED, 0, "cue"), (*CHAINED, 0, "cue", "start"), (*CHAINED, 0, "cue", "end"),
           (*CHAINED, 0, "cue", "text"), (*CHAINED, 1, "entity_id"), (*CHAINED, 1, "cue"),
           ("bias_markers", 0, "target_ids"), ("bias_markers", 0, "quote_speaker_id"), ("decisions",)],
    OTHER_SET: [(), ("entities", 0, "start"), ("entities", 0, "label"), ("claims",), ("document_labels",)],
    META: [(), ("doc_id",), ("title",), ("publisher",), ("published",), ("url",), ("genre",), ("rights",), ("rights", "redistributable"),
           ("intake",), ("intake", "length_codepoints"), ("intake", "text_sha256"), ("split",), ("notes",), ("corrections",)],
    "schema/annotations.schema.json": [(), ("$id",), ("$defs",), ("$defs", "EntityLabel"), ("properties", "entities")],
    "schema/document.schema.json": [(), ("$id",), ("properties",)],
}

#: Whole-file replacements for every file read, JSON or not.
FILE_CONTENTS: dict[str, bytes] = {"empty": b"", "invalid_utf8": b"\xff\xfe\xfd", "nul": b"ab\x00c", "not_json": b"{nope"}


def _trim(data: dict) -> dict:
    """The annotation file with two spans per layer (claims: and, at :data:`CHAINED`, the first relayed from anonymous
    sources by Reuters, its second cue taken away; the first two restating each other): the same shapes, a tenth of the work."""
    out = {k: (v[:2] if k in ("zones", "entities", "claims", "bias_markers") else v) for k, v in data.items()}
    chained = copy.deepcopy(next(c for c in data["claims"][2:] if [(link["kind"], link["entity_id"]) for link in c["attribution_chain"]]
                                 == [("anonymous", None), ("named_organization", "reuters")] and c["attribution_chain"][0]["cue"]))
    chained["attribution_chain"][1]["cue"], chained["restates"] = None, []
    first, second = (dict(c) for c in out["claims"])
    first["restates"], second["restates"] = [second["id"]], [first["id"]]
    out["claims"] = [first, second, chained]
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One document, two sets and a Markdown file of generated blocks, all up to date and valid."""
    root = tmp_path_factory.mktemp("fuzz") / "repo"
    shutil.copytree(REPO / "schema", root / "schema")
    (root / "corpus").mkdir()
    for name in (TEXT, META):
        shutil.copy(REPO / name, root / name)
    for rel in (GOLD, OTHER_SET):
        (root / rel).parent.mkdir(parents=True)
        (root / rel).write_text(json.dumps(_trim(json.loads((REPO / rel).read_text("utf-8"))), indent=2), "utf-8")
    (root / README).write_text("".join(f"<!-- BEGIN GENERATED: {b} -->\n<!-- END GENERATED -->\n" for b in BLOCKS), "utf-8")
    assert run_chipwar("generate", "--corpus", str(root)).returncode == 0
    assert run_chipwar("validate", str(root)).returncode == 0
    return root



def _set_field(path: Path, where: tuple, raw: bytes) -> None:
    """Put raw JSON bytes at ``where`` in a JSON file (any bytes: deep nesting, invalid UTF-8)."""
    if not where:
        path.write_bytes(raw)
        return
    data = json.loads(path.read_text("utf-8"))
    node = data
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = SENTINEL
    path.write_bytes(json.dumps(data).encode().replace(json.dumps(SENTINEL).encode(), raw, 1))


def _replace_with_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside.json").write_text("{}", "utf-8")


def _replace_with_symlink_out(root: Path, rel: str) -> None:
    """The file becomes a symlink to a copy of itself outside the repository (were it read, nothing would look wrong)."""
    target = root.parent / ("outside-" + rel.replace("/", "-"))
    target.write_bytes((root / rel).read_bytes())
    (root / rel).unlink()
    (root / rel).symlink_to(target)


#: validate reads everything, so it runs on every case, in text or JSON; each case adds one of the other readers, in turn.
VALIDATE = [("validate", "{root}"), ("validate", "{root}", "--format", "json")]
OTHERS = [("stats", "--corpus", "{root}"), ("agree", "pass-1", "gold", "--corpus", "{root}", "--format", "json"),
          ("generate", "--check", "--corpus", "{root}"), ("generate", "--corpus", "{root}")]

#: Values tried per field: a seeded sample (every value still meets dozens of fields); every file replacement is tried.
VALUES_PER_FIELD = 5

Case = tuple[str, Callable[[Path], None], list[tuple[str, ...]]]


def _cases() -> list[Case]:
    rng = random.Random(20261124)
    breakers: list[tuple[str, Callable[[Path], None]]] = []
    for rel, fields in FIELDS.items():
        for where in fields:
            for name in rng.sample(sorted(VALUES), VALUES_PER_FIELD):
                breakers.append((f"{rel}{'/' + '/'.join(map(str, where)) if where else ''}={name}",
                                 lambda root, rel=rel, where=where, raw=VALUES[name]: _set_field(root / rel, where, raw)))
    for rel in (GOLD, OTHER_SET, META, TEXT, README, "schema/annotations.schema.json", "schema/document.schema.json"):
        for name, raw in FILE_CONTENTS.items():
            breakers.append((f"{rel}:{name}", lambda root, rel=rel, raw=raw: (root / rel).write_bytes(raw)))
        breakers.append((f"{rel}:folder", lambda root, rel=rel: _replace_with_folder(root / rel)))
        breakers.append((f"{rel}:symlink_out", lambda root, rel=rel: _replace_with_symlink_out(root, rel)))
    for spec in ("labels", "labels NoSuchSet", "labels ZoneLabel extra", "agreement ../.. gold", "agreement nobody gold",
                 "label-counts", "label-counts ../corpus", "documents now", "no-such-renderer", "x" * 10_000):
        breakers.append((f"{README}:block {spec[:30]}",
                         lambda root, spec=spec: (root / README).write_text(f"<!-- BEGIN GENERATED: {spec} -->\n<!-- END GENERATED -->\n")))
    breakers.append(("annotations/gold:symlink_out", _set_folder_symlink_out))
    breakers.append(("corpus:odd_names", _odd_names))
    return [(name, breaker, [VALIDATE[i // len(OTHERS) % 2], OTHERS[i % len(OTHERS)]]) for i, (name, breaker) in enumerate(breakers)]


def _set_folder_symlink_out(root: Path) -> None:
    target = root.parent / "gold-elsewhere"
    shutil.rmtree(target, ignore_errors=True)
    shutil.move(root / "annotations" / "gold", target)
    (root / "annotations" / "gold").symlink_to(target)


def _odd_names(root: Path) -> None:
    (root / "corpus" / os.fsdecode(b"odd-\xff.json")).write_text("{}", "utf-8")
    (root / "annotations" / "gold" / "Odd Name.json").write_text("{}", "utf-8")
    os.mkfifo(root / "annotations" / "gold" / "pipe.json")


CASES = _cases()
SHARDS = 8


def _run(case: str, args: tuple[str, ...], root: Path) -> tuple[int, str]:
    result = run_chipwar(*(a.format(root=root) for a in args), cwd=root.parent)
    out = result.stdout + result.stderr
    assert result.returncode in (0, 1, 2), (case, args, result.returncode, out[-2000:])
    assert "Traceback" not in out and "internal error" not in out, (case, args, out[-2000:])
    if "--format" in args:
        flat(result.stdout)  # the envelope is valid JSON
    return result.returncode, out


def test_cases_cover_every_value_file_and_reader() -> None:
    names = " ".join(name for name, _, _ in CASES)
    assert all(f"={value}" in names for value in VALUES)
    assert all(f"{rel}:{kind}" in names for rel in (GOLD, META, TEXT, README) for kind in ("folder", "symlink_out", *FILE_CONTENTS))
    assert {args for _, _, commands in CASES for args in commands} == set(VALIDATE + OTHERS)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_malformed_input_never_crashes_nor_writes(shard: int, small: Path, tmp_path: Path) -> None:
    for name, breaker, commands in CASES[shard::SHARDS]:
        root = tmp_path / "repo"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(small, root, symlinks=True)
        breaker(root)
        before = tree(root)
        validated, said = _run(name, commands[0], root)
        data_ok = validated == 0 or set(re.findall(r'\[([a-z_]+)\]|"code": "([a-z_]+)"', said)) <= {("generated_stale", ""), ("", "generated_stale")}
        rc, out = _run(name, commands[1], root)
        writes = commands[1][:2] == ("generate", "--corpus")
        if not writes or not data_ok:  # generate brings stale blocks up to date, from data that validates
            assert tree(root) == before, (name, commands[1], "wrote", out[-1000:])
        if writes and not data_ok:
            assert rc != 0, (name, "generate from data that does not validate", out[-1000:])


# --- attribution chains and restatements: each break reported where it is ------------------------------------------

CUE = "/claims/2/attribution_chain/0/cue"


def _cue(data: dict, **fields: object) -> None:
    data["claims"][2]["attribution_chain"][0]["cue"].update(fields)


def _at(data: dict) -> tuple[int, int]:
    cue = data["claims"][2]["attribution_chain"][0]["cue"]
    return cue["start"], cue["end"]


#: name: (change to the small gold file, given its text; the (code, pointer) of every problem validate then reports)
CHAIN_BREAKS: dict[str, tuple[Callable[[dict, str], None], set[tuple[str, str]]]] = {
    "cue_start_off_by_one": (lambda d, t: _cue(d, start=_at(d)[0] + 1), {("offset_text_mismatch", f"{CUE}/start")}),
    "cue_end_past_the_text": (lambda d, t: _cue(d, end=len(t) + 5), {("offset_out_of_range", f"{CUE}/end")}),
    "cue_end_at_its_start": (lambda d, t: _cue(d, end=_at(d)[0]), {("offset_order", f"{CUE}/end")}),
    "cue_text_elsewhere": (lambda d, t: _cue(d, text="Reuters"), {("offset_text_mismatch", f"{CUE}/start")}),
    "cue_with_a_space": (lambda d, t: _cue(d, start=_at(d)[0] - 1, text=t[_at(d)[0] - 1:_at(d)[1]]), {("span_whitespace_edge", f"{CUE}/text")}),
    "dangling_chain_entity": (lambda d, t: d["claims"][2]["attribution_chain"][1].update(entity_id="nobody-known"),
                              {("dangling_reference", "/claims/2/attribution_chain/1/entity_id")}),
    "source_twice": (lambda d, t: d["claims"][2]["attribution_chain"][0].update(kind="named_organization", entity_id="reuters"),
                     {("chain_cycle", "/claims/2/attribution_chain/1/entity_id"), ("claimant_mismatch", "/claims/2/claimant_type")}),
    "claimant_not_the_first_link": (lambda d, t: d["claims"][2].update(claimant_type="entity", claimant_id="reuters"),
                                    {("claimant_mismatch", "/claims/2/claimant_type")}),
    "form_none_with_a_chain": (lambda d, t: d["claims"][2].update(attribution_form="none"),
                               {("attribution_form_mismatch", "/claims/2/attribution_form")}),
    "form_without_a_chain": (lambda d, t: d["claims"][0].update(attribution_form="indirect"),
                             {("attribution_form_mismatch", "/claims/0/attribution_form")}),
    "restates_itself": (lambda d, t: d["claims"][0].update(restates=[d["claims"][0]["id"]]),
                        {("restates_self", "/claims/0/restates/0"), ("restates_one_way", "/claims/1/restates/0")}),
    "restates_one_way": (lambda d, t: d["claims"][1].update(restates=[]), {("restates_one_way", "/claims/0/restates/0")}),
    "restates_an_unknown_claim": (lambda d, t: d["claims"][0].update(restates=[f"{DOC}:c999"]),
                                  {("dangling_reference", "/claims/0/restates/0"), ("restates_one_way", "/claims/1/restates/0")}),
}


@pytest.mark.parametrize("case", sorted(CHAIN_BREAKS))
def test_chain_and_restatement_problems_point_where_they_are(case: str, small: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(small, root)
    data = json.loads((root / GOLD).read_text("utf-8"))
    change, expected = CHAIN_BREAKS[case]
    change(data, (root / TEXT).read_text("utf-8"))
    (root / GOLD).write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    result = run_chipwar("validate", str(root), "--format", "json")
    assert result.returncode == 1, result.stdout[-2000:]
    problems = flat(result.stdout)["problems"]
    assert {(p["code"], p["pointer"]) for p in problems if p["severity"] == "error"} == expected
    assert all(p["file"] == GOLD and p["annotation_id"] and p["hint"] for p in problems if p["severity"] == "error")


@pytest.mark.parametrize("raw", [b"7.0", b"1e3"])
def test_a_cue_offset_written_as_a_float_is_a_wrong_type_not_a_crash(raw: bytes, small: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(small, root)
    _set_field(root / GOLD, (*CHAINED, 0, "cue", "start"), raw)
    result = run_chipwar("validate", str(root), "--format", "json")
    assert result.returncode == 1, result.stdout[-2000:]
    assert ("wrong_type", f"{CUE}/start") in {(p["code"], p["pointer"]) for p in flat(result.stdout)["problems"]}


# --- what a user sees from each reader on a broken file ----------------------------------------------------------


def test_stats_names_every_file_it_left_out(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(small, root)
    (root / GOLD).write_text("null", "utf-8")
    _set_field(root / META, ("intake", "length_codepoints"), b"7.0")
    result = run_chipwar("stats", "--corpus", str(root), "--format", "json")
    out = flat(result.stdout)
    assert result.returncode == 1
    assert out["skipped"] == [GOLD, OTHER_SET, META] and out["documents"] == 0 and out["sets"]["gold"]["files"] == 0
    assert {p["code"] for p in out["problems"]} == {"file_skipped"}
    why = {p["file"]: p["message"] for p in out["problems"]}
    assert "integer" in why[META] and "wrong_type" in why[GOLD]  # a file's own problem comes first
    assert f"its document {META} does not pass" in why[OTHER_SET] and "integer" in why[OTHER_SET]
    text = run_chipwar("stats", "--corpus", str(root))
    assert text.returncode == 1 and GOLD in text.stdout and "chipwar validate" in text.stderr


def test_generate_writes_nothing_from_data_with_problems(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(small, root)
    _set_field(root / GOLD, ("entities", 0, "label"), b'"PROGRAM"')  # a valid label: the counts would change
    _set_field(root / GOLD, ("entities", 1, "start"), b"1e3")  # but this file has a problem
    before = tree(root)
    result = run_chipwar("generate", "--corpus", str(root))
    assert result.returncode == 1 and "wrong_type" in result.stdout and "no block written" in result.stderr
    assert tree(root) == before
    check = run_chipwar("generate", "--check", "--corpus", str(root), "--format", "json")
    assert check.returncode == 1 and "wrong_type" in {p["code"] for p in flat(check.stdout)["problems"]}


def test_generate_refuses_a_block_naming_a_path(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(small, root)
    (root / README).write_text("<!-- BEGIN GENERATED: agreement ../../.. gold -->\nold\n<!-- END GENERATED -->\n", "utf-8")
    before = tree(root)
    result = run_chipwar("generate", "--corpus", str(root), "--format", "json")
    assert result.returncode == 1 and [p["code"] for p in flat(result.stdout)["problems"]] == ["generated_unknown"]
    assert tree(root) == before


def test_markdown_symlinked_out_is_not_read_and_said_so(small: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(small, root)
    _replace_with_symlink_out(root, README)
    (root.parent / f"outside-{README}").write_text("<!-- BEGIN GENERATED: documents -->\nstale\n<!-- END GENERATED -->\n", "utf-8")
    before = tree(root)
    result = run_chipwar("validate", str(root), "--format", "json")
    [hit] = [p for p in flat(result.stdout)["problems"] if p["code"] == "generated_unreadable"]
    assert result.returncode == 0 and hit["severity"] == "warning" and "outside the repository" in hit["message"]
    assert run_chipwar("generate", "--corpus", str(root)).returncode == 0
    assert tree(root) == before and "stale" in (root.parent / f"outside-{README}").read_text("utf-8")
