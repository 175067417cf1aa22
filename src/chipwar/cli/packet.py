"""Commands for blind annotation passes: packet prepare, check, submit."""

from __future__ import annotations

from pathlib import Path

import click

from ._util import CORPUS, FORMAT, finish, open_corpus


@click.group()
def packet() -> None:
    """Blind annotation: give one annotator one document with only the guidelines and schema.

    \b
    Examples:
      chipwar packet prepare reg-2023-qiming --annotator pass-1 --model-name claude --out packets/pass-1/reg-2023-qiming
      chipwar packet check packets/pass-1/reg-2023-qiming
      chipwar packet submit packets/pass-1/reg-2023-qiming
    """


@packet.command()
@click.argument("doc_id")
@click.option("--annotator", required=True, help="The annotator's set name (the pass), e.g. pass-1.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="A new or empty folder for the packet.")
@click.option("--kind", type=click.Choice(["model", "person"]), default="model", show_default=True, help="Who annotates.")
@click.option("--model-name", help="For --kind model: the model's name as its provider gives it.")
@click.option("--model-version", help="For --kind model: its version or snapshot id (left null when not given).")
@CORPUS
@FORMAT
def prepare(doc_id: str, annotator: str, out: Path, kind: str, model_name: str | None, model_version: str | None,
            corpus_path: Path, fmt: str) -> None:
    """Write the packet for one annotator and one document: GUIDELINES.md, the two schema files, the text, and an
    empty annotation file whose header records the SHA-256 of each file given and the time it was prepared.

    Refused (exit 1) when the guidelines or the label definitions quote the document: a packet
    must not carry the answers.

    \b
    Examples:
      chipwar packet prepare tfi-2021-chip-crisis --annotator pass-2 --model-name claude --out packets/pass-2/tfi-2021-chip-crisis
      chipwar packet prepare reg-2023-qiming --annotator alice --kind person --out ~/alice/reg-2023-qiming
    """
    from ..packet import prepare_packet

    made = prepare_packet(open_corpus(corpus_path), doc_id, annotator, out, kind=kind, model_name=model_name, model_version=model_version)
    finish(None, made.to_dict(), [f"packet for {annotator} / {doc_id} written to {made.folder}: {', '.join(made.files)}",
                                  f"Next: give the folder to the annotator (nothing else); they fill in {doc_id}.json and run "
                                  f"`chipwar packet check {made.folder}`; then `chipwar packet submit {made.folder}`."])


@packet.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@FORMAT
def check(folder: Path, fmt: str) -> None:
    """Check a filled-in packet against its own text and schema (offsets, span texts, references, chains),
    and that its guidelines, schema and text are the ones given. Needs nothing but the packet.

    \b
    Examples:
      chipwar packet check packets/pass-1/reg-2023-qiming
      chipwar packet check packets/pass-1/reg-2023-qiming --format json
    """
    from ..packet import check_packet

    checked = check_packet(folder)
    finish(checked.report, {"folder": str(folder), "doc_id": checked.doc_id},
           [f"packet {checked.doc_id}: clean. Next: hand it in (`chipwar packet submit {folder}`)."],
           failed=[f"packet {checked.doc_id}: fix the problems above and run the check again."])


@packet.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--set", "set_name", help="Annotation set to write into (default: the packet's annotator name).")
@CORPUS
@FORMAT
def submit(folder: Path, set_name: str | None, corpus_path: Path, fmt: str) -> None:
    """Bring a finished packet into the corpus as annotations/<set>/<doc_id>.json, stamped with the time of receipt.

    Checked first; a file with problems, or one that already exists, is not written.

    \b
    Examples:
      chipwar packet submit packets/pass-1/reg-2023-qiming
      chipwar packet submit packets/pass-1/reg-2023-qiming --format json
    """
    from ..packet import submit_packet

    corpus = open_corpus(corpus_path)
    done = submit_packet(corpus, folder, set_name)
    written = corpus.rel(done.written) if done.written else None
    lines = []
    if written:
        lines.append(f"wrote {written} (submitted {done.check.data['annotator']['submitted']}).")
        if done.stale_given:
            lines.append(f"note: {', '.join(done.stale_given)} changed in the corpus since the packet was prepared; the file records "
                         "what was given.")
        lines.append("Next: `chipwar validate`, then commit the pass as it came back.")
    finish(done.check.report, {"doc_id": done.check.doc_id, "set": done.set_name, "written": written, "stale_given": done.stale_given},
           lines, failed=[f"nothing written for {done.check.doc_id}: fix the problems above in the packet and submit again."])


COMMANDS = (packet,)
