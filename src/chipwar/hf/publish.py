"""``chipwar publish``: upload a built dataset folder to the Hugging Face Hub and tag it.

Only the files the build made are sent: the list in the folder's ``.chipwar-build.json``
(:data:`chipwar.outputs.BUILD_MARKER`), each checked to be there, never a file that happens to
sit in the folder (``.env``, notes, a stray export). A folder without that list is not a
chipwar build and is refused.

The token comes from the environment only (``HF_TOKEN``, or the one ``huggingface-cli
login`` stored, read by ``huggingface_hub`` itself) and is never printed or written. With
``HF_HUB_OFFLINE=1``, without a token, or without a network, the command fails at once
with what to do (exit 2), before or instead of any upload.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import EnvironmentProblem, UsageError
from ..outputs import BUILD_MARKER, read_build_marker
from ..report import short

REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
TAG = re.compile(r"v\d+\.\d+\.\d+")

#: Where ``chipwar build`` writes by default: the folder to suggest when another one is not a build.
DEFAULT_FOLDER = "dist/chipwar"

#: Folders of the Hub repository that hold only what a build made: a file there that this build did not make is stale.
MADE_FOLDERS = ("data/", "figures/")


class PublishError(EnvironmentProblem):
    """The folder cannot be published: the Hub cannot be reached, or refused."""


@dataclass(frozen=True)
class PublishPlan:
    """What an upload would send."""

    repo_id: str
    folder: Path
    files: list[str]
    tag: str | None
    total_bytes: int


def plan_publish(folder: Path, repo_id: str, tag: str | None, *, include_texts: bool = False) -> PublishPlan:
    """List exactly what would be uploaded: the files the build made; refuse anything else.

    Also refused: a tag that is not ``v<the build's dataset_version>`` (the Hub revision would
    name another version than the files hold), and, unless ``include_texts``, a build holding
    article texts whose rights say they may not be redistributed.
    """
    if not REPO_ID.fullmatch(repo_id) or ".." in repo_id or repo_id.endswith((".git", ".")):
        raise UsageError(f"--repo-id {short(repo_id)}: expected OWNER/NAME (letters, digits, '-', '_', '.')",
                         hint="e.g. --repo-id my-org/chipwar")
    if tag is not None and not TAG.fullmatch(tag):
        raise UsageError(f"--tag {short(tag)}: expected vX.Y.Z", hint="e.g. --tag v1.0.0")
    if not folder.is_dir():
        raise EnvironmentProblem(f"--folder {folder}: " + ("not a folder" if folder.exists() else "no such folder"),
                                 hint="pass the folder `chipwar build --out` wrote, e.g. dist/chipwar")
    marker = read_build_marker(folder)
    if marker is None:
        raise UsageError(f"--folder {folder}: not a chipwar build (no valid {BUILD_MARKER} listing the files it made); nothing sent",
                         hint=f"run `chipwar build --out {DEFAULT_FOLDER}` and publish that folder (--folder {DEFAULT_FOLDER})")
    files = sorted(marker["files"])
    sizes = []
    for name in files:
        try:
            info = (folder / name).lstat()
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            raise UsageError(f"--folder {folder}: {name}, made by the build, is missing or not a file; nothing sent",
                             hint=f"build it again with `chipwar build --out {folder}`")
        sizes.append(info.st_size)
    if "README.md" not in files:
        raise UsageError(f"--folder {folder}: the build has no dataset card README.md; nothing sent",
                         hint=f"build it again with `chipwar build --out {folder}`")
    if tag is not None:
        _check_tag(folder, marker, tag)
    if marker.get("with_text") is not False and not include_texts:
        _check_texts_may_be_shared(folder, [f for f in files if f.startswith("data/documents/")])
    return PublishPlan(repo_id, folder, files, tag, sum(sizes))


def _check_tag(folder: Path, marker: dict, tag: str) -> None:
    """Refuse a tag other than ``v`` + the dataset version the build records."""
    version = marker.get("dataset_version")
    if not isinstance(version, str):
        raise UsageError(f"--folder {folder}: the build does not record its dataset version, so --tag {tag} cannot be checked; "
                         "nothing sent", hint=f"build it again with `chipwar build --out {folder}`")
    if tag != f"v{version}":
        raise UsageError(f"--tag {short(tag)}: the build in {folder} is dataset version {short(version)}, so its tag is "
                         f"v{version}; nothing sent",
                         hint=f"use --tag v{version}, or build the version you mean to tag (`chipwar build --out {folder}` "
                              "from the checkout of that release)")


def _check_texts_may_be_shared(folder: Path, documents: list[str]) -> None:
    """Refuse a build whose ``documents`` files hold texts that may not be redistributed (per their rights)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    closed: list[str] = []
    for name in documents:
        try:
            rows = pq.read_table(folder / name, columns=["doc_id", "rights"]).to_pylist()
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
            raise UsageError(f"--folder {folder}: {name} cannot be read ({short(str(exc), 200)}), so whether its texts may be "
                             "shared is unknown; nothing sent", hint=f"build it again with `chipwar build --out {folder}`") from None
        closed += [str(r["doc_id"]) for r in rows if not (isinstance(r["rights"], dict) and r["rights"].get("redistributable") is True)]
    if closed:
        shown = ", ".join(closed[:5]) + (f" and {len(closed) - 5} more" if len(closed) > 5 else "")
        raise UsageError(f"--folder {folder}: the build holds the article texts of {len(closed)} document(s) whose rights do not "
                         f"allow redistribution ({shown}); nothing sent",
                         hint="publish an annotations-only build (`chipwar build --no-text --out dist/chipwar-annotations`, then "
                              "--folder dist/chipwar-annotations), or pass --include-texts if you hold the rights to share them")


