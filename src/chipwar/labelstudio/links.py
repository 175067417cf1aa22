"""An annotation's relations and cue regions read back into its spans: entity references, attribution chains, restatements.

The representation is the config's (:mod:`.config`). A ``claimant``, ``target`` or
``speaker`` relation to an entity mention fills that reference field. A claim's chain comes
from its ``source-N`` relations — to a cue region (whose ``cue_kind`` is the link's kind and
whose ``is`` relation to a mention is its entity) or straight to a mention (a link without a
cue, its kind the claim's ``source_N_kind``) — and from a ``source_N_kind`` choice alone (a
link with neither cue nor entity). A ``restates`` relation joins two claims both ways, in
either direction; each claim's list is in the file's claim order. Every label of a relation
is read: Label Studio keeps one relation per pair of regions.

A chain's positions must run from 1 without gaps, each given once, each with a kind, and
every cue must be a link of some claim; otherwise the problem names the region and the
relation or choice to fix, and the chain is left empty — so the claimant fields' disagreement
with that empty chain, which says nothing new, is not reported (:meth:`Links.follows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers import CHAIN_FIELD, RESTATES_FIELD
from ..report import Problem, short
from .config import CUE_KIND, CUES, IS, RELATION_LABELS, RELATIONS, RESTATES, SOURCE_LABELS, UNCUED_KINDS
from .export import MAX_NAME, TaskLocation, shown
from .regions import Item, Region

#: Problems of ``chipwar validate`` about claimant fields that disagree with the chain (:mod:`chipwar.validation.chains`).
AGREEMENT_CODES = frozenset({"claimant_mismatch", "attribution_form_mismatch"})


@dataclass
class Links:
    """What the relations gave, for tracing problems found in the file back to the export."""

    #: (span id, field, key) -> where in the export a chain link (key: its index) or a restatement (key: the other claim's
    #: id) was given, so that a problem found in the file points at the relation or choice to fix.
    origins: dict[tuple[str, str, int | str], tuple[str | int, ...]] = field(default_factory=dict)
    #: Claims whose chain could not be built (a problem says why): their chain is left empty.
    unbuilt: set[str] = field(default_factory=set)

    def follows(self, problem: Problem) -> bool:
        """True for a problem of the file that only follows from a chain left unbuilt."""
        return problem.annotation_id in self.unbuilt and problem.code in AGREEMENT_CODES


@dataclass
class _Link:
    """One position of a claim's chain as drawn: where it was given, and what the relations and choices say."""

    parts: tuple[str | int, ...]
    cue: Region | None = None
    entity: str | None = None
    kind: str | None = None


