"""The train/validation/test split of a document, fixed by its id alone.

Intake records it in the metadata and validation checks that it was not changed since: a
document never moves between splits, so a model evaluated on one version's test split never
saw those documents in another version's training data.
"""

from __future__ import annotations

import hashlib


def split_for(doc_id: str) -> str:
    """Stable split from the document id alone: 80% train, 10% validation, 10% test.

    It depends on nothing else, so a document never changes split between versions.
    """
    bucket = int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"
