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


def _build_summary(result: object, fmt: str, next_step: str) -> None:
    from dataclasses import asdict

    if fmt == "json":
        data = asdict(result)
        data["out"] = str(data["out"])
        _echo_json(data)
        return
    click.echo(f"built {result.out}" + ("" if result.with_text else " (annotations only, no text)"))
    for config, splits in result.rows.items():
        click.echo(f"  {config}: " + ", ".join(f"{s} {n}" for s, n in splits.items()))
    for u in result.unaligned:
        click.echo(f"  ner: left out {u.doc_id} {u.annotation_id} {u.text!r}: {u.reason}", err=True)
    click.echo(next_step)


@main.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default="dist/chipwar", show_default=True,
              help="Dataset folder to write (replaced as a whole when the build succeeds).")
@click.option("--set", "set_name", default="gold", show_default=True, help="Annotation set to publish.")
@click.option("--no-text", is_flag=True, help="Annotations-only variant: no article text; url, SHA-256 and offsets kept.")
@CORPUS
@FORMAT
def build(out: Path, set_name: str, no_text: bool, corpus_path: Path, fmt: str) -> None:
    """Build the Hugging Face dataset folder: Parquet per config and split, and its dataset card.

    Validates first and refuses a corpus with problems. Deterministic: the same sources give
    byte-identical files.

    \b
    Examples:
      chipwar build --out dist/chipwar
      chipwar build --no-text --out dist/chipwar-annotations
      python -c "from datasets import load_dataset; print(load_dataset('$PWD/dist/chipwar', 'claims'))"
    """
    from .hf import BuildError, build_dataset
    from .versions import VersionError, dataset_version

    corpus = _corpus(corpus_path)
    try:
        result = build_dataset(corpus, out, set_name=set_name, with_text=not no_text, version=dataset_version(corpus),
                               progress=_progress("building"))
    except (BuildError, SchemaError, VersionError) as exc:
        raise click.ClickException(str(exc)) from None
    config = "entities" if "entities" in result.rows else next(iter(result.rows))
    _build_summary(result, fmt, f"Next: load it with\n  python -c \"from datasets import load_dataset; "
                                f"print(load_dataset('{result.out}', '{config}'))\"\n  (configs: {', '.join(result.rows)})")


