"""The JSON Schemas in ``schema/`` and the label sets they define.

``schema/`` is the single source of every label set: each label is a ``oneOf`` entry with
``const`` (the label) and ``description`` (its one-line definition), plus optional ``x-``
keys (e.g. SemEval mappings). Everything that lists labels reads them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs

from .errors import DataError
from .files import read_json

DOCUMENT_SCHEMA = "document.schema.json"
ANNOTATIONS_SCHEMA = "annotations.schema.json"


class SchemaError(DataError):
    """The schema files themselves are missing or broken: nothing can be checked."""


@dataclass(frozen=True)
class Label:
    """One label of a closed set, with its definition and mapping columns (``x-`` keys)."""

    name: str
    definition: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Schemas:
    """Both schemas of a corpus, compiled once."""

    document: dict[str, Any]
    annotations: dict[str, Any]

    @cached_property
    def _registry(self) -> jsonschema_rs.Registry:
        return jsonschema_rs.Registry([(self.document["$id"], self.document), (self.annotations["$id"], self.annotations)])

    @cached_property
    def document_validator(self) -> Any:
        return jsonschema_rs.validator_for(self.document, registry=self._registry, validate_formats=True)

    @cached_property
    def annotations_validator(self) -> Any:
        return jsonschema_rs.validator_for(self.annotations, registry=self._registry, validate_formats=True)

    @property
    def version(self) -> str:
        return self.annotations["x-schema-version"]

    def label_set(self, def_name: str) -> list[Label]:
        """The labels of ``$defs/<def_name>`` in either schema, in schema order."""
        for schema in (self.annotations, self.document):
            node = schema.get("$defs", {}).get(def_name)
            if node is not None:
                return [
                    Label(o["const"], o.get("description", ""), {k: v for k, v in o.items() if k.startswith("x-")})
                    for o in node["oneOf"]
                ]
        raise KeyError(f"no label set {def_name!r} in schema/")

    def label_names(self, def_name: str) -> list[str]:
        return [label.name for label in self.label_set(def_name)]

    def is_label_set(self, def_name: str) -> bool:
        for schema in (self.annotations, self.document):
            node = schema.get("$defs", {}).get(def_name)
            if node is not None:
                return isinstance(node.get("oneOf"), list) and all("const" in o for o in node["oneOf"])
        return False


def load_schemas(schema_dir: Path) -> Schemas:
    """Load and compile ``schema/``; raise :class:`SchemaError` naming the file when broken."""
    loaded = []
    for name in (DOCUMENT_SCHEMA, ANNOTATIONS_SCHEMA):
        path = schema_dir / name
        try:
            loaded.append(read_json(path))
        except FileNotFoundError:
            raise SchemaError(f"{path}: schema file missing; restore it from git (git checkout -- {path})") from None
        except ValueError as exc:
            raise SchemaError(f"{path}: not valid JSON: {exc}") from None
    schemas = Schemas(*loaded)
    try:
        schemas.document_validator, schemas.annotations_validator  # noqa: B018 - compile now to fail early
    except (jsonschema_rs.ValidationError, ValueError, jsonschema_rs.ReferencingError) as exc:
        raise SchemaError(f"{schema_dir}: schema does not compile: {exc}") from None
    return schemas
