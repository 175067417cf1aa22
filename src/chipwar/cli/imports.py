"""``chipwar import …``: annotations made in another tool back into a set (the commands only; work is in :mod:`chipwar.exports`)."""

from __future__ import annotations

from pathlib import Path

import click

from ..ids import check_set_name
from ._util import CORPUS, FORMAT, import_summary, open_corpus


@click.group("import")
def import_group() -> None:
    """Bring annotations made in another tool back into an annotation set, validated, all or nothing.

    \b
    Examples:
      chipwar export brat --out dist/brat && chipwar import brat dist/brat --annotator alice
    """


@import_group.command("brat")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--annotator", required=True, help="Set to write: annotations/NAME/ (a-z, 0-9, -, _).")
@click.option("--kind", type=click.Choice(["person", "model", "team", "import"]), default="person", show_default=True,
              help="Who annotated in brat, recorded in the file's annotator.")
@click.option("--replace", is_flag=True, help="Overwrite annotation files that differ (listed as conflicts otherwise).")
@CORPUS
@FORMAT
def brat_command(folder: Path, annotator: str, kind: str, replace: bool, corpus_path: Path, fmt: str) -> None:
    """Read a brat folder (from `chipwar export brat`, annotated in brat) into annotations/NAME/.

    Every .ann line is checked, every span against the corpus's text; the files are validated
    as `chipwar validate` would before any is written, all at once. Spans that come back
    unchanged keep the provenance the repository records; new or changed ones are NAME's.

    \b
    Examples:
      chipwar import brat dist/brat --annotator alice
      chipwar import brat ~/brat/data/chipwar --annotator alice --replace --format json
    """
    from ..exports.brat_import import import_folder

    check_set_name(annotator)
    corpus = open_corpus(corpus_path)
    result = import_folder(corpus, folder, annotator, kind=kind, replace=replace)
    import_summary(corpus, result, "brat", f"`chipwar validate`, then `chipwar agree {annotator} gold`, then commit.")


COMMANDS = (import_group,)
