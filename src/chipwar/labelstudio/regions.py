"""The result items of one Label Studio annotation, grouped by region and checked: labels, attributes and offsets.

Only items our labeling config makes (:mod:`.config`) are taken. A region's text is checked
against the document at its offsets; a region resized after an emoji stores UTF-16
offsets, which are repaired to code points when that is unambiguous, and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..layers import LAYER_BOOL_FIELDS
from ..offsets import OffsetError, utf16_to_cp
from ..report import short
from .config import CONTROLS, REGION_KINDS, Control
from .export import EXPORT_HINT, MAX_NAME, TaskLocation, shown

#: A region id Label Studio makes (a nanoid) or a task gives (:func:`.tasks.region_id`): the local part of a span id.
_REGION_ID = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class Item:
    """One result item of a region: where it is, the control it belongs to, and its value."""

    parts: tuple[str | int, ...]
    control: Control
    value: dict


@dataclass
class Region:
    """A labelled region as the export gives it, checked."""

    rid: str
    layers: list[str]  # its kinds (:data:`.config.REGION_KINDS`): layers, and the cue control
    labels: list[tuple[str, str]]  # (layer, label)
    start: int
    end: int
    surface: str
    attrs: dict[str, str | None]


def group(items: list, where: TaskLocation, parts: tuple[str | int, ...]) -> tuple[dict[str, list[Item]], list[tuple[tuple, dict]]]:
    """Result items by region id, and the relations; every item that is not one our config makes is a problem."""
    regions: dict[str, list[Item]] = {}
    relations: list[tuple[tuple, dict]] = []
    for k, item in enumerate(items):
        here = (*parts, k)
        if not isinstance(item, dict):
            where.problem("bad_result_item", "a result item must be an object", *here, expected="an object", found=shown(item), hint=EXPORT_HINT)
            continue
        if item.get("type") == "relation":
            relations.append((here, item))
            continue
        rid = item.get("id")
        if not isinstance(rid, str) or len(rid) > MAX_NAME or not _REGION_ID.fullmatch(rid.removeprefix(f"{where.doc_id}:")):
            where.problem("bad_region_id", f"a result item needs a region id of 1 to {MAX_NAME} letters, digits, '_' or '-' "
                          "(it becomes part of a span id)", *here, "id", expected="a region id such as e6 or Xk3_p9Qa-b",
                          found=shown(rid), hint="delete the region in Label Studio and draw it again")
            continue
        name = item.get("from_name")
        control = CONTROLS.get(name) if isinstance(name, str) else None
        if control is None:
            where.problem("unknown_control", "the item belongs to a control the labeling config does not have", *here, "from_name",
                          region=rid, expected=", ".join(CONTROLS), found=shown(name),
                          hint="annotate in a project whose config is `chipwar labelstudio config`")
            continue
        if item.get("type") != control.type:
            where.problem("bad_result_item", f"a {name} item must have type {control.type!r}", *here, "type", region=rid,
                          expected=repr(control.type), found=shown(item.get("type")), hint=EXPORT_HINT)
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            where.problem("bad_value", "the item's value must be an object", *here, "value", region=rid, expected="an object",
                          found=shown(value),
                          hint=EXPORT_HINT)
            continue
        regions.setdefault(rid, []).append(Item(here, control, value))
        label, surface = value.get("labels"), value.get("text")
        if control.type == "labels" and isinstance(label, list) and label and isinstance(label[0], str) and isinstance(surface, str):
            where.seen.setdefault(rid, (short(label[0], 40), surface))
    return regions, relations


def _one_value(item: Item, where: TaskLocation, rid: str) -> tuple[bool, str | None]:
    """(True, the value) of a choices or text item, None when it is empty; (False, None) after reporting a malformed one."""
    key = "choices" if item.control.type == "choices" else "text"
    picked = item.value.get(key)
    if not isinstance(picked, list) or not all(isinstance(v, str) for v in picked):
        where.problem("bad_value", f"{item.control.name}: value.{key} must be a list of strings", *item.parts, "value", key,
                      region=rid, expected="a list of strings", found=shown(picked), hint=EXPORT_HINT)
        return False, None
    if len(picked) > 1:
        where.problem("several_values", f"{item.control.name} has {len(picked)} values and takes one", *item.parts, "value", key,
                      region=rid, hint=f"keep one {item.control.name} on the region in Label Studio")
        return False, None
    return True, (picked[0] if picked else None)


def take_values(items: list[Item], into: dict[str, str | None], where: TaskLocation, rid: str) -> bool:
    """Add the choices and texts of ``items`` to ``into``; False when one is malformed or contradicts another."""
    ok = True
    for item in items:
        good, value = _one_value(item, where, rid)
        name = item.control.name
        if not good:
            ok = False
        elif name in into and into[name] != value:
            where.problem("several_values", f"{name} is given twice, with different values", *item.parts, "value", region=rid,
                          expected="one value", found=f"{short(into[name])} and {short(value)}", hint=f"keep one {name} in Label Studio")
            ok = False
        else:
            into[name] = value
    return ok


def check_region(rid: str, items: list[Item], text: str, where: TaskLocation, repaired: list[str]) -> Region | None:
    """The region's layers, labels, code-point offsets and attributes, each checked; None after reporting a problem."""
    label_items = [item for item in items if item.control.type == "labels"]
    if not label_items:
        where.problem("region_without_label", "the region has attributes but no layer label", *items[0].parts, region=rid,
                      hint="give the region a label, or delete it in Label Studio")
        return None
    places, labels = set(), []
    for item in label_items:
        start, end, surface, names = (item.value.get(k) for k in ("start", "end", "text", "labels"))
        if type(start) is not int or type(end) is not int or not isinstance(surface, str):
            where.problem("bad_value", "a region needs whole-number start and end and its text", *item.parts, "value", region=rid,
                          expected="start and end integers, text a string", found=f"start {shown(start)}, end {shown(end)}, text {shown(surface)}",
                          hint="delete the region in Label Studio and draw it again")
            return None
        if not isinstance(names, list) or not names or not all(isinstance(v, str) for v in names):
            where.problem("bad_value", "value.labels must be a non-empty list of label names", *item.parts, "value", "labels",
                          region=rid, expected="a list of one label", found=shown(names), hint="label the region in Label Studio")
            return None
        places.add((start, end, surface))
        labels += [(item.control.name, name) for name in dict.fromkeys(names)]
    if len(places) > 1:
        where.problem("region_offsets_differ", "the region's label items give different offsets or text", *label_items[0].parts,
                      region=rid, hint="delete the region in Label Studio and draw it again")
        return None
    ((start, end, surface),) = places
    offsets = _repair(text, start, end, surface, rid, where, label_items[0].parts, repaired)
    layers = sorted({layer for layer, _ in labels}, key=REGION_KINDS.index)
    attrs: dict[str, str | None] = {}
    ok = offsets is not None
    for item in items:
        if item.control.type == "labels":
            continue
        if not set(item.control.layers) & set(layers):
            where.problem("attribute_wrong_layer", f"{item.control.name!r} was filled in on a {' / '.join(layers)} region, "
                          "where it does not apply", *item.parts, region=rid, expected=f"no {item.control.name} on this region",
                          found=shown(item.value.get("choices", item.value.get("text"))),
                          hint=f"clear {item.control.name!r} on that region in Label Studio (it belongs to another layer)")
            ok = False
        elif not take_values([item], attrs, where, rid):
            ok = False
        elif any(item.control.name in LAYER_BOOL_FIELDS.get(layer, ()) for layer in layers) and attrs[item.control.name] not in ("true", "false"):
            where.problem("bad_value", f"{item.control.name} must be 'true' or 'false'", *item.parts, "value", "choices", region=rid,
                          expected="'true' or 'false'", found=short(attrs[item.control.name]),
                          hint=f"choose true or false for {item.control.name} in Label Studio")
            ok = False
    if not ok or offsets is None:
        return None
    return Region(rid, layers, labels, offsets[0], offsets[1], text[offsets[0]:offsets[1]], attrs)


def _repair(text: str, start: int, end: int, surface: str, rid: str, where: TaskLocation, parts: tuple, repaired: list[str]
            ) -> tuple[int, int] | None:
    """The region's code-point offsets; UTF-16 offsets (a resized region after an emoji) repaired when unambiguous."""
    if 0 <= start < end <= len(text) and text[start:end] == surface:
        return start, end
    if 0 <= start < end <= 2 * len(text):
        try:
            s16, e16 = utf16_to_cp(text, start), utf16_to_cp(text, end)
        except OffsetError:
            s16 = e16 = -1
        if s16 >= 0 and text[s16:e16] == surface:
            repaired.append(f"{where.rel}: region {rid} {short(surface)}: UTF-16 offsets [{start}, {end}) -> code points [{s16}, {e16})")
            return s16, e16
    found = text[start:end] if 0 <= start <= end <= len(text) else f"offsets [{start}, {end}) outside the text of {len(text)} characters"
    where.problem("offset_text_mismatch", "the region's text is not the document's text at its offsets, and no unambiguous "
                  "repair exists", *parts, "value", region=rid, expected=short(surface), found=short(found),
                  hint="fix the region in Label Studio (delete and draw it again), then pull again")
    return None
