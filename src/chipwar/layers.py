"""The shape of the corpus: layers, their label sets and the references between them.

Documents and annotation files are kept as the plain dicts their JSON gives (the schema in
``schema/`` is their type); this module names the parts that code walks over, so that
validation, agreement, exports and imports agree on them.
"""

from __future__ import annotations

from typing import Final

#: Span layers of an annotation file, in file order.
LAYERS: Final = ("zones", "entities", "claims", "bias_markers")

#: The ``$defs`` entry of ``schema/annotations.schema.json`` holding each layer's labels.
LAYER_LABEL_SET: Final = {
    "zones": "ZoneLabel",
    "entities": "EntityLabel",
    "claims": "ClaimLabel",
    "bias_markers": "BiasLabel",
}

#: The ``$defs`` entry describing one span of each layer (its ``properties`` give the field order).
LAYER_SPAN_DEF: Final = {"zones": "Zone", "entities": "Entity", "claims": "Claim", "bias_markers": "BiasMarker"}

#: Prefix letter of the local part of an annotation id (``<doc_id>:e12``), per layer.
LAYER_ID_PREFIX: Final = {"zones": "z", "entities": "e", "claims": "c", "bias_markers": "b"}

#: Fields holding canonical-entity ids, per layer: name -> True when it is a list.
REFERENCE_FIELDS: Final = {
    "zones": {},
    "entities": {"canonical_id": False},
    "claims": {"claimant_id": False},
    "bias_markers": {"target_ids": True, "quote_speaker_id": False},
}

#: Per-layer attribute fields with a closed label set: field -> ``$defs`` name.
LAYER_ATTRIBUTES: Final = {
    "zones": {},
    "entities": {"org_type": "OrgType", "gpe_role": "GpeRole"},
    "claims": {
        "check_worthiness": "CheckWorthiness",
        "claimant_type": "ClaimantType",
        "attribution_form": "AttributionForm",
        "certainty": "Certainty",
    },
    "bias_markers": {"polarity": "Polarity", "intensity": "Intensity"},
}

#: Document-level label fields: field -> ``$defs`` name.
DOCUMENT_LABELS: Final = {"genre": "Genre", "primary_frame": "Frame", "tone": "Tone"}

#: Per-layer boolean fields.
LAYER_BOOL_FIELDS: Final = {"zones": (), "entities": (), "claims": (), "bias_markers": ("in_quote",)}

#: The role an entity plays for a span, per reference field that links a claim or marker to an entity
#: (``canonical_id`` is an entity's own id, not a link, and has no role).
REFERENCE_ROLES: Final = {"claimant_id": "claimant", "target_ids": "target", "quote_speaker_id": "speaker"}

#: A claim's attribution chain: the field, the ``$defs`` names of a link and of its kind, and a link's fields.
CHAIN_FIELD: Final = "attribution_chain"
CHAIN_LINK_DEF: Final = "AttributionLink"
CHAIN_KIND_DEF: Final = "SourceKind"
#: A claim's links to the other claims of its document that state the same proposition (symmetric).
RESTATES_FIELD: Final = "restates"
#: Link kinds that must name an entity, and those that must not.
NAMED_KINDS: Final = ("named_person", "named_organization")
UNNAMED_KINDS: Final = ("anonymous", "vague_collective")
#: The link kind for the publishing outlet citing itself: such a claim is still the author's.
OUTLET_KIND: Final = "outlet"


def referenced_ids(layer: str, span: dict) -> list[tuple[str, str]]:
    """(field, canonical id) pairs a span refers to, skipping nulls; chain links as ``attribution_chain/<i>/entity_id``."""
    out: list[tuple[str, str]] = []
    for name, is_list in REFERENCE_FIELDS[layer].items():
        value = span.get(name)
        if is_list:
            out.extend((name, v) for v in value or ())
        elif value is not None:
            out.append((name, value))
    if layer == "claims":
        out.extend((f"{CHAIN_FIELD}/{i}/entity_id", link["entity_id"]) for i, link in enumerate(span.get(CHAIN_FIELD) or ())
                   if isinstance(link, dict) and link.get("entity_id") is not None)
    return out


def expected_claimant(chain: list[dict]) -> tuple[str, str | None, bool]:
    """The claimant fields a chain implies: (claimant_type, claimant_id, attributed).

    The chain's first link is the original source: none or the outlet itself -> the author;
    a link with an entity -> that entity; otherwise an unidentified source.
    """
    if not chain:
        return "author", None, False
    first = chain[0]
    if first.get("kind") == OUTLET_KIND:
        return "author", None, True
    if first.get("entity_id") is not None:
        return "entity", first["entity_id"], True
    return "unidentified", None, True


def doc_id_of(annotation_id: str) -> str:
    """The document part of an annotation id (``reg-2023-qiming:e1`` -> ``reg-2023-qiming``)."""
    return annotation_id.partition(":")[0]