@main.command()
@click.argument("dataset", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--texts", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="Folder with your own copies of the articles (any file names).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Full dataset folder to write.")
@FORMAT
def rehydrate(dataset: Path, texts: Path, out: Path, fmt: str) -> None:
    """Restore the article texts into an annotations-only build from your own copies.

    Each copy's SHA-256 must equal the one recorded for its document; a mismatch stops the
    run with the file named, and nothing is written.

    \b
    Example:
      chipwar rehydrate dist/chipwar-annotations --texts ~/articles --out dist/chipwar
    """
    from .hf import BuildError, RehydrateError, rehydrate_dataset

    version = _card_version(dataset)
    try:
        result = rehydrate_dataset(dataset, texts, out, version=version)
    except (RehydrateError, BuildError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from None
    _build_summary(result, fmt, f"Next: load it with load_dataset('{result.out}', 'documents')")


def _card_version(dataset: Path) -> str:
    import yaml

    text = (dataset / "README.md").read_text("utf-8") if (dataset / "README.md").is_file() else ""
    if not text.startswith("---\n"):
        raise click.UsageError(f"{dataset}: not a built dataset folder (no dataset card README.md)")
    return str(yaml.safe_load(text.split("---\n", 2)[1])["version"])


@main.command()
@click.option("--repo-id", required=True, help="Hub dataset repository, OWNER/NAME.")
@click.option("--tag", default=None, help="Release tag to create, vX.Y.Z.")
@click.option("--folder", type=click.Path(path_type=Path, file_okay=False), default="dist/chipwar", show_default=True,
              help="Built dataset folder.")
@click.option("--dry-run", is_flag=True, help="List exactly what would be uploaded; send nothing.")
@FORMAT
def publish(repo_id: str, tag: str | None, folder: Path, dry_run: bool, fmt: str) -> None:
    """Upload a built dataset folder to the Hugging Face Hub and tag the release.

    The token is read from the environment (HF_TOKEN) only, and never printed.

    \b
    Examples:
      chipwar publish --repo-id my-org/chipwar --tag v1.0.0 --dry-run
      HF_TOKEN=... chipwar publish --repo-id my-org/chipwar --tag v1.0.0
    """
    from .publish import PublishError, plan_publish, publish as do_publish

    try:
        plan = plan_publish(folder, repo_id, tag)
        if dry_run:
            if fmt == "json":
                _echo_json({"repo_id": plan.repo_id, "tag": plan.tag, "files": plan.files, "total_bytes": plan.total_bytes})
            else:
                for name in plan.files:
                    click.echo(name)
                click.echo(f"dry run: {len(plan.files)} file(s), {plan.total_bytes:,} bytes would go to datasets/{repo_id}"
                           + (f" and be tagged {tag}" if tag else "") + ". Next: run again without --dry-run.")
            return
        url = do_publish(plan, f"chipwar {tag or 'update'}")
    except PublishError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"published {len(plan.files)} file(s) to {url}" + (f", tagged {tag}" if tag else ""))
    click.echo(f'Next: load_dataset("{repo_id}", "entities"' + (f', revision="{tag}")' if tag else ")"))


@main.command("diff")
@click.argument("rev_a", metavar="[A]", required=False)
@click.argument("rev_b", metavar="[B]", required=False)
@CORPUS
@FORMAT
def diff_command(rev_a: str | None, rev_b: str | None, corpus_path: Path, fmt: str) -> None:
    """What changed in the dataset between two versions: documents, annotations, label counts, schema.

    A and B are git revisions or tags. Without them: the last release tag against the working
    tree (before the first release, against nothing: everything is new). With A alone: A
    against the working tree. Annotations are matched by id, then by span and label when ids
    changed; each change lists the fields that differ. Exit 0 (differences are not errors).

    \b
    Examples:
      chipwar diff                          # since the last release
      chipwar diff v0.1.0 v0.2.0
      chipwar diff HEAD --format json | jq '.annotations[] | select(.change == "removed")'
    """
    from .diff import DiffError, diff_revisions, render_diff
    from .gitrepo import GitError, open_repo
    from .versions import VersionError, dataset_version, last_release, required_bump

    corpus = _corpus(corpus_path)
    try:
        repo = open_repo(corpus.root)
        last = last_release(repo) if rev_a is None else None
        result = diff_revisions(repo, last.tag if last else rev_a, rev_b)
    except GitError as exc:
        raise click.UsageError(str(exc)) from None
    except DiffError as exc:
        raise click.ClickException(str(exc)) from None
    level, reasons = required_bump(result)
    if fmt == "json":
        _echo_json({**result.to_dict(), "required_bump": None if result.empty else level, "bump_reasons": reasons})
        return
    click.echo(render_diff(result))
    if result.empty:
        return
    click.echo(f"As a release after {result.a}: needs at least a {level} version ({reasons[0]}"
               + (f", and {len(reasons) - 1} more)." if len(reasons) > 1 else ")."))
    if rev_a is None and rev_b is None:
        try:
            suggestion = str(last.bump(level)) if last else dataset_version(corpus)
        except VersionError:
            suggestion = "X.Y.Z"
        click.echo(f"Next: say what changed under '## [Unreleased]' in CHANGELOG.md, commit, then `chipwar release {suggestion}`.")


@main.command()
@click.argument("version")
@click.option("--dry-run", is_flag=True, help="Run every check and say what would happen; change nothing.")
@CORPUS
@FORMAT
def release(version: str, dry_run: bool, corpus_path: Path, fmt: str) -> None:
    """Release the dataset as VERSION (X.Y.Z): commit CHANGELOG.md and VERSION, tag vX.Y.Z.

    Refuses, giving every reason, unless: corpus/, annotations/, schema/, CHANGELOG.md and
    VERSION are committed; `chipwar validate` is clean; VERSION is the next major, minor or
    patch of the last release and at least the bump the changes since it need (a breaking
    schema change needs a major one, added documents or annotations a minor one); and
    CHANGELOG.md has entries under Unreleased. Then it moves those entries under
    '## [VERSION] - today', writes VERSION, commits both files and makes the annotated tag.
    Pushes nothing.

    \b
    Examples:
      chipwar release 0.2.0 --dry-run
      chipwar release 0.2.0 && git push --follow-tags
    """
    from .gitrepo import GitError
    from .versions import Version, VersionError, make_release, plan_release

    corpus = _corpus(corpus_path)
    try:
        wanted = Version.parse(version)
    except VersionError as exc:
        raise click.BadParameter(str(exc), param_hint="VERSION") from None
    try:
        plan = plan_release(corpus, wanted)
    except GitError as exc:
        raise click.ClickException(str(exc)) from None
    info = {"version": str(wanted), "tag": wanted.tag, "last_release": str(plan.last_release) if plan.last_release else None,
            "required_bump": plan.required, "bump_reasons": plan.reasons, "changes": plan.counts}
    if not plan.report.ok:
        if fmt == "json":
            click.echo(render_json(plan.report, released=False, **info))
        else:
            click.echo(render_text(plan.report))
            click.echo(f"release {wanted.tag}: refused, {len(plan.report.problems)} reason(s) above. "
                       "Fix them and run it again (`--dry-run` checks without releasing).", err=True)
        sys.exit(1)
    since = f"since {plan.last_release.tag}" if plan.last_release else "in the first release"
    if dry_run:
        if fmt == "json":
            _echo_json({**info, "released": False, "dry_run": True})
        else:
            click.echo(f"release {wanted.tag}: every check passes ({plan.required} changes {since}). Nothing changed.")
            click.echo(f"Next: `chipwar release {wanted}` to commit CHANGELOG.md and VERSION and tag {wanted.tag}.")
        return
    try:
        commit = make_release(corpus, plan)
    except VersionError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        _echo_json({**info, "released": True, "commit": commit})
        return
    click.echo(f"released {wanted.tag} at {commit[:12]} ({plan.required} changes {since}): "
               f"CHANGELOG.md has '## [{wanted}]', VERSION says {wanted}.")
    click.echo(f"Next: `git push origin HEAD {wanted.tag}`, then `chipwar build` and `chipwar publish --tag {wanted.tag}`.")


@main.command()
@click.argument("doc_id")
@click.argument("new_text_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
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
    from .reanchor import ReanchorError, describe_edits, plan_reanchor, write_reanchor
    from .report import short

    corpus = _corpus(corpus_path)
    try:
        plan = plan_reanchor(corpus, doc_id, new_text_file.read_bytes(), str(new_text_file))
        written = [] if dry_run or (plan.unplaced and not drop_unplaced) else write_reanchor(corpus, plan, reason, drop_unplaced)
    except ReanchorError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        _echo_json({**plan.to_dict(), "written": [corpus.rel(p) for p in written]})
    else:
        c = plan.counts()
        click.echo(f"reanchor {doc_id}: text {plan.old_length} → {plan.new_length} code points; {c['spans']} span(s) in "
                   f"{len(plan.annotation_files)} set(s): {c['aligned']} aligned ({c['moved']} moved), {c['context']} by context, "
                   f"{c['edited']} edited, {c['unplaced']} unplaced")
        for p in plan.edited + plan.unplaced:
            if p.placed:
                click.echo(f"  edited   {p.set_name} {p.layer} {p.id} {p.label} [{p.old_start}, {p.old_end}) → [{p.new_start}, {p.new_end}): "
                           + describe_edits(p.old_text, p.new_text or ""))
            else:
                click.echo(f"  UNPLACED {p.set_name} {p.layer} {p.id} {p.label} [{p.old_start}, {p.old_end}) {short(p.old_text, 40)}: {p.reason}")
        if written:
            dropped = f", {len(plan.unplaced)} unplaced span(s) dropped (see each file's decisions)" if plan.unplaced else ""
            click.echo(f"wrote {len(written)} file(s){dropped}. Next: `chipwar validate`, review with `chipwar diff HEAD`, "
                       "add a '### Fixed' entry to CHANGELOG.md and commit.")
        elif plan.unplaced and not dry_run:
            click.echo(f"nothing written: {len(plan.unplaced)} span(s) could not be placed. Fix NEW_TEXT_FILE, or run again with "
                       "--drop-unplaced to drop them (each is recorded in its file's decisions).", err=True)
        else:
            click.echo("dry run: nothing written. Next: run again without --dry-run.")
    sys.exit(1 if plan.unplaced and not written else 0)


@main.command()
@click.option("--check", is_flag=True,
              help="CI: fail when corpus/, annotations/ or schema/ changed since the last release tag and Unreleased is empty.")
@CORPUS
@FORMAT
def changelog(check: bool, corpus_path: Path, fmt: str) -> None:
    """Show the dataset version and the changelog's Unreleased entries, or check them (--check).

    The check also fails on a malformed CHANGELOG.md. With no release tag yet (or none
    fetched: CI clones are often shallow) there is nothing to compare, and it says so.

    \b
    Examples:
      chipwar changelog
      chipwar changelog --check
    """
    from .report import Problem
    from .versions import VersionError, check_changelog, dataset_version, read_changelog

    corpus = _corpus(corpus_path)
    result = check_changelog(corpus)
    try:
        version = dataset_version(corpus)
    except VersionError as exc:
        version = None
        result.report.add(Problem("version_missing", str(exc), "VERSION", hint="restore VERSION from git"))
    unreleased = read_changelog(corpus)[1].unreleased
    entries = unreleased.entries if unreleased else {}
    if fmt == "json":
        click.echo(render_json(result.report, version=version, last_release=result.last_release, changed=result.changed,
                               note=result.note, unreleased=entries))
        sys.exit(0 if result.report.ok or not check else 1)
    if not check:
        click.echo(f"dataset version {version}; last release {result.last_release or 'none'}. Unreleased:")
        for kind, items in entries.items():
            click.echo(f"  {kind}:")
            click.echo("\n".join(f"    - {item}" for item in items) if items else "    (none)")
    if result.report.problems:
        click.echo(render_text(result.report))
    click.echo(f"changelog: {result.note.rstrip('.')}.")
    if result.report.ok:
        click.echo("changelog: ok." + ("" if check else " Next: add entries under '## [Unreleased]' as you change things."))
    else:
        click.echo(f"changelog: {len(result.report.problems)} problem(s); each says what to add or fix.", err=True)
    sys.exit(0 if result.report.ok or not check else 1)


from .labelstudio_cli import labelstudio  # noqa: E402 - the group's commands use the options defined above

main.add_command(labelstudio)
