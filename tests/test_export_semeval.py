"""``chipwar export semeval2020|semeval2023``: the tasks' layouts and label strings, format checks written from the
task descriptions, gold scored against itself (F1 1.0), unmapped labels left out and counted."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from chipwar.exports.semeval import SPLIT_NAMES, article_id

from .export_data import EMOJI_DOC, export, gold, real_root, synthetic_root  # noqa: F401  (fixtures)

#: SemEval-2020 Task 11, technique classification: the 14 technique strings its scorer accepts.
TECHNIQUES_2020 = frozenset({
    "Appeal_to_Authority", "Appeal_to_fear-prejudice", "Bandwagon,Reductio_ad_hitlerum", "Black-and-White_Fallacy",
    "Causal_Oversimplification", "Doubt", "Exaggeration,Minimisation", "Flag-Waving", "Loaded_Language",
    "Name_Calling,Labeling", "Repetition", "Slogans", "Thought-terminating_Cliches", "Whataboutism,Straw_Men,Red_Herring"})
#: SemEval-2023 Task 3, subtask 3: its 23 persuasion techniques.
TECHNIQUES_2023 = frozenset({
    "Appeal_to_Authority", "Appeal_to_Fear-Prejudice", "Appeal_to_Hypocrisy", "Appeal_to_Popularity", "Appeal_to_Time",
    "Appeal_to_Values", "Causal_Oversimplification", "Consequential_Oversimplification", "Conversation_Killer", "Doubt",
    "Exaggeration-Minimisation", "False_Dilemma-No_Choice", "Flag_Waving", "Guilt_by_Association", "Loaded_Language",
    "Name_Calling-Labeling", "Obfuscation-Vagueness-Confusion", "Questioning_the_Reputation", "Red_Herring", "Repetition",
    "Slogans", "Straw_Man", "Whataboutism"})

#: task -> (articles folder, labels folder, label-file name pattern, techniques); {split} and {lang} in folders.
TASKS = {
    "semeval2020": ("{split}-articles", "{split}-labels-task-flc-tc", r"article(\d+)\.task-flc-tc\.labels", TECHNIQUES_2020),
    "semeval2023": ("{lang}/{split}-articles-subtask-3", "{lang}/{split}-labels-subtask-3-spans", r"article(\d+)-labels-subtask-3\.txt",
                    TECHNIQUES_2023),
}

Row = tuple[str, str, int, int]  # article id, technique, start, end


def check_format(articles: Path, labels: Path, pattern: str, techniques: frozenset[str], columns: int = 4) -> list[Row]:
    """The checks the tasks' scorers make of a label folder, from their task descriptions: one file per article,
    named for it, with an article file beside; each line the article id, the technique (for 4 columns), the start
    and the end offset, tab separated; a known technique; 0 <= start < end <= the article's length in characters;
    no line twice. Returns every row; fails on the first breach."""
    rows: list[Row] = []
    for path in sorted(labels.iterdir()):
        m = re.fullmatch(pattern, path.name)
        assert m, f"{path.name}: not a label file name of the task"
        aid = m.group(1)
        text = (articles / f"article{aid}.txt").read_text("utf-8")
        lines = path.read_text("utf-8").splitlines()
        assert len(set(lines)) == len(lines), f"{path.name}: a line twice"
        for n, line in enumerate(lines, 1):
            fields = line.split("\t")
            assert len(fields) == columns, f"{path.name}:{n}: {len(fields)} fields"
            assert fields[0] == aid, f"{path.name}:{n}: article id {fields[0]} in the file of {aid}"
            technique = fields[1] if columns == 4 else ""
            assert columns == 3 or technique in techniques, f"{path.name}:{n}: unknown technique {technique!r}"
            assert fields[-2].isdigit() and fields[-1].isdigit(), f"{path.name}:{n}: offsets not integers"
            start, end = int(fields[-2]), int(fields[-1])
            assert 0 <= start < end <= len(text), f"{path.name}:{n}: {start}-{end} outside the article ({len(text)})"
            rows.append((aid, technique, start, end))
    return rows


def _merged(rows: list[Row]) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """Spans per (article, technique), overlapping ones merged (as the scorers merge them)."""
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for aid, tech, start, end in sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3])):
        spans = out.setdefault((aid, tech), [])
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return out


def span_f1(gold_rows: list[Row], pred_rows: list[Row]) -> float:
    """The tasks' span measure (Da San Martino et al. 2019): credit |s ∩ t| / |s| for spans of the same article and
    technique, precision over predicted spans, recall over gold spans, F1 their harmonic mean."""
    g, p = _merged(gold_rows), _merged(pred_rows)

    def credit(a: dict, b: dict) -> float:
        total = sum(len(v) for v in a.values())
        got = sum(max(0, min(e, te) - max(s, ts)) / (e - s) for key, spans in a.items() for s, e in spans
                  for ts, te in b.get(key, ()))
        return got / total if total else 0.0

    precision, recall = credit(p, g), credit(g, p)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _expected(root: Path, task: str) -> tuple[list[Row], Counter]:
    """Gold mapped through the schema column, and the unmapped labels counted."""
    import json

    schema = json.loads((root / "schema" / "annotations.schema.json").read_text("utf-8"))
    mapping = {o["const"]: o.get(f"x-{task}") for o in schema["$defs"]["BiasLabel"]["oneOf"]}
    rows: set[Row] = set()
    unmapped: Counter = Counter()
    for doc_id, _, _, data in gold(root):
        for marker in data["bias_markers"]:
            if mapping[marker["label"]] is None:
                unmapped[marker["label"]] += 1
            else:
                rows.add((article_id(doc_id), mapping[marker["label"]], marker["start"], marker["end"]))
    return sorted(rows), unmapped


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("which", ["real", "synthetic"])
def test_format_checks_pass_and_gold_scores_one(task: str, which: str, real_root: Path, synthetic_root: Path,  # noqa: F811
                                                tmp_path: Path) -> None:
    root = real_root if which == "real" else synthetic_root
    result = export(root, task, tmp_path / "out")
    assert result["exit_code"] == 0, result
    articles, labels, pattern, techniques = TASKS[task]
    rows: list[Row] = []
    for doc_id, meta, text, _ in gold(root):
        where = {"split": SPLIT_NAMES[meta["split"]], "lang": meta["language"]}
        assert (tmp_path / "out" / articles.format(**where) / f"article{article_id(doc_id)}.txt").read_bytes() == text.encode()
    folders = {(articles.format(split=SPLIT_NAMES[m["split"]], lang=m["language"]),
                labels.format(split=SPLIT_NAMES[m["split"]], lang=m["language"])) for _, m, _, _ in gold(root)}
    for art, lab in sorted(folders):
        rows += check_format(tmp_path / "out" / art, tmp_path / "out" / lab, pattern, techniques)
    expected, unmapped = _expected(root, task)
    assert sorted(rows) == expected
    assert span_f1(expected, rows) == pytest.approx(1.0)
    assert span_f1(expected, rows[1:]) < 1.0  # the measure is not trivially 1
    assert {k: v for k, v in result["dropped"].items() if k.startswith("bias marker ") and "technique)" in k} == \
           {f"bias marker {label} (no {task} technique)": n for label, n in unmapped.items()}
    assert result["spans"] == len(rows)
    ids = (tmp_path / "out" / "doc-ids.tsv").read_text("utf-8").splitlines()
    assert ids[0] == "article_id\tdoc_id" and {tuple(r.split("\t")) for r in ids[1:]} == {(article_id(d), d) for d, *_ in gold(root)}


def test_semeval2020_span_identification_files(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """Task 11's SI files hold each technique span's offsets once, three columns, and score 1.0 against TC's spans."""
    export(real_root, "semeval2020", tmp_path / "out")
    si = check_format(tmp_path / "out" / "train-articles", tmp_path / "out" / "train-labels-task-si",
                      r"article(\d+)\.task-si\.labels", TECHNIQUES_2020, columns=3)
    tc = check_format(tmp_path / "out" / "train-articles", tmp_path / "out" / "train-labels-task-flc-tc",
                      r"article(\d+)\.task-flc-tc\.labels", TECHNIQUES_2020)
    assert sorted(si) == sorted({(a, "", s, e) for a, _, s, e in tc})
    assert span_f1([(a, "", s, e) for a, _, s, e in tc], si) == pytest.approx(1.0)


