"""The Hugging Face build, loaded with the real ``datasets.load_dataset``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import ClassLabel, Value, load_dataset

from chipwar.corpus import Corpus
from chipwar.hf.configs import CONFIGS
from chipwar.hf.rehydrate import read_documents
from chipwar.synthetic import write_synthetic_corpus

from .conftest import CHIPWAR, REPO, files_of, flat, run_chipwar, run_subprocess, tree

#: The release tag of the repository's own version: what a build of it is published under.
TAG = "v" + (REPO / "VERSION").read_text("utf-8").strip()


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
    assert files_of(again) == files_of(built)


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


def _gold_claims(root: Path) -> dict[str, dict]:
    corpus = Corpus(root)
    return {claim["id"]: claim for doc_id in corpus.doc_ids() for claim in corpus.read_annotations("gold", doc_id)["claims"]}


def _chain_as_json(row_chain: list[dict], kinds: ClassLabel) -> list[dict]:
    """A loaded chain in the annotation file's form (``kind`` is a ClassLabel id in the dataset)."""
    return [{**link, "kind": kinds.int2str(link["kind"])} for link in row_chain]


def test_chains_and_restates_load_back_exactly(synthetic: Path, built: Path, tmp_path: Path) -> None:
    """Every claim's attribution chain (nested cues, null cues, null entity ids) and restates, through the real loader."""
    claims = _gold_claims(synthetic)
    chains = [c["attribution_chain"] for c in claims.values()]
    links = [link for chain in chains for link in chain]
    assert {len(chain) for chain in chains} >= {0, 1, 2, 3} and any(c["restates"] for c in claims.values())
    assert any(link["cue"] is None for link in links) and any(link["entity_id"] is None for link in links)
    loaded: dict[str, tuple[list, list]] = {}
    for split in load_dataset(str(built), "claims", cache_dir=str(tmp_path / "claims")).values():
        kinds = split.features["attribution_chain"].feature["kind"]
        loaded.update({row["id"]: (_chain_as_json(row["attribution_chain"], kinds), row["restates"]) for row in split})
    assert loaded == {sid: (c["attribution_chain"], c["restates"]) for sid, c in claims.items()}
    nested: dict[str, tuple[list, list]] = {}
    for split in load_dataset(str(built), "documents", cache_dir=str(tmp_path / "documents")).values():
        kinds = split.features["claims"].feature["attribution_chain"].feature["kind"]
        nested.update({c["id"]: (_chain_as_json(c["attribution_chain"], kinds), c["restates"]) for row in split for c in row["claims"]})
    assert nested == loaded


