"""The ``chipwar`` command: a thin skin over the library.

Each command declares its options, calls one library function, renders the result and
returns an exit code: 0 clean, 1 problems found, 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import click
import orjson

from . import __version__
from .corpus import Corpus, CorpusNotFound, find_corpus
from .report import Report, render_json, render_text
from .schema import SchemaError

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      help="Output for people (text) or machines (json).")
CORPUS = click.option("--corpus", "corpus_path", type=click.Path(path_type=Path, file_okay=False), default=".",
                      show_default=True, help="The corpus checkout (a folder with corpus/ and schema/), or any folder inside it.")


def _corpus(path: Path) -> Corpus:
    try:
        return find_corpus(path)
    except CorpusNotFound as exc:
        raise click.UsageError(str(exc)) from None


def _progress(label: str) -> Callable[[int, int], None] | None:
    """A progress line on stderr for long work, when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if done == total or done % max(1, total // 100) == 0:
            click.echo(f"\r{label}: {done}/{total} ({100 * done // max(total, 1)}%)", err=True, nl=done == total)

    return show


def _echo_json(obj: object) -> None:
    click.echo(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode())


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="chipwar")
def main() -> None:
    """chipwar: the chip-war news corpus and the tools that keep it honest.

    \b
    Start here:
      chipwar validate            check everything, every problem at once
      chipwar stats               what is in the corpus
    """


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path, exists=True), default=".")
@FORMAT
def validate(path: Path, fmt: str) -> None:
    """Check the corpus: schema, text, offsets, ids, references, staleness, generated files.

    PATH is the corpus checkout (default: the current folder), or a document or annotation
    file or set folder inside it to check only that. Never writes anything. Exit 0 when
    clean, 1 when problems were found, 2 on usage errors.

    \b
    Examples:
      chipwar validate
      chipwar validate annotations/gold/reg-2023-qiming.json
      chipwar validate --format json | jq '.problems[].code'
    """
    from .validate import validate_corpus

    corpus = _corpus(path if path.is_dir() else path.parent)
    try:
        report = validate_corpus(corpus, only=path, progress=_progress("validating"))
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    _finish(report, fmt, corpus, "validate")


def _finish(report: Report, fmt: str, corpus: Corpus, what: str) -> None:
    if fmt == "json":
        click.echo(render_json(report, root=str(corpus.root)))
    else:
        if report.problems:
            click.echo(render_text(report))
        counted = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in report.counts.items())
        if report.ok:
            click.echo(f"{what}: clean — checked {counted or 'nothing'}.")
            click.echo("Next: `chipwar stats` for a summary.")
        else:
            click.echo(f"{what}: {len(report.problems)} problem(s) in {len({p.file for p in report.problems})} file(s) — checked {counted}.", err=True)
            click.echo("Fix them (each line says where, what was expected and what was found) and run it again.", err=True)
    sys.exit(0 if report.ok else 1)


@main.command()
@CORPUS
@FORMAT
def stats(corpus_path: Path, fmt: str) -> None:
    """Summarise the corpus: documents, splits, annotation sets and labels per layer.

    \b
    Examples:
      chipwar stats
      chipwar stats --format json
    """
    from .stats import corpus_stats

    corpus = _corpus(corpus_path)
    data = corpus_stats(corpus).to_dict()
    if fmt == "json":
        _echo_json(data)
        return
    click.echo(f"{data['documents']} documents, {data['characters']:,} characters; splits: "
               + ", ".join(f"{k} {v}" for k, v in data["splits"].items()))
    for pub, n in data["publishers"].items():
        click.echo(f"  {pub}: {n}")
    for set_name, info in data["sets"].items():
        click.echo(f"set {set_name}: {info['files']} file(s)")
        for layer, counts in info["layers"].items():
            total = sum(counts.values())
            top = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            click.echo(f"  {layer}: {total}" + (f" ({top})" if top else ""))
    click.echo("Next: `chipwar validate` to check it.")


