"""Publication metadata (issue 15, item 2): Croissant read back with ``mlcroissant``, CITATION.cff
checked with ``cffconvert``, the card's Hub fields and the Data Statement."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from datasets import Features

from chipwar import grouped
from chipwar.corpus import Corpus, find_corpus
from chipwar.hf import citation, croissant, statement
from chipwar.hf.croissant import CROISSANT_FILE, SPLIT_FIELD, _items
from chipwar.synthetic import write_synthetic_corpus

from .conftest import REPO, run_chipwar

mlc = pytest.importorskip("mlcroissant")


def parquet_files(folder: Path) -> dict[str, dict[str, list[str]]]:
    """config -> split -> relative paths of its shards in order, from the build's own record of its files."""
    files: dict[str, dict[str, list[str]]] = {}
    for rel in sorted(json.loads((folder / ".chipwar-build.json").read_text("utf-8"))["files"]):
        if rel.endswith(".parquet"):
            _, config, name = rel.split("/")
            files.setdefault(config, {}).setdefault(name.split("-", 1)[0], []).append(rel)
    return files


def build(corpus_root: Path, out: Path, *extra: str) -> Path:
    result = run_chipwar("build", "--out", str(out), "--corpus", str(corpus_root), *extra)
    assert result.returncode == 0, result.stderr
    return out


def describe(folder: Path, corpus: Corpus, **kw: Any) -> dict:
    info = json.loads((folder / ".chipwar-build.json").read_text("utf-8"))
    croissant.write_croissant(folder, corpus, parquet_files(folder), version=info["dataset_version"],
                              set_name=info["annotation_set"], with_text=info["with_text"], **kw)
    return json.loads((folder / CROISSANT_FILE).read_text("utf-8"))


@pytest.fixture(scope="module")
def repo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = build(REPO, tmp_path_factory.mktemp("pubmeta") / "chipwar")
    describe(out, find_corpus(REPO))
    return out


@pytest.fixture(scope="module")
def synthetic_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A corpus of several documents over several splits, with emoji, CJK and combining marks."""
    root = tmp_path_factory.mktemp("pubmeta-synthetic")
    write_synthetic_corpus(root, 12, 400, schema_dir=REPO / "schema")
    for name in ("VERSION", "LICENSE"):
        (root / name).write_bytes((REPO / name).read_bytes())
    out = build(root, tmp_path_factory.mktemp("pubmeta-synthetic-built") / "chipwar")
    describe(out, find_corpus(root))
    return root, out


# -- reading Croissant records back ---------------------------------------------------------------

def _py(value: Any) -> Any:
    """An mlcroissant value as plain Python: text bytes decoded, field ids cut to their names."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {key.rsplit("/", 1)[-1]: _py(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_py(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _depth(feature: Any) -> int:
    """Levels of list or struct nesting: 0 for a scalar."""
    items = _items(feature)
    if items is not None:
        return 1 + _depth(items)
    if isinstance(feature, (dict, Features)):
        return 1 + max((_depth(sub) for sub in feature.values()), default=0)
    return 0


def _list_in_list(feature: Any, inside: bool = False) -> bool:
    items = _items(feature)
    if items is not None:
        return inside or _list_in_list(items, True)
    if isinstance(feature, (dict, Features)):
        return any(_list_in_list(sub, inside) for sub in feature.values())
    return False


def _parquet_leaves(value: Any, feature: Any, path: str, out: dict[str, list]) -> None:
    items = _items(feature)
    if items is not None:
        if value is None:
            out.setdefault(path, []).append(None)
        for item in value or []:
            _parquet_leaves(item, items, path, out)
    elif isinstance(feature, (dict, Features)):
        for key, sub in feature.items():
            _parquet_leaves(None if value is None else value[key], sub, f"{path}/{key}", out)
    else:
        out.setdefault(path, []).append(value)


def _croissant_leaves(value: Any, key: str, out: dict[str, list]) -> None:
    if isinstance(value, dict):
        for sub_key, sub in value.items():
            _croissant_leaves(sub, sub_key, out)
    elif isinstance(value, list):
        for item in value:
            _croissant_leaves(item, key, out)
    else:
        out.setdefault(key, []).append(_py(value))


