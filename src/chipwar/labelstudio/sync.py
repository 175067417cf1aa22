"""Live sync with a Label Studio server through ``label-studio-sdk`` 2.x (the ``labelstudio`` extra).

The server and the personal access token come from the environment only
(``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``); the token is never printed, logged or
written. A project is found by title, so pushing again updates it instead of making a
second one, and a document that already has a task gets no second task. Each push also sets
up the project's task list (:func:`set_up_view`), so annotators see documents, not our fields.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..corpus import Corpus
from ..ids import check_set_name
from ..report import short
from ..schema import load_schemas
from . import LabelStudioError
from .config import CANONICAL_OPTIONS, label_config
from .importer import ImportResult, import_tasks
from .tasks import LIST_TITLE, TASK_KEY, build_tasks

DEFAULT_PROJECT = "chipwar"
#: The Data Manager tab that push sets up: what an annotator sees of each task before opening it.
VIEW_TITLE = "Documents"
#: Columns hidden from it (Label Studio's ids): the task's internal data and the server's bookkeeping. What stays is
#: the task's number, the document's title and publisher, and its progress (completed, annotations, skipped, annotators).
VIEW_HIDDEN = (*(f"tasks:data.{key}" for key in ("text", "doc_id", "text_sha256", CANONICAL_OPTIONS, TASK_KEY)), "tasks:inner_id",
               "tasks:total_predictions", "tasks:annotations_results", "tasks:annotations_ids", "tasks:predictions_score",
               "tasks:predictions_model_versions", "tasks:predictions_results", "tasks:file_upload", "tasks:storage_filename",
               "tasks:created_at", "tasks:updated_at", "tasks:updated_by", "tasks:avg_lead_time", "tasks:draft_exists")
#: What to check when the server cannot be reached.
SERVER_HINT = ("is the server running? Start the local one with `python3 scripts/labelstudio_server.py start`; "
               "check that LABEL_STUDIO_URL is its address (e.g. http://127.0.0.1:8080)")


@dataclass
class PushResult:
    """What a push did."""

    project_id: int
    url: str
    created_project: bool
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def client() -> Any:
    """An SDK client for the server in the environment; a clear error when anything is missing."""
    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not key:
        raise LabelStudioError("set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY (a personal access token) in the environment",
                               hint=f"with the local server: python3 scripts/labelstudio_server.py run -- chipwar labelstudio …; {SERVER_HINT}")
    try:
        from label_studio_sdk import LabelStudio
    except ImportError:
        raise LabelStudioError("label-studio-sdk is not installed", hint="pip install 'chipwar[labelstudio]'") from None
    return LabelStudio(base_url=url.rstrip("/"), api_key=key, timeout=120)


def find_project(ls: Any, title: str) -> Any | None:
    return next((p for p in ls.projects.list() if p.title == title), None)


def push(corpus: Corpus, set_name: str | None, title: str = DEFAULT_PROJECT) -> PushResult:
    """Create or update the project (config, then one task per document not yet in it)."""
    if len(title) < 3:
        raise LabelStudioError(f"--project {title!r}: Label Studio needs a title of at least 3 characters",
                               hint="pass a longer --project title, or leave it out for 'chipwar'")
    config = label_config(load_schemas(corpus.schema_dir))
    tasks = build_tasks(corpus, set_name)
    ls = _call(client)
    project = _call(find_project, ls, title)
    created = project is None
    if created:
        project = _call(ls.projects.create, title=title, label_config=config)
    elif project.label_config != config:
        _call(ls.projects.update, id=project.id, label_config=config)
    have = {t.data.get("doc_id") for t in _call(lambda: list(ls.tasks.list(project=project.id, fields="all")))
            if isinstance(t.data, dict) and isinstance(t.data.get("doc_id"), str)}
    new = [t for t in tasks if t["data"]["doc_id"] not in have]
    if new:
        _call(ls.projects.import_tasks, id=project.id, request=new, return_task_ids=True)
    set_up_view(ls, project.id)
    base = os.environ["LABEL_STUDIO_URL"].rstrip("/")
    return PushResult(project.id, f"{base}/projects/{project.id}/data", created,
                      [t["data"]["doc_id"] for t in new], sorted(d for d in have if d))


def set_up_view(ls: Any, project_id: int) -> None:
    """Make the project's :data:`VIEW_TITLE` tab (or bring it back to this shape): title, publisher, progress, nothing internal."""
    hidden = list(VIEW_HIDDEN)
    data = {"title": VIEW_TITLE, "type": "list", "target": "tasks", "hiddenColumns": {"explore": hidden, "labeling": hidden},
            "columnsWidth": {f"tasks:data.{LIST_TITLE}": 480}}  # a headline on one line
    view = next((v for v in _call(ls.views.list, project=project_id) if (v.data or {}).get("title") == VIEW_TITLE), None)
    if view is None:
        _call(ls.views.create, project=project_id, data=data)
    else:
        _call(ls.views.update, id=view.id, project=project_id, data={**view.data, **data})


def export(title: str = DEFAULT_PROJECT) -> list[dict[str, Any]]:
    """The project's full JSON export (never JSON_MIN, which drops relations)."""
    ls = _call(client)
    project = _call(find_project, ls, title)
    if project is None:
        raise LabelStudioError(f"no Label Studio project titled {title!r} on {os.environ.get('LABEL_STUDIO_URL')}",
                               hint="create it with `chipwar labelstudio push`, or pass the title you gave it with --project")
    tasks = _call(ls.projects.exports.as_json, project.id)
    emails = {u.id: u.email for u in _call(lambda: list(ls.users.list()))}
    for task in tasks if isinstance(tasks, list) else ():  # the export names users by id only; the annotator record should say who
        annotations = task.get("annotations") if isinstance(task, dict) else None
        for ann in annotations if isinstance(annotations, list) else ():
            if isinstance(ann, dict) and type(ann.get("completed_by")) is int:
                ann["completed_by"] = {"id": ann["completed_by"], "email": emails.get(ann["completed_by"])}
    return tasks


def pull(corpus: Corpus, annotator: str, title: str = DEFAULT_PROJECT, *, user: str | None = None, kind: str = "person",
         replace: bool = False) -> ImportResult:
    """Export the project and import it into ``annotations/<annotator>/``; the server's export is trusted no more than a file."""
    check_set_name(annotator)
    return import_tasks(corpus, export(title), annotator, source=f"Label Studio project {title!r}", user=user, kind=kind,
                        replace=replace)


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the SDK, turning its errors into messages that never carry the token."""
    try:
        return fn(*args, **kwargs)
    except LabelStudioError:
        raise
    except Exception as exc:  # noqa: BLE001 - the SDK raises httpx and ApiError types; both are reported the same way
        status = getattr(exc, "status_code", None)
        url = os.environ.get("LABEL_STUDIO_URL")
        if status == 401:
            raise LabelStudioError(f"Label Studio at {url} refused the token (HTTP 401)",
                                   hint="LABEL_STUDIO_API_KEY must be a personal access token of this server (Account & "
                                        "Settings → Personal Access Token); python3 scripts/labelstudio_server.py run -- … sets "
                                        "both for the local server") from None
        if status:
            raise LabelStudioError(f"Label Studio at {url}: {type(exc).__name__} (HTTP {status})",
                                   hint="check that LABEL_STUDIO_URL is the server's address and that its version is one "
                                        "label-studio-sdk 2.x works with; the server's log says more") from None
        raise LabelStudioError(f"Label Studio at {url}: cannot be reached ({type(exc).__name__}: {short(str(exc), 200)})",
                               hint=SERVER_HINT) from None
