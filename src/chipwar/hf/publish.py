"""``chipwar publish``: upload a built dataset folder to the Hugging Face Hub and tag it.

The token comes from the environment only (``HF_TOKEN``, read by ``huggingface_hub``
itself) and is never printed or written. With ``HF_HUB_OFFLINE=1`` the command fails at
once instead of retrying for ~20 s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import EnvironmentProblem


class PublishError(EnvironmentProblem):
    """The folder cannot be published as asked."""


@dataclass(frozen=True)
class PublishPlan:
    """What an upload would send."""

    repo_id: str
    folder: Path
    files: list[str]
    tag: str | None
    total_bytes: int


def plan_publish(folder: Path, repo_id: str, tag: str | None) -> PublishPlan:
    """List exactly what would be uploaded; refuse a folder that is not a built dataset."""
    card = folder / "README.md"
    if not card.is_file() or not card.read_text("utf-8").startswith("---\n"):
        raise PublishError(f"{folder}: not a built dataset folder (no README.md dataset card); run `chipwar build --out {folder}` first")
    if "/" not in repo_id or repo_id.count("/") != 1:
        raise PublishError(f"--repo-id {repo_id!r}: expected OWNER/NAME")
    if tag is not None and not (tag.startswith("v") and tag[1:].count(".") == 2):
        raise PublishError(f"--tag {tag!r}: expected vX.Y.Z")
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return PublishPlan(repo_id, folder, files, tag, sum((folder / f).stat().st_size for f in files))


def publish(plan: PublishPlan, message: str) -> str:
    """Upload the folder (replacing the dataset repo's content) and create the tag; return the commit URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise PublishError("HF_HUB_OFFLINE is set: the Hub cannot be reached; unset it (and set HF_TOKEN) to publish")
    api = HfApi()
    try:
        api.create_repo(plan.repo_id, repo_type="dataset", exist_ok=True)
        commit = api.upload_folder(repo_id=plan.repo_id, repo_type="dataset", folder_path=str(plan.folder),
                                   commit_message=message, delete_patterns=["data/**"])
        if plan.tag:
            api.create_tag(plan.repo_id, repo_type="dataset", tag=plan.tag, tag_message=message)
    except OfflineModeIsEnabled as exc:
        raise PublishError(f"the Hub is in offline mode: {exc}") from None
    except HfHubHTTPError as exc:
        raise PublishError(f"the Hub refused the upload: {exc}; check HF_TOKEN has write access to {plan.repo_id}") from None
    return str(commit.commit_url if hasattr(commit, "commit_url") else commit)
