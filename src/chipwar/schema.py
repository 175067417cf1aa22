"""The JSON Schemas in ``schema/`` and the label sets they define.

``schema/`` is the single source of every label set: each label is a ``oneOf`` entry with
``const`` (the label) and ``description`` (its one-line definition), plus optional ``x-``
keys (e.g. SemEval mappings). Everything that lists labels reads them from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs

from .corpus import refusal
from .errors import DataError
from .files import read_json
from .report import cut, short

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

    def __getstate__(self) -> dict[str, Any]:
        """Only the JSON travels to a cluster's workers; the validators are compiled again there."""
        return {"document": self.document, "annotations": self.annotations}

    @property
    def version(self) -> str:
        return self.annotations["x-schema-version"]

    def label_set(self, def_name: str) -> list[Label]:
        """The labels of ``$defs/<def_name>`` in either schema, in schema order (a ``KeyError`` when it is not a label set)."""
        node = self._def(def_name)
        if not _is_label_set(node):
            raise KeyError(f"no label set {def_name!r} in schema/")
        return [Label(o["const"], o.get("description", "") if isinstance(o.get("description"), str) else "",
                      {k: v for k, v in o.items() if k.startswith("x-")}) for o in node["oneOf"]]

    def label_names(self, def_name: str) -> list[str]:
        return [label.name for label in self.label_set(def_name)]

    def is_label_set(self, def_name: str) -> bool:
        return _is_label_set(self._def(def_name))

    def _def(self, def_name: str) -> Any:
        """``$defs/<def_name>`` of the annotations schema, else of the document schema, else ``None``."""
        for schema in (self.annotations, self.document):
            defs = schema.get("$defs")
            if isinstance(defs, dict) and def_name in defs:
                return defs[def_name]
        return None


def _is_label_set(node: Any) -> bool:
    """A ``oneOf`` of objects each with a string ``const``: the shape every label set has."""
    return (isinstance(node, dict) and isinstance(node.get("oneOf"), list)
            and all(isinstance(o, dict) and isinstance(o.get("const"), str) for o in node["oneOf"]))


def load_schemas(schema_dir: Path) -> Schemas:
    """Load and compile ``schema/``; raise :class:`SchemaError` naming the file when broken.

    A schema file must be a regular file (a symlink only when it stays in the checkout that
    holds ``schema/``), a JSON object with a string ``$id``, and compile.
    """
    loaded = []
    root = schema_dir.resolve().parent
    for name in (DOCUMENT_SCHEMA, ANNOTATIONS_SCHEMA):
        path = schema_dir / name
        restore = f"restore it from git (git checkout -- {path})"
        if not os.path.lexists(path):
            raise SchemaError(f"{path}: schema file missing; {restore}")
        why = refusal(root, path)
        if why is not None:
            raise SchemaError(f"{path}: schema file not read: {why}", hint=restore)
        try:
            schema = read_json(path)
        except OSError as exc:
            raise SchemaError(f"{path}: schema file cannot be read ({exc.strerror})", hint=restore) from None
        except ValueError as exc:
            raise SchemaError(f"{path}: not valid JSON: {exc}", hint=restore) from None
        if not isinstance(schema, dict) or not isinstance(schema.get("$id"), str):
            raise SchemaError(f"{path}: not a JSON Schema: expected an object with a string \"$id\", found {short(schema)}", hint=restore)
        loaded.append(schema)
    schemas = Schemas(*loaded)
    try:
        schemas.document_validator, schemas.annotations_validator  # noqa: B018 - compile now to fail early
    except (jsonschema_rs.ValidationError, ValueError, TypeError, jsonschema_rs.ReferencingError) as exc:
        raise SchemaError(f"{schema_dir}: schema does not compile: {cut(str(exc), 500)}",
                          hint=f"restore schema/ from git (git checkout -- {schema_dir})") from None
    return schemas