def test_no_text_variant_and_rehydrate(synthetic: Path, built: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    assert run_chipwar("build", "--no-text", "--out", str(bare), "--corpus", str(synthetic)).returncode == 0
    docs = load_dataset(str(bare), "documents", cache_dir=str(tmp_path / "c"))
    row = next(iter(docs.values()))[0]
    assert row["text"] is None and row["url"] and len(row["intake"]["text_sha256"]) == 64
    assert all(e["text"] is None and e["end"] > e["start"] for e in row["entities"])
    assert not (bare / "data" / "ner").exists()
    claims = _gold_claims(synthetic)
    cued = 0
    for split in (*docs.values(), *load_dataset(str(bare), "claims", cache_dir=str(tmp_path / "c")).values()):
        for claim in (c for r in split for c in r["claims"]) if "claims" in split.features else split:
            assert claim["text"] is None
            for link, source in zip(claim["attribution_chain"], claims[claim["id"]]["attribution_chain"], strict=True):
                assert link["cue"] == (source["cue"] and {**source["cue"], "text": None})  # offsets kept, article text left out
                cued += link["cue"] is not None
    assert cued
    texts = tmp_path / "my-copies"
    texts.mkdir()
    for i, doc_id in enumerate(Corpus(synthetic).doc_ids()):
        (texts / f"copy-{i}.txt").write_bytes((synthetic / "corpus" / f"{doc_id}.txt").read_bytes())
    full = tmp_path / "full"
    result = run_chipwar("rehydrate", str(bare), "--texts", str(texts), "--out", str(full))
    assert result.returncode == 0, result.stderr
    assert files_of(full) == files_of(built)


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
    before = tree(tmp_path)
    result = run_chipwar("rehydrate", str(bare), "--texts", str(texts), "--out", str(out))
    assert result.returncode == 1
    assert f"{ids[0]}.txt: text of {ids[0]} differs" in result.stderr and "nothing written" in result.stderr
    assert tree(tmp_path) == before


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


def test_card_shows_its_figures_which_are_no_data(synthetic: Path, built: Path, tmp_path: Path) -> None:
    from datasets import get_dataset_config_names

    from chipwar.plots import FIGURE_NAMES, corpus_figures, read_figures
    from chipwar.schema import load_schemas

    figures = read_figures(built / "figures")
    assert [f.name for f in figures] == list(FIGURE_NAMES[:3])  # the synthetic datasheet has no agreement block
    corpus = Corpus(synthetic)
    assert figures == corpus_figures(corpus, load_schemas(corpus.schema_dir), "gold")  # counted by the build = counted on their own
    card = (built / "README.md").read_text("utf-8")
    marker = json.loads((built / ".chipwar-build.json").read_text("utf-8"))
    for figure in figures:
        assert f"](figures/{figure.name}.svg)" in card and f"*{figure.title}*" in card
        assert f"figures/{figure.name}.svg" in marker["files"]
    assert sorted(get_dataset_config_names(str(built))) == sorted(CONFIGS)
    default = load_dataset(str(built), cache_dir=str(tmp_path / "cache"))
    assert sum(len(s) for s in default.values()) == len(corpus.doc_ids()) and "text" in next(iter(default.values())).features


def test_repository_card_has_the_datasheets_agreement_figure(repo_builds: tuple[Path, Path]) -> None:
    from chipwar.plots import read_figures

    full, bare = repo_builds
    figures = read_figures(full / "figures")
    assert figures[-1].name == "agreement" and "`pass-1`, `pass-2`, `pass-3`" in figures[-1].title  # DATASHEET.md's sets
    assert read_figures(bare / "figures") == figures  # the figures hold no article text: the same in both variants
    assert "![Agreement of pass-1, pass-2, pass-3" in (full / "README.md").read_text("utf-8")


def test_build_refuses_a_missing_set(synthetic: Path, tmp_path: Path) -> None:
    result = run_chipwar("build", "--out", str(tmp_path / "out"), "--corpus", str(synthetic), "--set", "nobody")
    assert result.returncode == 2 and "annotations/nobody/" in result.stderr and "gold" in result.stderr
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
    dry = run_chipwar("publish", "--repo-id", "me/chipwar", "--tag", TAG, "--folder", str(built), "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    plan = flat(dry.stdout)
    assert plan["files"] == sorted(set(files_of(built)) - {".chipwar-build.json"}) and "README.md" in plan["files"]
    started = time.monotonic()
    offline = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(built),
                          env={"HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_secret_value_never_printed"})
    assert offline.returncode == 2 and "HF_HUB_OFFLINE" in offline.stderr
    assert time.monotonic() - started < 15
    assert "hf_secret_value_never_printed" not in offline.stdout + offline.stderr


# --- Where a build may write -------------------------------------------------------------------------------------

def _user_folder(base: Path) -> Path:
    (base / "mine").mkdir(parents=True)
    (base / "mine" / "thesis.docx").write_bytes(b"years of work")
    return base / "mine"


def _hidden_only(base: Path) -> Path:
    (base / "cfg").mkdir(parents=True)
    (base / "cfg" / ".env").write_text("HF_TOKEN=hf_secret\n", "utf-8")
    return base / "cfg"


def _build_with_extra(base: Path, built: Path) -> Path:
    shutil.copytree(built, base / "old-build")
    (base / "old-build" / "data" / "my-notes.txt").write_text("notes", "utf-8")
    return base / "old-build"


def _inside_a_build(base: Path, built: Path) -> Path:
    shutil.copytree(built, base / "old-build")
    return base / "old-build" / "sub"


def _a_file(base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    (base / "plain.txt").write_text("x", "utf-8")
    return base / "plain.txt"


#: name: (how to make the --out folder from (tmp base, an earlier build, the corpus root), what the refusal says)
REFUSED_OUT = {
    "user_folder": (lambda b, built, root: _user_folder(b), "holds files chipwar did not build (thesis.docx)"),
    "hidden_file_only": (lambda b, built, root: _hidden_only(b), "holds files chipwar did not build (.env)"),
    "build_with_extra_file": (lambda b, built, root: _build_with_extra(b, built), "files it did not make (data/my-notes.txt)"),
    "inside_a_build": (lambda b, built, root: _inside_a_build(b, built), "sits inside the chipwar build"),
    "a_file": (lambda b, built, root: _a_file(b), "is a file, not a folder"),
    "corpus": (lambda b, built, root: root / "corpus", "the corpus checkout's own files"),
    "annotations_gold": (lambda b, built, root: root / "annotations" / "gold", "the corpus checkout's own files"),
    "schema": (lambda b, built, root: root / "schema", "the corpus checkout's own files"),
    "new_folder_in_corpus": (lambda b, built, root: root / "corpus" / "dist", "the corpus checkout's own files"),
    "checkout_root": (lambda b, built, root: root, "the corpus checkout's own files"),
    "around_the_checkout": (lambda b, built, root: root.parent, ": refused"),  # rehydrate knows no corpus: "holds files"
}


@pytest.mark.parametrize("case", sorted(REFUSED_OUT))
@pytest.mark.parametrize("command", ["build", "rehydrate"])
def test_refused_outputs_touch_nothing(case: str, command: str, synthetic: Path, built: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "checkout"
    shutil.copytree(synthetic, corpus)
    bare = tmp_path / "bare"
    assert run_chipwar("build", "--no-text", "--out", str(bare), "--corpus", str(corpus)).returncode == 0
    texts = tmp_path / "texts"
    texts.mkdir()
    for doc_id in Corpus(corpus).doc_ids():
        (texts / f"{doc_id}.txt").write_bytes((corpus / "corpus" / f"{doc_id}.txt").read_bytes())
    make, says = REFUSED_OUT[case]
    out = make(tmp_path / "outs", built, corpus)
    before = tree(tmp_path)
    args = (["build", "--corpus", str(corpus)] if command == "build" else ["rehydrate", str(bare), "--texts", str(texts)])
    result = run_chipwar(*args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"--out {out}" in result.stderr and says in result.stderr and "hint:" in result.stderr
    assert tree(tmp_path) == before


def test_earlier_build_and_empty_folder_are_replaced_whole(synthetic: Path, built: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist" / "chipwar"
    out.mkdir(parents=True)
    first = flat(run_chipwar("build", "--out", str(out), "--corpus", str(synthetic), "--format", "json").stdout)
    assert first["ok"] and first["replaced"] is False
    assert files_of(out) == files_of(built)
    marker = json.loads((out / ".chipwar-build.json").read_text("utf-8"))
    assert marker["files"] == sorted(p for p in files_of(out) if p != ".chipwar-build.json") == first["files"]
    assert marker["with_text"] is True and marker["dataset_version"] == (synthetic / "VERSION").read_text("utf-8").strip()
    (out / "data" / "entities" / "train-0000000000000000.parquet").write_bytes(b"a file an older build made")
    marker["files"].append("data/entities/train-0000000000000000.parquet")
    (out / ".chipwar-build.json").write_text(json.dumps(marker), "utf-8")
    again = run_chipwar("build", "--out", str(out), "--corpus", str(synthetic))
    assert again.returncode == 0 and f"replaced the earlier build in {out}" in again.stdout
    assert files_of(out) == files_of(built)  # the older build's files are gone with it
    assert sorted(p.name for p in out.parent.iterdir()) == ["chipwar"]  # no staging or old folder left beside it


def test_build_output_has_ordinary_permissions(synthetic: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "chipwar"
        assert run_chipwar("build", "--out", str(out), "--corpus", str(synthetic)).returncode == 0
    finally:
        os.umask(old)
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert modes.pop(".") == 0o755
    assert {name: mode for name, mode in modes.items() if mode != (0o755 if (out / name).is_dir() else 0o644)} == {}


# --- publish ------------------------------------------------------------------------------------------------------

def test_publish_sends_only_the_files_the_build_made(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import HfApi

    folder = tmp_path / "chipwar"
    shutil.copytree(built, folder)
    (folder / ".env").write_text("HF_TOKEN=hf_do_not_upload\n", "utf-8")
    (folder / "notes.txt").write_text("private notes", "utf-8")
    (folder / "data" / "entities" / "stray.parquet").write_bytes(b"not from this build")
    made = json.loads((built / ".chipwar-build.json").read_text("utf-8"))["files"]
    dry = flat(run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(folder), "--dry-run", "--format", "json").stdout)
    assert dry["ok"] and dry["files"] == made
    calls: dict[str, object] = {}
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: calls.setdefault("repo", repo_id))
    monkeypatch.setattr(HfApi, "list_repo_files", lambda self, repo_id, **kw: ["README.md", "data/ner/train-old.parquet"])

    def create_commit(self: HfApi, repo_id: str, operations: list, **kw: object) -> str:
        calls["operations"] = operations
        return "https://huggingface.co/datasets/me/chipwar/commit/abc"

    monkeypatch.setattr(HfApi, "create_commit", create_commit)
    monkeypatch.setattr(HfApi, "create_tag", lambda self, repo_id, tag, **kw: calls.setdefault("tag", tag))
    sent = run_chipwar("publish", "--repo-id", "me/chipwar", "--tag", TAG, "--folder", str(folder),
                       env={"HF_TOKEN": "hf_test_token", "HF_HUB_OFFLINE": "0"})
    assert sent.returncode == 0, sent.stderr
    added = sorted(op.path_in_repo for op in calls["operations"] if type(op).__name__ == "CommitOperationAdd")
    deleted = [op.path_in_repo for op in calls["operations"] if type(op).__name__ == "CommitOperationDelete"]
    assert added == made and deleted == ["data/ner/train-old.parquet"] and calls["tag"] == TAG
    assert "hf_test_token" not in sent.stdout + sent.stderr


def test_publish_removes_figures_an_earlier_build_made(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import HfApi

    sent: list = []
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: repo_id)
    monkeypatch.setattr(HfApi, "list_repo_files", lambda self, repo_id, **kw: ["figures/agreement.svg", "figures/labels-per-layer.svg"])
    monkeypatch.setattr(HfApi, "create_commit", lambda self, repo_id, operations, **kw: sent.extend(operations) or "commit-url")
    result = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(built), env={"HF_TOKEN": "hf_test_token", "HF_HUB_OFFLINE": "0"})
    assert result.returncode == 0, result.stderr
    deleted = [op.path_in_repo for op in sent if type(op).__name__ == "CommitOperationDelete"]
    assert deleted == ["figures/agreement.svg"]  # the synthetic build drew no agreement figure; its other figures replace the old


def test_publish_refuses_a_folder_that_is_not_a_build(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "looks-like-one"
    shutil.copytree(built, folder)
    (folder / ".chipwar-build.json").unlink()
    before = tree(folder)
    for extra in (["--dry-run"], []):
        result = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(folder), *extra, env={"HF_TOKEN": "hf_x"})
        assert result.returncode == 2 and "not a chipwar build" in result.stderr and "chipwar build --out" in result.stderr
    listed = tmp_path / "hidden-listed"
    shutil.copytree(built, listed)
    marker = json.loads((listed / ".chipwar-build.json").read_text("utf-8"))
    (listed / ".chipwar-build.json").write_text(json.dumps({**marker, "files": [*marker["files"], ".env"]}), "utf-8")
    (listed / ".env").write_text("HF_TOKEN=hf_x\n", "utf-8")
    result = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(listed), "--dry-run")
    assert result.returncode == 2 and "not a chipwar build" in result.stderr
    missing = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(tmp_path / "nowhere"), "--dry-run")
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    assert tree(folder) == before


@pytest.mark.parametrize("args, says", [
    (["--repo-id", "chipwar"], "expected OWNER/NAME"),
    (["--repo-id", "me/../x"], "expected OWNER/NAME"),
    (["--repo-id", "me/chipwar", "--tag", "1.0"], "expected vX.Y.Z"),
])
def test_publish_refuses_bad_arguments(built: Path, args: list[str], says: str) -> None:
    result = run_chipwar("publish", *args, "--folder", str(built), "--dry-run")
    assert result.returncode == 2 and says in result.stderr


def _no_upload(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any call that would reach the Hub (there must be none)."""
    from huggingface_hub import HfApi

    calls: list[str] = []
    for name in ("create_repo", "list_repo_files", "create_commit", "create_tag"):
        monkeypatch.setattr(HfApi, name, lambda self, *a, _name=name, **kw: calls.append(_name))
    return calls


def test_publish_refuses_a_tag_that_is_not_the_builds_version(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported bug: --tag v9.9.9 was accepted for a build of dataset version 1.0.0."""
    version = json.loads((built / ".chipwar-build.json").read_text("utf-8"))["dataset_version"]
    assert version != "9.9.9"
    calls, before = _no_upload(monkeypatch), tree(built)
    for extra in (["--dry-run"], []):
        result = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(built), "--tag", "v9.9.9", *extra,
                             env={"HF_TOKEN": "hf_x", "HF_HUB_OFFLINE": "0"})
        assert result.returncode == 2 and "would" not in result.stdout
        assert f"--tag 'v9.9.9': the build in {built} is dataset version '{version}', so its tag is v{version}" in result.stderr
        assert f"hint: use --tag v{version}" in result.stderr
    assert calls == [] and tree(built) == before
    right = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(built), "--tag", f"v{version}", "--dry-run")
    assert right.returncode == 0 and f"be tagged v{version}" in right.stdout


def test_publish_refuses_texts_that_may_not_be_redistributed(repo_builds: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository's texts are not redistributable: their build is refused without --include-texts, dry run too."""
    full, bare = repo_builds
    calls, before = _no_upload(monkeypatch), tree(full, bare)
    for extra in (["--dry-run"], [], ["--dry-run", "--format", "json"]):
        result = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(full), *extra,
                             env={"HF_TOKEN": "hf_x", "HF_HUB_OFFLINE": "0"})
        assert result.returncode == 2
        said = flat(result.stdout)["error"]["message"] + flat(result.stdout)["error"]["hint"] if "json" in extra else result.stderr
        assert "texts of 2 document(s) whose rights do not allow redistribution" in said
        assert "reg-2023-qiming, tfi-2021-chip-crisis" in said and "nothing sent" in said
        assert "chipwar build --no-text" in said and "--include-texts" in said
    assert calls == []
    bare_plan = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(bare), "--dry-run")
    assert bare_plan.returncode == 0, bare_plan.stderr
    chosen = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(full), "--dry-run", "--include-texts")
    assert chosen.returncode == 0 and "would go to datasets/me/chipwar" in chosen.stdout
    assert tree(full, bare) == before


