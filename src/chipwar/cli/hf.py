"""Commands that make and ship the Hugging Face dataset: build, rehydrate, publish."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from ._util import CORPUS, FORMAT, engine_for, engine_options, finish, open_corpus, progress


def _summary(result: Any, next_step: str) -> tuple[dict, list[str]]:
    data = asdict(result)
    data["out"] = str(data["out"])
    lines = [*result.recovered]
    lines.append(("replaced the earlier build in " if result.replaced else "built ") + str(result.out)
                 + ("" if result.with_text else " (annotations only, no text)"))
    lines += [f"  {config}: " + ", ".join(f"{s} {n}" for s, n in splits.items()) for config, splits in result.rows.items()]
    lines += [f"  ner: left out {u.doc_id} {u.annotation_id} {u.text!r}: {u.reason}" for u in result.unaligned[:SHOWN_UNALIGNED]]
    if len(result.unaligned) > SHOWN_UNALIGNED:
        lines.append(f"  ner: and {len(result.unaligned) - SHOWN_UNALIGNED} more left out (all in the card's NER alignment table)")
    if result.shards:
        lines.append(f"  {len(result.shards)} Parquet shard(s); {result.chunks} chunk(s) of documents, {result.reused} reused unchanged "
                     "from the earlier build")
    return data, [*lines, next_step]


#: Entity spans left out of ``ner`` listed in the text output; the card and ``--format json`` list them all.
SHOWN_UNALIGNED = 20


#: Skipped files listed in the text output; ``--format json`` lists them all.
SHOWN_SKIPPED = 20


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default="dist/chipwar", show_default=True,
              help="Dataset folder to write: new, empty, or a previous chipwar build (replaced as a whole when the build succeeds).")
@click.option("--set", "set_name", default="gold", show_default=True, help="Annotation set to publish.")
@click.option("--no-text", is_flag=True, help="Annotations-only variant: no article text; url, SHA-256 and offsets kept.")
@click.option("--docs-per-shard", type=click.IntRange(min=1), default=None,
              help="Documents per Parquet shard, in doc_id order (default: 20000, about 100 MB of the documents config).")
@click.option("--full", is_flag=True, help="Rebuild every shard, even those whose documents did not change since the build in --out.")
@engine_options
@CORPUS
@FORMAT
def build(out: Path, set_name: str, no_text: bool, docs_per_shard: int | None, full: bool, engine_name: str, address: str | None,
          corpus_path: Path, fmt: str) -> None:
    """Build the Hugging Face dataset folder: Parquet shards per config and split, and its dataset card.

    Validates while it builds (one pass) and refuses a corpus with problems. Deterministic: the
    same sources give byte-identical files, on either engine. A build into the folder of an
    earlier one reuses the shards whose documents did not change (--full: rebuild all).

    --out must be a new or empty folder or an earlier chipwar build still holding only
    the files it made (listed in its .chipwar-build.json); any other
    folder is refused, and nothing is written inside the corpus checkout. A killed build
    leaves the earlier one whole; the next build removes what it left.

    \b
    Examples:
      chipwar build --out dist/chipwar
      chipwar build --no-text --out dist/chipwar-annotations
      chipwar build --engine dask --address tcp://127.0.0.1:8786 --out dist/chipwar
      python -c "from datasets import load_dataset; print(load_dataset('$PWD/dist/chipwar', 'claims'))"
    """
    from ..hf.build import build_dataset
    from ..versions.version import dataset_version

    corpus = open_corpus(corpus_path)
    with engine_for(engine_name, address) as engine:
        result = build_dataset(corpus, out, set_name=set_name, with_text=not no_text, version=dataset_version(corpus),
                               progress=progress("building"), engine=engine, reuse=not full,
                               **({} if docs_per_shard is None else {"docs_per_shard": docs_per_shard}))
        ran_on = engine.describe()
    config = "entities" if "entities" in result.rows else next(iter(result.rows))
    data, lines = _summary(result, f"Next: load it with\n  python -c \"from datasets import load_dataset; "
                                   f"print(load_dataset('{result.out}', '{config}'))\"\n  (configs: {', '.join(result.rows)})")
    data["engine"] = ran_on
    lines.insert(-1, f"  ran on {ran_on}")
    finish(None, data, lines)


@click.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--texts", type=click.Path(path_type=Path), required=True,
              help="Folder with your own copies of the articles (any file names, sub-folders searched).")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Full dataset folder to write: new, empty, or a previous chipwar build.")
@FORMAT
def rehydrate(dataset: Path, texts: Path, out: Path, fmt: str) -> None:
    """Restore the article texts into an annotations-only build from your own copies.

    Each copy is matched to its document by SHA-256 after the intake normalisations (BOM,
    CRLF, NFC); files that are not texts of the dataset are skipped and listed. A document
    with no copy, or a copy named for it that differs, stops the run with the file named,
    and nothing is written. The result equals `chipwar build` with the texts.

    \b
    Example:
      chipwar rehydrate dist/chipwar-annotations --texts ~/articles --out dist/chipwar
    """
    from ..hf.rehydrate import rehydrate_dataset

    result = rehydrate_dataset(dataset, texts, out)
    data, lines = _summary(result, f"Next: load it with load_dataset('{result.out}', 'documents')")
    if result.skipped:
        shown = [f"  {s.file}: {s.reason}" for s in result.skipped[:SHOWN_SKIPPED]]
        more = len(result.skipped) - SHOWN_SKIPPED
        lines[-1:-1] = [f"skipped {len(result.skipped)} file(s) in {texts} that are not texts of this dataset:", *shown,
                        *([f"  … and {more} more (--format json lists them all)"] if more > 0 else [])]
    finish(None, data, lines)


@click.command()
@click.option("--repo-id", required=True, help="Hub dataset repository, OWNER/NAME.")
@click.option("--tag", default=None, help="Release tag to create, vX.Y.Z.")
@click.option("--folder", type=click.Path(path_type=Path), default="dist/chipwar", show_default=True,
              help="Built dataset folder; only the files the build made are sent.")
@click.option("--dry-run", is_flag=True, help="List exactly what would be uploaded; send nothing.")
@click.option("--include-texts", is_flag=True,
              help="Publish article texts whose rights do not allow redistribution: only when you hold the rights to share them.")
@FORMAT
def publish(repo_id: str, tag: str | None, folder: Path, dry_run: bool, include_texts: bool, fmt: str) -> None:
    """Upload a built dataset folder to the Hugging Face Hub and tag the release.

    Only the files the build made (listed in its .chipwar-build.json) are sent, never other
    files in the folder. The tag must be v + the build's dataset version. A build with the
    article texts is refused while any document's rights say its text may not be
    redistributed: publish a --no-text build instead, or pass --include-texts if you hold
    the rights. The token is read from the environment (HF_TOKEN) only, and never printed.

    \b
    Examples:
      chipwar build --no-text --out dist/chipwar-annotations
      chipwar build --engine dask --address tcp://127.0.0.1:8786 --out dist/chipwar
      chipwar publish --repo-id my-org/chipwar --folder dist/chipwar-annotations --tag v1.0.0 --dry-run
      HF_TOKEN=... chipwar publish --repo-id my-org/chipwar --folder dist/chipwar-annotations --tag v1.0.0
    """
    from ..hf.publish import plan_publish
    from ..hf.publish import publish as do_publish

    plan = plan_publish(folder, repo_id, tag, include_texts=include_texts)
    info = {"repo_id": plan.repo_id, "tag": plan.tag, "files": plan.files, "total_bytes": plan.total_bytes}
    if dry_run:
        finish(None, {**info, "dry_run": True, "url": None},
               [*plan.files, f"dry run: {len(plan.files)} file(s), {plan.total_bytes:,} bytes would go to datasets/{repo_id}"
                + (f" and be tagged {tag}" if tag else "") + ". Next: run again without --dry-run."])
    url = do_publish(plan, f"chipwar {tag or 'update'}")
    finish(None, {**info, "dry_run": False, "url": url},
           [f"published {len(plan.files)} file(s) to {url}" + (f", tagged {tag}" if tag else ""),
            f'Next: load_dataset("{repo_id}", "entities"' + (f', revision="{tag}")' if tag else ")")])


COMMANDS = (build, rehydrate, publish)
