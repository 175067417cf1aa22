"""Writes that survive being killed, a second copy at once, and a failing file system.

Real processes are killed with SIGKILL at chosen points (a wrapper patches one function of
the writer to kill its own process there) or at a random moment; concurrent runs are made to
meet at the lock by holding it from the test until both wait on it (seen in /proc/locks).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chipwar import outputs, writer
from chipwar.corpus import Corpus
from chipwar.errors import EnvironmentProblem, UsageError
from chipwar.files import sha256_text
from chipwar.reanchor import plan_reanchor, write_reanchor
from chipwar.synthetic import write_synthetic_corpus
from chipwar.validation.run import validate_corpus

from .conftest import REPO, files_of, flat, run_chipwar, tree
from .labelstudio_data import export_from_predictions, region_items, task_of

DOC = "reg-2023-qiming"
MARKER = outputs.BUILD_MARKER

#: Runs the chipwar command line after the patch given as the first argument (Python source).
WRAPPER = """
import os, signal, sys
from chipwar import outputs, writer
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
exec(sys.argv[1])
from chipwar.cli import main
main(sys.argv[2:], prog_name="chipwar")
"""


def _popen(patch: str, *args: str, cwd: Path = REPO) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRAPPER, patch, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _killed(patch: str, *args: str) -> None:
    """Run chipwar with ``patch`` applied and check that it was killed by it."""
    proc = _popen(patch, *args)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err




def _waiting_for_lock(pid: int) -> bool:
    """Whether process ``pid`` is blocked waiting for an flock (a ``->`` line in /proc/locks)."""
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if len(parts) > 5 and parts[1] == "->" and parts[5] == str(pid):
            return True
    return False


def _wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    write_synthetic_corpus(root, 40, 400, schema_dir=REPO / "schema")
    (root / "VERSION").write_bytes((REPO / "VERSION").read_bytes())
    return root


@pytest.fixture
def previous(synthetic: Path, tmp_path: Path) -> Path:
    """``dist/chipwar``: an earlier build of the synthetic corpus."""
    out = tmp_path / "dist" / "chipwar"
    assert run_chipwar("build", "--out", str(out), "--corpus", str(synthetic)).returncode == 0
    return out


def _beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def _change_one_label(corpus: Path, tmp_path: Path) -> Path:
    """A copy of ``corpus`` whose build differs from it."""
    work = tmp_path / "changed"
    shutil.copytree(corpus, work)
    path = next((work / "annotations" / "gold").glob("*.json"))
    data = json.loads(path.read_text("utf-8"))
    data["entities"][0].update(label="LAW" if data["entities"][0]["label"] != "LAW" else "EVENT", org_type=None, gpe_role=None)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return work


# --- build: killed, swapped, concurrent ---------------------------------------------------------------------------

def test_killed_before_the_swap_leaves_the_earlier_build_and_the_next_build_cleans_up(
        synthetic: Path, previous: Path, tmp_path: Path) -> None:
    before = files_of(previous)
    changed = _change_one_label(synthetic, tmp_path)
    _killed("outputs._sync_tree = die", "build", "--out", str(previous), "--corpus", str(changed))
    assert files_of(previous) == before
    (stale,) = _beside(previous)
    assert stale.startswith(".chipwar.chipwar-staging-") and (previous.parent / stale / MARKER).is_file()
    result = run_chipwar("build", "--out", str(previous), "--corpus", str(changed), "--format", "json")
    assert result.returncode == 0, result.stdout
    assert flat(result.stdout)["recovered"] == [f"removed {stale}, left by a killed chipwar build"]
    assert _beside(previous) == [] and files_of(previous) != before


def test_killed_between_the_renames_of_a_swap_gets_the_earlier_build_back(synthetic: Path, previous: Path, tmp_path: Path) -> None:
    """Where the file system cannot exchange two folders at once, the swap is two renames."""
    before = files_of(previous)
    changed = _change_one_label(synthetic, tmp_path)
    patch = ("outputs._exchange = lambda a, b: False\n"
             "real = os.rename\n"
             "def rename(src, dst):\n"
             "    real(src, dst)\n"
             "    if '.chipwar-old-' in str(dst): die()\n"
             "os.rename = rename\n")
    _killed(patch, "build", "--out", str(previous), "--corpus", str(changed))
    assert not previous.exists()
    assert [n.split("-")[1] for n in _beside(previous)] == ["old", "staging"]
    with pytest.raises(RuntimeError), outputs.FolderBuild(previous, {}):  # the next build, failing after its recovery
        raise RuntimeError("stop")
    assert files_of(previous) == before and _beside(previous) == []
    _killed(patch, "build", "--out", str(previous), "--corpus", str(changed))
    result = run_chipwar("build", "--out", str(previous), "--corpus", str(changed), "--format", "json")
    assert result.returncode == 0, result.stdout
    assert flat(result.stdout)["recovered"][0] == f"put back {previous}, moved aside by a chipwar build killed while swapping"
    assert _beside(previous) == [] and files_of(previous) != before


def test_killed_at_any_moment_the_folder_is_one_whole_build(synthetic: Path, previous: Path, tmp_path: Path) -> None:
    old = files_of(previous)
    changed = _change_one_label(synthetic, tmp_path)
    new_out = tmp_path / "fresh" / "chipwar"
    assert run_chipwar("build", "--out", str(new_out), "--corpus", str(changed)).returncode == 0
    new = files_of(new_out)
    for delay in (0.0, 0.02, 0.05, 0.1, 0.2):
        proc = _popen("", "build", "--out", str(previous), "--corpus", str(changed))
        _wait_until(lambda proc=proc: proc.poll() is not None or any(".chipwar-staging-" in n for n in _beside(previous)),
                    "staging appears")
        time.sleep(delay)
        proc.kill()
        proc.communicate()
        assert files_of(previous) in (old, new)
        assert run_chipwar("build", "--out", str(previous), "--corpus", str(synthetic)).returncode == 0
        assert files_of(previous) == old and _beside(previous) == []


def test_a_running_builds_staging_folder_is_not_removed(synthetic: Path, previous: Path) -> None:
    """A build waits for the one running beside it; only then is the other's staging folder stale."""
    running = previous.parent / ".chipwar.chipwar-staging-0123456789ab"
    running.mkdir()
    (running / "README.md").write_text("being written", "utf-8")
    with outputs.locked_folder(previous.parent):  # what a running build holds
        proc = _popen("", "build", "--out", str(previous), "--corpus", str(synthetic))
        _wait_until(lambda: _waiting_for_lock(proc.pid), "the second build waits for the lock")
        assert (running / "README.md").read_text("utf-8") == "being written"
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"removed {running.name}, left by a killed chipwar build" in out and _beside(previous) == []


