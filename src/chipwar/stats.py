"""A summary of the corpus: documents, annotation sets and label counts per layer.

Read document by document, like validation, so it scales with the corpus. A file that
does not pass the checks ``chipwar validate`` makes of it (unreadable, not JSON, not
following the schema, a span that is not its text's slice, a symlink out of the repository)
is left out of the figures and named in ``report``, with why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .corpus import Corpus
from .layers import LAYERS
from .report import Report
from .schema import Schemas, load_schemas


@dataclass
class CorpusStats:
    """Counts over a corpus; ``labels[set][layer]`` counts labels; ``report`` names the files left out."""

    documents: int = 0
    characters: int = 0
    splits: Counter = field(default_factory=Counter)
    publishers: Counter = field(default_factory=Counter)
    labels: dict[str, dict[str, Counter]] = field(default_factory=dict)
    files: Counter = field(default_factory=Counter)
    report: Report = field(default_factory=Report)

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "characters": self.characters,
            "splits": dict(sorted(self.splits.items())),
            "publishers": dict(sorted(self.publishers.items())),
            "sets": {
                s: {"files": self.files[s], "layers": {layer: dict(sorted(c.items())) for layer, c in layers.items()}}
                for s, layers in sorted(self.labels.items())
            },
            "skipped": sorted({p.file for p in self.report.problems}),
        }


def corpus_stats(corpus: Corpus, schemas: Schemas | None = None) -> CorpusStats:
    """Count documents, characters and labels per set and layer, over the files that pass every
    check ``chipwar validate`` makes of them (annotation files against their document's text).

    Document by document: each text is read once, for its metadata and every set's file of it.
    """
    from .validation.sound import load_annotations, load_document, readable_files, readable_sets

    schemas = schemas or load_schemas(corpus.schema_dir)
    stats = CorpusStats()
    documents, problems = readable_files(corpus, corpus.corpus_dir, ".json")
    stats.report.extend(problems)
    set_names, problems = readable_sets(corpus)
    stats.report.extend(problems)
    annotated: dict[str, set[str]] = {}
    for set_name in set_names:
        stats.labels[set_name] = {layer: Counter() for layer in LAYERS}
        doc_ids, problems = readable_files(corpus, corpus.annotations_dir / set_name, ".json")
        stats.report.extend(problems)
        annotated[set_name] = set(doc_ids)
    listed = set(documents)
    for doc_id in sorted(listed.union(*annotated.values())):
        doc = load_document(corpus, schemas, doc_id)
        if doc_id in listed:
            if doc.problem is not None:
                stats.report.add(doc.problem)
            else:
                stats.documents += 1
                stats.characters += doc.meta["intake"]["length_codepoints"]
                stats.splits[doc.meta["split"]] += 1
                stats.publishers[doc.meta["publisher"] or "unknown"] += 1
        for set_name in (s for s in set_names if doc_id in annotated[s]):
            data, problem = load_annotations(corpus, schemas, corpus.annotation_path(set_name, doc_id), doc)
            if problem is not None:
                stats.report.add(problem)
                continue
            stats.files[set_name] += 1
            for layer in LAYERS:
                stats.labels[set_name][layer].update(span["label"] for span in data[layer])
    return stats
