"""The command line as a whole: one error contract, one JSON envelope, help with examples, docs in step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from chipwar.cli import main
from chipwar.errors import EXIT_INTERNAL, ISSUES_URL
from chipwar.render import render_problem, render_text
from chipwar.report import Problem, Report, short

from .conftest import REPO, flat, run_chipwar, run_subprocess


def _commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            out += _commands(command, (*prefix, name))
        else:
            out.append((*prefix, name))
    return out


COMMANDS = _commands()


def test_every_command_is_listed() -> None:
    assert {" ".join(c) for c in COMMANDS} >= {"validate", "stats", "build", "rehydrate", "publish", "diff", "release", "changelog",
                                              "intake", "reanchor", "agree", "generate", "labelstudio import"}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_has_an_example_and_the_readme_names_the_command(command: tuple[str, ...]) -> None:
    shown = run_chipwar(*command, "--help")
    assert shown.returncode == 0
    assert re.search(r"Examples?:", shown.stdout), f"`chipwar {' '.join(command)} --help` shows no example"
    readme = (REPO / "README.md").read_text("utf-8")
    assert f"chipwar {' '.join(command)}" in readme or f"`{command[-1]}" in readme, f"README does not mention {command}"


#: Arguments that get each command past click's own checks, so the command itself meets the missing corpus.
ARGS = {
    "agree": ["a", "b"], "intake": ["{file}", "--doc-id", "new-doc", "--rights", "r"], "reanchor": ["some-doc", "{file}", "--reason", "r"],
    "release": ["1.0.1"], "labelstudio import": ["{file}", "--annotator", "alice"], "labelstudio pull": ["--annotator", "alice"],
    "labelstudio tasks": ["--out", "{dir}/tasks.json"], "packet prepare": ["some-doc", "--annotator", "alice", "--out", "{dir}/packet"],
    "packet submit": ["{dir}"], "export": ["conll", "--out", "{dir}/out"], "import brat": ["{dir}", "--annotator", "alice"],
    "review": ["--out", "{dir}/site"],
}
CORPUS_COMMANDS = [c for c in COMMANDS if "--corpus" in run_chipwar(*c, "--help").stdout]


@pytest.mark.parametrize("command", CORPUS_COMMANDS, ids=" ".join)
def test_no_corpus_is_an_environment_error_in_the_one_envelope(command: tuple[str, ...], tmp_path: Path) -> None:
    """Every command that reads the corpus, pointed at a folder that is none: exit 2, the envelope, nothing written."""
    (tmp_path / "in.txt").write_text("[]", "utf-8")
    args = [a.format(file=tmp_path / "in.txt", dir=tmp_path) for a in ARGS.get(" ".join(command), [])]
    fmt = ["--format", "json"] if "--format" in run_chipwar(*command, "--help").stdout else []
    result = run_chipwar(*command, *args, *fmt, "--corpus", str(tmp_path / "nowhere"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if fmt:
        data = json.loads(result.stdout)
        assert set(data) == {"command", "ok", "exit_code", "counts", "problem_count", "problems", "result", "error"}
        assert data["command"] == " ".join(command) and data["exit_code"] == 2 and data["ok"] is False
        assert data["error"]["code"] == "environment_error" and "not inside a chipwar corpus" in data["error"]["message"]
    else:
        assert "not inside a chipwar corpus" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_usage_errors_exit_2_and_name_what_to_do() -> None:
    missing = run_chipwar("agree", "nobody", "gold")
    assert missing.returncode == 2 and "no annotation set 'nobody'" in missing.stderr and "sets here:" in missing.stderr
    assert run_chipwar("validate", "--format", "yaml").returncode == 2
    assert run_chipwar("no-such-command").returncode == 2


def test_a_bug_is_an_internal_error_with_where_to_report_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Exit 3, one summary line and the report address; the traceback goes to a file, not the terminal."""
    import chipwar.stats

    def broken(*_: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(chipwar.stats, "corpus_stats", broken)
    result = run_chipwar("stats")
    assert result.returncode == EXIT_INTERNAL
    assert "internal error: KeyError" in result.stderr and ISSUES_URL in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    log = Path(re.search(r"saved in (\S+)\.$", result.stderr.strip()).group(1))
    assert "Traceback" in log.read_text("utf-8") and "boom" in log.read_text("utf-8")
    as_json = flat(run_chipwar("stats", "--format", "json").stdout)
    assert as_json["exit_code"] == EXIT_INTERNAL and as_json["error"]["code"] == "internal_error"


def test_problems_exit_1_clean_exits_0(corpus_copy: Path) -> None:
    assert run_chipwar("validate", str(corpus_copy)).returncode == 0
    (corpus_copy / "annotations/gold/reg-2023-qiming.json").write_text("{", "utf-8")
    broken = run_chipwar("validate", str(corpus_copy), "--format", "json")
    data = flat(broken.stdout)
    assert broken.returncode == 1 and data["exit_code"] == 1 and data["problems"][0]["code"] == "json_malformed"
    assert data["problems"][0]["severity"] == "error"


def test_messages_are_bounded_whatever_the_value() -> None:
    huge = "x" * 100_000_000
    assert len(short(huge)) < 120 and "100,000,000 characters" in short(huge)
    line = render_problem(Problem("offset_text_mismatch", "text differs", "f.json", "d", "d:e1", "/entities/0", expected=huge, found=huge,
                                  hint=huge))
    assert len(line) < 2_000 and "characters in all" in line
    report = Report(problems=[Problem("c", "m", f"f{i}.json") for i in range(500)])
    text = render_text(report, limit=200)
    assert text.count("\n") == 200 and text.endswith("... and 300 more (use --format json for all)")


def test_warnings_leave_a_report_clean() -> None:
    report = Report(problems=[Problem("leftover", "a staging file", "corpus", severity="warning")])
    assert report.ok and report.warnings and not report.errors
    assert "warning:" in render_text(report)


def test_the_installed_command_runs_in_a_real_process() -> None:
    """A few smoke tests through the real entry point; everything else runs in-process."""
    version = run_subprocess("--version")
    assert version.returncode == 0 and "chipwar" in version.stdout
    clean = run_subprocess("validate", "--format", "json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["ok"] is True
    usage = run_subprocess("agree", "nobody", "gold")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_an_undecodable_file_name_is_shown_escaped_not_a_crash() -> None:
    """A file name that is not UTF-8 reaches Python as lone surrogates; text and JSON output escape them."""
    name = b"bad-\xff.json".decode("utf-8", "surrogateescape")
    report = Report(problems=[Problem("odd_name", f"{name}: not a document file", name)])
    assert "\\udcff" in render_text(report)
    from chipwar.render import envelope, render_json

    assert "\\\\udcff" in render_json(envelope("validate", 1, report, {"files": [name]}))


@pytest.mark.parametrize("args", [("validate", "/nonexistent"), ("build", "--bogus"), ("intake",), ("agree", "only-one"),
                                  ("labelstudio", "import", "--annotator", "x")], ids=" ".join)
def test_argument_errors_answer_in_the_envelope_when_json_is_asked(args: tuple[str, ...]) -> None:
    for fmt in (["--format", "json"], ["--format=json"]):
        result = run_chipwar(*args, *fmt)
        data = json.loads(result.stdout)
        assert result.returncode == 2 and data["exit_code"] == 2 and data["error"]["code"] == "usage_error"
        assert data["command"] == " ".join(a for a in args if not a.startswith(("-", "/")) and a not in ("only-one", "x"))
        assert f"chipwar {data['command']} --help" in data["error"]["hint"]
    plain = run_chipwar(*args)
    assert plain.returncode == 2 and "Usage:" in plain.stderr and not plain.stdout


def test_build_of_a_set_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    for name in ("nosuch", "../corpus"):
        result = run_chipwar("build", "--set", name, "--out", str(tmp_path / "out"))
        assert result.returncode == 2 and "set" in result.stderr and not (tmp_path / "out").exists()


def test_python_dash_m_names_commands_as_the_script_does() -> None:
    done = run_subprocess("stats", "--format", "json")
    assert json.loads(done.stdout)["command"] == "stats"