# --- corpus writes: a rename that fails midway, a killed reanchor -------------------------------------------------

def _consistent(root: Path) -> None:
    """Text, metadata and every annotation set of DOC agree, and no staging file or journal is left."""
    corpus = Corpus(root)
    sha = sha256_text(corpus.read_text(DOC))
    assert corpus.read_metadata(DOC)["intake"]["text_sha256"] == sha
    for set_name in corpus.set_names():
        assert corpus.read_annotations(set_name, DOC)["text_sha256"] == sha, set_name
    assert validate_corpus(corpus).ok
    assert writer.leftovers(root, [root / "corpus", *(root / "annotations").iterdir()]) == []


def _plan(root: Path) -> tuple[Corpus, object]:
    corpus = Corpus(root)
    fixed = root.parent / "fixed.txt"
    fixed.write_text("UPDATED: " + corpus.read_text(DOC), "utf-8")
    return corpus, plan_reanchor(corpus, DOC, fixed)


@pytest.mark.parametrize("finish", ["recover", "next_write"])
def test_reanchor_interrupted_by_a_failing_rename_is_finished_later(
        corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finish: str) -> None:
    corpus, plan = _plan(corpus_copy)
    old_meta = (corpus_copy / "corpus" / f"{DOC}.json").read_bytes()
    real, calls = os.replace, []

    def failing(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:  # the journal, the text, then the first annotation file fails (the metadata comes last)
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(EnvironmentProblem, match="write interrupted .*the next chipwar command that writes here finishes it"):
        write_reanchor(corpus, plan, "test")
    monkeypatch.setattr(os, "replace", real)
    assert corpus.read_text(DOC) == plan.new_text and (corpus_copy / "corpus" / f"{DOC}.json").read_bytes() == old_meta
    assert writer.leftovers(corpus_copy, [corpus_copy / "corpus"])  # the journal and staging files say so
    if finish == "recover":
        with writer.locked(corpus_copy):
            done = writer.recover(corpus_copy)
        assert any(line.startswith("finished an interrupted write") for line in done)
    else:
        received = tmp_path / "other.txt"
        received.write_text("Another article.\n", "utf-8")
        result = run_chipwar("intake", str(received), "--doc-id", "other-doc", "--rights", "Test.", "--corpus", str(corpus_copy))
        assert result.returncode == 0, result.stderr
    _consistent(corpus_copy)
    assert corpus.read_metadata(DOC)["corrections"][-1]["reason"] == "test"


def test_reanchor_killed_midway_is_all_or_nothing(corpus_copy: Path) -> None:
    _, plan = _plan(corpus_copy)
    patch = ("real, calls = os.replace, []\n"
             "def replace(src, dst):\n"
             "    calls.append(dst)\n"
             "    if len(calls) == 3: die()\n"
             "    real(src, dst)\n"
             "os.replace = replace\n")
    _killed(patch, "reanchor", DOC, str(corpus_copy.parent / "fixed.txt"), "--reason", "killed", "--corpus", str(corpus_copy))
    with writer.locked(corpus_copy):
        writer.recover(corpus_copy)
    _consistent(corpus_copy)
    assert Corpus(corpus_copy).read_text(DOC) == plan.new_text


def test_a_file_name_too_long_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(UsageError, match="file name too long"):
        writer.write_files(root, {root / "short.txt": b"a", root / ("x" * 256 + ".json"): b"b"})
    assert sorted(p.name for p in root.iterdir()) == [writer.LOCK_NAME]


def test_a_transaction_writes_only_onto_the_files_it_read(tmp_path: Path) -> None:
    """Transaction.expect: a file changed since it was read (or made, or removed) stops the whole write; a file
    that already holds what would be written is left as it is; an expectation alone is checked too."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_bytes(b"a0")
    (root / "b.txt").write_bytes(b"b0")

    def tx(**expected: bytes | None) -> writer.Transaction:
        t = writer.Transaction(root)
        for name, content in expected.items():
            t.expect(root / f"{name}.txt", content)
        t.write(root / "a.txt", b"a1")
        t.write(root / "c.txt", b"c1")
        return t

    def files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(root.glob("*.txt"))}

    for expected, says in ((dict(a=b"other", c=None), "a.txt (was changed)"), (dict(a=b"a0", b=None), "b.txt (now exists)"),
                           (dict(a=b"a0", c=b"c0"), "c.txt (was removed)")):
        with pytest.raises(writer.ChangedMeanwhile, match=rf"^{re.escape(says)}: changed while this command ran .*nothing written; run it again"):
            tx(**expected).commit()
        assert files() == {"a.txt": b"a0", "b.txt": b"b0"}
    (root / "c.txt").write_bytes(b"c1")  # another run wrote exactly this meanwhile
    inode = (root / "c.txt").stat().st_ino
    done = tx(a=b"a0", c=None)
    assert done.commit() == [root / "a.txt"] and done.unchanged == [root / "c.txt"]
    assert files() == {"a.txt": b"a1", "b.txt": b"b0", "c.txt": b"c1"} and (root / "c.txt").stat().st_ino == inode
    only = writer.Transaction(root)
    only.expect(root / "b.txt", b"b0")
    assert only.commit() == []
    only.expect(root / "b.txt", b"bX")
    with pytest.raises(writer.ChangedMeanwhile, match="b.txt"):
        only.commit()


def test_a_folder_where_a_file_goes_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "folder.json").mkdir(parents=True)
    with pytest.raises(UsageError, match="folder.json: is a folder .*nothing written"):
        writer.write_files(root, {root / "a.txt": b"a", root / "folder.json": b"{}"})
    assert sorted(p.name for p in root.iterdir()) == [writer.LOCK_NAME, "folder.json"] and not any((root / "folder.json").iterdir())


# --- intake: two at once ------------------------------------------------------------------------------------------

def test_two_intakes_of_one_id_at_once_one_wins_whole(corpus_copy: Path, tmp_path: Path) -> None:
    received = []
    for name in ("first", "second"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"The {name} copy of the article.\n", "utf-8")
        received.append(path)
    with writer.locked(corpus_copy):  # both pass their early checks, then meet at the lock
        procs = [_popen("", "intake", str(p), "--doc-id", "same-doc", "--rights", "Test.", "--corpus", str(corpus_copy))
                 for p in received]
        for proc in procs:
            _wait_until(lambda proc=proc: _waiting_for_lock(proc.pid), "both intakes wait for the lock")
    results = [(proc.wait(timeout=120), *proc.communicate()) for proc in procs]
    assert sorted(code for code, _, _ in results) == [0, 2]
    (loser,) = [err for code, _, err in results if code == 2]
    assert "already exists" in loser and "nothing written" in loser and "Traceback" not in loser
    corpus = Corpus(corpus_copy)
    meta, text = corpus.read_metadata("same-doc"), corpus.read_text("same-doc")
    assert meta["intake"]["text_sha256"] == sha256_text(text)
    assert (tmp_path / meta["intake"]["received_file"]).read_text("utf-8") == text
    assert writer.leftovers(corpus_copy, [corpus_copy / "corpus"]) == []


# --- reanchor and Label Studio import: two at once ---------------------------------------------------------------

def _meet_at_the_lock(root: Path, *runs: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """Start every run while the test holds ``root``'s lock, so all read the same files and then meet at the
    lock; release it and return each run's (exit code, stdout, stderr)."""
    with writer.locked(root):
        procs = [_popen("", *args) for args in runs]
        for proc in procs:
            _wait_until(lambda proc=proc: _waiting_for_lock(proc.pid), "every run waits for the lock")
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out, err))
    return results


