"""The dataset's versions, one module per job, each importing only those above it:

- :mod:`.git` — the git commands chipwar runs;
- :mod:`.compat` — how much a schema change breaks, and the bump a set of changes needs;
- :mod:`.version` — the version in ``VERSION``;
- :mod:`.history` — which release is the last one, by tag or by the repository's own record;
- :mod:`.changelog` — CHANGELOG.md, and the CI check of it;
- :mod:`.diff` — what changed in the dataset between two sides;
- :mod:`.release` — what the next release would hold, checking one and making it.
"""
