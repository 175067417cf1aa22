"""The Hugging Face build, loaded with the real ``datasets.load_dataset``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, Value, load_dataset

from chipwar.corpus import Corpus
from chipwar.hf.build import CONFIGS, read_documents
from chipwar.synthetic import write_synthetic_corpus

from .conftest import REPO, flat, run_chipwar


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small corpus in the real layout, with emoji, CJK and combining marks before spans."""
    root = tmp_path_factory.mktemp("synthetic")
    write_synthetic_corpus(root, 12, 400, schema_dir=REPO / "schema")
    for name in ("VERSION", "LICENSE"):
        (root / name).write_bytes((REPO / name).read_bytes())
    (root / "DATASHEET.md").write_text("# Datasheet: synthetic\n\nMade by chipwar.synthetic for the tests.\n", "utf-8")
    return root


@pytest.fixture(scope="module")
def built(synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "chipwar"
    result = run_chipwar("build", "--out", str(out), "--corpus", str(synthetic))
    assert result.returncode == 0, result.stderr
    assert "load_dataset" in result.stdout
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("config", CONFIGS)
def test_every_config_loads_typed(built: Path, config: str, tmp_path: Path) -> None:
    ds = load_dataset(str(built), config, cache_dir=str(tmp_path / "cache"))
    assert set(ds) <= {"train", "validation", "test"} and sum(len(s) for s in ds.values()) > 0
    split = next(iter(ds.values()))
    features = split.features
    if config in ("entities", "claims", "bias_markers"):
        assert features["start"] == Value("int32") and isinstance(features["label"], ClassLabel)
        for row in split.select(range(min(20, len(split)))):
            assert row["sentence"][row["start"] - row["sentence_start"]:row["end"] - row["sentence_start"]] == row["text"]
    if config == "documents":
        assert features["entities"].feature["start"] == Value("int32")
        row = split[0]
        for ent in row["entities"]:
            assert row["text"][ent["start"]:ent["end"]] == ent["text"]
    if config == "ner":
        assert isinstance(features["ner_tags"].feature, ClassLabel)
        assert features["ner_tags"].feature.names[0] == "O"
    streamed = load_dataset(str(built), config, streaming=True, split=next(iter(ds)))
    assert next(iter(streamed)) == split[0]


def test_class_labels_match_schema(built: Path, tmp_path: Path) -> None:
    schema = json.loads((REPO / "schema" / "annotations.schema.json").read_text("utf-8"))
    names = [o["const"] for o in schema["$defs"]["BiasLabel"]["oneOf"]]
    ds = load_dataset(str(built), "bias_markers", cache_dir=str(tmp_path / "c"))
    assert next(iter(ds.values())).features["label"].names == names


def test_build_is_deterministic(synthetic: Path, built: Path, tmp_path: Path) -> None:
    again = tmp_path / "elsewhere" / "chipwar"
    assert run_chipwar("build", "--out", str(again), "--corpus", str(synthetic)).returncode == 0
    assert _files(again) == _files(built)


def test_documents_config_is_lossless(synthetic: Path, built: Path) -> None:
    corpus = Corpus(synthetic)
    seen = 0
    for meta, text, set_name, stored in read_documents(built):
        doc_id = meta["doc_id"]
        assert meta == corpus.read_metadata(doc_id)
        assert text == corpus.read_text(doc_id)
        assert set_name == "gold" and stored == corpus.read_annotations("gold", doc_id)
        seen += 1
    assert seen == len(corpus.doc_ids())


def test_no_text_variant_and_rehydrate(synthetic: Path, built: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    assert run_chipwar("build", "--no-text", "--out", str(bare), "--corpus", str(synthetic)).returncode == 0
    docs = load_dataset(str(bare), "documents", cache_dir=str(tmp_path / "c"))
    row = next(iter(docs.values()))[0]
    assert row["text"] is None and row["url"] and len(row["intake"]["text_sha256"]) == 64
    assert all(e["text"] is None and e["end"] > e["start"] for e in row["entities"])
    assert not (bare / "data" / "ner").exists()
    texts = tmp_path / "my-copies"
    texts.mkdir()
    for i, doc_id in enumerate(Corpus(synthetic).doc_ids()):
        (texts / f"copy-{i}.txt").write_bytes((synthetic / "corpus" / f"{doc_id}.txt").read_bytes())
    full = tmp_path / "full"
    result = run_chipwar("rehydrate", str(bare), "--texts", str(texts), "--out", str(full))
    assert result.returncode == 0, result.stderr
    assert _files(full) == _files(built)


def test_rehydrate_refuses_a_changed_copy(synthetic: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    assert run_chipwar("build", "--no-text", "--out", str(bare), "--corpus", str(synthetic)).returncode == 0
    texts = tmp_path / "my-copies"
    texts.mkdir()
    ids = Corpus(synthetic).doc_ids()
    for doc_id in ids:
        (texts / f"{doc_id}.txt").write_bytes((synthetic / "corpus" / f"{doc_id}.txt").read_bytes())
    (texts / f"{ids[0]}.txt").write_text((texts / f"{ids[0]}.txt").read_text("utf-8") + " edited", "utf-8")
    out = tmp_path / "full"
    result = run_chipwar("rehydrate", str(bare), "--texts", str(texts), "--out", str(out))
    assert result.returncode == 1
    assert f"{ids[0]}.txt: text of {ids[0]} differs" in result.stderr and "nothing written" in result.stderr
    assert not out.exists()


def test_rebuild_in_place_never_serves_stale_rows(synthetic: Path, tmp_path: Path) -> None:
    """Default cache under a temporary HF_HOME; rebuild into the same folder after a data change."""
    out, work = tmp_path / "chipwar", tmp_path / "corpus"
    subprocess.run(["cp", "-r", str(synthetic), str(work)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")} | {"HF_HOME": str(tmp_path / "hf-home")}
    probe = ("import sys; from datasets import load_dataset; "
             "ds = load_dataset(sys.argv[1], 'entities', split='train'); print(ds.features['label'].int2str(ds[0]['label']))")

    def first_label() -> str:
        done = subprocess.run([sys.executable, "-c", probe, str(out)], capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run_chipwar("build", "--out", str(out), "--corpus", str(work)).returncode == 0
    corpus = Corpus(work)
    doc_id = next(d for d in corpus.doc_ids() if corpus.read_metadata(d)["split"] == "train")
    path = corpus.annotation_path("gold", doc_id)
    data = json.loads(path.read_text("utf-8"))
    before = first_label()
    assert before == data["entities"][0]["label"]
    new_label = "LAW" if before != "LAW" else "EVENT"
    data["entities"][0].update(label=new_label, org_type=None, gpe_role=None)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert run_chipwar("build", "--out", str(out), "--corpus", str(work)).returncode == 0
    assert first_label() == new_label
    assert len(list((tmp_path / "hf-home").rglob("*.arrow"))) > 0, "the default cache under HF_HOME was used"


def test_card_and_files_carry_version_and_datasheet(synthetic: Path, built: Path) -> None:
    version = (synthetic / "VERSION").read_text("utf-8").strip()
    card = (built / "README.md").read_text("utf-8")
    assert f"version: {version}" in card and "Made by chipwar.synthetic for the tests." in card
    for path in built.rglob("*.parquet"):
        assert pq.read_schema(path).metadata[b"chipwar.dataset_version"] == version.encode()


def test_build_refuses_a_missing_set(synthetic: Path, tmp_path: Path) -> None:
    result = run_chipwar("build", "--out", str(tmp_path / "out"), "--corpus", str(synthetic), "--set", "nobody")
    assert result.returncode == 1 and "annotations/nobody/" in result.stderr and "gold" in result.stderr
    assert not (tmp_path / "out").exists()


def test_build_refuses_an_invalid_corpus(synthetic: Path, tmp_path: Path) -> None:
    work = tmp_path / "corpus"
    subprocess.run(["cp", "-r", str(synthetic), str(work)], check=True)
    doc_id = Corpus(work).doc_ids()[0]
    (work / "corpus" / f"{doc_id}.txt").write_text("changed", "utf-8")
    out = tmp_path / "out"
    result = run_chipwar("build", "--out", str(out), "--corpus", str(work))
    assert result.returncode == 1 and "chipwar validate" in result.stderr
    assert not out.exists()


def test_publish_dry_run_and_offline(built: Path) -> None:
    dry = run_chipwar("publish", "--repo-id", "me/chipwar", "--tag", "v1.0.0", "--folder", str(built), "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    plan = flat(dry.stdout)
    assert plan["files"] == sorted(_files(built)) and "README.md" in plan["files"]
    started = time.monotonic()
    offline = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(built),
                          env={"HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_secret_value_never_printed"})
    assert offline.returncode == 2 and "HF_HUB_OFFLINE" in offline.stderr
    assert time.monotonic() - started < 15
    assert "hf_secret_value_never_printed" not in offline.stdout + offline.stderr
