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
    "claims": {"claimant_id": False, "source_ids": True},
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
        "sourcing": "Sourcing",
        "certainty": "Certainty",
    },
    "bias_markers": {"polarity": "Polarity", "intensity": "Intensity"},
}

#: Document-level label fields: field -> ``$defs`` name.
DOCUMENT_LABELS: Final = {"genre": "Genre", "primary_frame": "Frame", "tone": "Tone"}

#: Per-layer fields holding free text rather than a closed label set (``note``, on every layer, is not listed).
LAYER_TEXT_FIELDS: Final = {"zones": (), "entities": ("canonical_id",), "claims": ("attribution_cue",), "bias_markers": ()}

#: Per-layer boolean fields.
LAYER_BOOL_FIELDS: Final = {"zones": (), "entities": (), "claims": (), "bias_markers": ("in_quote",)}

#: The role an entity plays for a span, per reference field that links a claim or marker to an entity
#: (``canonical_id`` is an entity's own id, not a link, and has no role).
REFERENCE_ROLES: Final = {"claimant_id": "claimant", "source_ids": "source", "target_ids": "target", "quote_speaker_id": "speaker"}


def referenced_ids(layer: str, span: dict) -> list[tuple[str, str]]:
    """(field, canonical id) pairs a span refers to, skipping nulls."""
    out: list[tuple[str, str]] = []
    for name, is_list in REFERENCE_FIELDS[layer].items():
        value = span.get(name)
        if is_list:
            out.extend((name, v) for v in value or ())
        elif value is not None:
            out.append((name, value))
    return out


def doc_id_of(annotation_id: str) -> str:
    """The document part of an annotation id (``reg-2023-qiming:e1`` -> ``reg-2023-qiming``)."""
    return annotation_id.partition(":")[0]