def check_records(folder: Path, config: str) -> set[str]:
    """Every record mlcroissant reads of ``config`` against its Parquet row, field by field; returns
    the columns mlcroissant cannot read back (expected: only lists nested in lists)."""
    files = parquet_files(folder)[config]
    rows: list[tuple[str, dict]] = []
    features = None
    for split, rels in sorted(files.items()):
        for rel in rels:
            table = pq.read_table(folder / rel)
            features = Features.from_arrow_schema(table.schema)
            rows += [(split, row) for row in table.to_pylist()]
    assert features is not None
    records = list(mlc.Dataset(str(folder / CROISSANT_FILE)).records(config))
    assert len(records) == len(rows) > 0
    unreadable: set[str] = set()
    for record, (split, row) in zip(records, rows, strict=True):
        assert _py(record[f"{config}/{SPLIT_FIELD}"]) == split
        for column, feature in features.items():
            got = record[f"{config}/{column}"]
            if _depth(feature) <= 1 or (_items(feature) is not None and _depth(_items(feature)) == 1):
                assert _py(got) == row[column], (config, column, row.get("id"))
                continue
            # Deeper: mlcroissant 1.1 places a struct nested in a struct or list at the record's level;
            # compare every leaf value, in order, wherever it put it.
            want: dict[str, list] = {}
            _parquet_leaves(row[column], feature, f"{config}/{column}", want)
            have: dict[str, list] = {}
            prefix = f"{config}/{column}"
            for key, value in record.items():
                if key == prefix or key.startswith(prefix + "/"):
                    _croissant_leaves(value, key, have)
            if have != want:
                unreadable.add(column)
    return unreadable


@pytest.mark.parametrize("config", ["entities", "claims", "bias_markers", "ner", "documents"])
def test_croissant_records_equal_parquet_rows(repo_build: Path, config: str) -> None:
    unreadable = check_records(repo_build, config)
    features = Features.from_arrow_schema(pq.read_schema(repo_build / next(iter(parquet_files(repo_build)[config].values()))[0]))
    # Only a list inside a list (a claim's attribution chain inside `documents`, a canonical entity's kb_ids)
    # is beyond what mlcroissant reads; those columns are checked by checksum below, not by records.
    assert unreadable <= {c for c, f in features.items() if _list_in_list(f)}
    if config != "documents":
        assert not unreadable


@pytest.mark.parametrize("config", ["entities", "ner"])
def test_croissant_reads_every_split_of_a_multi_split_build(synthetic_build: tuple[Path, Path], config: str) -> None:
    _, folder = synthetic_build
    assert len(parquet_files(folder)[config]) > 1  # the FileSet really spans several files
    assert not check_records(folder, config)


def test_croissant_distribution_checksums_and_no_absolute_paths(repo_build: Path) -> None:
    desc = json.loads((repo_build / CROISSANT_FILE).read_text("utf-8"))
    objects = [d for d in desc["distribution"] if d["@type"] == "cr:FileObject"]
    assert {o["contentUrl"] for o in objects} == {rel for splits in parquet_files(repo_build).values() for rels in splits.values() for rel in rels}
    for obj in objects:
        assert not obj["contentUrl"].startswith("/")
        assert obj["sha256"] == hashlib.sha256((repo_build / obj["contentUrl"]).read_bytes()).hexdigest()
    assert str(repo_build) not in json.dumps(desc)
    assert desc["conformsTo"] == "http://mlcommons.org/croissant/1.0"


def test_croissant_metadata_loads_without_errors_and_carries_rai(repo_build: Path) -> None:
    ds = mlc.Dataset(str(repo_build / CROISSANT_FILE))
    meta = ds.metadata
    assert meta.version == (REPO / "VERSION").read_text("utf-8").strip()
    demographics = " ".join(meta.annotator_demographics or [])
    assert "No human annotator" in demographics and "Claude (Anthropic)" in demographics
    assert meta.machine_annotation_tools and all("Claude" in t for t in meta.machine_annotation_tools)
    assert any("no human" in p.lower() or "No human" in p for p in meta.data_limitations or [])
    assert meta.data_collection and meta.data_use_cases and meta.data_biases and meta.personal_sensitive_information
    protocol = " ".join(meta.data_annotation_protocol or [])
    assert "pass-1" in protocol and "adjudicat" in protocol.lower()
    licences = json.loads((repo_build / CROISSANT_FILE).read_text("utf-8"))["license"]
    assert licences[0] == "https://creativecommons.org/licenses/by/4.0/"
    assert "no licence" in licences[1]["name"]  # a build with texts says the texts are not licensed
    issues = ds.metadata.ctx.issues
    assert not issues.errors, issues.report()


def test_croissant_is_deterministic(repo_build: Path) -> None:
    first = (repo_build / CROISSANT_FILE).read_bytes()
    describe(repo_build, find_corpus(REPO))
    assert (repo_build / CROISSANT_FILE).read_bytes() == first


