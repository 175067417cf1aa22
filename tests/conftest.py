"""Shared fixtures: the real repository, and broken copies of it in a temporary folder."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHIPWAR = [sys.executable, "-m", "chipwar"]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A copy of the repository's corpus, schema, annotations and generated Markdown."""
    root = tmp_path / "repo"
    for name in ("corpus", "schema", "annotations"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name)
    for md in REPO.glob("*.md"):
        shutil.copy(md, root / md.name)
    return root


@dataclass
class Ran:
    """What a command did: exit code and both streams, as ``subprocess.CompletedProcess`` names them."""

    returncode: int
    stdout: str
    stderr: str


def run_chipwar(*args: str, cwd: Path | None = None, env: dict | None = None) -> Ran:
    """Run a ``chipwar`` command in this process (click's runner): the same parsing, handler and
    exit code as the installed command, a tenth of the time of a subprocess."""
    from click.testing import CliRunner

    from chipwar.cli import main

    with contextlib.chdir(cwd or REPO):
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_subprocess(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed command line in a real process, as a user would (for the smoke tests)."""
    return subprocess.run([*CHIPWAR, *args], cwd=cwd or REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def flat(stdout: str) -> dict:
    """A ``--format json`` envelope as one dict: the command's ``result`` fields, with the
    envelope's ``ok``, ``exit_code``, ``problems``, ``counts`` and ``error`` beside them."""
    envelope = json.loads(stdout)
    assert set(envelope) >= {"command", "ok", "exit_code", "problems", "result", "error"}, envelope
    return {**{k: envelope[k] for k in ("ok", "exit_code", "problems", "counts", "error")}, **(envelope["result"] or {})}


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes): to compare two builds or folders."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def tree(*roots: Path) -> dict[str, object]:
    """Everything under ``roots``, hidden entries included and nothing followed: file bytes, link
    targets, folders and other entries. Equal before and after means nothing was written."""
    out: dict[str, object] = {}
    for root in roots:
        for folder, dirs, names in os.walk(root):
            for name in sorted(dirs + names):
                p = Path(folder) / name
                out[str(p)] = ("-> " + os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file()
                               else "<folder>" if p.is_dir() else "<other>")
    return out


def span_at(text: str, doc_id: str, local: str, surface: str, label: str, occurrence: int = 0, **attrs: object) -> dict:
    """A span dict for the ``occurrence``-th appearance of ``surface`` in ``text``."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return {"id": f"{doc_id}:{local}", "start": start, "end": start + len(surface), "text": surface, "label": label,
            "provenance": {"agent": "test", "origin": "manual", "created": None}, "note": None, **attrs}


def chain_link(text: str, kind: str, entity_id: str | None, cue: str | None, occurrence: int = 0) -> dict:
    """One attribution link whose cue is the ``occurrence``-th appearance of ``cue`` in ``text``."""
    if cue is None:
        return {"kind": kind, "entity_id": entity_id, "cue": None}
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(cue, start + 1)
    return {"kind": kind, "entity_id": entity_id, "cue": {"start": start, "end": start + len(cue), "text": cue}}


def entity(text: str, doc_id: str, local: str, surface: str, label: str, canonical: str, occurrence: int = 0) -> dict:
    """An entity mention with the attributes its label requires."""
    return span_at(text, doc_id, local, surface, label, occurrence, canonical_id=canonical,
                   org_type="company" if label == "ORG" else None, gpe_role="government" if label == "GPE" else None)


def annotation_file(doc_id: str, text: str, annotator: str = "tester", **layers: list) -> dict:
    """A complete, valid annotation file; canonical entities are derived from the entity mentions."""
    from chipwar.files import sha256_text

    mentions = layers.get("entities", [])
    canonical = {m["canonical_id"]: m["label"] for m in mentions}
    for layer in ("claims", "bias_markers"):
        for span in layers.get(layer, []):
            for key in ("claimant_id", "quote_speaker_id"):
                if span.get(key):
                    canonical.setdefault(span[key], "ORG")
            for ref in span.get("target_ids", []):
                canonical.setdefault(ref, "ORG")
            for link in span.get("attribution_chain", []):
                if link["entity_id"]:
                    canonical.setdefault(link["entity_id"], "ORG")
    return {
        "schema_version": "2.0.0", "doc_id": doc_id, "text_sha256": sha256_text(text),
        "annotator": {"name": annotator, "kind": "person", "description": "Hand-made test set.", "model": None, "given": None,
                      "prepared": None, "submitted": None},
        "document_labels": None,
        "canonical_entities": [{"id": k, "name": k, "label": v, "kb_ids": []} for k, v in canonical.items()],
        "zones": layers.get("zones", []), "entities": mentions,
        "claims": layers.get("claims", []), "bias_markers": layers.get("bias_markers", []), "decisions": [],
    }


def write_set(root: Path, set_name: str, data: dict) -> Path:
    """Write an annotation file into a corpus copy."""
    from chipwar.files import dumps_json

    path = root / "annotations" / set_name / f"{data['doc_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps_json(data))
    return path


#: A fixed git identity and no user or system git configuration, for repositories made in tests.
GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str) -> str:
    """Run git in a test repository; fail the test with git's message when it fails."""
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture
def git_corpus(tmp_path: Path) -> Path:
    """A real git repository with one commit: copies of corpus/, schema/, annotations/, VERSION and
    CHANGELOG.md, generated blocks refreshed (so tests see their own changes only); no tag."""
    root = tmp_path / "git-repo"
    for name in ("corpus", "schema", "annotations"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name)
    for name in ("VERSION", "CHANGELOG.md"):
        shutil.copy(REPO / name, root / name)
    generated = run_chipwar("generate", "--corpus", str(root))
    assert generated.returncode == 0, generated.stdout + generated.stderr
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "corpus")
    return root


def _server_module():
    """``scripts/labelstudio_server.py``, the same script annotators run."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("labelstudio_server", REPO / "scripts" / "labelstudio_server.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def labelstudio_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Label Studio on 127.0.0.1 with a fresh data folder, started by our script; stopped after the session.

    Yields the script module, the server record and the admin's personal access token. A
    server that cannot start fails the tests that need it: they never skip.
    """
    import socket

    server_script = _server_module()
    with socket.socket() as sock:  # a free port; the script still reads the real one from the log
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data_dir = tmp_path_factory.mktemp("labelstudio")
    server = server_script.start(data_dir, port)
    try:
        token = server_script.personal_access_token(server.url, server.username, server.password, server)
        yield server_script, server, token
    finally:
        server_script.stop(data_dir)