def test_publish_refuses_a_build_whose_documents_cannot_be_read(built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "chipwar"
    shutil.copytree(built, folder)
    documents = next(f for f in json.loads((folder / ".chipwar-build.json").read_text("utf-8"))["files"]
                     if f.startswith("data/documents/"))
    (folder / documents).write_bytes(b"not parquet")
    before = tree(folder)
    result = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(folder), "--dry-run")
    assert result.returncode == 2 and f"{documents} cannot be read" in result.stderr and "chipwar build --out" in result.stderr
    assert "Traceback" not in result.stderr and tree(folder) == before


def test_publish_of_a_folder_that_is_not_a_build_suggests_a_folder_build_accepts(tmp_path: Path) -> None:
    """The reported bug: `publish --folder /etc` hinted `chipwar build --out /etc`, which build then refuses."""
    folder = _user_folder(tmp_path)
    before = tree(folder)
    result = run_chipwar("publish", "--repo-id", "me/chipwar", "--folder", str(folder), "--dry-run")
    assert result.returncode == 2 and "not a chipwar build" in result.stderr
    assert "hint: run `chipwar build --out dist/chipwar` and publish that folder" in result.stderr
    assert f"--out {folder}" not in result.stderr
    refused = run_chipwar("build", "--out", str(folder), "--corpus", str(REPO))
    assert refused.returncode == 2 and tree(folder) == before  # what the old hint said to do


