"""``chipwar export``: the command, its errors and refusals, partly invalid sets, and byte-identical reruns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chipwar.exports.formats import FORMAT_NAMES, FORMATS, ExportFormat
from chipwar.exports.semeval import article_id
from chipwar.outputs import BUILD_MARKER

from .conftest import files_of, run_chipwar, tree
from .export_data import export, real_root  # noqa: F401  (fixtures)

#: The formats this helper's modules write (brat has its own tests).
MINE = ("conll", "semeval2020", "semeval2023", "spacy", "webanno")


def test_registry_names_every_format_and_says_what_each_keeps() -> None:
    assert set(FORMAT_NAMES) == {"brat", "conll", "semeval2020", "semeval2023", "spacy", "webanno"}
    for name in MINE:
        fmt = FORMATS[name]
        assert isinstance(fmt, ExportFormat) and fmt.name == name and fmt.keeps and fmt.cannot_hold and fmt.summary
        assert "Keeps" in __import__(fmt.write.__module__, fromlist=["x"]).__doc__


def test_help_lists_the_formats_with_an_example() -> None:
    shown = run_chipwar("export", "--help")
    assert shown.returncode == 0 and "Examples:" in shown.stdout
    for name in FORMAT_NAMES:
        assert name in shown.stdout


@pytest.mark.parametrize("name", MINE)
def test_each_format_says_what_it_keeps_and_what_it_left_out(name: str, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    ran = run_chipwar("export", name, "--out", str(tmp_path / "out"), "--corpus", str(real_root))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"wrote {tmp_path / 'out'}" in ran.stdout and "keeps: " in ran.stdout and "Next: " in ran.stdout
    result = export(real_root, name, tmp_path / "again")
    if result["dropped"]:
        assert "cannot hold: " in ran.stdout
        for what, n in result["dropped"].items():
            assert f"{what}: {n}" in ran.stdout
    marker = json.loads((tmp_path / "out" / BUILD_MARKER).read_text("utf-8"))
    assert marker["made_by"] == "chipwar export" and marker["format"] == name and marker["annotation_set"] == "gold"
    assert marker["files"] == result["files"] == sorted(f for f in files_of(tmp_path / "again") if f != BUILD_MARKER)


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_the_same_sources_give_byte_identical_files(name: str, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    first, second = export(real_root, name, tmp_path / "a"), export(real_root, name, tmp_path / "b")
    assert first["exit_code"] == second["exit_code"] == 0
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_an_earlier_export_is_replaced_whole(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    assert export(real_root, "semeval2020", out)["exit_code"] == 0
    again = export(real_root, "conll", out)
    assert again["exit_code"] == 0 and again["replaced"] is True
    assert sorted(files_of(out)) == sorted([BUILD_MARKER, *again["files"]])


def test_a_dataset_or_a_review_folder_is_never_replaced_by_an_export(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """Each command replaces only its own earlier output: a `chipwar build` or `chipwar review` folder is refused whole."""
    for made_by in ("chipwar build", "chipwar review"):
        out = tmp_path / made_by.split()[1]
        out.mkdir()
        (out / "README.md").write_text("the card", "utf-8")
        (out / BUILD_MARKER).write_text(json.dumps({"made_by": made_by, "files": ["README.md"]}), "utf-8")
        before = tree(out)
        ran = run_chipwar("export", "conll", "--corpus", str(real_root), "--out", str(out), "--format", "json")
        assert ran.returncode == 2 and f"holds the output of {made_by}, not of chipwar export" in json.loads(ran.stdout)["error"]["message"]
        assert tree(out) == before


@pytest.mark.parametrize("case", ["corpus", "annotations", "schema", "checkout", "foreign", "file", "inside_build"])
def test_unsafe_out_is_refused_and_nothing_is_written(case: str, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "repo"
    shutil.copytree(real_root, root)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine", "utf-8")
    (tmp_path / "a-file").write_text("x", "utf-8")
    assert export(root, "conll", tmp_path / "built")["exit_code"] == 0
    out = {"corpus": root / "corpus", "annotations": root / "annotations" / "gold", "schema": root / "schema" / "x",
           "checkout": root, "foreign": tmp_path / "foreign", "file": tmp_path / "a-file",
           "inside_build": tmp_path / "built" / "sub"}[case]
    before = tree(tmp_path)
    result = export(root, "conll", out)
    assert result["exit_code"] == 2 and result["error"]["code"] == "usage_error", result
    assert "refused" in result["error"]["message"] or "is a file" in result["error"]["message"]
    assert tree(tmp_path) == before


@pytest.mark.parametrize(("args", "says"), [
    (["nosuch", "--out", "{out}"], "Invalid value for 'FORMAT'"),
    (["conll", "--out", "{out}", "--set", "nobody"], "no such annotation set"),
    (["conll", "--out", "{out}", "--set", "Bad Name"], "annotation set name"),
    (["conll"], "Missing option '--out'"),
])
def test_bad_arguments_exit_2_and_write_nothing(args: list[str], says: str, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    ran = run_chipwar("export", *[a.format(out=tmp_path / "out") for a in args], "--corpus", str(real_root))
    assert ran.returncode == 2 and says in ran.stderr, ran.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_optional_package_names_the_extra(real_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "spacy" else real(name, *a))
    result = export(real_root, "spacy", tmp_path / "out")
    assert result["exit_code"] == 2 and result["error"]["code"] == "environment_error"
    assert "'spacy'" in result["error"]["message"] and "chipwar[export]" in result["error"]["hint"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_file_that_fails_validation_is_left_out_whole_and_listed(name: str, real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "repo"
    shutil.copytree(real_root, root)
    bad = root / "annotations" / "gold" / "tfi-2021-chip-crisis.json"
    data = json.loads(bad.read_text("utf-8"))
    data["bias_markers"][0]["end"] += 1  # its text is no longer the slice
    bad.write_text(json.dumps(data), "utf-8")
    result = export(root, name, tmp_path / "out")
    assert result["exit_code"] == 1
    assert [(p["code"], p["file"], p["doc_id"]) for p in result["problems"]] == [
        ("file_skipped", "annotations/gold/tfi-2021-chip-crisis.json", "tfi-2021-chip-crisis")]
    assert result["documents"] == 2 and result["counts"]["documents_left_out"] == 1
    assert not any("chip-crisis" in f or article_id("tfi-2021-chip-crisis") in f for f in result["files"])
    assert _documents_in(name, tmp_path / "out") == 2


def _documents_in(name: str, out: Path) -> int:
    """How many documents an export holds, read the way its users read it."""
    if name == "spacy":
        import spacy
        from spacy.tokens import DocBin

        return sum(len(list(DocBin().from_disk(p).get_docs(spacy.blank("en").vocab))) for p in out.glob("*.spacy"))
    if name == "conll":
        return sum(p.read_text("utf-8").count("-DOCSTART-") for p in out.glob("*.conll"))
    if name == "webanno":
        return len(list(out.glob("*.jsonld")))
    if name == "brat":
        return len(list(out.rglob("*.ann")))
    return len(list(out.rglob("article*.txt"))) - len(list(out.rglob("*labels-subtask-3.txt")))


def test_no_corpus_is_an_environment_error(tmp_path: Path) -> None:
    ran = run_chipwar("export", "conll", "--out", str(tmp_path / "out"), "--corpus", str(tmp_path))
    assert ran.returncode == 2 and "not inside a chipwar corpus" in ran.stderr
    assert not (tmp_path / "out").exists()


def test_no_exporter_converts_offset_units_on_its_own() -> None:
    """Offsets change units only in chipwar.offsets: no export module's code measures UTF-16 units or bytes itself
    (``0xFFFF``, ``.encode("utf-16…")``, ``len(….encode(…))``). Every format here counts code points, as chipwar
    stores them; one that meets another unit calls chipwar.offsets."""
    import ast

    from .conftest import REPO

    for path in sorted((REPO / "src" / "chipwar" / "exports").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            assert not (isinstance(node, ast.Constant) and node.value in (0xFFFF, 0x10000)), where
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "encode":
                assert not any(isinstance(a, ast.Constant) and "16" in str(a.value) for a in node.args), where
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
                assert not any(isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and a.func.attr == "encode"
                               for a in node.args), where
