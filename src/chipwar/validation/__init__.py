"""``chipwar validate``: every check of the corpus in one pass, every problem collected.

What is read: exactly what the run's scope names (the whole corpus, or what a path points
at; :mod:`.scope`). Folders are listed first (:mod:`.listing`); a symlink that leaves the
repository, a folder or pipe where a file belongs, and a file name that is not a document id
are reported and never read.

Checks, per document (:mod:`.documents`): the text is UTF-8, NFC, not empty, without CR, BOM
or control characters, and its SHA-256 and length equal the metadata; the metadata follows
``schema/document.schema.json`` and keeps the split assigned from the id
(:mod:`chipwar.splits`). Per annotation file (:mod:`.annotations`): JSON Schema (closed label
sets included; :mod:`.schema_problems`); offsets are JSON integers (the schema's ``integer``
also admits ``1.0`` and ``1e30``); the file's document exists and its text SHA-256 matches
(else the file is *stale*); for every span ``0 <= start < end <= len(text)``,
``text[start:end] == span["text"]`` and no white space at the edges; ids are
``<doc_id>:<local>`` and unique; every canonical-entity reference resolves. Across the files
of a set, one canonical id has one record, label and name (:mod:`.canonical`). What an
interrupted write left is reported as a warning.

Work goes document by document, in chunks over worker processes (:mod:`.run`, :mod:`.chunk`),
and nothing is written, so memory stays flat. The per-file work is kept near the floor of
reading and parsing (see BENCHMARKS.md): paths are plain strings, folders are listed once,
the NFC check goes line by line, and a span that passes every check costs one comparison
chain; problems are then described by the slower code.

Readers that trust the data (stats, agreement, generated figures) load it through
:mod:`.sound`, which runs these same checks (annotation files against their document's
text) and gives them only the files that pass.

Nothing is re-exported here: import from the module that holds a name.
"""
