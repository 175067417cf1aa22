"""The checks of claims' attribution chains and restatement links, over one annotation file.

A chain names where a claim comes from, original source first; the claimant fields are kept
for readers of flat tables, so they must say what the chain says (see
:func:`chipwar.layers.expected_claimant`). Runs on files that passed the schema, so every
field has its type.
"""

from __future__ import annotations

from ..layers import CHAIN_FIELD, RESTATES_FIELD, expected_claimant
from ..report import Problem, Report, pointer, short
from .span_text import check_offsets


def check_chains(data: dict, text: str, rel: str, doc_id: str, canonical: set[str], report: Report) -> None:
    """Cue spans, entity references, repeated sources and claimant agreement of every chain; restatement links."""
    claims = data["claims"]
    ids = {claim["id"]: claim for claim in claims}
    n = len(text)
    for i, claim in enumerate(claims):
        sid, chain = claim["id"], claim[CHAIN_FIELD]
        seen: dict[str, int] = {}
        for j, link in enumerate(chain):
            where = ("claims", i, CHAIN_FIELD, j)
            cue = link["cue"]
            if cue is not None and type(cue["start"]) is int and type(cue["end"]) is int:  # floats: see whole_float_problems
                check_offsets((*where, "cue"), sid, cue["start"], cue["end"], cue["text"], text, n, rel, doc_id, report)
            entity = link["entity_id"]
            if entity is None:
                continue
            if entity not in canonical:
                report.add(Problem("dangling_reference",
                                   f"attribution link {j} refers to canonical entity {short(entity)}, which this file does not define",
                                   rel, doc_id, sid, pointer(*where, "entity_id"), expected="an id from canonical_entities", found=short(entity),
                                   hint="add the entity to canonical_entities or fix the id"))
            if entity in seen:
                report.add(Problem("chain_cycle", f"source {short(entity)} appears twice in the attribution chain (links {seen[entity]} and {j})",
                                   rel, doc_id, sid, pointer(*where, "entity_id"), expected="each source once, original source first",
                                   found=short(entity), hint="a source relays a claim once; remove the repeated link"))
            seen.setdefault(entity, j)
        _check_claimant(claim, i, rel, doc_id, report)
        for k, other in enumerate(claim[RESTATES_FIELD]):
            at = pointer("claims", i, RESTATES_FIELD, k)
            if other == sid:
                report.add(Problem("restates_self", "a claim lists itself as restating it", rel, doc_id, sid, at,
                                   expected="ids of other claims", found=short(other), hint="remove the claim's own id"))
            elif other not in ids:
                report.add(Problem("dangling_reference", f"restates {short(other)}, which is not a claim of this file", rel, doc_id, sid, at,
                                   expected="an id from this file's claims", found=short(other), hint="fix the id or remove it"))
            elif sid not in ids[other][RESTATES_FIELD]:
                report.add(Problem("restates_one_way", f"{short(other)} does not list {short(sid)} back", rel, doc_id, sid, at,
                                   expected=f"{short(sid)} in {short(other)}'s restates", found="missing",
                                   hint="restatement is symmetric: add each claim to the other's restates"))


def _check_claimant(claim: dict, i: int, rel: str, doc_id: str, report: Report) -> None:
    chain = claim[CHAIN_FIELD]
    kind, entity, attributed = expected_claimant(chain)
    sid = claim["id"]
    first = f"the chain's first link ({chain[0]['kind']})" if chain else "an empty chain"
    if claim["claimant_type"] != kind:
        report.add(Problem("claimant_mismatch", f"claimant_type disagrees with the attribution chain: {first} means {kind!r}", rel, doc_id, sid,
                           pointer("claims", i, "claimant_type"), expected=repr(kind), found=short(claim["claimant_type"]),
                           hint="the chain names the original source first; set claimant_type from it, or fix the chain"))
    elif claim["claimant_id"] != entity:
        report.add(Problem("claimant_mismatch", "claimant_id differs from the entity of the chain's first link", rel, doc_id, sid,
                           pointer("claims", i, "claimant_id"), expected=short(entity), found=short(claim["claimant_id"]),
                           hint="claimant_id is the original source: the entity_id of the chain's first link"))
    if (claim["attribution_form"] == "none") == attributed:
        why = "attribution_form is 'none' but the chain names a source" if attributed else "the chain is empty but attribution_form is not 'none'"
        report.add(Problem("attribution_form_mismatch", why,
                           rel, doc_id, sid, pointer("claims", i, "attribution_form"),
                           expected="a form other than 'none'" if attributed else "'none'", found=short(claim["attribution_form"]),
                           hint="attribution_form is 'none' exactly when the claim is the author's own (empty chain)"))
