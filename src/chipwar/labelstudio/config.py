"""The labeling config, generated from ``schema/``, and the controls it declares.

One ``<Text>`` shown with its white space, a ``<Labels>`` control per layer, per-region
``<Choices>``/``<TextArea>`` for each layer's attributes (shown only for that layer's
regions), ``<Relations>`` (see below), and document-level ``<Choices>``. The screen is laid
out for this schema (:func:`label_config`): the text on the left, everything to act on in a
column beside it, and a ``<Style>`` that keeps relation arrows and hotkey badges out of the way.

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

import colorsys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..layers import (
    CHAIN_KIND_DEF,
    DOCUMENT_LABELS,
    LAYER_ATTRIBUTES,
    LAYER_BOOL_FIELDS,
    LAYER_LABEL_SET,
    LAYER_SPAN_DEF,
    LAYERS,
    REFERENCE_FIELDS,
    REFERENCE_ROLES,
)
from ..schema import Label, Schemas

TEXT_NAME = "text"
NOTE = "note"
DOCUMENT_NOTE = "document_note"
#: The ``<Labels>`` control of attribution cues, its one label, and its per-region choice of the link's kind.
CUES = "attribution_cues"
CUE_LABEL = "cue"
CUE_KIND = "cue_kind"
#: What a cue is, shown when the pointer rests on its label.
CUE_HINT = "Words that name or point at where a claim comes from (said, according to, analysts say)."
#: An entity mention's canonical entity: picked from a list the task carries (:data:`CANONICAL_OPTIONS`, every
#: canonical entity of the repository), or typed as a new id on purpose, never by a typo.
CANONICAL = "canonical_id"
NEW_CANONICAL = "new_canonical_id"
CANONICAL_OPTIONS = "canonical_entities"
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
    controls += [Control(CANONICAL, "choices", ("entities",)), Control(NEW_CANONICAL, "textarea", ("entities",))]
    controls += [Control(name, "choices", ("claims",)) for name in UNCUED_KINDS]
    controls.append(Control(CUE_KIND, "choices", (CUES,)))
    controls.append(Control(NOTE, "textarea", LAYERS))
    return {c.name: c for c in controls}


#: Every control of the config, by name (``from_name`` in an export).
CONTROLS: dict[str, Control] = _controls()


#: Hue (degrees) of each region kind's family of colours: a family is told apart at a glance, its labels by shade.
FAMILY_HUES: dict[str, int] = {"zones": 270, "entities": 210, "claims": 30, "bias_markers": 345, CUES: 130}
#: Zones cover whole paragraphs under the other layers' regions: a paler family, so those stay readable.
PALE = ("zones",)
#: A hotkey that binds no key (Label Studio strips the space), given to every label and choice so that Label Studio
#: assigns none of its own: each would silently relabel the selected region or change a document label.
NO_HOTKEY = " "
#: How a field's definition shows under its title: smaller and lighter than the title.
HINT_STYLE = "font-weight: normal; color: #555; font-size: 12px; margin-top: -4px"
#: The editor's look for this config: the attributes column stays in view beside the text while it scrolls, and
#: relation arrows are drawn only for the relation pointed at in the Relations list (they would cover the text),
#: with room above the first line for its label, and the (unreachable) hotkeys get no badge. Label Studio's region panel
#: lists the region's values without their fields ("Choices: company"); the column shows them titled, so that list is hidden.
STYLE = """
.chipwar-screen { display: flex; gap: 16px; align-items: flex-start; }
.chipwar-text { flex: 3 1 0; min-width: 0; white-space: pre-wrap; padding-top: 32px; }
.chipwar-column { flex: 2 1 0; min-width: 280px; position: sticky; top: 0; max-height: calc(100vh - 170px); overflow-y: auto;
  padding-left: 12px; border-left: 2px solid #ddd; }
.relations-overlay g[class*="relationItem"]:not([class*="_highlighted"]) { display: none; }
.lsf-hint, .lsf-label__hotkey { display: none; }
.lsf-detailed-region__result { display: none; }
"""


def label_config(schemas: Schemas) -> str:
    """The labeling config (XML) for every layer, attribute and document label in ``schemas``.

    The text fills the left of the screen; the column beside it shows, from the top, the
    selected region's attributes (only its layer's, each titled with its definition from
    ``schema/`` below), the labels to draw with (a family of colours per layer, each label's
    definition shown when the pointer rests on it), and the document's labels.
    """
    view = ET.Element("View")
    ET.SubElement(view, "Style").text = STYLE
    screen = ET.SubElement(view, "View", className="chipwar-screen")
    ET.SubElement(ET.SubElement(screen, "View", className="chipwar-text"), "Text", name=TEXT_NAME, value="$text")
    relations = ET.SubElement(view, "Relations", choice="multiple")
    for name in RELATION_LABELS:
        ET.SubElement(relations, "Relation", value=name)
    column = ET.SubElement(screen, "View", className="chipwar-column")
    for layer in LAYERS:  # each layer's attributes in a view shown only while a region of that layer is selected
        _attributes(ET.SubElement(column, "View", visibleWhen="region-selected", whenTagName=layer), layer, schemas)
    group = ET.SubElement(column, "View", visibleWhen="region-selected", whenTagName=CUES)
    ET.SubElement(group, "Header", value="Attribution cue: attributes", size="5")
    _title_and_hint(group, "kind of the source this cue names", _description(schemas, CHAIN_KIND_DEF))
    _choices(group, CUE_KIND, schemas, CHAIN_KIND_DEF, per_region=True, layer=CUES)
    note = ET.SubElement(column, "View", visibleWhen="region-selected", className="chipwar-note")
    _title_and_hint(note, "note", "Free text on this region, e.g. a doubt to discuss.")
    ET.SubElement(note, "TextArea", name=NOTE, toName=TEXT_NAME, perRegion="true", maxSubmissions="1", editable="true",
                  placeholder="note on this region")
    ET.SubElement(column, "Header", value="Labels: pick one, then select text", size="5")
    for layer in REGION_KINDS:
        ET.SubElement(column, "Header", value=_title(layer), size="6")
        labels = ET.SubElement(column, "Labels", name=layer, toName=TEXT_NAME, choice="single")
        names = [Label(CUE_LABEL, CUE_HINT)] if layer == CUES else schemas.label_set(LAYER_LABEL_SET[layer])
        for label, colour in zip(names, family_colours(layer, len(names)), strict=True):
            ET.SubElement(labels, "Label", value=label.name, hint=label.definition, background=colour, hotkey=NO_HOTKEY)
    ET.SubElement(column, "Header", value="Document", size="5")
    for field_name, def_name in DOCUMENT_LABELS.items():
        ET.SubElement(column, "Header", value=_title(field_name), size="6")
        _choices(column, field_name, schemas, def_name, per_region=False)
    ET.SubElement(column, "TextArea", name=DOCUMENT_NOTE, toName=TEXT_NAME, placeholder="document note", maxSubmissions="1",
                  editable="true")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def _attributes(group: ET.Element, layer: str, schemas: Schemas) -> None:
    """The per-region controls of ``layer``'s regions, each under its title and definition."""
    ET.SubElement(group, "Header", value=f"{_title(layer)}: attributes", size="5")
    span_def = LAYER_SPAN_DEF[layer]
    for attr, def_name in LAYER_ATTRIBUTES[layer].items():
        _title_and_hint(group, attr, _description(schemas, span_def, attr) or _definitions(schemas, def_name))
        _choices(group, attr, schemas, def_name, per_region=True, layer=layer)
    for attr in LAYER_BOOL_FIELDS[layer]:
        _title_and_hint(group, attr, _description(schemas, span_def, attr))
        _choices(group, attr, schemas, None, per_region=True, layer=layer)
    if layer == "entities":
        _title_and_hint(group, CANONICAL, _description(schemas, span_def, CANONICAL))
        ET.SubElement(group, "Choices", name=CANONICAL, toName=TEXT_NAME, choice="single", layout="select", value=f"${CANONICAL_OPTIONS}",
                      perRegion="true", visibleWhen="region-selected", whenTagName=layer)
        _title_and_hint(group, "new canonical entity", "Only when the list has no entry for it: type the new entity's id "
                        "(lowercase letters, digits and '-', e.g. acme-chips); leave the list unset.")
        ET.SubElement(group, "TextArea", name=NEW_CANONICAL, toName=TEXT_NAME, perRegion="true", maxSubmissions="1",
                      editable="true", placeholder="new canonical id")
    if layer == "claims":
        for label, attr in zip(SOURCE_LABELS, UNCUED_KINDS, strict=True):
            _title_and_hint(group, f"{label} without a cue: kind",
                            f"Only for a link of the chain the text does not point at; else draw a cue and a {label} relation.")
            _choices(group, attr, schemas, CHAIN_KIND_DEF, per_region=True, layer=layer)


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _title_and_hint(parent: ET.Element, name: str, hint: str) -> None:
    ET.SubElement(parent, "Header", value=_title(name), size="6")
    if hint:
        ET.SubElement(parent, "Header", value=hint, size="6", style=HINT_STYLE)


