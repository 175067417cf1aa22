"""The one error contract: every error a user can cause is a :class:`ChipwarError` with its exit code.

Library code raises these when work cannot go on (problems in the data that still let the
work finish are collected in a :class:`chipwar.report.Report` instead). The CLI has one
handler that turns them into a message and an exit code:

- ``0`` clean;
- ``1`` problems found in the data (:class:`DataError`, or a report with errors);
- ``2`` usage or environment error: a bad argument, a missing file, no network, no git
  (:class:`UsageError`, :class:`EnvironmentProblem`);
- ``3`` internal error: a bug in chipwar; the handler says where to report it.
"""

from __future__ import annotations

import importlib.util
from typing import ClassVar, Iterable

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

#: Where an internal error is reported.
ISSUES_URL = "https://github.com/chipwar-corpus/chipwar/issues"


class ChipwarError(Exception):
    """Work cannot go on; ``message`` says what happened and ``hint`` what to do."""

    exit_code: ClassVar[int] = EXIT_USAGE
    #: A stable, machine-readable name for the kind of error.
    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n    hint: {self.hint}"


class UsageError(ChipwarError):
    """A bad argument: a malformed id or version, an output folder that must not be touched."""

    code = "usage_error"


class EnvironmentProblem(ChipwarError):
    """What the command needs is not there: a missing file or folder, no git, no network, no token."""

    code = "environment_error"


class DataError(ChipwarError):
    """The data itself is wrong in a way that stops the work (a build of a corpus with problems)."""

    exit_code = EXIT_PROBLEMS
    code = "data_error"


def require(what: str, modules: Iterable[str], extra: str) -> None:
    """Refuse, naming the extra that installs them, when a Python package ``what`` needs is not installed."""
    missing = [repr(name) for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise EnvironmentProblem(f"{what} needs the Python package(s) {' and '.join(missing)}, which are not installed",
                                 hint=f"pip install 'chipwar[{extra}]'")