def test_publish_without_token_or_network_is_a_clear_error(built: Path, tmp_path: Path) -> None:
    """Real processes: huggingface_hub reads HF_HOME and HF_ENDPOINT when it is imported."""
    bare_env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    no_token = subprocess.run([*CHIPWAR, "publish", "--repo-id", "me/chipwar", "--folder", str(built)], capture_output=True,
                              text=True, env={**bare_env, "HF_HOME": str(tmp_path / "hf-home")}, timeout=120)
    assert no_token.returncode == 2 and "no Hugging Face token" in no_token.stderr and "HF_TOKEN" in no_token.stderr
    assert "Traceback" not in no_token.stderr
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    offline = run_subprocess("publish", "--repo-id", "me/chipwar", "--folder", str(built),
                             env={"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_TOKEN": "hf_secret_value_never_printed",
                                  "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path / "hf-home")})
    assert offline.returncode == 2, offline.stderr
    assert "cannot be reached" in offline.stderr and "network" in offline.stderr and "Traceback" not in offline.stderr
    assert "hf_secret_value_never_printed" not in offline.stdout + offline.stderr
    assert time.monotonic() - started < 60


# --- rehydrate ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def repo_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The repository's own builds, with and without the texts."""
    base = tmp_path_factory.mktemp("repo-builds")
    for name, extra in (("full", []), ("bare", ["--no-text"])):
        result = run_chipwar("build", *extra, "--out", str(base / name), "--corpus", str(REPO))
        assert result.returncode == 0, result.stderr
    return base / "full", base / "bare"


def test_rehydrate_the_repositorys_no_text_build_from_a_messy_folder(repo_builds: tuple[Path, Path], tmp_path: Path) -> None:
    full, bare = repo_builds
    ids = Corpus(REPO).doc_ids()
    texts = tmp_path / "Downloads"
    (texts / "sub" / "deeper").mkdir(parents=True)
    first = (REPO / "corpus" / f"{ids[0]}.txt").read_bytes()
    (texts / "sub" / "deeper" / "article (1).txt").write_bytes(first)
    for i, doc_id in enumerate(ids[1:]):  # the others with a BOM and CRLF, as a Windows editor saves them
        (texts / f"saved-{i}.txt").write_bytes(b"\xef\xbb\xbf" + (REPO / "corpus" / f"{doc_id}.txt").read_bytes().replace(b"\n", b"\r\n"))
    (texts / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (texts / "empty.txt").write_bytes(b"")
    (texts / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    (texts / "program.bin").write_bytes(b"ELF\x00\x00\x01\x02")
    (texts / "other-article.txt").write_text("An article about something else entirely.\n", "utf-8")
    (texts / ".DS_Store").write_bytes(b"Bud1\x00\x00")
    (texts / "link.txt").symlink_to(texts / "sub" / "deeper" / "article (1).txt")
    (texts / "linked-folder").symlink_to(texts / "sub")
    os.mkfifo(texts / "a-pipe")
    out = tmp_path / "rehydrated"
    js = run_chipwar("rehydrate", str(bare), "--texts", str(texts), "--out", str(out), "--format", "json")
    assert js.returncode == 0, js.stdout
    assert files_of(out) == files_of(full)
    skipped = {s["file"]: s["reason"] for s in flat(js.stdout)["skipped"]}
    assert sorted(skipped) == [".DS_Store", "a-pipe", "empty.txt", "latin1.txt", "link.txt", "linked-folder",
                               "other-article.txt", "photo.jpg", "program.bin"]
    assert "not UTF-8 at byte 3" in skipped["latin1.txt"] and "no text" in skipped["empty.txt"]
    assert "U+0000 (NUL)" in skipped["program.bin"] and "not the text of any document" in skipped["other-article.txt"]
    assert "link" in skipped["link.txt"] and "not a regular file" in skipped["a-pipe"]
    text = run_chipwar("rehydrate", str(bare), "--texts", str(texts), "--out", str(out))
    assert text.returncode == 0 and f"replaced the earlier build in {out}" in text.stdout
    assert "skipped 9 file(s)" in text.stdout and "  latin1.txt: not UTF-8 at byte 3" in text.stdout
    assert files_of(out) == files_of(full)


def test_rehydrate_names_a_copy_that_cannot_be_the_text(repo_builds: tuple[Path, Path], tmp_path: Path) -> None:
    _, bare = repo_builds
    texts = tmp_path / "texts"
    texts.mkdir()
    ids = Corpus(REPO).doc_ids()
    for doc_id in ids[1:]:
        (texts / f"{doc_id}.txt").write_bytes((REPO / "corpus" / f"{doc_id}.txt").read_bytes())
    (texts / f"{ids[0]}.txt").write_bytes((REPO / "corpus" / f"{ids[0]}.txt").read_text("utf-8").encode("utf-16"))
    before = tree(tmp_path)
    result = run_chipwar("rehydrate", str(bare), "--texts", str(texts), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert f"{ids[0]}.txt: cannot be the text of {ids[0]}: not UTF-8 at byte 0" in result.stderr and "nothing written" in result.stderr
    assert tree(tmp_path) == before


def _card_without_version(base: Path, bare: Path) -> Path:
    shutil.copytree(bare, base / "no-version")
    card = base / "no-version" / "README.md"
    card.write_text("\n".join(line for line in card.read_text("utf-8").splitlines() if not line.startswith("version:")), "utf-8")
    return base / "no-version"


def _not_a_build(base: Path, bare: Path) -> Path:
    shutil.copytree(bare, base / "copied")
    (base / "copied" / ".chipwar-build.json").unlink()
    return base / "copied"


def _empty(base: Path, bare: Path) -> Path:
    (base / "empty").mkdir()
    return base / "empty"


REFUSED_DATASET = {
    "not_a_build": (_not_a_build, "not a chipwar build"),
    "empty_folder": (_empty, "not a chipwar build"),
    "missing_folder": (lambda base, bare: base / "nowhere", "no such folder"),
    "card_without_version": (_card_without_version, "no dataset card README.md with a version"),
    "with_text_build": (lambda base, bare: bare.parent / "full", "already holds the texts"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_DATASET))
def test_rehydrate_refuses_a_dataset_that_is_not_a_no_text_build(case: str, repo_builds: tuple[Path, Path], tmp_path: Path) -> None:
    _, bare = repo_builds
    make, says = REFUSED_DATASET[case]
    dataset = make(tmp_path, bare)
    texts = tmp_path / "texts"
    texts.mkdir()
    before = tree(tmp_path, bare.parent)
    result = run_chipwar("rehydrate", str(dataset), "--texts", str(texts), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr
    assert tree(tmp_path, bare.parent) == before


def test_rehydrate_refuses_to_overwrite_its_own_input(repo_builds: tuple[Path, Path], tmp_path: Path) -> None:
    _, bare = repo_builds
    before = tree(bare)
    result = run_chipwar("rehydrate", str(bare), "--texts", str(REPO / "corpus"), "--out", str(bare))
    assert result.returncode == 2 and "is DATASET itself" in result.stderr
    missing = run_chipwar("rehydrate", str(bare), "--texts", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert missing.returncode == 2 and "--texts" in missing.stderr and "no such folder" in missing.stderr
    assert tree(bare) == before and not (tmp_path / "out").exists()
