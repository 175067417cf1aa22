"""``chipwar labelstudio …``: config, tasks, import, push and pull (the commands only; work is in :mod:`chipwar.labelstudio`)."""

from __future__ import annotations

from pathlib import Path

import click

from ..files import dumps_json
from ..ids import check_set_name
from ..labelstudio import write_output
from ..labelstudio.config import checked_config
from ..labelstudio.importer import import_file
from ..labelstudio.tasks import build_tasks
from ..schema import load_schemas
from ._util import CORPUS, FORMAT, finish, import_summary, open_corpus

ANNOTATOR = click.option("--annotator", required=True, help="Set to write: annotations/NAME/ (a-z, 0-9, -, _).")
USER = click.option("--user", default=None, help="Import only this Label Studio user's annotations (e-mail or user id).")
KIND = click.option("--kind", type=click.Choice(["person", "model", "team", "import"]), default="person", show_default=True,
                    help="Who the Label Studio user is, recorded in the file's annotator.")
REPLACE = click.option("--replace", is_flag=True, help="Overwrite annotation files that differ (listed as conflicts otherwise).")
PROJECT = click.option("--project", "title", default="chipwar", show_default=True, help="Label Studio project title.")

#: What to do after an import that wrote files.
NEXT = "`chipwar validate`, then `chipwar agree` against another set, then commit."


@click.group("labelstudio")
def labelstudio() -> None:
    """Annotate in Label Studio: config, tasks, import of exports, push and pull.

    \b
    Examples:
      chipwar labelstudio config --out labelstudio.xml
      chipwar labelstudio tasks --set gold --out tasks.json
      chipwar labelstudio import export.json --annotator alice
      python scripts/labelstudio_server.py run -- chipwar labelstudio push --set gold
    """


@labelstudio.command("config")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write here instead of printing.")
@CORPUS
def config_command(out: Path | None, corpus_path: Path) -> None:
    """The labeling config generated from schema/, checked with label-studio-sdk's LabelInterface.

    \b
    Examples:
      chipwar labelstudio config
      chipwar labelstudio config --out labelstudio.xml
    """
    corpus = open_corpus(corpus_path)
    xml, checked = checked_config(load_schemas(corpus.schema_dir))
    if not checked:
        click.echo("note: label-studio-sdk not installed; config not checked (pip install 'chipwar[labelstudio]')", err=True)
    if out is None:
        click.echo(xml, nl=False)
        return
    write_output(out, xml.encode("utf-8"), corpus.root)
    click.echo(f"wrote {out}. Next: paste it into the project's Labeling Interface, or use `chipwar labelstudio push`.")


@labelstudio.command("tasks")
@click.option("--set", "set_name", default="gold", show_default=True, help="Annotation set sent as predictions; '' for none.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Task file to write (JSON).")
@CORPUS
def tasks_command(set_name: str, out: Path, corpus_path: Path) -> None:
    """One task per document (text, doc id, SHA-256), with a set's annotations as predictions, ids kept.

    \b
    Examples:
      chipwar labelstudio tasks --out tasks.json
      chipwar labelstudio tasks --set '' --out empty-tasks.json
    """
    if set_name:
        check_set_name(set_name)
    corpus = open_corpus(corpus_path)
    tasks = build_tasks(corpus, set_name or None)
    write_output(out, dumps_json(tasks), corpus.root)
    with_pred = sum(1 for t in tasks if t.get("predictions"))
    click.echo(f"wrote {len(tasks)} task(s) to {out}, {with_pred} with predictions from {set_name or 'no set'}.")
    click.echo("Next: import the file in the project's Data Manager, or use `chipwar labelstudio push`.")


@labelstudio.command("import")
@click.argument("export_file", metavar="EXPORT.json", type=click.Path(path_type=Path))
@ANNOTATOR
@USER
@KIND
@REPLACE
@CORPUS
@FORMAT
def import_command(export_file: Path, annotator: str, user: str | None, kind: str, replace: bool, corpus_path: Path,
                   fmt: str) -> None:
    """Turn a full JSON export of a project into validated annotation files (all or nothing).

    \b
    Examples:
      chipwar labelstudio import project-1-at-2026-11-30.json --annotator alice
      chipwar labelstudio import export.json --annotator bob --user bob@example.org --format json
    """
    check_set_name(annotator)
    corpus = open_corpus(corpus_path)
    import_summary(corpus, import_file(corpus, export_file, annotator, user=user, kind=kind, replace=replace), "Label Studio", NEXT)


@labelstudio.command("push")
@click.option("--set", "set_name", default="gold", show_default=True, help="Annotation set sent as predictions; '' for none.")
@PROJECT
@CORPUS
@FORMAT
def push_command(set_name: str, title: str, corpus_path: Path, fmt: str) -> None:
    """Create or update the project on the server: config, and a task per document not yet there.

    The server and token come from LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY.

    \b
    Examples:
      python scripts/labelstudio_server.py run -- chipwar labelstudio push --set gold
      LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=... chipwar labelstudio push
    """
    from ..labelstudio.sync import push

    if set_name:
        check_set_name(set_name)
    corpus = open_corpus(corpus_path)
    result = push(corpus, set_name or None, title)
    finish(None, {"project_id": result.project_id, "url": result.url, "created_project": result.created_project,
                  "added": result.added, "existing": result.existing},
           [f"project {title!r} ({'created' if result.created_project else 'updated'}): {len(result.added)} task(s) added, "
            f"{len(result.existing)} already there.",
            f"Next: open {result.url} and annotate; then `chipwar labelstudio pull --annotator NAME`."])


@labelstudio.command("pull")
@ANNOTATOR
@USER
@KIND
@REPLACE
@PROJECT
@CORPUS
@FORMAT
def pull_command(annotator: str, user: str | None, kind: str, replace: bool, title: str, corpus_path: Path, fmt: str) -> None:
    """Export the project (full JSON) from the server and import it into annotations/NAME/.

    \b
    Examples:
      python scripts/labelstudio_server.py run -- chipwar labelstudio pull --annotator alice
      python scripts/labelstudio_server.py run -- chipwar labelstudio pull --annotator bob --user bob@example.org
    """
    from ..labelstudio.sync import pull

    check_set_name(annotator)
    corpus = open_corpus(corpus_path)
    import_summary(corpus, pull(corpus, annotator, title, user=user, kind=kind, replace=replace), "Label Studio", NEXT)