def _description(schemas: Schemas, def_name: str, field: str | None = None) -> str:
    """The ``description`` of ``$defs/<def_name>`` (of its property ``field`` when given) in the annotations schema, or ""."""
    node = schemas.annotations.get("$defs", {}).get(def_name, {})
    if field is not None:
        node = node.get("properties", {}).get(field, {})
    description = node.get("description") if isinstance(node, dict) else None
    return description if isinstance(description, str) else ""


def _definitions(schemas: Schemas, def_name: str) -> str:
    """Each label of ``def_name`` with its definition, for a field the schema does not describe as a whole
    (Label Studio breaks on a hint given to a ``<Choice>``)."""
    return " · ".join(f"{label.name}: {label.definition}" for label in schemas.label_set(def_name))


def family_colours(kind: str, count: int) -> list[str]:
    """``count`` shades of the family hue of ``kind``, from dark to light (hex, as Label Studio wants them)."""
    hue, saturation = FAMILY_HUES[kind], 0.3 if kind in PALE else 0.75
    return [_hex(hue + (i % 3 - 1) * 8, saturation, 0.38 + 0.3 * i / max(count - 1, 1)) for i in range(count)]


def _hex(hue: float, saturation: float, lightness: float) -> str:
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, lightness, saturation)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def checked_config(schemas: Schemas) -> tuple[str, bool]:
    """The config, and whether label-studio-sdk's ``LabelInterface`` checked it (False: the SDK is not installed)."""
    xml = label_config(schemas)
    try:
        from label_studio_sdk.label_interface import LabelInterface
    except ImportError:
        return xml, False
    LabelInterface(xml)
    return xml, True


def _choices(parent: ET.Element, name: str, schemas: Schemas, def_name: str | None, *, per_region: bool,
             layer: str | None = None) -> None:
    """A single choice of the labels of ``def_name`` (``true``/``false`` when None)."""
    attrs = {"name": name, "toName": TEXT_NAME, "choice": "single", "showInline": "true"}
    if per_region:
        attrs.update(perRegion="true", visibleWhen="region-selected", whenTagName=layer or "")
    node = ET.SubElement(parent, "Choices", **attrs)
    for value in schemas.label_names(def_name) if def_name else ["true", "false"]:
        ET.SubElement(node, "Choice", value=value, hotkey=NO_HOTKEY)
