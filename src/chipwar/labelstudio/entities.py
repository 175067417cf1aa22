"""The repository's canonical entities: the list an annotator picks a mention's entity from, and the ids an import accepts.

Every task carries the whole list (:data:`.config.CANONICAL_OPTIONS`), so a mention can name an
entity first recorded in another document; a new entity is typed on purpose in its own field,
never made by a typo (:mod:`.spans`).
"""

from __future__ import annotations

from typing import Any

from ..corpus import Corpus
from ..files import loads_json


def canonical_registry(corpus: Corpus) -> dict[str, dict]:
    """Every canonical-entity record of the repository's annotation files by id, the first found kept."""
    registry: dict[str, dict] = {}
    for set_name in corpus.set_names():
        for doc_id in corpus.doc_ids():
            path = corpus.annotation_path(set_name, doc_id)
            try:
                data = loads_json(path.read_bytes()) if path.is_file() else None
            except (OSError, ValueError):
                continue
            records = data.get("canonical_entities") if isinstance(data, dict) else None
            for record in records if isinstance(records, list) else ():
                if isinstance(record, dict) and isinstance(record.get("id"), str):
                    registry.setdefault(record["id"], record)
    return registry


def canonical_options(registry: dict[str, dict]) -> list[dict[str, Any]]:
    """The pick list of a task: one option per canonical entity, ordered by what it shows (its name, label and id); its
    ``alias``, the id, is what Label Studio stores and gives back."""
    def shown(record: dict) -> str:
        name, label = record.get("name"), record.get("label")
        return " · ".join([*(p for p in (name, label) if isinstance(p, str)), record["id"]])
    return sorted(({"value": shown(r), "alias": r["id"]} for r in registry.values()), key=lambda o: (o["value"].casefold(), o["alias"]))