def test_croissant_of_annotations_only_build(tmp_path: Path) -> None:
    folder = build(REPO, tmp_path / "notext", "--no-text")
    desc = describe(folder, find_corpus(REPO))
    assert desc["license"] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert "annotations only" in desc["description"]
    assert not check_records(folder, "entities")


# -- CITATION.cff -----------------------------------------------------------------------------------

def _cffconvert() -> list[str]:
    exe = shutil.which("cffconvert", path=str(Path(sys.executable).parent))
    assert exe is not None, "cffconvert is not installed: run `bash scripts/test.sh` (it installs it without its jsonschema<4 pin)"
    return [exe]


def test_citation_cff_validates_with_cffconvert(tmp_path: Path) -> None:
    facts = citation.citation_facts(find_corpus(REPO))
    path = tmp_path / "CITATION.cff"
    path.write_text(citation.citation_cff(facts), "utf-8")
    ran = subprocess.run([*_cffconvert(), "--validate", "-i", str(path)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    broken = tmp_path / "broken.cff"
    broken.write_text(citation.citation_cff(facts).replace("authors:", "writers:"), "utf-8")
    assert subprocess.run([*_cffconvert(), "--validate", "-i", str(broken)], capture_output=True).returncode != 0


def test_citation_facts_come_from_the_records() -> None:
    corpus = find_corpus(REPO)
    facts = citation.citation_facts(corpus)
    data = citation.citation_data(facts)
    assert data["version"] == (REPO / "VERSION").read_text("utf-8").strip()
    changelog = (REPO / "CHANGELOG.md").read_text("utf-8")
    if f"## [{facts.version}] - " in changelog:
        assert data["date-released"] in changelog.split(f"## [{facts.version}] - ", 1)[1].splitlines()[0]
    else:
        assert "date-released" not in data
    assert data["authors"] == [{"name": "The chipwar project"}]  # no invented person
    assert data["license"] == "CC-BY-4.0" and "repository-code" not in data
    bib = citation.bibtex(facts)
    assert facts.title in bib and facts.version in bib and "The chipwar project" in bib
    if facts.released:
        assert facts.released[:4] in bib


def test_no_release_date_without_a_dated_release(tmp_path: Path) -> None:
    root = tmp_path / "c"
    write_synthetic_corpus(root, 2, 50, schema_dir=REPO / "schema")
    (root / "VERSION").write_text("9.9.9\n", "utf-8")
    (root / "CHANGELOG.md").write_text("# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2020-01-01\n\n### Added\n- x\n", "utf-8")
    facts = citation.citation_facts(find_corpus(root))
    assert facts.released is None
    assert "date-released" not in citation.citation_cff(facts) and "year" not in citation.bibtex(facts)


def test_repository_citation_cff_is_current() -> None:
    assert citation.citation_is_current(find_corpus(REPO)), \
        "CITATION.cff is stale: python -c 'from chipwar.corpus import find_corpus; from pathlib import Path; " \
        "from chipwar.hf.citation import write_citation; write_citation(find_corpus(Path(\".\")))'"


# -- card YAML and the Data Statement -----------------------------------------------------------------

def test_card_fields_have_allowed_hub_values() -> None:
    fields = statement.card_fields(find_corpus(REPO))
    assert fields["annotations_creators"] == ["machine-generated"]
    assert set(fields["annotations_creators"]) <= set(statement.HUB_ANNOTATIONS_CREATORS)
    assert set(fields["language_creators"]) <= set(statement.HUB_LANGUAGE_CREATORS)
    assert set(fields["multilinguality"]) <= set(statement.HUB_MULTILINGUALITY)
    assert set(fields["source_datasets"]) <= set(statement.HUB_SOURCE_DATASETS)
    assert fields["pretty_name"]


def test_card_fields_say_other_when_a_person_annotated(corpus_copy: Path) -> None:
    for path in (corpus_copy / "annotations" / "gold").glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        data["annotator"]["model"] = None
        path.write_text(json.dumps(data), "utf-8")
    assert statement.card_fields(Corpus(corpus_copy))["annotations_creators"] == ["other"]


def test_data_statement_names_each_language_tag_and_note_and_no_human() -> None:
    corpus = find_corpus(REPO)
    text = statement.data_statement(corpus)
    for doc_id in corpus.doc_ids():
        meta = corpus.read_metadata(doc_id)
        row = next(line for line in text.splitlines() if line.startswith(f"| `{doc_id}` | `"))
        assert f"`{meta['language']}`" in row and meta["notes"]["language"] in row
        assert meta["publisher"] in text
    assert "en-GB" not in text and "en-IN" not in text  # no variety invented
    assert "No human annotated or reviewed" in text
    assert "Claude (Anthropic)" in text and "not recorded" in text
    for heading in ("Curation rationale", "Language variety", "Speaker (writer) demographic", "Annotator demographic",
                    "Speech situation", "Text characteristics", "Provenance appendix"):
        assert heading in text


def test_metadata_depends_only_on_what_a_build_carries(repo_build: Path, tmp_path: Path) -> None:
    """A rehydration rebuilds from a corpus holding only the built set, schema/, the carried files (DATASHEET.md,
    LICENSE, VERSION), the build's CITATION.cff and the documents: its Croissant, citation and statement must be the same."""
    root = tmp_path / "carried"
    shutil.copytree(REPO / "schema", root / "schema")
    shutil.copytree(REPO / "annotations" / "gold", root / "annotations" / "gold")
    for path in (REPO / "corpus").iterdir():
        (root / "corpus").mkdir(exist_ok=True)
        shutil.copy(path, root / "corpus" / path.name)
    for name in ("DATASHEET.md", "LICENSE", "VERSION"):
        shutil.copy(REPO / name, root / name)
    shutil.copy(repo_build / "CITATION.cff", root / "CITATION.cff")  # what rehydrate takes from the build
    full, carried = find_corpus(REPO), Corpus(root)
    files = parquet_files(repo_build)
    version = (REPO / "VERSION").read_text("utf-8").strip()
    assert croissant.croissant(repo_build, carried, files, version=version) == croissant.croissant(repo_build, full, files, version=version)
    assert citation.citation_facts(carried) == citation.citation_facts(full)
    assert statement.data_statement(carried) == statement.data_statement(full)
    assert statement.card_fields(carried) == statement.card_fields(full)


def test_merged_card_yaml_reads_as_hub_card_data(repo_build: Path) -> None:
    import yaml
    from huggingface_hub import DatasetCard

    card = (repo_build / "README.md").read_text("utf-8")
    meta = yaml.safe_load(card.split("---\n", 2)[1])
    merged = statement.merge_card_yaml(meta, statement.card_fields(find_corpus(REPO)))
    assert list(merged).index("annotations_creators") < list(merged).index("configs")
    header = yaml.safe_dump(merged, sort_keys=False, allow_unicode=True, width=1000)
    data = DatasetCard(f"---\n{header}---\n\n# chipwar\n").data
    assert data.annotations_creators == ["machine-generated"] and data.language_creators == ["found"]
    assert data.multilinguality == ["monolingual"] and data.source_datasets == ["original"]
    assert data.pretty_name and data.size_categories and data.task_categories and data.language == ["en"]
    assert data.configs == meta["configs"]  # nothing the card had is lost


def test_the_repositorys_citation_has_no_version_to_go_stale(corpus_copy: Path) -> None:
    shutil.copy(REPO / "VERSION", corpus_copy / "VERSION")
    corpus = Corpus(corpus_copy)
    assert not citation.citation_is_current(corpus)  # no CITATION.cff yet
    text = citation.write_citation(corpus).read_text("utf-8")
    assert citation.citation_is_current(corpus) and "\nversion:" not in text and "date-released" not in text
    (corpus_copy / "VERSION").write_text("9.0.0\n", "utf-8")
    assert citation.citation_is_current(corpus)  # a release changes VERSION, not the project's citation


def test_a_build_cites_its_version_and_release_date(repo_build: Path) -> None:
    import yaml

    data = yaml.safe_load((repo_build / "CITATION.cff").read_text("utf-8"))
    version = (REPO / "VERSION").read_text("utf-8").strip()
    assert str(data["version"]) == version
    changelog = (REPO / "CHANGELOG.md").read_text("utf-8")
    assert str(data["date-released"]) == changelog.split(f"## [{version}] - ", 1)[1][:10]


def test_a_large_corpus_gets_grouped_rows_not_a_row_per_document(tmp_path: Path) -> None:
    """Past LISTED_DOCUMENTS the statement groups documents with the same values, so the card does not grow with the corpus."""
    root = tmp_path / "c"
    write_synthetic_corpus(root, grouped.LISTED_DOCUMENTS + 10, 200, schema_dir=REPO / "schema")
    text = statement.data_statement(find_corpus(root))
    n = grouped.LISTED_DOCUMENTS + 10
    assert f"| {n} documents, e.g. `" in text and "| documents | language tag | note |" in text
    assert not any(line.startswith("| `syn-") for line in text.splitlines())  # no row per document
    assert len(text) < 20_000
