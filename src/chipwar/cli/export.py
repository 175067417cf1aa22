"""``chipwar export FORMAT``: the corpus in the format of a tool its users work in."""

from __future__ import annotations

from pathlib import Path

import click

from ..exports.formats import FORMAT_NAMES
from ._util import CORPUS, FORMAT, finish, open_corpus

#: The next step said after each format: how its users read it back.
READ_BACK = {
    "spacy": "python -c \"import spacy; from spacy.tokens import DocBin; "
             "print(list(DocBin().from_disk('{out}/train.spacy').get_docs(spacy.blank('en').vocab))[0].spans)\"",
    "conll": "python -m spacy convert {out}/train.conll FOLDER --converter ner   (spaCy reads the documents back)",
    "webanno": "load {out}/<doc_id>.jsonld in any JSON-LD or Web Annotation tool; the selectors count in {out}/texts/<doc_id>.txt",
    "semeval2020": "score with the SemEval-2020 Task 11 scorer against {out}/train-labels-task-flc-tc/",
    "semeval2023": "score with the SemEval-2023 Task 3 scorer against {out}/train-labels-subtask-3-spans/",
    "brat": "open {out} in brat (its annotation.conf is included), or: chipwar import brat {out} --annotator NAME",
}


@click.command("export")
@click.argument("format_name", metavar="FORMAT", type=click.Choice(FORMAT_NAMES))
@click.option("--set", "set_name", default="gold", show_default=True, help="Annotation set to export.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder to write: new, empty, or an earlier chipwar output (replaced whole when the export succeeds).")
@CORPUS
@FORMAT
def export(format_name: str, set_name: str, out: Path, corpus_path: Path, fmt: str) -> None:
    """Export an annotation set for spaCy, brat, the SemEval scorers, W3C Web Annotation or CoNLL.

    \b
    FORMAT is one of:
      spacy        spaCy DocBin: doc.ents, a span group per layer, attributes in span extensions
      brat         brat standoff .txt + .ann per document, with annotation.conf
      semeval2020  SemEval-2020 Task 11 article and technique-label files
      semeval2023  SemEval-2023 Task 3 article and span-label files
      webanno      W3C Web Annotation JSON-LD, one annotation per span
      conll        CoNLL IOB2 token-per-line files, equal to the `ner` config

    Files that do not pass `chipwar validate` are left out whole and listed (exit 1). The
    command says what the format cannot hold and counts every span it had to leave out.
    --out must be new, empty or an earlier chipwar output, outside the corpus checkout; the
    folder is written beside it and swapped in at the end.

    \b
    Examples:
      chipwar export spacy --out dist/export-spacy
      chipwar export semeval2023 --set pass-1 --out dist/semeval2023-pass-1
      chipwar export conll --out dist/conll --format json
    """
    from ..exports.run import run_export

    corpus = open_corpus(corpus_path)
    run = run_export(corpus, format_name, out, set_name=set_name)
    res = run.result
    data = {"format": format_name, "set": set_name, "out": str(run.out), "documents": res.documents, "spans": res.spans,
            "files": res.files, "dropped": dict(sorted(res.dropped.items())), "keeps": run.format.keeps,
            "cannot_hold": run.format.cannot_hold, "replaced": run.replaced}
    lines = [*run.recovered, ("replaced the earlier output in " if run.replaced else "wrote ") + f"{run.out}: {run.format.summary}",
             f"  {res.documents} document(s), {res.spans} span(s), {len(res.files)} file(s) from annotations/{set_name}/",
             f"  keeps: {run.format.keeps}"]
    if res.dropped:
        lines.append(f"  cannot hold: {run.format.cannot_hold}; left out:")
        lines += [f"    {what}: {n}" for what, n in sorted(res.dropped.items())]
    lines += [f"  note: {what}: {n}" for what, n in sorted(res.report.counts.items())]
    lines.append("Next: " + READ_BACK[format_name].format(out=run.out, set=set_name))
    finish(res.report, data, lines, failed=["some files were left out (listed above): run `chipwar validate` for every problem"])


COMMANDS = (export,)