def test_two_reanchors_at_once_one_is_written_the_other_writes_nothing(corpus_copy: Path, tmp_path: Path) -> None:
    old = Corpus(corpus_copy).read_text(DOC)
    runs = []
    for reason, typo in (("first", "Huawai"), ("second", "Huawey")):
        path = tmp_path / f"{reason}.txt"
        path.write_text(old.replace("Huawei", typo), "utf-8")
        runs.append(("reanchor", DOC, str(path), "--reason", reason, "--corpus", str(corpus_copy), "--format", "json"))
    results = _meet_at_the_lock(corpus_copy, *runs)
    assert sorted(code for code, _, _ in results) == [0, 2], results
    (winner,) = [flat(out) for code, out, _ in results if code == 0]
    (loser,) = [flat(out) for code, out, _ in results if code == 2]
    message = loser["error"]["message"]
    assert loser["error"]["code"] == "changed_meanwhile" and "changed while this command ran" in message
    assert "nothing written; run it again" in message and f"corpus/{DOC}.txt (was changed)" in message
    sets = sorted(p.name for p in (corpus_copy / "annotations").iterdir() if p.is_dir())
    assert all(f"annotations/{name}/{DOC}.json (was changed)" in message for name in sets)
    corpus = Corpus(corpus_copy)
    reasons = [c["reason"] for c in corpus.read_metadata(DOC)["corrections"]]
    assert len(reasons) == 1 and len(winner["written"]) == 2 + len(sets)  # the text, its metadata, one file per set
    assert corpus.read_text(DOC) == old.replace("Huawei", {"first": "Huawai", "second": "Huawey"}[reasons[0]])
    _consistent(corpus_copy)


