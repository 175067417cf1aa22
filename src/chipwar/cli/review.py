"""The command that writes the review site: ``chipwar review``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ._util import CORPUS, FORMAT, finish, open_corpus, progress


@click.command()
@click.argument("sets", nargs=-1, metavar="[SET ...]")
@click.option("--out", type=click.Path(path_type=Path), default="dist/review", show_default=True,
              help="Site folder to write: new, empty, or an earlier chipwar review (replaced as a whole when it succeeds).")
@click.option("--set", "set_name", default="gold", show_default=True, help="Annotation set each document page shows.")
@click.option("--compare", is_flag=True, help="Compare the SETs named after it (two or more), document by document.")
@click.option("--no-text", is_flag=True, help="Annotations and offsets only, no article text (for sharing).")
@CORPUS
@FORMAT
def review(sets: tuple[str, ...], out: Path, set_name: str, compare: bool, no_text: bool, corpus_path: Path, fmt: str) -> None:
    """Write a static site to read the annotated corpus: one page per document, entities, plots.

    Each document page shows the text with every layer drawn over it, a card with every
    attribute of each span (click it), attribution chains with their cues, document labels,
    metadata, rights and validation status. With --compare, each document also gets a page
    with the sets merged and every difference marked, linked to the decisions of --set.
    The site opens from disk (file://) and makes no network request. --out must be new,
    empty or an earlier chipwar review; nothing is written inside the corpus checkout.

    \b
    Examples:
      chipwar review --out site
      chipwar review --compare pass-1 pass-2 --out site
      chipwar review --no-text --out site-annotations
      xdg-open site/index.html
    """
    from ..review.site import write_review_site

    example = "e.g. chipwar review --compare pass-1 pass-2 --out site"
    if sets and not compare:
        raise UsageError(f"annotation sets named ({', '.join(sets)}) without --compare", hint=example)
    if compare and len(sets) < 2:
        raise UsageError("--compare needs two or more annotation sets after it", hint=example)
    corpus = open_corpus(corpus_path)
    result = write_review_site(corpus, out, set_name=set_name, compare=sets, with_text=not no_text, progress=progress("reviewing"))
    data = {"out": str(result.out), "set": result.set_name, "compare": result.compare, "with_text": result.with_text,
            "documents": result.documents, "entities": result.entities, "disagreements": result.disagreements,
            "figures": [src for src, _ in result.figures], "files": result.files}
    lines = [*result.recovered, ("replaced the earlier review in " if result.replaced else "wrote ") + f"{result.out}: "
             f"{result.documents} document page(s), {result.entities} entities, {len(result.figures)} figure(s)"
             + ("" if result.with_text else ", no article text")]
    if result.compare:
        lines.append(f"  compared {', '.join(result.compare)}: {result.disagreements} unit(s) differ")
    if result.report.problems:
        lines.append(f"  {len(result.report.problems)} file(s) do not pass validation; their pages say why (run `chipwar validate`)")
    lines.append(f"Next: open {result.out / 'index.html'} in a browser (it works offline, from disk)")
    finish(result.report, data, lines)


COMMANDS = (review,)