class _Linker:
    """The relations of one annotation applied to its spans; problems go to ``where``."""

    def __init__(self, regions: dict[str, list[Item]], checked: dict[str, Region], region_spans: dict[str, list[tuple[str, dict]]],
                 where: TaskLocation) -> None:
        self.regions, self.checked, self.region_spans, self.where = regions, checked, region_spans, where
        self.cues = {rid: region for rid, region in checked.items() if CUES in region.layers}
        self.links: dict[str, dict[int, _Link]] = {}  # claim span id -> position -> link
        self.cue_entity: dict[str, str] = {}
        self.used: set[str] = set()
        self.out = Links()

    def span(self, rid: str, layer: str) -> dict[str, Any] | None:
        return next((span for lay, span in self.region_spans.get(rid, ()) if lay == layer), None)

    def relation(self, parts: tuple, relation: dict) -> None:
        """Apply every label of one relation item."""
        from_id, to_id, names = relation.get("from_id"), relation.get("to_id"), relation.get("labels")
        if not isinstance(from_id, str) or not isinstance(to_id, str):
            self.where.problem("bad_relation", "a relation's from_id and to_id must be region ids", *parts, expected="two region ids (strings)",
                               found=f"{shown(from_id)} -> {shown(to_id)}", hint="delete the relation in Label Studio and draw it again")
            return
        if from_id not in self.regions or to_id not in self.regions:
            self.where.problem("dangling_relation", "the relation points at a region that does not exist", *parts,
                               region=from_id if len(from_id) <= MAX_NAME else None, expected="ids of regions of this annotation",
                               found=f"{short(from_id)} -> {short(to_id)}", hint="delete the relation in Label Studio and draw it again")
            return
        if from_id not in self.checked or to_id not in self.checked:
            return  # a region it joins was refused, and reported
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n in RELATION_LABELS for n in names):
            self.where.problem("bad_relation", "a relation must be labelled with the config's relation labels", *parts, "labels",
                               region=from_id, expected=", ".join(RELATION_LABELS),
                               found=", ".join(shown(n) for n in names[:5]) if isinstance(names, list) else shown(names),
                               hint="label the relation in Label Studio")
            return
        for name in dict.fromkeys(names):
            if name in RELATIONS:
                self.reference(parts, name, from_id, to_id)
            elif name in SOURCE_LABELS:
                self.source(parts, SOURCE_LABELS.index(name) + 1, from_id, to_id)
            elif name == IS:
                self.cue_is(parts, from_id, to_id)
            else:
                self.restates(parts, from_id, to_id)

    def wrong_ends(self, parts: tuple, name: str, from_id: str, to_id: str, expected: str) -> None:
        self.where.problem("bad_relation", f"a {name!r} relation goes from {expected}", *parts, region=from_id, expected=expected,
                           found=f"{from_id} ({' / '.join(self.checked[from_id].layers)}) -> {to_id} ({' / '.join(self.checked[to_id].layers)})",
                           hint="delete the relation and draw it between the right regions")

    def entity_of(self, parts: tuple, name: str, from_id: str, to_id: str, mention: dict[str, Any]) -> str | None:
        """The canonical id of the mention a relation points at; None after reporting one without."""
        cid = mention["canonical_id"]
        if cid is None:
            self.where.problem("bad_relation", f"the {name!r} relation points at an entity mention without a canonical_id", *parts,
                               region=from_id, expected="an entity with a canonical_id", found=f"{from_id} -> {to_id}",
                               hint=f"pick the canonical id of {to_id} in Label Studio")
        return cid

    def reference(self, parts: tuple, name: str, from_id: str, to_id: str) -> None:
        layer, attr, is_list = RELATIONS[name]
        src, mention = self.span(from_id, layer), self.span(to_id, "entities")
        if src is None or mention is None:
            self.wrong_ends(parts, name, from_id, to_id, f"a {layer} region to an entity mention")
            return
        cid = self.entity_of(parts, name, from_id, to_id, mention)
        if cid is None:
            return
        if is_list:
            if cid not in src[attr]:
                src[attr].append(cid)
        elif src[attr] not in (None, cid):
            self.where.problem("several_values", f"{src['id']} has two {name!r} relations, to different entities", *parts,
                               region=from_id, expected="one entity", found=f"{short(src[attr])} and {short(cid)}",
                               hint=f"keep one {name!r} relation")
        else:
            src[attr] = cid

    def source(self, parts: tuple, n: int, from_id: str, to_id: str) -> None:
        name = SOURCE_LABELS[n - 1]
        claim, mention = self.span(from_id, "claims"), self.span(to_id, "entities")
        if claim is None or (to_id not in self.cues and mention is None):
            self.wrong_ends(parts, name, from_id, to_id, "a claim to a cue or an entity mention")
            return
        if to_id in self.cues or mention is None:
            link = _Link(parts, cue=self.cues[to_id])
            self.used.add(to_id)
        else:
            cid = self.entity_of(parts, name, from_id, to_id, mention)
            if cid is None:
                return
            link = _Link(parts, entity=cid)
        had = self.links.setdefault(claim["id"], {}).setdefault(n, link)
        if had is not link and (had.cue, had.entity) != (link.cue, link.entity):
            self.where.problem("several_values", f"{claim['id']} has two {name!r} relations", *parts, region=from_id,
                               expected=f"one {name!r} relation (to a cue, or to a mention when the text has no cue)",
                               found=f"to {had.cue.rid if had.cue else had.entity} and to {to_id}",
                               hint=f"keep one {name!r} relation on the claim; number the chain's other sources source-2, source-3, …")

    def cue_is(self, parts: tuple, from_id: str, to_id: str) -> None:
        mention = self.span(to_id, "entities")
        if from_id not in self.cues or mention is None:
            self.wrong_ends(parts, IS, from_id, to_id, "a cue to an entity mention")
            return
        cid = self.entity_of(parts, IS, from_id, to_id, mention)
        if cid is None:
            return
        if self.cue_entity.setdefault(from_id, cid) != cid:
            self.where.problem("several_values", f"cue {from_id} has two 'is' relations, to different entities", *parts, region=from_id,
                               expected="one entity per cue", found=f"{short(self.cue_entity[from_id])} and {short(cid)}",
                               hint="keep one 'is' relation; a cue naming two sources is drawn as two cue regions")

    def restates(self, parts: tuple, from_id: str, to_id: str) -> None:
        first, second = self.span(from_id, "claims"), self.span(to_id, "claims")
        if first is None or second is None:
            self.wrong_ends(parts, RESTATES, from_id, to_id, "a claim to another claim")
            return
        for one, other in ((first, second), (second, first)):
            if other["id"] not in one[RESTATES_FIELD]:
                one[RESTATES_FIELD].append(other["id"])
                self.out.origins[(one["id"], RESTATES_FIELD, other["id"])] = parts

    def uncued_kinds(self) -> None:
        """The claims' ``source_N_kind`` choices: the kind of a link without a cue, or alone a link with neither cue nor entity."""
        for rid, region in self.checked.items():
            claim = self.span(rid, "claims")
            for n, attr in enumerate(UNCUED_KINDS, 1):
                if claim is None or region.attrs.get(attr) is None:
                    continue
                parts = next(item.parts for item in self.regions[rid] if item.control.name == attr)
                self.links.setdefault(claim["id"], {}).setdefault(n, _Link(parts)).kind = region.attrs[attr]

    def chains(self) -> None:
        """Each claim's chain from its links; problems for gaps, missing kinds and cues no claim uses."""
        claims = {span["id"]: (rid, span) for rid, made in self.region_spans.items() for lay, span in made if lay == "claims"}
        for sid, links in self.links.items():
            rid, claim = claims[sid]
            chain = [self.link(rid, n, links[n]) if n in links else self.gap(rid, n, links) for n in range(1, max(links) + 1)]
            if all(link is not None for link in chain):
                claim[CHAIN_FIELD] = chain
                self.out.origins.update({(sid, CHAIN_FIELD, n - 1): link.parts for n, link in links.items()})
            else:
                self.out.unbuilt.add(sid)
        for rid in (rid for rid in self.cues if rid not in self.used):
            label = next(item for item in self.regions[rid] if item.control.type == "labels")
            self.where.problem("unlinked_cue", "the cue is no link of any claim's chain", *label.parts, region=rid,
                               expected="a source-N relation from a claim to this cue", found="none",
                               hint="draw a source-N relation from the claim it attributes to this cue, or delete the cue")

    def gap(self, rid: str, n: int, links: dict[int, _Link]) -> None:
        after = min(k for k in links if k > n)
        self.where.problem("chain_gap", f"the chain has {SOURCE_LABELS[after - 1]} but no {SOURCE_LABELS[n - 1]}", *links[after].parts,
                           region=rid, expected=f"{SOURCE_LABELS[n - 1]} (positions run from source-1, the original source, without gaps)",
                           found="missing", hint="renumber the claim's source-N relations (and source_N_kind choices) from 1")

    def link(self, rid: str, n: int, link: _Link) -> dict[str, Any] | None:
        """One chain link, or None after reporting a link without a kind or with two."""
        cue = link.cue
        kind = cue.attrs.get(CUE_KIND) if cue is not None else link.kind
        if cue is not None and link.kind not in (None, kind):
            self.where.problem("several_values", f"{SOURCE_LABELS[n - 1]} has a cue of kind {short(kind)} and the claim says "
                               f"{UNCUED_KINDS[n - 1]} {short(link.kind)}", *link.parts, region=rid, expected="one kind",
                               found=f"{short(kind)} and {short(link.kind)}",
                               hint=f"choose the kind on cue {cue.rid} and clear {UNCUED_KINDS[n - 1]} on the claim")
            return None
        if kind is None:
            at = f"choose cue_kind on cue {cue.rid}" if cue is not None else f"choose {UNCUED_KINDS[n - 1]} on the claim"
            self.where.problem("source_without_kind", f"{SOURCE_LABELS[n - 1]} of the chain has no kind", *link.parts, region=rid,
                               expected="one of the schema's SourceKind labels", found="none", hint=f"in Label Studio, {at}")
            return None
        where = {"start": cue.start, "end": cue.end, "text": cue.surface} if cue is not None else None
        return {"kind": kind, "entity_id": self.cue_entity.get(cue.rid) if cue is not None else link.entity, "cue": where}


def link_spans(relations: list[tuple[tuple, dict]], regions: dict[str, list[Item]], checked: dict[str, Region],
               region_spans: dict[str, list[tuple[str, dict]]], where: TaskLocation) -> Links:
    """Fill the spans' reference fields, chains and restatements from the relations and cues; where each link came from."""
    linker = _Linker(regions, checked, region_spans, where)
    for parts, relation in relations:
        linker.relation(parts, relation)
    linker.uncued_kinds()
    linker.chains()
    return linker.out


def order_restates(claims: list[dict[str, Any]]) -> None:
    """Each claim's restatements in the file's claim order (a relation has no order of its own)."""
    order = {claim["id"]: i for i, claim in enumerate(claims)}
    for claim in claims:
        claim[RESTATES_FIELD].sort(key=order.__getitem__)