def publish(plan: PublishPlan, message: str) -> str:
    """Upload the planned files in one commit (data files and figures of an earlier build removed in it)
    and create the tag; return the commit URL."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise PublishError("HF_HUB_OFFLINE is set: the Hub cannot be reached; nothing sent",
                           hint="unset HF_HUB_OFFLINE (and set HF_TOKEN) to publish")
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError, HTTPError, OfflineModeIsEnabled

    if not get_token():
        raise PublishError("no Hugging Face token: nothing sent",
                           hint="set HF_TOKEN to a token with write access (https://huggingface.co/settings/tokens)")
    api = HfApi()
    try:
        api.create_repo(plan.repo_id, repo_type="dataset", exist_ok=True)
        stale = [f for f in api.list_repo_files(plan.repo_id, repo_type="dataset") if f.startswith(MADE_FOLDERS) and f not in plan.files]
        operations = [*(CommitOperationDelete(path_in_repo=f) for f in stale),
                      *(CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(plan.folder / f)) for f in plan.files)]
        commit = api.create_commit(plan.repo_id, repo_type="dataset", operations=operations, commit_message=message)
        if plan.tag:
            api.create_tag(plan.repo_id, repo_type="dataset", tag=plan.tag, tag_message=message)
    except OfflineModeIsEnabled:
        raise PublishError("the Hub is in offline mode (HF_HUB_OFFLINE); nothing sent", hint="unset HF_HUB_OFFLINE to publish") from None
    except HfHubHTTPError as exc:
        raise PublishError(f"the Hub refused: {short(str(exc), 300)}",
                           hint=f"check that HF_TOKEN has write access to {plan.repo_id}, and that tag {plan.tag} does not exist yet"
                           if plan.tag else f"check that HF_TOKEN has write access to {plan.repo_id}") from None
    except (HTTPError, OSError) as exc:
        raise PublishError(f"the Hub cannot be reached ({short(str(exc) or type(exc).__name__, 200)}); the upload did not complete",
                           hint="check the network connection (and HF_ENDPOINT if set), then run it again") from None
    return str(getattr(commit, "commit_url", commit))
