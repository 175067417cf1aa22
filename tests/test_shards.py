"""The sharded build read the way engines read it: ``datasets`` (shard names, streaming shards),
DuckDB and Polars straight from the folder (label names, pushdown of a ``doc_id`` filter), the
Parquet metadata that makes the pushdown possible, and the incremental rebuild that reuses
unchanged shards yet stays byte-identical to a full build.

A synthetic corpus of 60 documents, 20 per shard and 5 per row group (``ROW_GROUP_DOCS``
patched for the module), so every split has several shards and every shard several row groups.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import load_dataset
from datasets.data_files import SPLIT_PATTERN_SHARDED, get_data_patterns
from datasets.distributed import split_dataset_by_node

from chipwar.corpus import Corpus
from chipwar.files import dumps_json
from chipwar.hf import build as build_module
from chipwar.hf import shards as shards_module
from chipwar.hf.build import build_dataset
from chipwar.hf.configs import CONFIGS, SPAN_CONFIGS, BuildResult
from chipwar.hf.manifest import MANIFEST
from chipwar.hf.shards import NO_STATISTICS, SORT_KEYS, file_sha256
from chipwar.layers import LAYER_LABEL_SET
from chipwar.schema import load_schemas
from chipwar.synthetic import write_synthetic_corpus

from .conftest import files_of, flat, run_chipwar

VERSION = "0.0.0"  # what write_synthetic_corpus writes into VERSION, so the CLI builds the same version
DOCS_PER_SHARD = 20
ROW_GROUP_DOCS = 5
N_DOCS = 60
#: The document kept out of the base corpus and added back by the "new document" test: an early id,
#: so adding it shifts every later range and chunk boundary by one.
SPARE = "syn-000005"
SHARD_NAME = re.compile(r"^(?P<split>train|validation|test)-(?P<i>[0-9]{5})-of-(?P<n>[0-9]{5})-(?P<hash>[0-9a-f]{16})\.parquet$")
SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module", autouse=True)
def small_row_groups() -> Iterator[None]:
    """Row groups of 5 documents for the whole module. ``build`` binds the constant at import
    (``from .shards import ROW_GROUP_DOCS``), so both modules' names are patched."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(shards_module, "ROW_GROUP_DOCS", ROW_GROUP_DOCS)
        mp.setattr(build_module, "ROW_GROUP_DOCS", ROW_GROUP_DOCS)
        yield


def _corpus_files(root: Path, doc_id: str) -> list[Path]:
    return [root / "corpus" / f"{doc_id}.txt", root / "corpus" / f"{doc_id}.json", root / "annotations" / "gold" / f"{doc_id}.json"]


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """61 synthetic documents, 25 spans each (61 x 25 spans: the first 60 are those of a 60-document corpus)."""
    root = tmp_path_factory.mktemp("pool") / "corpus"
    write_synthetic_corpus(root, N_DOCS + 1, 25 * (N_DOCS + 1), seed=11)
    return root


