"""Commands on the corpus itself: validate, stats, generate, intake, agree, reanchor."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ..report import Report
from ._util import CORPUS, FORMAT, engine_for, engine_options, finish, open_corpus, progress


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path, exists=True), default=None)
@engine_options
@FORMAT
def validate(path: Path | None, engine_name: str, address: str | None, fmt: str) -> None:
    """Check the corpus: schema, text, offsets, ids, references, staleness, generated files.

    PATH is the corpus checkout (default: the one around the current folder), or corpus/,
    a document (corpus/<doc_id>.txt or .json), annotations/, a set folder or an annotation
    file inside it to check only that; any other path is a usage error. Never writes
    anything. Exit 0 when clean, 1 when problems were found, 2 on usage errors.

    \b
    Examples:
      chipwar validate
      chipwar validate annotations/gold/reg-2023-qiming.json
      chipwar validate --format json | jq '.problems[].code'
      chipwar validate --engine dask --address tcp://127.0.0.1:8786
    """
    from ..checks import check_scope
    from ..report import printable
    from ..validation.scope import scope_of

    corpus = open_corpus(Path.cwd() if path is None else path if path.is_dir() and not path.is_symlink() else path.absolute().parent)
    scope = scope_of(corpus, path)
    with engine_for(engine_name, address) as engine:
        validation = check_scope(corpus, scope, progress=progress("validating"), engine=engine)
    report = validation.report
    counted = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in report.counts.items()) or "nothing"
    what = scope.what if scope.whole else f"{scope.what}: read {_listed(validation.checked)}"
    finish(report, {"root": printable(corpus.root), "scope": scope.what, "checked_files": None if scope.whole else validation.checked},
           [f"validate: clean{f', with {len(report.warnings)} warning(s) above' if report.warnings else ''} — {what}; checked {counted}.",
            "Next: `chipwar stats` for a summary."] if report.ok else [],
           failed=[f"validate: {len(report.errors)} problem(s) in {len({p.file for p in report.errors})} file(s) — {what}; checked {counted}.",
                   "Fix them (each line says where, what was expected and what was found) and run it again."])


def _listed(files: list[str], limit: int = 10) -> str:
    """File names for a summary line: the first few, then how many more."""
    if not files:
        return "no file"
    return ", ".join(files[:limit]) + (f" and {len(files) - limit} more" if len(files) > limit else "")


@click.command()
@CORPUS
@FORMAT
def stats(corpus_path: Path, fmt: str) -> None:
    """Summarise the corpus: documents, splits, annotation sets and labels per layer.

    Files that do not pass the schema are left out of the figures and listed (exit 1).

    \b
    Examples:
      chipwar stats
      chipwar stats --format json
    """
    from ..stats import corpus_stats

    corpus = open_corpus(corpus_path)
    result = corpus_stats(corpus)
    data = result.to_dict()
    lines = [f"{data['documents']} documents, {data['characters']:,} characters; splits: "
             + ", ".join(f"{k} {v}" for k, v in data["splits"].items())]
    lines += [f"  {pub}: {n}" for pub, n in data["publishers"].items()]
    for set_name, info in data["sets"].items():
        lines.append(f"set {set_name}: {info['files']} file(s)")
        for layer, counts in info["layers"].items():
            top = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"  {layer}: {sum(counts.values())}" + (f" ({top})" if top else ""))
    lines.append("Next: `chipwar validate` to check it.")
    finish(result.report, data, lines,
           failed=[f"stats: {len(data['skipped'])} file(s) left out of these figures (listed above); "
                   "run `chipwar validate` for every problem in them."])


@click.command()
@CORPUS
@click.option("--check", is_flag=True, help="Only report stale blocks (exit 1), write nothing; the data is checked first, "
                                            "since the blocks are computed from it.")
@FORMAT
def generate(corpus_path: Path, check: bool, fmt: str) -> None:
    """Rewrite generated blocks (label tables, figures) in the Markdown files from schema/ and data.

    First finishes what an interrupted write left, and validates: on data with problems it
    writes nothing (exit 1). All files are written or none.

    \b
    Examples:
      chipwar generate
      chipwar generate --check
    """
    from ..checks import check_all
    from ..generated import update_generated
    from ..schema import load_schemas

    corpus = open_corpus(corpus_path)
    schemas = load_schemas(corpus.schema_dir)
    if check:
        report = check_all(corpus)
        finish(report, {"stale": sorted({p.file for p in report.problems if p.code == "generated_stale"})},
               ["generate --check: every generated block is up to date."] if report.ok else [],
               failed=["generate --check: fix the data problems, or run `chipwar generate` for stale blocks, and commit the result."])
    result = update_generated(corpus, schemas)
    report = Report(problems=result.problems)
    done = [f"updated {corpus.rel(p)}" for p in result.changed]
    done.append(f"generate: {len(result.changed)} file(s) updated." + (" Next: review with `git diff` and commit." if result.changed else ""))
    finish(report, {"updated": [corpus.rel(p) for p in result.changed], "recovered": result.recovered},
           result.recovered + (done if report.ok else []),
           failed=["generate: no block written; fix the problems above (`chipwar validate` lists them all) and run it again."])


@click.command()
@click.argument("received", type=click.Path(path_type=Path))
@click.option("--doc-id", required=True, help="Stable, readable id, e.g. reg-2023-qiming (lowercase, digits, hyphens).")
@click.option("--url", default=None, help="Address of the article; omit when unknown.")
@click.option("--publisher", default=None, help="Publisher name; omit when unknown.")
@click.option("--published", default=None, help="Publication date YYYY-MM-DD; omit when unknown.")
@click.option("--title", default=None, help="Headline; omit when unknown.")
@click.option("--title-source", type=click.Choice(["text", "url_slug", "publisher_page", "unknown"]), default="unknown",
              show_default=True, help="Where the headline was taken from.")
@click.option("--language", default="en", show_default=True, help="BCP 47 language tag.")
@click.option("--genre", type=click.Choice(["news_report", "opinion_commentary", "analysis"]), default=None,
              help="Genre as judged at intake; omit when unknown.")
@click.option("--rights", "rights_statement", required=True, help="Rights statement for the text.")
@click.option("--license", "license_", default=None, help="SPDX id when the text has a licence; omit when none.")
@click.option("--redistributable/--not-redistributable", default=False, show_default=True,
              help="Whether the text itself may be redistributed.")
@click.option("--author", "authors", multiple=True, help="An author (repeat); omit when unknown.")
@click.option("--note", "notes", multiple=True, metavar="FIELD=TEXT", help="Why a field is null or how it was established (repeat).")
@CORPUS
@FORMAT
def intake(received: Path, doc_id: str, url: str | None, publisher: str | None, published: str | None, title: str | None,
           title_source: str, language: str, genre: str | None, rights_statement: str, license_: str | None,
           redistributable: bool, authors: tuple[str, ...], notes: tuple[str, ...], corpus_path: Path, fmt: str) -> None:
    """Add a received article to corpus/: its exact text and its metadata.

    Unknown facts stay null; say why with --note FIELD=TEXT. Only a BOM, CRLF line ends
    and non-NFC text are normalised, and the metadata records it; an empty text, or one
    with control characters (NUL…) or not in UTF-8, is refused. An existing document is
    never replaced.

    \b
    Example:
      chipwar intake ~/inbox/article.txt --doc-id reg-2024-euv \\
        --url https://www.theregister.com/2024/01/02/euv/ --publisher "The Register" \\
        --published 2024-01-02 --title "EUV ..." --title-source text \\
        --rights "Copyright the publisher; not redistributable" --note authors="No byline in the received text"
    """
    from ..intake import IntakeRequest, intake_document

    parsed = {}
    for note in notes:
        key, eq, value = note.partition("=")
        if not eq or not key or not value:
            raise UsageError(f"--note {note!r}: expected FIELD=TEXT", hint='e.g. --note authors="No byline in the received text"')
        parsed[key] = value
    corpus = open_corpus(corpus_path)
    req = IntakeRequest(received=received, doc_id=doc_id, url=url, publisher=publisher, published=published, title=title,
                        title_source=title_source, language=language, genre=genre, rights_statement=rights_statement,
                        license=license_, redistributable=redistributable, authors=list(authors) or None, notes=parsed)
    meta = intake_document(corpus, req)
    steps = meta["intake"]["normalised"]
    finish(None, {"doc_id": doc_id, "metadata": meta},
           [f"added {doc_id}: {meta['intake']['length_codepoints']} code points, sha256 {meta['intake']['text_sha256'][:12]}…, "
            f"split {meta['split']}" + (f", normalised: {', '.join(steps)}" if steps else ""),
            "Next: `chipwar generate` (the generated figures count documents), then `chipwar validate`, "
            "then annotate it (annotations/GUIDELINES.md)."])


def _two_or_more(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    if len(value) < 2:
        raise click.BadParameter(f"agreement needs two or more annotation sets; {len(value)} given")
    return value


@click.command()
@click.argument("sets", nargs=-1, required=True, callback=_two_or_more)
@CORPUS
@FORMAT
def agree(sets: tuple[str, ...], corpus_path: Path, fmt: str) -> None:
    """Agreement of two or more annotation sets: spans, labels, attributes, references, document labels.

    SETS are folder names under annotations/ (e.g. two annotators and the gold). Per layer:
    span F1 (exact and overlap) and, on spans paired by overlap, agreement and Cohen's kappa
    of the label and of every attribute and reference (claimant, attribution chain, its
    original source and cues, restatements, targets, speakers, canonical ids) for every pair
    of sets; Krippendorff's alpha over all sets at once (nominal on spans matched across
    sets, unitized for where spans lie). Only documents every set annotated are compared;
    files that fail validation are left out and listed (exit 1).

    \b
    Examples:
      chipwar agree annotator-a annotator-b
      chipwar agree pass-1 pass-2 pass-3 gold --format json
    """
    from ..agreement import agree_sets, text_report

    result = agree_sets(open_corpus(corpus_path), sets)
    lines = text_report(result)
    lines += [f"not compared ({doc_id}): only in {', '.join(found)}" for doc_id, found in result.not_in_every_set.items()]
    lines.append("Next: adjudicate the differences into annotations/gold/ and run `chipwar validate`.")
    finish(result.report, result.to_dict(), lines,
           failed=["agree: not everything was compared (see above): files that fail validation are left out, and sets with no "
                   "document in common compare nothing; `chipwar validate` lists every problem."])


@click.command()
@click.argument("doc_id")
@click.argument("new_text_file", type=click.Path(path_type=Path))
@click.option("--reason", required=True, help="What was corrected and why; recorded in the document's metadata.")
@click.option("--drop-unplaced", is_flag=True,
              help="Write even when spans cannot be placed: drop those, each named in its file's decisions and in the metadata.")
@click.option("--dry-run", is_flag=True, help="Show where every span would go; write nothing.")
@CORPUS
@FORMAT
def reanchor(doc_id: str, new_text_file: Path, reason: str, drop_unplaced: bool, dry_run: bool, corpus_path: Path, fmt: str) -> None:
    """Correct DOC_ID's text to NEW_TEXT_FILE and move every annotation, in every set, onto it.

    Each span is placed by aligning the old and new text; else by finding its text with the
    32 code points on each side (like a W3C TextQuoteSelector's prefix and suffix); else, when
    only its inside was edited, on the edited text (listed). The SHA-256s and length are
    updated and the correction is recorded in the metadata. Every span that cannot be placed
    unambiguously is listed, and while one is, nothing is written unless --drop-unplaced.
    All files are written or none. Exit 1 when spans are unplaced and nothing was written.

    \b
    Examples:
      chipwar reanchor reg-2023-qiming fixed.txt --reason "Huawai -> Huawei (typo in the received copy)" --dry-run
      chipwar reanchor reg-2023-qiming fixed.txt --reason "Huawai -> Huawei (typo in the received copy)"
    """
    from ..align import describe_edits
    from ..reanchor import check_reason, plan_reanchor, write_reanchor

    check_reason(reason)
    corpus = open_corpus(corpus_path)
    plan = plan_reanchor(corpus, doc_id, new_text_file)
    written = [] if dry_run or (plan.unplaced and not drop_unplaced) else write_reanchor(corpus, plan, reason, drop_unplaced)
    c = plan.counts()
    lines = [f"reanchor {doc_id}: text {plan.old_length} → {plan.new_length} code points; {c['spans']} span(s) and cue(s) in "
             f"{len(plan.annotation_files)} set(s): {c['aligned']} aligned ({c['moved']} moved), {c['context']} by context, "
             f"{c['edited']} edited, {c['unplaced']} unplaced"]
    for p in plan.edited:  # the unplaced ones are the report's problems
        span = p.what if p.cue is not None else f"{p.id} {p.what}"
        lines.append(f"  edited   {p.set_name} {span} [{p.old_start}, {p.old_end}) → [{p.new_start}, {p.new_end}): "
                     + describe_edits(p.old_text, p.new_text or ""))
    if written:
        dropped = f", {len(plan.unplaced)} unplaced span(s) dropped (see each file's decisions)" if plan.unplaced else ""
        lines.append(f"wrote {len(written)} file(s){dropped}. Next: `chipwar validate`, review with `chipwar diff HEAD`, "
                     "add a '### Fixed' entry to CHANGELOG.md and commit.")
    elif dry_run:
        lines.append("dry run: nothing written. Next: run again without --dry-run.")
    blocked = bool(plan.unplaced) and not written and not dry_run
    finish(plan.report(dropping=drop_unplaced), {**plan.to_dict(), "written": [corpus.rel(p) for p in written]}, lines,
           failed=[f"nothing written: {len(plan.unplaced)} span(s) could not be placed. Fix NEW_TEXT_FILE, or run again with "
                   "--drop-unplaced to drop them (each is recorded in its file's decisions)."],
           exit_code=1 if blocked or (dry_run and plan.unplaced) else 0)


COMMANDS = (validate, stats, generate, intake, agree, reanchor)