@pytest.mark.parametrize("same", [True, False], ids=["identical_exports", "different_exports"])
def test_two_imports_into_one_new_set_at_once(corpus_copy: Path, tmp_path: Path, same: bool) -> None:
    """Identical exports: one writes, the other finds the files unchanged. Different ones: one writes, the other
    lists every file as a conflict and writes nothing. Never an import lost with exit 0."""
    export = export_from_predictions(corpus_copy)
    paths = [tmp_path / "export.json", tmp_path / ("export.json" if same else "other-export.json")]
    paths[0].write_text(json.dumps(export), "utf-8")
    if not same:  # another annotator's choice on one region; the files name their export, so both differ
        next(i for i in region_items(task_of(export, DOC), f"{DOC}:b3") if i["from_name"] == "intensity")["value"]["choices"] = ["high"]
        paths[1].write_text(json.dumps(export), "utf-8")
    results = _meet_at_the_lock(corpus_copy, *(("labelstudio", "import", str(path), "--annotator", "carol", "--corpus",
                                                str(corpus_copy), "--format", "json") for path in paths))
    assert all("Traceback" not in err for _, _, err in results)
    done = sorted((flat(out) for _, out, _ in results), key=lambda r: -len(r["written"]))
    files = [f"annotations/carol/{doc}.json" for doc in (DOC, "tfi-2021-chip-crisis")]
    assert done[0]["exit_code"] == 0 and sorted(done[0]["written"]) == files
    if same:
        assert (done[1]["exit_code"], done[1]["written"], sorted(done[1]["unchanged"]), done[1]["conflicts"]) == (0, [], files, [])
    else:
        assert (done[1]["exit_code"], done[1]["written"], sorted(done[1]["conflicts"])) == (1, [], files)
    sources = {json.loads((corpus_copy / f).read_text("utf-8"))["annotator"]["description"] for f in files}
    assert len(sources) == 1  # every file from the one import that was written
    assert validate_corpus(Corpus(corpus_copy)).ok
    assert writer.leftovers(corpus_copy, [corpus_copy / "annotations" / "carol"]) == []


