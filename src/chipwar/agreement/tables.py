"""Agreement as tables: plain text per layer for ``chipwar agree``, compact Markdown for generated blocks.

Both show the same figures: pairwise means (F1, agreement, Cohen's kappa) and alpha over all
sets, with their n, and say in a line what the figures measure.
"""

from __future__ import annotations

from .figures import Agreement, FieldAgreement, LayerAgreement


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _pairs(field: FieldAgreement) -> int:
    return sum(p.pairs for p in field.pairwise)


def _field_cells(name: str, field: FieldAgreement) -> list[str]:
    """name, pairs (all pairs of sets together), agreement, κ (means over pairs), units and α."""
    return [name, str(_pairs(field)), _fmt(field.mean_agreement), _fmt(field.mean_kappa), str(field.alpha.units), _fmt(field.alpha.value)]


def _headline(result: Agreement, quote: str) -> list[str]:
    """What was compared, then what the figures measure (one sentence a line)."""
    named = ", ".join(f"{quote}{s}{quote}" for s in result.sets)
    pairs = len(result.pairs)
    return [f"Agreement of {named} over {len(result.documents)} document(s).",
            f"F1, agreement and κ (Cohen's kappa) are means over the {pairs} pair{'s' if pairs > 1 else ''} of sets, on spans paired "
            "by overlap; pairs counts the paired spans of all pairs of sets together.",
            "α is Krippendorff's alpha over all sets at once: u-α (unitized) on where a layer's spans lie, labels ignored; otherwise "
            "nominal, on units of spans matched across sets (units: those with two or more values).",
            "1 = perfect agreement, 0 = chance, — = not defined (nothing to compare, or a single value throughout)."]


def _cue_line(layer: LayerAgreement) -> str | None:
    if layer.cues is None:
        return None
    n = sum(p.count_a + p.count_b for p in layer.cues.pairwise)
    return (f"Attribution cues of paired claims ({n} cues in all pairs): exact F1 {_fmt(layer.cues.mean_exact_f1)}, overlap F1 "
            f"{_fmt(layer.cues.mean_overlap_f1)} (no α: cues that overlap are not equal values).")


def text_report(result: Agreement) -> list[str]:
    """Lines for the terminal: a headline saying what the figures are, then one table per layer and one for document labels."""
    lines = _headline(result, "")
    header = ["field", "pairs", "agreement", "κ", "units", "α"]
    for name, layer in result.layers.items():
        spans = ", ".join(f"{s} {n}" for s, n in layer.spans.items())
        lines += ["", f"{name}: spans {spans}; {layer.units} unit(s) across sets",
                  f"  spans: exact F1 {_fmt(layer.matching.mean_exact_f1)}, overlap F1 {_fmt(layer.matching.mean_overlap_f1)}, "
                  f"u-α {_fmt(layer.u_alpha.value)} over {layer.u_alpha.continuum:,} code points"]
        lines += _aligned(header, [_field_cells(f, fa) for f, fa in layer.fields.items()])
        cue = _cue_line(layer)
        if cue:
            lines.append("  " + cue)
    lines += ["", "document labels (units: documents)"]
    lines += _aligned(header, [_field_cells(f, fa) for f, fa in result.document_labels.items()])
    return lines


def _aligned(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the numbers right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
            for r in [header, *rows]]


def markdown_tables(result: Agreement) -> str:
    """Markdown: one row per layer (spans, u-α, label), one per attribute or reference, one per document label."""
    rows = [" ".join(_headline(result, "`")), "",
            "| layer | spans per set | exact F1 | overlap F1 | u-α | label pairs | label agreement | label κ | label α |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, layer in result.layers.items():
        label = layer.fields["label"]
        rows.append(f"| {name} | {' / '.join(map(str, layer.spans.values()))} | {_fmt(layer.matching.mean_exact_f1)} | "
                    f"{_fmt(layer.matching.mean_overlap_f1)} | {_fmt(layer.u_alpha.value)} | {_pairs(label)} | "
                    f"{_fmt(label.mean_agreement)} | {_fmt(label.mean_kappa)} | {_fmt(label.alpha.value)} |")
    rows += ["", "Attributes and references, on matched spans:", "",
             "| layer | field | pairs | agreement | κ | units | α |", "|---|---|---|---|---|---|---|"]
    rows += ["| " + " | ".join([name, *_field_cells(f, fa)]) + " |"
             for name, layer in result.layers.items() for f, fa in layer.fields.items() if f != "label"]
    rows += [part for line in map(_cue_line, result.layers.values()) if line for part in ("", line)]
    rows += ["", "Document labels (units: documents):", "", "| label | pairs | agreement | κ | units | α |", "|---|---|---|---|---|---|"]
    rows += ["| " + " | ".join(_field_cells(f, fa)) + " |" for f, fa in result.document_labels.items()]
    return "\n".join(rows) + "\n"
