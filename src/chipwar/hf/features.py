"""Hugging Face ``Features`` derived from ``schema/``, and the converters that go with them.

The schema is walked, not restated: objects become structs (in schema property order),
arrays become ``List``, label sets become ``ClassLabel`` with the schema's names in schema
order, integers ``int32``, strings ``string``. A free-form string map (``notes``) becomes a
list of ``{key, value}`` structs. Each feature comes with an encoder (JSON value -> Arrow
row value: label names to ids) and a decoder (the way back), so an export converts back to
exactly the source JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from datasets import ClassLabel, Features, List, Value

from ..schema import Schemas

Codec = Callable[[Any], Any]


@dataclass(frozen=True)
class Field:
    """A feature with its encoder and decoder (``None`` = the value passes unchanged)."""

    feature: Any
    encode: Codec | None
    decode: Codec | None


def _identity(value: Any) -> Any:
    return value


class SchemaWalker:
    """Turns schema nodes into :class:`Field` values, resolving ``$ref`` across both schemas."""

    def __init__(self, schemas: Schemas) -> None:
        self.schemas = schemas
        self.docs = {schemas.document["$id"]: schemas.document, schemas.annotations["$id"]: schemas.annotations}

    def _resolve(self, ref: str, base: dict) -> tuple[dict, dict, str | None]:
        doc_uri, _, frag = ref.partition("#")
        doc = self.docs[doc_uri] if doc_uri else base
        node: Any = doc
        for part in frag.strip("/").split("/"):
            node = node[part]
        name = frag.rsplit("/", 1)[-1] if frag.startswith("/$defs/") else None
        return node, doc, name

    def field(self, node: dict, base: dict) -> Field:
        if "$ref" in node:
            target, doc, name = self._resolve(node["$ref"], base)
            if name and self.schemas.is_label_set(name):
                return _class_label([o["const"] for o in target["oneOf"]])
            return self.field(target, doc)
        if "oneOf" in node:
            options = [o for o in node["oneOf"] if o.get("type") != "null"]
            if all("const" in o for o in options):
                return _class_label([o["const"] for o in options])
            (only,) = options
            return self.field(only, base)
        if "const" in node:
            return Field(Value("string"), None, None)
        kind = node.get("type")
        if isinstance(kind, list):
            (kind,) = [k for k in kind if k != "null"]
        if kind == "object" and "properties" in node:
            return self.struct(node["properties"], base)
        if kind == "object":
            return _key_value_map()
        if kind == "array":
            return _list(self.field(node["items"], base))
        return Field(Value({"integer": "int32", "boolean": "bool", "string": "string", "number": "float64"}[kind]), None, None)

    def struct(self, properties: dict, base: dict, skip: tuple[str, ...] = ()) -> Field:
        fields = {k: self.field(v, base) for k, v in properties.items() if k not in skip}
        return struct_of(fields)


def _class_label(names: list[str]) -> Field:
    index = {n: i for i, n in enumerate(names)}
    return Field(ClassLabel(names=names), lambda v: None if v is None else index[v], lambda v: None if v is None else names[v])


def _list(inner: Field) -> Field:
    enc = (lambda xs: None if xs is None else [inner.encode(x) for x in xs]) if inner.encode else None
    dec = (lambda xs: None if xs is None else [inner.decode(x) for x in xs]) if inner.decode else None
    return Field(List(inner.feature), enc, dec)


def _key_value_map() -> Field:
    return Field(
        List({"key": Value("string"), "value": Value("string")}),
        lambda d: None if d is None else [{"key": k, "value": v} for k, v in d.items()],
        lambda xs: None if xs is None else {x["key"]: x["value"] for x in xs},
    )


def struct_of(fields: dict[str, Field]) -> Field:
    encoders = [(k, f.encode) for k, f in fields.items() if f.encode]
    decoders = [(k, f.decode or _identity) for k, f in fields.items()]

    def encode(d: Any) -> Any:
        if d is None or not encoders:
            return d
        out = dict(d)
        for k, enc in encoders:
            if k in out:
                out[k] = enc(out[k])
        return out

    def decode(d: Any) -> Any:
        return None if d is None else {k: dec(d[k]) for k, dec in decoders}

    return Field({k: f.feature for k, f in fields.items()}, encode if encoders else None, decode)


def features_of(field: Field) -> Features:
    """The top-level ``Features`` of a struct field."""
    return Features(field.feature)
