"""Parquet shards as ``datasets`` and the Hub name and read them, written for engines that push down.

The documents, in ``doc_id`` order, fall into ranges of ``docs_per_shard``; range *k* of
every config and split is one file, ``data/<config>/<split>-<i>-of-<n>-<hash>.parquet``
(``i`` and ``n`` counted over that split's files, zero-padded to five digits as
``datasets`` writes them; ``hash``: the first 16 hex digits of the file's SHA-256, so a
rebuild with other rows changes the name ``data_files`` lists and the ``datasets`` cache
key with it). A range is cut into row groups of ``ROW_GROUP_DOCS`` documents. Rows are
sorted by ``doc_id``, then by position (declared as the file's sorting columns); statistics
and the page index are written for every flat column but the long texts, so DuckDB, Polars
or pyarrow skip row groups and pages on a ``doc_id`` filter.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: Documents per row group, and per chunk of work (one chunk is one row group in each shard).
ROW_GROUP_DOCS = 500
#: Documents per shard range: on the synthetic corpus (about 4,000 code points a document) the
#: largest shard, ``ner``'s train split, is about 50 MB, a tenth of ``datasets``' 500 MB
#: ``max_shard_size`` (measured for BENCHMARKS.md).
DOCS_PER_SHARD = 20_000
#: The sort of every config's rows, declared in each file (columns that exist in it).
SORT_KEYS = ("doc_id", "start", "end", "sentence_index")
#: Long texts: no min/max statistics (they would copy whole articles into the footer).
NO_STATISTICS = ("text", "sentence")


def file_sha256(path: Path) -> str:
    """A file's SHA-256, read in blocks (a shard is never held whole in memory)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _writer_options(schema: pa.Schema) -> dict:
    flat = [f.name for f in schema if not pa.types.is_nested(f.type) and f.name not in NO_STATISTICS]
    keys = [(k, "ascending") for k in SORT_KEYS if k in schema.names]
    return {"compression": "zstd", "write_statistics": flat, "write_page_index": True, "store_schema": True,
            "sorting_columns": pq.SortingColumn.from_ordering(schema, keys)}


def sort_rows(rows: list[dict]) -> list[dict]:
    """A document's span rows in the declared order, by start then end (a stable sort: ties keep annotation order)."""
    return sorted(rows, key=lambda r: (r["start"], r["end"]))


@dataclass
class Shard:
    """One written shard: its temporary path, row count, row groups and SHA-256."""

    config: str
    split: str
    tmp: Path
    rows: int = 0
    row_groups: int = 0
    sha256: str = ""
    rel: str = ""
    largest_row_group: int = 0  # uncompressed bytes, from the file's own metadata


@dataclass
class ShardWriters:
    """The open shards of one range, a ParquetWriter per (config, split), fed a table per chunk."""

    root: Path
    schemas: dict[str, pa.Schema]
    index: int
    open: dict[tuple[str, str], tuple[pq.ParquetWriter, Shard]] = field(default_factory=dict)

    def add(self, config: str, split: str, table: pa.Table) -> int:
        """Write ``table`` as the next row group of (config, split); return its row-group index."""
        key = (config, split)
        if key not in self.open:
            tmp = self.root / "data" / config / f".{split}-{self.index:05d}.parquet.tmp"
            tmp.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(tmp, self.schemas[config], **_writer_options(self.schemas[config]))
            self.open[key] = (writer, Shard(config, split, tmp))
        writer, shard = self.open[key]
        writer.write_table(table, row_group_size=max(table.num_rows, 1))
        shard.rows += table.num_rows
        shard.row_groups += 1
        return shard.row_groups - 1

    def copy(self, config: str, split: str, source: Path, rows: int, row_groups: int) -> None:
        """Take a whole shard of an earlier build, unchanged (a hard link where it can be)."""
        tmp = self.root / "data" / config / f".{split}-{self.index:05d}.parquet.tmp"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        self.open[(config, split)] = (None, Shard(config, split, tmp, rows, row_groups))  # type: ignore[assignment]

    def close(self) -> list[Shard]:
        """Close every file of the range and hash it."""
        done = []
        for (_config, _split), (writer, shard) in sorted(self.open.items()):
            if writer is not None:
                writer.close()
            shard.sha256 = file_sha256(shard.tmp)
            meta = pq.read_metadata(shard.tmp)
            shard.largest_row_group = max((meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)), default=0)
            done.append(shard)
        self.open.clear()
        return done


def name_shards(root: Path, shards: list[Shard]) -> dict[str, dict[str, list[str]]]:
    """Rename every shard to its final name; return config -> split -> relative paths in order."""
    by_split: dict[tuple[str, str], list[Shard]] = {}
    for shard in shards:
        by_split.setdefault((shard.config, shard.split), []).append(shard)
    files: dict[str, dict[str, list[str]]] = {}
    for (config, split), group in sorted(by_split.items()):
        for i, shard in enumerate(group):
            shard.rel = f"data/{config}/{split}-{i:05d}-of-{len(group):05d}-{shard.sha256[:16]}.parquet"
            shard.tmp.rename(root / shard.rel)
            files.setdefault(config, {}).setdefault(split, []).append(shard.rel)
    return files
