"""The ``chipwar`` command: the group, its one error handler, and where each command lives.

Commands sit in modules named for the part of the library they drive (``corpus``, ``hf``,
``versions``, ``labelstudio``); they never import each other, only :mod:`._util`.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_INTERNAL, ISSUES_URL, ChipwarError
from ..render import envelope, render_json
from ..report import printable
from ._util import command_name, output_format


class ChipwarGroup(click.Group):
    """A click group whose one handler turns every error into a message and an exit code."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV_KEY] = list(args)  # for the handler: was JSON asked for, even if parsing fails
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if not _wants_json(ctx.meta.get(ARGV_KEY, [])):
                raise
            where = exc.ctx.command_path.partition(" ")[2] if exc.ctx else ""
            click.echo(render_json(envelope(where or "chipwar", exc.exit_code, error={
                "code": "usage_error", "message": exc.format_message(), "hint": f"`chipwar {where} --help` shows the options".replace("  ", " ")})))
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ChipwarError as exc:
            _fail(ctx, exc.exit_code, {"code": exc.code, "message": exc.message, "hint": exc.hint},
                  f"error: {exc.message}" + (f"\n    hint: {exc.hint}" if exc.hint else ""))
        except BrokenPipeError:
            ctx.exit(0)  # the reader went away (``| head``): nothing more to say
        except Exception as exc:  # noqa: BLE001 - the one place a bug becomes a report, not a traceback
            log = _save_traceback()
            summary = f"{type(exc).__name__}: {str(exc)[:300]}"
            _fail(ctx, EXIT_INTERNAL, {"code": "internal_error", "message": summary, "hint": f"report it at {ISSUES_URL}", "log": log},
                  f"internal error: {summary}\n    This is a bug in chipwar, not a problem in your data. Please report it at "
                  f"{ISSUES_URL} with the command you ran and the traceback saved in {log}.")


ARGV_KEY = "chipwar.argv"


def _wants_json(argv: list[str]) -> bool:
    return "--format=json" in argv or any(a == "--format" and b == "json" for a, b in zip(argv, argv[1:], strict=False))


def _save_traceback() -> str:
    fd, path = tempfile.mkstemp(prefix="chipwar-crash-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return path


def _fail(ctx: click.Context, code: int, error: dict[str, Any], text: str) -> None:
    if output_format() == "json":
        click.echo(render_json(envelope(command_name() or "chipwar", code, error=error)))
    else:
        click.echo(printable(text), err=True)
    ctx.exit(code)


@click.group(cls=ChipwarGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="chipwar")
def main() -> None:
    """chipwar: the chip-war news corpus and the tools that keep it honest.

    Exit codes: 0 clean, 1 problems found in the data, 2 usage or environment error,
    3 internal error (a bug: please report it).

    \b
    Start here:
      chipwar validate            check everything, every problem at once
      chipwar stats               what is in the corpus
      chipwar build               the Hugging Face dataset folder
    """


def _register() -> None:
    from . import corpus, export, hf, imports, labelstudio, packet, review, versions

    for module in (corpus, hf, versions, packet, review, export, imports):
        for command in module.COMMANDS:
            main.add_command(command)
    main.add_command(labelstudio.labelstudio)


_register()