# --- ordinary permissions -----------------------------------------------------------------------------------------

def test_corpus_files_written_have_ordinary_permissions(corpus_copy: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        received = tmp_path / "in.txt"
        received.write_text("An article.\n", "utf-8")
        assert run_chipwar("intake", str(received), "--doc-id", "new-doc", "--rights", "Test.", "--corpus", str(corpus_copy)).returncode == 0
        for path in [corpus_copy / "corpus" / f"{DOC}.txt", *corpus_copy.glob(f"annotations/*/{DOC}.json")]:
            path.chmod(0o600)  # reanchor replaces them: they come back ordinary
        fixed = tmp_path / "fixed.txt"
        fixed.write_text("UPDATED: " + Corpus(corpus_copy).read_text(DOC), "utf-8")
        result = run_chipwar("reanchor", DOC, str(fixed), "--reason", "x", "--corpus", str(corpus_copy), "--format", "json")
        assert result.returncode == 0, result.stdout
    finally:
        os.umask(old)
    written = [corpus_copy / "corpus" / "new-doc.txt", corpus_copy / "corpus" / "new-doc.json",
               *(corpus_copy / p for p in flat(result.stdout)["written"])]
    assert len(written) == 2 + 2 + len(list(corpus_copy.glob(f"annotations/*/{DOC}.json")))  # intake's two, reanchor's text, metadata, sets
    assert {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in written if stat.S_IMODE(p.stat().st_mode) != 0o644} == {}
    assert validate_corpus(Corpus(corpus_copy)).ok


def test_without_an_atomic_exchange_the_two_rename_swap_replaces_the_build(
        synthetic: Path, previous: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = _change_one_label(synthetic, tmp_path)
    expected = tmp_path / "expected"
    assert run_chipwar("build", "--out", str(expected), "--corpus", str(changed)).returncode == 0
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    result = run_chipwar("build", "--out", str(previous), "--corpus", str(changed))
    assert result.returncode == 0 and f"replaced the earlier build in {previous}" in result.stdout
    assert files_of(previous) == files_of(expected) and _beside(previous) == []


def test_a_full_disk_during_a_build_is_an_environment_error_and_keeps_the_earlier_build(
        synthetic: Path, previous: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chipwar.hf import card

    before = files_of(previous)

    def full(path: Path, data: bytes) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(card, "replace_file", full)
    result = run_chipwar("build", "--out", str(previous), "--corpus", str(synthetic))
    assert result.returncode == 2 and "No space left on device" in result.stderr and "unchanged" in result.stderr
    assert files_of(previous) == before and _beside(previous) == []


def test_a_full_disk_during_a_corpus_write_writes_nothing(corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    received = tmp_path / "in.txt"
    received.write_text("An article.\n", "utf-8")
    before = tree(corpus_copy)
    real = os.open

    def full(path: object, flags: int, *args: object) -> int:
        if os.path.basename(path).startswith(writer.TEMP_PREFIX):  # a staging file: the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", full)
    result = run_chipwar("intake", str(received), "--doc-id", "new-doc", "--rights", "Test.", "--corpus", str(corpus_copy))
    monkeypatch.setattr(os, "open", real)
    assert result.returncode == 2 and "No space left on device" in result.stderr and "nothing written" in result.stderr
    assert {k: v for k, v in tree(corpus_copy).items() if not k.endswith(writer.LOCK_NAME)} == before


def test_a_write_never_goes_through_a_link(tmp_path: Path) -> None:
    """A target that is a link, or a folder that is a link leading out of the root, is refused; the file it points at keeps its bytes."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_bytes(b"precious")
    (root / "linked.txt").symlink_to(victim)
    (root / "set").symlink_to(outside, target_is_directory=True)
    for target in (root / "linked.txt", root / "set" / "new.json"):
        with pytest.raises(UsageError, match="symbolic link"):
            writer.write_files(root, {target: b"x"})
    assert victim.read_bytes() == b"precious" and sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    with pytest.raises(UsageError, match="outside"):
        writer.write_files(root, {outside / "other.json": b"x"})


def test_replace_file_onto_a_folder_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(EnvironmentProblem, match="nothing written"):
        writer.replace_file(tmp_path / "out", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any((tmp_path / "out").iterdir())


def test_two_submits_of_one_packet_at_once_write_it_once(corpus_copy: Path, tmp_path: Path) -> None:
    """Both runs find no pass yet and meet at the lock: one writes, the other writes nothing and says the file exists."""
    (corpus_copy / "annotations" / "GUIDELINES.md").write_text("# Guidelines\n\nConstructed examples only.\n", "utf-8")
    packet = tmp_path / "packet"
    assert run_chipwar("packet", "prepare", DOC, "--annotator", "pass-9", "--model-name", "m", "--out", str(packet),
                       "--corpus", str(corpus_copy)).returncode == 0
    results = _meet_at_the_lock(corpus_copy, *[("packet", "submit", str(packet), "--corpus", str(corpus_copy), "--format", "json")] * 2)
    assert sorted(code for code, _, _ in results) == [0, 2], results
    (loser,) = [flat(out) for code, out, _ in results if code == 2]
    assert "exists" in loser["error"]["message"]
    written = corpus_copy / "annotations" / "pass-9" / f"{DOC}.json"
    assert json.loads(written.read_text("utf-8"))["annotator"]["submitted"] is not None