@main.command()
@CORPUS
@click.option("--check", is_flag=True, help="Only report stale blocks (exit 1), write nothing.")
def generate(corpus_path: Path, check: bool) -> None:
    """Rewrite generated blocks (label tables, figures) in the Markdown files from schema/ and data.

    \b
    Examples:
      chipwar generate
      chipwar generate --check
    """
    from .generated import check_generated, update_generated
    from .schema import load_schemas

    corpus = _corpus(corpus_path)
    try:
        schemas = load_schemas(corpus.schema_dir)
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    if check:
        problems = check_generated(corpus, schemas)
        _finish(Report(problems=problems), "text", corpus, "generate --check")
    changed, problems = update_generated(corpus, schemas)
    for p in problems:
        click.echo(f"{p.location()} [{p.code}] {p.message}", err=True)
    for path in changed:
        click.echo(f"updated {corpus.rel(path)}")
    click.echo(f"generate: {len(changed)} file(s) updated." + (" Next: review with `git diff` and commit." if changed else ""))
    sys.exit(1 if problems else 0)


@main.command()
@click.argument("received", type=click.Path(path_type=Path, exists=True, dir_okay=False))
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
def intake(received: Path, doc_id: str, url: str | None, publisher: str | None, published: str | None, title: str | None,
           title_source: str, language: str, genre: str | None, rights_statement: str, license_: str | None,
           redistributable: bool, authors: tuple[str, ...], notes: tuple[str, ...], corpus_path: Path) -> None:
    """Add a received article to corpus/: its exact text and its metadata.

    Unknown facts stay null; say why with --note FIELD=TEXT. Only a BOM, CRLF line ends
    and non-NFC text are normalised, and the metadata records it.

    \b
    Example:
      chipwar intake ~/inbox/article.txt --doc-id reg-2024-euv \\
        --url https://www.theregister.com/2024/01/02/euv/ --publisher "The Register" \\
        --published 2024-01-02 --title "EUV ..." --title-source text \\
        --rights "Copyright the publisher; not redistributable" --note authors="No byline in the received text"
    """
    from .intake import IntakeError, IntakeRequest, intake_document

    parsed = {}
    for note in notes:
        key, eq, value = note.partition("=")
        if not eq or not key or not value:
            raise click.BadParameter(f"{note!r}: expected FIELD=TEXT", param_hint="--note")
        parsed[key] = value
    corpus = _corpus(corpus_path)
    req = IntakeRequest(received=received, doc_id=doc_id, url=url, publisher=publisher, published=published, title=title,
                        title_source=title_source, language=language, genre=genre, rights_statement=rights_statement,
                        license=license_, redistributable=redistributable, authors=list(authors) or None, notes=parsed)
    try:
        meta = intake_document(corpus, req)
    except IntakeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {doc_id}: {meta['intake']['length_codepoints']} code points, sha256 {meta['intake']['text_sha256'][:12]}…, "
               f"split {meta['split']}" + (f", normalised: {', '.join(meta['intake']['normalised'])}" if meta['intake']['normalised'] else ""))
    click.echo("Next: `chipwar validate`, then annotate it (annotations/GUIDELINES.md).")


@main.command()
@click.argument("set_a")
@click.argument("set_b")
@CORPUS
@FORMAT
def agree(set_a: str, set_b: str, corpus_path: Path, fmt: str) -> None:
    """Agreement between two annotation sets: span F1 (exact, overlap), label agreement, kappa.

    SET_A and SET_B are folder names under annotations/ (e.g. two annotators).

    \b
    Examples:
      chipwar agree annotator-a annotator-b
      chipwar agree annotator-a gold --format json
    """
    from .agree import agree_sets, agreement_table

    corpus = _corpus(corpus_path)
    missing = [s for s in (set_a, set_b) if s not in corpus.set_names()]
    if missing:
        raise click.UsageError(f"no annotation set {', '.join(map(repr, missing))} under annotations/; "
                               f"sets here: {', '.join(corpus.set_names()) or 'none'}")
    result = agree_sets(corpus, set_a, set_b)
    if fmt == "json":
        _echo_json(result.to_dict())
        return
    click.echo(agreement_table(result))
    for side, docs in (("only in " + set_a, result.only_in_a), ("only in " + set_b, result.only_in_b)):
        if docs:
            click.echo(f"not compared ({side}): {', '.join(docs)}")
    click.echo("Next: adjudicate the differences into annotations/gold/ and run `chipwar validate`.")
