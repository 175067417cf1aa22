"""Malformed input of every kind into the commands that write: build, reanchor, Label Studio tasks, publish.

The same seeded cases as :mod:`tests.test_fuzz_readers` (every JSON type and edge in every
field, whole files replaced by garbage, folders, symlinks out of the repository), each run
through one writing command in turn. Whatever the input: the exit code is 0, 1 or 2 (never 3,
never a traceback); a command that refuses writes nothing, in the corpus or at its output.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import flat, run_chipwar, tree
from .test_fuzz_readers import CASES, DOC, TEXT
from .test_fuzz_readers import small as small

WRITERS: list[tuple[str, ...]] = [
    ("build", "--corpus", "{root}", "--out", "{out}/build", "--format", "json"),
    ("build", "--corpus", "{root}", "--out", "{out}/build", "--no-text"),
    ("reanchor", DOC, "{out}/fixed.txt", "--reason", "fuzz", "--corpus", "{root}", "--format", "json"),
    ("labelstudio", "tasks", "--set", "gold", "--out", "{out}/tasks.json", "--corpus", "{root}"),
]
SHARDS = 4


def _fixed_text(root: Path, out: Path) -> None:
    """A corrected text for reanchor: the stored one (when readable) with one word changed."""
    try:
        text = (root / TEXT).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        text = "a text"
    (out / "fixed.txt").write_text(text.replace("Huawei", "Huawai", 1), "utf-8")


@pytest.mark.parametrize("shard", range(SHARDS))
def test_writers_on_malformed_input_never_crash_and_write_nothing_when_they_refuse(shard: int, small: Path,
                                                                                  tmp_path: Path) -> None:
    for i, (name, breaker, _) in enumerate(CASES):
        if i % SHARDS != shard:
            continue
        root, out = tmp_path / "repo", tmp_path / "out"
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(small, root, symlinks=True)
        out.mkdir()
        _fixed_text(root, out)
        breaker(root)
        args = [a.format(root=root, out=out) for a in WRITERS[i // SHARDS % len(WRITERS)]]
        before, outputs_before = tree(root), tree(out)
        result = run_chipwar(*args, cwd=tmp_path)
        said = result.stdout + result.stderr
        assert result.returncode in (0, 1, 2), (name, args, result.returncode, said[-2000:])
        assert "Traceback" not in said and "internal error" not in said, (name, args, said[-2000:])
        if "--format" in args:
            assert flat(result.stdout)["exit_code"] == result.returncode
        if result.returncode != 0:
            assert tree(root) == before, (name, args, "wrote into the corpus while refusing", said[-1000:])
            assert tree(out) == outputs_before, (name, args, "wrote an output while refusing", said[-1000:])


def test_every_writer_meets_cases() -> None:
    used = {i // SHARDS % len(WRITERS) for i in range(len(CASES))}
    assert used == set(range(len(WRITERS)))