@pytest.fixture(scope="module")
def base(pool: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pool without ``SPARE``: 60 documents, 1,500 spans."""
    root = tmp_path_factory.mktemp("base") / "corpus"
    shutil.copytree(pool, root)
    for path in _corpus_files(root, SPARE):
        path.unlink()
    assert len(Corpus(root).doc_ids()) == N_DOCS
    return root


def build(root: Path, out: Path, *, reuse: bool = True) -> BuildResult:
    return build_dataset(Corpus(root), out, version=VERSION, docs_per_shard=DOCS_PER_SHARD, reuse=reuse)


@pytest.fixture(scope="module")
def built(base: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    out = tmp_path_factory.mktemp("built") / "chipwar"
    result = build(base, out)
    assert result.chunks == N_DOCS // ROW_GROUP_DOCS and result.reused == 0
    assert result.docs_per_shard == DOCS_PER_SHARD and result.row_group_docs == ROW_GROUP_DOCS
    return out, result


def shard_files(out: Path) -> dict[str, dict[str, list[str]]]:
    """config -> split -> shard file names on disk, in name order."""
    files: dict[str, dict[str, list[str]]] = {}
    for path in sorted((out / "data").glob("*/*.parquet")):
        match = SHARD_NAME.match(path.name)
        assert match, f"{path.name}: not <split>-<i>-of-<n>-<hash16>.parquet"
        files.setdefault(path.parent.name, {}).setdefault(match["split"], []).append(path.name)
    return files


def data_names(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in (out / "data").rglob("*.parquet")}


def source_spans(root: Path, layer: str) -> dict[str, list[dict]]:
    """doc_id -> the layer's spans, read straight from the annotation JSON files."""
    return {p.stem: json.loads(p.read_text("utf-8"))[layer] for p in sorted((root / "annotations" / "gold").glob("*.json"))}


def label_counts(root: Path, layer: str) -> Counter[str]:
    return Counter(span["label"] for spans in source_spans(root, layer).values() for span in spans)


def label_names(root: Path, layer: str) -> list[str]:
    return load_schemas(root / "schema").label_names(LAYER_LABEL_SET[layer])


def a_middle_document(out: Path) -> str:
    """A train document in the middle of the second shard's row groups (never the first or last row group)."""
    pf = pq.ParquetFile(out / "data" / "entities" / shard_files(out)["entities"]["train"][1])
    assert pf.metadata.num_row_groups >= 3
    return pf.read_row_group(pf.metadata.num_row_groups // 2, columns=["doc_id"]).column("doc_id")[0].as_py()


# 1. names ---------------------------------------------------------------------------------------------------------


def test_shard_names_follow_the_datasets_pattern_and_the_card_lists_them(built: tuple[Path, BuildResult], base: Path,
                                                                          tmp_path: Path) -> None:
    out, result = built
    files = shard_files(out)
    assert set(files) == set(CONFIGS)
    for config, splits in files.items():
        assert set(splits) <= set(SPLITS) and "train" in splits, config
        for split, names in splits.items():
            matches = [SHARD_NAME.match(name) for name in names]
            n = {int(m["n"]) for m in matches}
            assert n == {len(names)}, f"{config}/{split}: -of-<n> disagrees with the {len(names)} files"
            assert [int(m["i"]) for m in matches] == list(range(len(names)))
            for name, m in zip(names, matches, strict=True):
                assert m["hash"] == file_sha256(out / "data" / config / name)[:16]
                assert f"data/{config}/{name}" in result.shards
        assert len(splits["train"]) == N_DOCS // DOCS_PER_SHARD  # train has documents in every range
    # datasets' own inference recognises the names as its sharded split pattern
    probe = tmp_path / "probe"
    (probe / "data").mkdir(parents=True)
    for names in files["entities"].values():
        for name in names:
            os.link(out / "data" / "entities" / name, probe / "data" / name)
    patterns = get_data_patterns(str(probe))
    assert {str(k): v for k, v in patterns.items()} == {s: [SPLIT_PATTERN_SHARDED.format(split=s)] for s in files["entities"]}

    # the card's YAML lists exactly the files, in shard order
    card = (out / "README.md").read_text("utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    listed = {c["config_name"]: {d["split"]: [d["path"]] if isinstance(d["path"], str) else d["path"] for d in c["data_files"]}
              for c in front["configs"]}
    assert listed == {config: {split: [f"data/{config}/{name}" for name in names] for split, names in splits.items()}
                      for config, splits in files.items()}
    assert set(result.shards) == data_names(out)

    ds = load_dataset(str(out), "entities", cache_dir=str(tmp_path / "cache"))
    on_disk = {split: sum(pq.read_metadata(out / "data" / "entities" / n).num_rows for n in names)
               for split, names in files["entities"].items()}
    assert {split: len(ds[split]) for split in ds} == on_disk == result.rows["entities"]
    assert sum(on_disk.values()) == sum(len(spans) for spans in source_spans(base, "entities").values())


# 2. DuckDB --------------------------------------------------------------------------------------------------------


def test_duckdb_reads_the_folder_and_skips_row_groups(built: tuple[Path, BuildResult], base: Path) -> None:
    out, _ = built
    con = duckdb.connect()
    for layer in SPAN_CONFIGS:
        glob = f"{out}/data/{layer}/*.parquet"
        counts = dict(con.execute(f"SELECT label_name, count(*) FROM '{glob}' GROUP BY label_name").fetchall())
        assert counts == label_counts(base, layer), layer
        assert set(counts) <= set(label_names(base, layer))
        # the number and its twin agree, on every row
        pairs = con.execute(f"SELECT DISTINCT label, label_name FROM '{glob}'").fetchall()
        names = label_names(base, layer)
        assert all(names[label] == name for label, name in pairs) and pairs

    glob = f"{out}/data/entities/*.parquet"
    doc_id = a_middle_document(out)
    rows = con.execute(f"SELECT doc_id, id, start, \"end\", label_name, note FROM '{glob}' WHERE doc_id = ? "
                       "ORDER BY start, \"end\"", [doc_id]).fetchall()
    want = sorted(source_spans(base, "entities")[doc_id], key=lambda s: (s["start"], s["end"]))
    assert rows == [(doc_id, s["id"], s["start"], s["end"], s["label"], s["note"]) for s in want] and rows

    total_groups = sum(pq.read_metadata(out / "data" / "entities" / n).num_row_groups
                       for names in shard_files(out)["entities"].values() for n in names)
    plan = "\n".join(str(cell) for row in con.execute(f"EXPLAIN ANALYZE SELECT * FROM '{glob}' WHERE doc_id = '{doc_id}'").fetchall()
                     for cell in row)
    scanned = re.search(r"Row Groups Scanned:\s*(\d+)\s*/\s*(\d+)", plan)
    if scanned:
        assert (int(scanned[1]), int(scanned[2])) == (1, total_groups), plan
    else:  # this DuckDB does not print it: the statistics must leave exactly one row group that may hold the document
        could_hold = 0
        for names in shard_files(out)["entities"].values():
            for name in names:
                meta = pq.read_metadata(out / "data" / "entities" / name)
                for g in range(meta.num_row_groups):
                    stats = meta.row_group(g).column(0).statistics
                    could_hold += stats.min <= doc_id <= stats.max
        assert could_hold == 1 < total_groups


# 3. Polars --------------------------------------------------------------------------------------------------------


def test_polars_scans_the_folder(built: tuple[Path, BuildResult], base: Path) -> None:
    out, _ = built
    for layer in SPAN_CONFIGS:
        lf = pl.scan_parquet(str(out / "data" / layer / "*.parquet"))
        counts = lf.group_by("label_name").len().collect()
        assert dict(zip(counts["label_name"].to_list(), counts["len"].to_list(), strict=True)) == label_counts(base, layer)
        assert set(counts["label_name"].to_list()) <= set(label_names(base, layer))
    doc_id = a_middle_document(out)
    lf = pl.scan_parquet(str(out / "data" / "claims" / "*.parquet"))
    got = lf.filter(pl.col("doc_id") == doc_id).select("id", "start", "end", "label_name", "check_worthiness_name").collect()
    want = sorted(source_spans(base, "claims")[doc_id], key=lambda s: (s["start"], s["end"]))
    assert got.rows() == [(s["id"], s["start"], s["end"], s["label"], s["check_worthiness"]) for s in want] and want
    # ner: the tag names twin the ClassLabel ids
    ner = pl.scan_parquet(str(out / "data" / "ner" / "*.parquet")).filter(pl.col("doc_id") == doc_id).collect()
    assert ner["sentence_index"].to_list() == list(range(ner.height)) and ner.height > 0
    tags = ["O"] + [f"{p}-{n}" for n in label_names(base, "entities") for p in ("B", "I")]
    for ids, names in zip(ner["ner_tags"].to_list(), ner["ner_tag_names"].to_list(), strict=True):
        assert [tags[i] for i in ids] == names
    entity_tags = Counter(n[2:] for names in ner["ner_tag_names"].to_list() for n in names if n.startswith("B-"))
    assert sum(entity_tags.values()) > 0


# 4. Parquet metadata ----------------------------------------------------------------------------------------------


def test_every_shard_declares_its_sort_and_has_statistics_and_page_index(built: tuple[Path, BuildResult]) -> None:
    out, _ = built
    seen_docs: dict[str, dict[str, str]] = {}  # config -> doc_id -> the shard and row group holding it
    for config, splits in shard_files(out).items():
        for names in splits.values():
            for name in names:
                path = out / "data" / config / name
                pf = pq.ParquetFile(path)
                schema, meta = pf.schema_arrow, pf.metadata
                keys = [k for k in SORT_KEYS if k in schema.names]
                assert keys[0] == "doc_id"
                columns = {meta.schema.column(i).path: i for i in range(meta.num_columns)}
                flat_columns = [f.name for f in schema if not pa.types.is_nested(f.type)]
                table = pf.read()
                rows = list(zip(*(table.column(k).to_pylist() for k in keys), strict=True))
                assert rows == sorted(rows), f"{config}/{name}: rows not sorted by {keys}"
                for g in range(meta.num_row_groups):
                    group = meta.row_group(g)
                    declared = [(meta.schema.column(c.column_index).path, c.descending) for c in group.sorting_columns]
                    assert declared == [(k, False) for k in keys], f"{config}/{name}"
                    for column in flat_columns:
                        chunk = group.column(columns[column])
                        assert chunk.has_offset_index, f"{config}/{name} {column}"
                        if column in NO_STATISTICS:
                            assert not chunk.is_stats_set and not chunk.has_column_index, f"{config}/{name} {column}"
                        else:
                            assert chunk.is_stats_set, f"{config}/{name} {column}"
                            stats = chunk.statistics  # min/max whenever the chunk holds a value (an all-null one has none)
                            assert stats.has_min_max == (stats.null_count < group.num_rows), f"{config}/{name} {column}"
                            assert chunk.has_column_index, f"{config}/{name} {column}"
                    doc_ids = pf.read_row_group(g, columns=["doc_id"]).column("doc_id").to_pylist()
                    stats = group.column(columns["doc_id"]).statistics
                    assert (stats.min, stats.max) == (min(doc_ids), max(doc_ids))
                    assert len(set(doc_ids)) <= ROW_GROUP_DOCS
                    for doc_id in set(doc_ids):  # a document lies in one row group of one shard per config
                        assert seen_docs.setdefault(config, {}).setdefault(doc_id, f"{name}#{g}") == f"{name}#{g}"
                if "text" in schema.names:
                    assert not any(meta.row_group(g).column(columns["text"]).is_stats_set for g in range(meta.num_row_groups))
                # a shard's documents are one range of at most DOCS_PER_SHARD documents
                assert len(set(table.column("doc_id").to_pylist())) <= DOCS_PER_SHARD
    assert len(seen_docs["documents"]) == N_DOCS
    assert all(set(docs) <= set(seen_docs["documents"]) for docs in seen_docs.values())


# 5. streaming shards ----------------------------------------------------------------------------------------------


def test_streaming_has_one_shard_per_file_and_splits_by_shard(built: tuple[Path, BuildResult]) -> None:
    out, result = built
    n = len(shard_files(out)["entities"]["train"])
    ds = load_dataset(str(out), "entities", split="train", streaming=True)
    assert ds.num_shards == n > 1
    every = [row["id"] for row in ds]
    assert len(every) == len(set(every)) == result.rows["entities"]["train"]
    parts = [[row["id"] for row in ds.shard(num_shards=n, index=i)] for i in range(n)]
    assert all(parts) and sum(len(p) for p in parts) == len(every)
    assert set().union(*map(set, parts)) == set(every)
    for i in range(n):
        for j in range(i + 1, n):
            assert not set(parts[i]) & set(parts[j])
    by_node = [split_dataset_by_node(ds, rank=r, world_size=n) for r in range(n)]
    assert [node.num_shards for node in by_node] == [1] * n  # n shards over n nodes: whole shards, no skipping of rows
    nodes = [[row["id"] for row in node] for node in by_node]
    assert sorted(map(sorted, nodes)) == sorted(map(sorted, parts))  # by shard: the same row sets
    assert sorted(every) == sorted(i for node in nodes for i in node)


# 6. determinism ---------------------------------------------------------------------------------------------------


def test_two_full_builds_are_byte_identical(built: tuple[Path, BuildResult], base: Path, tmp_path: Path) -> None:
    out, _ = built
    again = tmp_path / "again" / "chipwar"
    result = build(base, again, reuse=False)
    assert result.reused == 0
    assert files_of(again) == files_of(out)


# 7. incremental ---------------------------------------------------------------------------------------------------


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _edit_note(root: Path, doc_id: str) -> str:
    """Give the first entity of ``doc_id`` a new note (touches the documents and entities configs only)."""
    path = root / "annotations" / "gold" / f"{doc_id}.json"
    data = json.loads(path.read_text("utf-8"))
    data["entities"][0]["note"] = "Checked again against the wire copy."
    path.write_bytes(dumps_json(data))
    return data["entities"][0]["id"]


def test_rebuild_after_an_edit_rewrites_one_shard_per_affected_config(built: tuple[Path, BuildResult], base: Path,
                                                                      tmp_path: Path) -> None:
    out0, _ = built
    corpus, out = _copy(base, tmp_path / "corpus"), _copy(out0, tmp_path / "out" / "chipwar")
    doc_id = a_middle_document(out)
    split = json.loads((corpus / "corpus" / f"{doc_id}.json").read_text("utf-8"))["split"]
    before = data_names(out)
    span_id = _edit_note(corpus, doc_id)

    result = build(corpus, out)
    assert result.chunks == N_DOCS // ROW_GROUP_DOCS and result.reused == result.chunks - 1
    after = data_names(out)
    gone, new = sorted(before - after), sorted(after - before)
    assert [p.split("/")[1] for p in gone] == [p.split("/")[1] for p in new] == ["documents", "entities"]
    prefix = {p.split("/")[1]: p.rsplit("-", 1)[0] for p in gone}
    assert prefix == {p.split("/")[1]: p.rsplit("-", 1)[0] for p in new}  # same <split>-<i>-of-<n>, new hash
    assert all(p.split("/")[2].startswith(split + "-00001-") for p in new)  # the second range: the middle document's

    full = tmp_path / "full" / "chipwar"
    assert build(corpus, full, reuse=False).reused == 0
    assert files_of(out) == files_of(full)
    note = duckdb.sql(f"SELECT note FROM '{out}/data/entities/*.parquet' WHERE id = '{span_id}'").fetchall()
    assert note == [("Checked again against the wire copy.",)]


def test_unchanged_rebuild_reuses_everything_and_full_reuses_nothing(built: tuple[Path, BuildResult], base: Path,
                                                                     tmp_path: Path) -> None:
    out0, _ = built
    out = _copy(out0, tmp_path / "out" / "chipwar")
    result = build(base, out)
    assert result.reused == result.chunks == N_DOCS // ROW_GROUP_DOCS
    assert files_of(out) == files_of(out0)
    ran = run_chipwar("build", "--out", str(out), "--corpus", str(base), "--docs-per-shard", str(DOCS_PER_SHARD), "--full",
                      "--format", "json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    envelope = flat(ran.stdout)
    assert envelope["ok"] is True and envelope["replaced"] is True
    assert (envelope["chunks"], envelope["reused"]) == (N_DOCS // ROW_GROUP_DOCS, 0)  # --full: every chunk built again
    assert envelope["docs_per_shard"] == DOCS_PER_SHARD and envelope["row_group_docs"] == ROW_GROUP_DOCS
    assert files_of(out) == files_of(out0)


def test_a_tampered_manifest_digest_rebuilds_that_chunk(built: tuple[Path, BuildResult], base: Path, tmp_path: Path) -> None:
    out0, _ = built
    out = _copy(out0, tmp_path / "out" / "chipwar")
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    chunk = manifest["ranges"][1]["chunks"][1]
    chunk["digest"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    result = build(base, out)
    assert result.reused == result.chunks - 1  # the chunk whose digest no longer matches is built again, nothing else
    assert files_of(out) == files_of(out0)


def test_a_tampered_shard_reuses_nothing(built: tuple[Path, BuildResult], base: Path, tmp_path: Path) -> None:
    out0, _ = built
    out = _copy(out0, tmp_path / "out" / "chipwar")
    victim = out / "data" / "claims" / shard_files(out)["claims"]["train"][2]
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    result = build(base, out)
    assert result.reused == 0 and result.chunks == N_DOCS // ROW_GROUP_DOCS
    assert files_of(out) == files_of(out0)


# 8. a new document ------------------------------------------------------------------------------------------------


def test_a_new_document_shifts_the_ranges_and_still_equals_a_full_build(built: tuple[Path, BuildResult], base: Path,
                                                                        pool: Path, tmp_path: Path) -> None:
    out0, _ = built
    corpus, out = _copy(base, tmp_path / "corpus"), _copy(out0, tmp_path / "out" / "chipwar")
    for src, dst in zip(_corpus_files(pool, SPARE), _corpus_files(corpus, SPARE), strict=True):
        shutil.copyfile(src, dst)
    result = build(corpus, out)
    # 61 documents: four ranges, 13 chunks; only the first chunk (syn-000000..4) starts where it did and is unchanged
    assert result.chunks == 13 and result.reused == 1
    assert len(Corpus(corpus).doc_ids()) == N_DOCS + 1
    full = tmp_path / "full" / "chipwar"
    build(corpus, full, reuse=False)
    assert files_of(out) == files_of(full)
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM '{out}/data/documents/*.parquet'").fetchone() == (N_DOCS + 1,)
    got = con.execute(f"SELECT id FROM '{out}/data/entities/*.parquet' WHERE doc_id = ? ORDER BY start, \"end\"", [SPARE]).fetchall()
    want = sorted(source_spans(corpus, "entities")[SPARE], key=lambda s: (s["start"], s["end"]))
    assert got == [(s["id"],) for s in want] and got
