"""Where spans may lie: within a layer, zones, entities and claims never overlap or nest, and no
span crosses a zone edge (bias markers may overlap each other). The guidelines' span rules 4 and
5; runs on files that passed the schema and whose spans are in range."""

from __future__ import annotations

from bisect import bisect_right

from ..layers import LAYERS
from ..report import Problem, Report, pointer, short

#: Layers whose spans never overlap one another.
EXCLUSIVE_LAYERS = ("zones", "entities", "claims")


def check_overlaps(data: dict, rel: str, doc_id: str, report: Report) -> None:
    """A problem for each span overlapping an earlier one of its layer, and each span crossing a zone edge."""
    for layer in EXCLUSIVE_LAYERS:
        order = sorted(range(len(data[layer])), key=lambda i: (data[layer][i]["start"], data[layer][i]["end"]))
        last: dict | None = None
        for i in order:
            span = data[layer][i]
            if last is not None and span["start"] < last["end"]:
                report.add(Problem("span_overlap", f"overlaps {short(last['id'])} of the same layer", rel, doc_id, span["id"],
                                   pointer(layer, i, "start"), expected=f"start >= {last['end']} (the end of {short(last['id'])})",
                                   found=str(span["start"]),
                                   hint=f"{layer} never overlap or nest: shorten one of the two, or merge them into one span"))
            if last is None or span["end"] > last["end"]:
                last = span
    zones = sorted((z["start"], z["end"]) for z in data["zones"])
    if not zones:
        return
    starts = [start for start, _ in zones]
    for layer in LAYERS[1:]:
        for i, span in enumerate(data[layer]):
            at = bisect_right(starts, span["start"]) - 1
            inside = at >= 0 and span["start"] < zones[at][1]
            edge = zones[at] if inside else zones[at + 1] if at + 1 < len(zones) else None
            if edge is None or (span["end"] <= edge[1] if inside else span["end"] <= edge[0]):
                continue  # inside one zone, or outside every zone (a set may mark only some zones)
            report.add(Problem("crosses_zone", "span crosses a zone edge", rel, doc_id, span["id"], pointer(layer, i, "end"),
                               expected=f"inside one zone (here [{edge[0]}, {edge[1]}))", found=f"[{span['start']}, {span['end']})",
                               hint="a span stays inside one zone: end it at the zone's edge, or fix the zones"))
