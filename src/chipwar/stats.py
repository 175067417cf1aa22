"""A summary of the corpus: documents, annotation sets and label counts per layer.

Read document by document, like validation, so it scales with the corpus.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .corpus import Corpus
from .layers import LAYERS


@dataclass
class CorpusStats:
    """Counts over a corpus; ``labels[set][layer]`` counts labels."""

    documents: int = 0
    characters: int = 0
    splits: Counter = field(default_factory=Counter)
    publishers: Counter = field(default_factory=Counter)
    labels: dict[str, dict[str, Counter]] = field(default_factory=dict)
    files: Counter = field(default_factory=Counter)

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
        }


def corpus_stats(corpus: Corpus) -> CorpusStats:
    """Count documents, characters and labels per set and layer."""
    stats = CorpusStats()
    for doc_id in corpus.doc_ids():
        meta = corpus.read_metadata(doc_id)
        stats.documents += 1
        stats.characters += meta["intake"]["length_codepoints"]
        stats.splits[meta["split"]] += 1
        stats.publishers[meta["publisher"] or "unknown"] += 1
    for set_name in corpus.set_names():
        layers = stats.labels.setdefault(set_name, {layer: Counter() for layer in LAYERS})
        for doc_id in corpus.annotated_doc_ids(set_name):
            data = corpus.read_annotations(set_name, doc_id)
            stats.files[set_name] += 1
            for layer in LAYERS:
                layers[layer].update(span["label"] for span in data.get(layer, ()))
    return stats
