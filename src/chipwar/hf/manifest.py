"""The shard manifest of a build (``chipwar-shards.json``): what each shard was made from, so
the next build reuses the shards whose documents did not change.

For every range of documents (see :mod:`.shards`) it records each chunk's first document,
document count and digest — the SHA-256 over each document's id, metadata, text and
annotation file as parsed (so a change of layout in a JSON file that changes no value changes
nothing) — the row group it became in each shard, and the entity spans the ``ner`` config left
out of it. A build whose :func:`build_key` differs (another chipwar, dataset version, set,
text choice, range size or schema) reuses nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .. import __version__
from ..schema import Schemas
from .configs import Unaligned
from .shards import DOCS_PER_SHARD, Shard, file_sha256

MANIFEST = "chipwar-shards.json"


def build_key(schemas: Schemas, *, version: str, set_name: str, with_text: bool, docs_per_shard: int) -> dict[str, Any]:
    """Everything besides the documents that a shard's bytes depend on."""
    schema = hashlib.sha256(orjson.dumps([schemas.document, schemas.annotations], option=orjson.OPT_SORT_KEYS)).hexdigest()
    return {"chipwar_version": __version__, "dataset_version": version, "annotation_set": set_name, "with_text": with_text,
            "docs_per_shard": docs_per_shard, "schema_sha256": schema}


def chunk_digest(docs: list[tuple[str, Any, str | None, Any]]) -> str:
    """The digest of a chunk's documents: (doc_id, metadata, text, annotation file or None) each, as parsed."""
    h = hashlib.sha256()
    for doc in docs:
        h.update(orjson.dumps(list(doc), option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()


@dataclass
class ChunkEntry:
    """One chunk of a range: its documents' digest, the row group it is in each shard, what ``ner`` left out."""

    first: str
    docs: int
    digest: str
    row_groups: dict[str, int] = field(default_factory=dict)  # "config/split" -> row group index in that shard
    unaligned: list[Unaligned] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"first": self.first, "docs": self.docs, "digest": self.digest, "row_groups": dict(sorted(self.row_groups.items())),
                "unaligned": [[u.doc_id, u.annotation_id, u.text, u.reason] for u in self.unaligned]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkEntry:
        return cls(data["first"], data["docs"], data["digest"], dict(data["row_groups"]), [Unaligned(*u) for u in data["unaligned"]])


@dataclass
class RangeEntry:
    """One range of documents: its chunks and its shards (``config/split`` -> file, rows, row groups, SHA-256)."""

    chunks: list[ChunkEntry] = field(default_factory=list)
    shards: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: list[Shard] = field(default_factory=list)  # this build's shards of the range, before :meth:`record`

    def record(self, shards: list[Shard]) -> None:
        self.shards = {f"{s.config}/{s.split}": {"file": s.rel, "rows": s.rows, "row_groups": s.row_groups, "sha256": s.sha256}
                       for s in shards}

    def to_json(self) -> dict[str, Any]:
        return {"chunks": [c.to_json() for c in self.chunks], "shards": dict(sorted(self.shards.items()))}


@dataclass
class Manifest:
    key: dict[str, Any]
    ranges: list[RangeEntry] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return orjson.dumps({"key": self.key, "ranges": [r.to_json() for r in self.ranges]}, option=orjson.OPT_INDENT_2) + b"\n"

    def chunk_digests(self) -> dict[str, str]:
        """First document of each chunk -> its digest (what a worker compares its chunk with)."""
        return {c.first: c.digest for r in self.ranges for c in r.chunks}


def shard_size(folder: Path) -> int:
    """The documents per shard of the earlier build in ``folder`` (the default when it has no
    readable manifest): a rehydration shards its texts as the annotations-only build did."""
    try:
        return int(orjson.loads((folder / MANIFEST).read_bytes())["key"]["docs_per_shard"])
    except (OSError, ValueError, KeyError, TypeError):
        return DOCS_PER_SHARD


def read_manifest(folder: Path, key: dict[str, Any]) -> Manifest | None:
    """The manifest of the earlier build in ``folder`` when it was made with the same ``key`` and
    every shard it names is still there with its recorded SHA-256; else ``None`` (reuse nothing)."""
    try:
        data = orjson.loads((folder / MANIFEST).read_bytes())
        if data["key"] != key:
            return None
        ranges = [RangeEntry([ChunkEntry.from_json(c) for c in r["chunks"]], r["shards"]) for r in data["ranges"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for entry in ranges:
        for shard in entry.shards.values():
            path = folder / shard["file"]
            if not path.is_file() or path.is_symlink() or file_sha256(path) != shard["sha256"]:
                return None
    return Manifest(key, ranges)
