"""The labeling config, generated from ``schema/``, and the controls it declares.

One ``<Text>`` shown with its white space, a ``<Labels>`` control per layer, per-region
``<Choices>``/``<TextArea>`` for each layer's attributes (shown only for that layer's
regions), ``<Relations>`` (see below), and document-level ``<Choices>``.

A claim's attribution chain is drawn, not typed (how the importer reads it back:
:mod:`.links`). Its cues are regions of their own ``<Labels>`` control (:data:`CUES`,
label ``cue``), each with a per-region choice of the link's kind (:data:`CUE_KIND`, the
schema's ``SourceKind`` labels). A relation from the claim to a cue labelled ``source-N``
puts that cue at position N of the chain (1 = the original source); a relation from the cue
to an entity mention labelled ``is`` names the link's entity. A link without a cue is a
per-region choice on the claim, ``source_N_kind``, plus, when it names an entity, a
``source-N`` relation from the claim straight to a mention of it; the choice alone is a link
with neither cue nor entity (an anonymous source the text does not point at). Claims that
restate each other are joined by a ``restates`` relation. Label Studio keeps one relation
per pair of regions, so a relation may carry several labels (``claimant`` and ``source-1``
to the same mention): ``<Relations choice="multiple">``.

:data:`CONTROLS` names every control with the result type its items carry and the layers
(or :data:`CUES`) whose regions it applies to; the importer accepts nothing else.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..layers import (
    CHAIN_KIND_DEF,
    DOCUMENT_LABELS,
    LAYER_ATTRIBUTES,
    LAYER_BOOL_FIELDS,
    LAYER_LABEL_SET,
    LAYER_TEXT_FIELDS,
    LAYERS,
    REFERENCE_FIELDS,
    REFERENCE_ROLES,
)
from ..schema import Schemas

TEXT_NAME = "text"
NOTE = "note"
DOCUMENT_NOTE = "document_note"
#: The ``<Labels>`` control of attribution cues, its one label, and its per-region choice of the link's kind.
CUES = "attribution_cues"
CUE_LABEL = "cue"
CUE_KIND = "cue_kind"
#: Every kind of region: the layers' spans, then cues (which are parts of claims, not spans).
REGION_KINDS = (*LAYERS, CUES)
#: The longest chain the config can draw (original source and intermediaries).
MAX_CHAIN = 5
#: Relation label of chain position N (1-based), and the claim's per-region choice of the kind of an uncued link N.
SOURCE_LABELS = tuple(f"source-{n}" for n in range(1, MAX_CHAIN + 1))
UNCUED_KINDS = tuple(f"source_{n}_kind" for n in range(1, MAX_CHAIN + 1))
#: Relation label from a cue to a mention of the link's entity, and between claims stating the same proposition.
IS = "is"
RESTATES = "restates"

#: Relation label -> (layer of the region it starts from, field it fills with the entity's canonical id, is a list).
RELATIONS: dict[str, tuple[str, str, bool]] = {
    REFERENCE_ROLES[name]: (layer, name, is_list)
    for layer, fields in REFERENCE_FIELDS.items() for name, is_list in fields.items() if name in REFERENCE_ROLES
}
#: Every relation label of the config.
RELATION_LABELS = (*RELATIONS, *SOURCE_LABELS, IS, RESTATES)


@dataclass(frozen=True)
class Control:
    """A control of the config: the ``type`` of its result items, and the layers whose regions it labels
    (empty for a document-level control)."""

    name: str
    type: str
    layers: tuple[str, ...]


def _controls() -> dict[str, Control]:
    controls = [Control(name, "choices", ()) for name in DOCUMENT_LABELS]
    controls.append(Control(DOCUMENT_NOTE, "textarea", ()))
    controls += [Control(layer, "labels", (layer,)) for layer in REGION_KINDS]
    for layer in LAYERS:
        controls += [Control(name, "choices", (layer,)) for name in (*LAYER_ATTRIBUTES[layer], *LAYER_BOOL_FIELDS[layer])]
        controls += [Control(name, "textarea", (layer,)) for name in LAYER_TEXT_FIELDS[layer]]
    controls += [Control(name, "choices", ("claims",)) for name in UNCUED_KINDS]
    controls.append(Control(CUE_KIND, "choices", (CUES,)))
    controls.append(Control(NOTE, "textarea", LAYERS))
    return {c.name: c for c in controls}


#: Every control of the config, by name (``from_name`` in an export).
CONTROLS: dict[str, Control] = _controls()


def label_config(schemas: Schemas) -> str:
    """The labeling config (XML) for every layer, attribute and document label in ``schemas``."""
    view = ET.Element("View")
    for field_name, def_name in DOCUMENT_LABELS.items():
        ET.SubElement(view, "Header", value=field_name.replace("_", " "))
        _choices(view, field_name, schemas.label_names(def_name), per_region=False)
    ET.SubElement(view, "TextArea", name=DOCUMENT_NOTE, toName=TEXT_NAME, placeholder="document note", maxSubmissions="1",
                  editable="true")
    for layer in LAYERS:
        labels = ET.SubElement(view, "Labels", name=layer, toName=TEXT_NAME, choice="single")
        for label in schemas.label_names(LAYER_LABEL_SET[layer]):
            ET.SubElement(labels, "Label", value=label)
    ET.SubElement(ET.SubElement(view, "Labels", name=CUES, toName=TEXT_NAME, choice="single"), "Label", value=CUE_LABEL)
    text_view = ET.SubElement(view, "View", style="white-space: pre-wrap")
    ET.SubElement(text_view, "Text", name=TEXT_NAME, value="$text")
    relations = ET.SubElement(view, "Relations", choice="multiple")
    for name in RELATION_LABELS:
        ET.SubElement(relations, "Relation", value=name)
    kinds = schemas.label_names(CHAIN_KIND_DEF)
    for layer in LAYERS:  # each layer's attributes in a view shown only while a region of that layer is selected
        group = ET.SubElement(view, "View", visibleWhen="region-selected", whenTagName=layer)
        for attr, def_name in LAYER_ATTRIBUTES[layer].items():
            ET.SubElement(group, "Header", value=attr, size="6")
            _choices(group, attr, schemas.label_names(def_name), per_region=True, layer=layer)
        for attr in LAYER_BOOL_FIELDS[layer]:
            ET.SubElement(group, "Header", value=attr, size="6")
            _choices(group, attr, ["true", "false"], per_region=True, layer=layer)
        for attr in LAYER_TEXT_FIELDS[layer]:
            ET.SubElement(group, "Header", value=attr, size="6")
            ET.SubElement(group, "TextArea", name=attr, toName=TEXT_NAME, perRegion="true", maxSubmissions="1",
                          editable="true", placeholder=attr)
        if layer == "claims":
            for label, attr in zip(SOURCE_LABELS, UNCUED_KINDS, strict=True):
                ET.SubElement(group, "Header", value=f"{label} without a cue: kind", size="6")
                _choices(group, attr, kinds, per_region=True, layer=layer)
    group = ET.SubElement(view, "View", visibleWhen="region-selected", whenTagName=CUES)
    ET.SubElement(group, "Header", value="kind of the source this cue names", size="6")
    _choices(group, CUE_KIND, kinds, per_region=True, layer=CUES)
    ET.SubElement(view, "TextArea", name=NOTE, toName=TEXT_NAME, perRegion="true", visibleWhen="region-selected",
                  maxSubmissions="1", editable="true", placeholder="note on this region")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def checked_config(schemas: Schemas) -> tuple[str, bool]:
    """The config, and whether label-studio-sdk's ``LabelInterface`` checked it (False: the SDK is not installed)."""
    xml = label_config(schemas)
    try:
        from label_studio_sdk.label_interface import LabelInterface
    except ImportError:
        return xml, False
    LabelInterface(xml)
    return xml, True


def _choices(parent: ET.Element, name: str, values: list[str], *, per_region: bool, layer: str | None = None) -> None:
    attrs = {"name": name, "toName": TEXT_NAME, "choice": "single", "showInline": "true"}
    if per_region:
        attrs.update(perRegion="true", visibleWhen="region-selected", whenTagName=layer or "")
    node = ET.SubElement(parent, "Choices", **attrs)
    for value in values:
        ET.SubElement(node, "Choice", value=value)