def test_offsets_are_code_points_in_the_article(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """Past emoji, CJK and a combining mark, each line's offsets slice the article file, read as Python reads it,
    to the marker's text."""
    export(real_root, "semeval2023", tmp_path / "out")
    aid = article_id(EMOJI_DOC)
    split = next(SPLIT_NAMES[m["split"]] for d, m, _, _ in gold(real_root) if d == EMOJI_DOC)
    text = (tmp_path / "out" / f"en/{split}-articles-subtask-3" / f"article{aid}.txt").read_text("utf-8")
    lines = (tmp_path / "out" / f"en/{split}-labels-subtask-3-spans" / f"article{aid}-labels-subtask-3.txt").read_text().splitlines()
    assert [text[int(s):int(e)] for _, _, s, e in (line.split("\t") for line in lines)] == ["reckless"]


def test_mapped_labels_are_the_tasks_own() -> None:
    """Every x-semeval2020 / x-semeval2023 value in schema/ is a technique string the task's scorer accepts, and
    every unmapped label says why."""
    from chipwar.schema import load_schemas

    from .conftest import REPO

    for label in load_schemas(REPO / "schema").label_set("BiasLabel"):
        for task, techniques in (("x-semeval2020", TECHNIQUES_2020), ("x-semeval2023", TECHNIQUES_2023)):
            value = label.extra.get(task)
            assert value in techniques if value is not None else label.extra.get("x-unmapped-reason"), (label.name, task)


def test_two_labels_that_map_to_one_technique_on_one_span_are_written_once(real_root: Path, tmp_path: Path) -> None:  # noqa: F811
    """Task 11 has one label for Bandwagon and Reductio ad hitlerum: two markers there on one span become one line, counted."""
    import json
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(real_root, root)
    path = root / "annotations" / "gold" / f"{EMOJI_DOC}.json"
    data = json.loads(path.read_text("utf-8"))
    first = data["bias_markers"][0]
    data["bias_markers"] += [{**first, "id": f"{EMOJI_DOC}:b{n}", "label": label}
                             for n, label in ((2, "appeal_to_popularity"), (3, "guilt_by_association"))]
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    result = export(root, "semeval2020", tmp_path / "out")
    assert result["exit_code"] == 0, result
    assert result["dropped"]["bias marker mapped to Bandwagon,Reductio_ad_hitlerum twice on one span (written once)"] == 1
    split = next(SPLIT_NAMES[m["split"]] for d, m, _, _ in gold(root) if d == EMOJI_DOC)
    aid = article_id(EMOJI_DOC)
    lines = (tmp_path / "out" / f"{split}-labels-task-flc-tc" / f"article{aid}.task-flc-tc.labels").read_text("utf-8").splitlines()
    assert sorted(line.split("\t")[1] for line in lines) == ["Bandwagon,Reductio_ad_hitlerum", "Loaded_Language"]
