"""What is compared on matched spans: each layer's label, closed-set attributes and references, as values.

Every field gives one hashable value per span, compared for equality:

- ``label`` and each closed-set or boolean attribute (``org_type``, ``certainty``, ``in_quote``…):
  the value itself; ``null`` (not applicable, e.g. ``org_type`` of a non-ORG) is "no value".
- ``attribution_chain.kinds``: the sequence of the chain's link kinds (schema 2.0.0 SourceKind).
- canonical-id references (``canonical_id``, ``claimant_id``, ``quote_speaker_id``): the id
  *string*. Each set names its own canonical entities, so two sets that give one real entity
  different slugs disagree here; the annotation rules make ids slugs of the entity's name,
  so equal strings are the honest, checkable notion of "the same entity".
- ``target_ids``: the set of ids (order ignored; equal sets agree, any difference disagrees).
- ``attribution_chain``: the whole chain as the sequence of (kind, entity_id), original source
  first; ``attribution_chain.original_source``: its first link alone.
- ``restates``: the set of *units* the restated claims fall in (each id mapped to its matched
  unit first), so two sets agree when they link claims that were matched to each other.

A pair (or unit) where no set gives a value (null, empty chain, empty list) is left out of
that field: the field does not apply there. Attribution cues are spans, not values: on each
pair of claims paired by overlap, the cues of both chains are paired again, by exact offsets
and by overlap, whichever link they belong to, and scored by F1 (overlap is no equality, so
cues get no kappa or alpha).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, Literal

from ..layers import CHAIN_FIELD, LAYER_ATTRIBUTES, LAYER_BOOL_FIELDS, REFERENCE_FIELDS, RESTATES_FIELD

Span = dict[str, Any]
Keys = dict[str, int]
Kind = Literal["label", "attribute", "reference"]


@dataclass(frozen=True)
class Field:
    """One compared field: its name, what kind of thing it is, and how to read its value from a span."""

    name: str
    kind: Kind
    read: Callable[[Span, Keys], Hashable]


def empty(value: Hashable) -> bool:
    """True for "no value": null, an empty chain or an empty set."""
    return value is None or value == () or value == frozenset()


def _plain(name: str) -> Callable[[Span, Keys], Hashable]:
    return lambda span, _keys: span.get(name)


def _as_set(name: str) -> Callable[[Span, Keys], Hashable]:
    return lambda span, _keys: frozenset(span.get(name) or ())


def _chain(span: Span, _keys: Keys) -> Hashable:
    return tuple((link["kind"], link["entity_id"]) for link in span.get(CHAIN_FIELD) or ())


def _original_source(span: Span, keys: Keys) -> Hashable:
    chain = _chain(span, keys)
    return chain[0] if chain else None


def _kinds(span: Span, _keys: Keys) -> Hashable:
    return tuple(link["kind"] for link in span.get(CHAIN_FIELD) or ())


def _restates(span: Span, keys: Keys) -> Hashable:
    return frozenset(keys.get(other, other) for other in span.get(RESTATES_FIELD) or ())


def layer_fields(layer: str) -> tuple[Field, ...]:
    """The fields of a layer, in report order: label, attributes, then references."""
    fields = [Field("label", "label", _plain("label"))]
    fields += [Field(name, "attribute", _plain(name)) for name in (*LAYER_ATTRIBUTES[layer], *LAYER_BOOL_FIELDS[layer])]
    if layer == "claims":
        fields.append(Field(f"{CHAIN_FIELD}.kinds", "attribute", _kinds))
    fields += [Field(name, "reference", _as_set(name) if is_list else _plain(name)) for name, is_list in REFERENCE_FIELDS[layer].items()]
    if layer == "claims":
        fields += [Field(CHAIN_FIELD, "reference", _chain), Field(f"{CHAIN_FIELD}.original_source", "reference", _original_source),
                   Field(RESTATES_FIELD, "reference", _restates)]
    return tuple(fields)


def cues(span: Span) -> list[dict[str, Any]]:
    """The cue spans of a claim's attribution chain (links without a cue give none)."""
    return [link["cue"] for link in span.get(CHAIN_FIELD) or () if link.get("cue")]
