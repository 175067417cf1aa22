"""The dataset card (``README.md`` of a built folder): YAML generated from the schema and
the data, and a body whose datasheet part is ``DATASHEET.md`` itself — one source, so the
card and the datasheet cannot disagree. Its figures (:mod:`chipwar.plots`) are written beside
it as ``figures/<name>.svg`` and shown as images with relative links, so the Hub page shows
them; the agreement figure is of the sets DATASHEET.md's agreement block compares. No config
lists ``figures/``, so ``load_dataset`` never reads them as data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import yaml
from datasets import DatasetInfo, Features

from ..corpus import Corpus
from ..errors import EnvironmentProblem
from ..generated import block_specs, render_labels
from ..layers import LAYER_LABEL_SET
from ..plots import Figure, LabelCounts, corpus_figures
from ..schema import Schemas
from ..writer import replace_file
from .citation import bibtex_section, citation_facts
from .statement import card_fields, data_statement, merge_card_yaml

if TYPE_CHECKING:
    from ..agreement import Agreement
    from .configs import BuildResult, Layouts

#: The card's figures, beside it: ``figures/<name>.svg``.
FIGURES_DIR = "figures"

ROW_MEANING = {
    "documents": "a document: metadata, text, and every annotation layer nested (lossless)",
    "entities": "an entity mention, with its sentence",
    "claims": "a claim, with its attribution chain (each source, original first, with its cue), claimant, restatements, certainty and sentence",
    "bias_markers": "a bias or persuasion marker, with target, polarity, intensity and its sentence",
    "ner": "a sentence: tokens with code-point offsets and BIO entity tags",
}


def size_category(n: int) -> str:
    """The Hub's size category for ``n`` examples."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def card_yaml(lay: Layouts, files: dict[str, dict[str, list[str]]], documents: int, with_text: bool, version: str) -> dict:
    """The card's YAML metadata block."""
    features = {"documents": lay.documents.feature, **{k: f.feature for k, f in lay.spans.items()}, "ner": lay.ner}
    configs = [c for c in ("documents", "entities", "claims", "bias_markers", "ner") if c in files]
    meta = {
        "pretty_name": "chipwar: chip-war news with entities, claims and bias markers",
        "version": version,
        "language": ["en"],
        "license": "cc-by-4.0" if not with_text else "other",
        **({} if not with_text else {"license_name": "annotations-cc-by-4.0-texts-not-licensed", "license_link": "LICENSE"}),
        "task_categories": ["token-classification", "text-classification"],
        "task_ids": ["named-entity-recognition", "fact-checking"],
        "size_categories": [size_category(documents)],
        "tags": ["media-bias", "propaganda", "claim-detection", "semiconductors", "export-controls", "standoff-annotation"],
        "configs": [
            {"config_name": c, "data_files": [{"split": s, "path": paths} for s, paths in sorted(files[c].items())],
             **({"default": True} if c == "documents" else {})}
            for c in configs
        ],
        "dataset_info": [
            {"config_name": c, **DatasetInfo(features=Features(features[c]))._to_yaml_dict()} for c in configs
        ],
    }
    return meta


def datasheet_agreement_sets(corpus: Corpus) -> list[str]:
    """The sets the first agreement block of ``DATASHEET.md`` compares, when it names two or more sets all
    present here; else none (the card then has no agreement figure, as the datasheet has no agreement)."""
    datasheet = corpus.root / "DATASHEET.md"
    text = datasheet.read_text("utf-8") if datasheet.is_file() else ""
    here = set(corpus.set_names())
    for kind, *sets in block_specs(text):
        if kind == "agreement":
            return sets if len(sets) >= 2 and set(sets) <= here else []
    return []


def card_figures(corpus: Corpus, schemas: Schemas, set_name: str, counts: LabelCounts,
                 agreement: Agreement | None = None) -> list[Figure]:
    """The card's figures: the counts of the built set, the agreement of the datasheet's sets (``agreement``:
    as the build counted it)."""
    return corpus_figures(corpus, schemas, set_name, datasheet_agreement_sets(corpus), counts, agreement)


def figure_lines(figures: Sequence[Figure]) -> list[str]:
    """Each figure as an image with a relative link, its title as alt text and as caption."""
    lines: list[str] = []
    for figure in figures:
        alt = figure.title.replace("`", "").replace("[", "(").replace("]", ")")
        lines += [f"![{alt}]({FIGURES_DIR}/{figure.name}.svg)", "", f"*{figure.title}*", ""]
    return lines


def card_body(corpus: Corpus, schemas: Schemas, result: BuildResult, version: str, set_name: str,
              figures: Sequence[Figure] = ()) -> str:
    """Load instructions, configs, figures, labels, build notes, then the datasheet."""
    lines = [
        "# chipwar: chip-war news with entities, claims and bias markers",
        "",
        f"Dataset version **{version}** (git tag `v{version}`), built from the `{set_name}` annotation set. "
        "Offsets are Unicode code points, end-exclusive: `text[start:end] == span text` for every span.",
        "",
    ]
    if not result.with_text:
        lines += ["**Annotations-only variant**: article texts (and span texts, attribution cue texts, sentences, tokens) are left out; "
                  "url, text SHA-256 and offsets are kept. Restore the texts from your own copies with "
                  "`chipwar rehydrate THIS_FOLDER --texts YOUR_COPIES --out FOLDER`; every SHA-256 is verified.", ""]
    lines += [
        "## Load it", "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("path/to/this/folder", "entities")  # absolute path, or the Hub repo id',
        f'ds = load_dataset("OWNER/chipwar", "claims", revision="v{version}")  # a pinned release on the Hub',
        "```", "",
        "No loading script and no `trust_remote_code`: Parquet files and this card's YAML are all there is.", "",
        "## Configs", "",
        "| config | rows | one row is |", "|---|---|---|",
    ]
    for config, splits in result.rows.items():
        counts = ", ".join(f"{s}: {n}" for s, n in splits.items())
        lines.append(f"| `{config}` | {counts} | {ROW_MEANING[config]} |")
    lines += ["", "Splits are assigned once per document from a hash of its id and never change between versions.", ""]
    lines += file_lines(result)
    if figures:
        lines += ["## Figures", "", *figure_lines(figures)]
    lines += ["## Labels", "",
              "Bias-marker labels map onto the SemEval-2020 Task 11 technique-classification labels (the 14 its scorer reads) "
              "and the SemEval-2023 Task 3 subtask 3 techniques (23) only where the definitions match; a `—` is a deliberate "
              "gap, and the `unmapped-reason` column says why (hedges, weasel sourcing and epistemic verbs are media-bias "
              "markers, not persuasion techniques). Entity labels are OntoNotes 5 types; `PROGRAM` and `TECHNOLOGY` are "
              "extensions OntoNotes does not have.", ""]
    for layer, def_name in LAYER_LABEL_SET.items():
        lines += [f"### {layer} (`{def_name}`)", "", render_labels(corpus, schemas, [def_name])]
    if result.with_text:
        lines += ["## NER alignment", ""]
        if result.unaligned:
            lines += [f"{len(result.unaligned)} entity span(s) are not in the `ner` config (they stay in every other config):", "",
                      "| doc | annotation | text | reason |", "|---|---|---|---|"]
            lines += [f"| {u.doc_id} | {u.annotation_id} | {u.text} | {u.reason} |" for u in result.unaligned]
        else:
            lines.append("Every entity span aligns with token boundaries; none is left out of `ner`.")
        lines.append("")
    lines += [bibtex_section(citation_facts(corpus, version, set_name)), data_statement(corpus, set_name)]
    datasheet = corpus.root / "DATASHEET.md"
    if datasheet.is_file():
        lines += ["---", "", datasheet.read_text("utf-8")]
    return "\n".join(lines).rstrip("\n") + "\n"


def file_lines(result: BuildResult) -> list[str]:
    """How the rows are stored: shards, row groups, sort, label columns, and how SQL engines read them."""
    if not result.shards:
        return []
    shards = result.shards.values()
    largest = max(s["bytes"] for s in shards)
    group = max(s["largest_row_group"] for s in shards)
    return [
        "## Files", "",
        f"{len(result.shards)} Parquet files (zstd) under `data/<config>/`, named `<split>-<i>-of-<n>-<hash>.parquet` as `datasets` "
        f"names shards (plus the first 16 hex digits of the file's SHA-256). A shard holds up to {result.docs_per_shard:,} documents "
        f"in `doc_id` order (largest file here: {_size(largest)}; `datasets` cuts shards at 500 MB), in row groups of "
        f"{result.row_group_docs:,} documents (largest here: {_size(group)} uncompressed; `datasets` uses at most 100 MB, the "
        "dataset viewer reads row groups up to 286 MiB).", "",
        "Rows are sorted by `doc_id`, then `start` and `end` (spans) or `sentence_index` (`ner`); the sort is declared in each "
        "file's metadata. Every flat column but the texts has min/max statistics and a page index, so a filter on `doc_id` "
        "skips row groups. Each label column (a `ClassLabel` number for `datasets`) has a string twin, `<column>_name` "
        "(`ner_tag_names` for `ner_tags`), so SQL and DataFrame engines see the labels:", "",
        "```sql",
        "-- DuckDB, in this folder",
        "SELECT label_name, count(*) FROM 'data/entities/*.parquet' GROUP BY label_name ORDER BY 2 DESC;",
        "```", "",
        "```python",
        "import polars as pl",
        f'pl.scan_parquet("data/claims/*.parquet").filter(pl.col("doc_id") == "{result.example_doc}").collect()',
        "```", "",
        "`chipwar-shards.json` records what each shard was made from; the next `chipwar build` into the same folder reuses "
        "the shards whose documents did not change (the bytes are those of a full build).", "",
    ]


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.1f} kB"


def write_card(folder: Path, corpus: Corpus, schemas: Schemas, lay: Layouts, files: dict[str, dict[str, list[str]]],
               result: BuildResult, *, version: str, set_name: str, figures: Sequence[Figure] = ()) -> None:
    """Write ``README.md`` and its figures into a dataset folder."""
    for figure in figures:
        replace_file(folder / FIGURES_DIR / f"{figure.name}.svg", figure.svg.encode("utf-8"))
    documents = sum(result.rows.get("documents", {}).values())
    meta = merge_card_yaml(card_yaml(lay, files, documents, result.with_text, version), card_fields(corpus, set_name))
    header = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    body = card_body(corpus, schemas, result, version, set_name, figures)
    replace_file(folder / "README.md", (f"---\n{header}---\n\n" + body).encode("utf-8"))


def card_version(dataset: Path) -> str:
    """The dataset version a built folder's card declares (``version:`` in its YAML header)."""
    card = dataset / "README.md"
    text = card.read_text("utf-8", errors="replace") if card.is_file() else ""
    header = text.split("---\n", 2)[1] if text.startswith("---\n") and text.count("---\n") >= 2 else None
    try:
        data = yaml.safe_load(header) if header is not None else None
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or "version" not in data:
        raise EnvironmentProblem(f"{dataset}: not a built chipwar dataset folder (no dataset card README.md with a version)",
                                 hint="pass the folder `chipwar build` wrote, e.g. dist/chipwar-annotations")
    return str(data["version"])
