"""``croissant.json``: a Croissant 1.0 (JSON-LD) description of a built dataset folder, with
the Responsible-AI (``rai:``) fields.

- **distribution**: every Parquet file of the build as a ``cr:FileObject`` with its relative
  ``contentUrl`` and SHA-256, and one ``cr:FileSet`` per config naming exactly its files;
- **recordSet**: one per config, reading that FileSet; a field per Parquet column, typed from
  the Hugging Face features stored in the file (``string`` -> ``sc:Text``, integers ->
  ``sc:Integer``, ``bool`` -> ``sc:Boolean``, floats -> ``sc:Float``; a ``ClassLabel`` is
  ``sc:Integer`` and its description lists the names by index; a list is ``repeated``; a struct
  has ``subField`` s reached by ``jsonPath``), plus ``data_split``, the split its file holds;
- **rai:** who annotated (model passes and a model adjudication; no human), how, the annotators'
  "demographics" (none human; the models as the files name them), limitations, biases, personal
  information, uses, collection and maintenance — read from the corpus (document metadata,
  annotator blocks) and stated as ``DATASHEET.md`` states them;
- **license**: the annotations' licence (CC BY 4.0); in a build with texts, the texts' status
  (third-party copyrighted, under no licence) as a second entry.

The output is deterministic: no time or absolute path in it, keys in a fixed order, files sorted;
the same folder gives the same bytes. ``datePublished`` is this version's release date from
CHANGELOG.md, and left out when there is none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from datasets import ClassLabel, Features, LargeList, List, Sequence, Value

from ..corpus import Corpus
from ..writer import replace_file
from .citation import LICENSE_URL, bibtex, citation_facts
from .shards import file_sha256
from .statement import PRETTY_NAME, corpus_facts, human_annotated

CROISSANT_FILE = "croissant.json"
#: The split in a shard's file name (see chipwar.hf.shards).
SPLIT_OF_FILE = "^(?:.*/)?([^/-]+)-[0-9]{5}-of-[0-9]{5}-[0-9a-f]+\\.parquet$"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET = "application/x-parquet"
SPLIT_FIELD = "data_split"

#: The Croissant 1.0 JSON-LD context, as the specification and its examples write it.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
    "equivalentProperty": "cr:equivalentProperty",
    "samplingRate": "cr:samplingRate",
}

_INTEGERS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_FLOATS = {"float16", "float32", "float64"}

CONFIG_MEANING = {
    "documents": "One row per document: metadata, text and every annotation layer nested (lossless).",
    "entities": "One row per entity mention, with its sentence.",
    "claims": "One row per claim, with its attribution chain, claimant, restatements, certainty and sentence.",
    "bias_markers": "One row per bias or persuasion marker, with target, polarity, intensity and sentence.",
    "ner": "One row per sentence: tokens with code-point offsets and BIO entity tags (ClassLabel indices).",
}


def _data_type(value: Value) -> str:
    dtype = value.dtype
    if dtype in _INTEGERS:
        return "sc:Integer"
    if dtype in _FLOATS:
        return "sc:Float"
    if dtype == "bool":
        return "sc:Boolean"
    if dtype.startswith("timestamp"):
        return "sc:DateTime"
    if dtype.startswith("date"):
        return "sc:Date"
    return "sc:Text"


def _label_description(label: ClassLabel) -> str:
    return "ClassLabel index: " + ", ".join(f"{i} = {name}" for i, name in enumerate(label.names))


def _items(feature: Any) -> Any | None:
    """The item feature of a list feature, else None."""
    if isinstance(feature, (List, LargeList)):
        return feature.feature
    if isinstance(feature, Sequence):
        return feature.feature
    if isinstance(feature, list) and len(feature) == 1:
        return feature[0]
    return None


def _field(field_id: str, name: str, feature: Any, source: dict, column: str, path: str | None) -> dict:
    """One ``cr:Field`` for ``feature``, read from ``column`` (``path``: the jsonPath inside it)."""
    out: dict[str, Any] = {"@type": "cr:Field", "@id": field_id, "name": name}
    repeated = False
    items = _items(feature)
    if items is not None:
        repeated, feature = True, items
    if isinstance(feature, ClassLabel):
        out["description"] = _label_description(feature)
    if isinstance(feature, (dict, Features)):
        out["subField"] = [_field(f"{field_id}/{key}", key, sub, source, column, key if repeated or path is None else f"{path}.{key}")
                           for key, sub in feature.items()]
    else:
        out["dataType"] = _data_type(feature) if isinstance(feature, Value) else "sc:Integer" if isinstance(feature, ClassLabel) else "sc:Text"
    if repeated:
        out["repeated"] = True
    src: dict[str, Any] = {**source, "extract": {"column": column}}
    if path is not None:
        src["transform"] = {"jsonPath": path}
    if "subField" not in out:
        out["source"] = src
    return out


def record_set(config: str, features: Features) -> dict:
    """The RecordSet of one config: its split (from the file name), then one field per column."""
    source = {"fileSet": {"@id": f"parquet-{config}"}}
    fields = [{"@type": "cr:Field", "@id": f"{config}/{SPLIT_FIELD}", "name": SPLIT_FIELD, "dataType": "sc:Text",
               "description": "The split the row's file holds (train, validation or test).",
               "source": {**source, "extract": {"fileProperty": "filename"}, "transform": {"regex": SPLIT_OF_FILE}}}]
    fields += [_field(f"{config}/{name}", name, feature, source, name, None) for name, feature in features.items()]
    return {"@type": "cr:RecordSet", "@id": config, "name": config, "description": CONFIG_MEANING.get(config, config), "field": fields}


def _features(path: Path) -> Features:
    """The features a build stored in a Parquet file's schema (ClassLabel names included)."""
    return Features.from_arrow_schema(pq.read_schema(path))


def _distribution(folder: Path, files: dict[str, dict[str, list[str]]]) -> list[dict]:
    out: list[dict] = []
    for config in files:
        for split, rels in sorted(files[config].items()):
            for i, rel in enumerate(rels):
                out.append({"@type": "cr:FileObject", "@id": rel, "name": rel,
                            "description": f"{config}, {split} split, shard {i + 1} of {len(rels)}",
                            "contentUrl": rel, "encodingFormat": PARQUET, "sha256": file_sha256(folder / rel)})
    for config in files:
        out.append({"@type": "cr:FileSet", "@id": f"parquet-{config}", "name": f"parquet-{config}",
                    "description": f"The Parquet shards of the {config} config, by split.",
                    "encodingFormat": PARQUET, "includes": [rel for _, rels in sorted(files[config].items()) for rel in rels]})
    return out


def _join(values: list[str]) -> str:
    return "; ".join(values)


def rai_fields(corpus: Corpus, set_name: str, with_text: bool) -> dict[str, Any]:
    """The Responsible-AI fields, from the corpus's records."""
    facts = corpus_facts(corpus)
    built = facts.annotators_of([set_name])
    machine = bool(built) and not human_annotated(built)
    models = sorted({f"{a.model} (version {a.model_version or 'not recorded'})" for a in built if a.model})
    publishers = sorted(facts.publishers)
    intake_dates = facts.intake_dates
    languages = ([f"{d.doc_id}: '{d.language}' — {d.language_note or 'no note'}" for d in facts.listed] if facts.listed else
                 [f"{n:,} documents: '{tag}' — {note or 'no note'}" for (tag, note), n in sorted(facts.languages.items(), key=str)])
    genres, splits = facts.genres, facts.splits
    descriptions = sorted({a.description for a in built if a.description})
    return {
        "rai:dataCollection": (
            f"{facts.documents} online news and commentary article(s) ({', '.join(publishers)}), picked by hand as seeds, received as "
            "plain-text files already extracted from the web pages by a process the project did not see, and taken in byte for "
            "byte (`chipwar intake`), with each text's SHA-256 and length recorded. Publisher, address and date come from facts "
            "checked against stored public copies of the pages; anything unknown is null with a note (authors: unknown)."),
        "rai:dataCollectionType": ["Web Scraping (the texts were received already extracted from the pages, by a process the project did not see)",
                                    "Selected by hand as seeds"],
        "rai:dataCollectionMissingData": (
            "Authors are unknown for every document (no byline received). Images, captions, links, embedded media and reader "
            "comments were not received. A headline missing from a text is recorded from its address and marked so."),
        "rai:dataCollectionRawData": (
            "The texts are the raw data, kept exactly as received (page furniture included, marked by zones). Annotation sets "
            "other than the one built here (such as blind passes) stay in the repository, as they came back."),
        **({"rai:dataCollectionTimeframe": [intake_dates[0], intake_dates[-1]]} if intake_dates else {}),
        "rai:dataPreprocessingProtocol": [
            "None of the text: it is kept as received. Intake would normalise CRLF to LF and to Unicode NFC once and record it "
            "(intake.normalised); where that list is empty nothing was changed."],
        "rai:dataAnnotationProtocol": [
            f"Annotation set '{set_name}': " + _join(descriptions) if descriptions else f"Annotation set '{set_name}'.",
            "How the annotations were made, and their agreement, is told in DATASHEET.md ('Who annotated, and how'), carried in this folder.",
            "Standoff spans with Unicode code-point offsets, end-exclusive, in four layers (zones, entities, claims, bias markers), "
            "checked against the JSON Schema in schema/; guidelines in annotations/GUIDELINES.md.",
        ],
        "rai:dataAnnotationPlatform": ["chipwar packet (files prepared and received by program; annotations written as JSON by model agents)"],
        "rai:dataAnnotationAnalysis": [
            "Agreement between the blind passes (span F1, Cohen's kappa, Krippendorff's alpha) is in the datasheet; it measures "
            "agreement between runs of one model, not between people, and rests on few units."],
        "rai:annotationsPerItem": f"One annotation set per document: '{set_name}'.",
        "rai:annotatorDemographics": [
            ("No human annotator: every annotation was made by language-model agents, which have no demographics. Models as recorded: "
             if machine else "Annotator blocks as recorded (a block naming no model may be a person, whose demographics are not recorded): ")
            + (", ".join(models) or "none recorded")],
        "rai:machineAnnotationTools": models,
        "rai:dataBiases": [
            "Not a sample of the chip-war press: articles picked by hand (genres: "
            + ", ".join(f"{g} {n}" for g, n in sorted(genres.items())) + ").",
            *(["Model-made annotations carry the annotating model's sense of what is loaded or neutral; runs of one model share its "
               "habits and blind spots, so errors they share do not show as disagreement."] if machine else [])],
        "rai:dataUseCases": [
            "Intended: studying and teaching annotation of entities, claims and persuasion in news; testing tools and models on "
            "exact-offset standoff data; a seed and schema for a larger corpus.",
            "Not suitable: training or evaluating models for deployment; claims about the chip-war press in general; judging "
            "whether a claim is true (claims are check-worthy statements, not fact-checked)."],
        "rai:dataLimitations": [
            f"{facts.documents} document(s); per split: " + ", ".join(f"{s} {n}" for s, n in sorted(splits.items()))
            + ("; no validation or test data: do not report held-out results." if set(splits) == {"train"} else "."),
            "No human has annotated or reviewed the annotations." if machine else "Annotations are not all model-made; see the annotator blocks.",
            "Language variety per document (BCP 47 tag — the note on it): " + " | ".join(languages)],
        "rai:dataSocialImpact": (
            "Labels on a partisan text describe its rhetoric, not a verdict on its subjects or author; model-made labels can carry "
            "the model's own leanings."),
        "rai:personalSensitiveInformation": [
            "No personal data beyond public figures and people quoted from public sources in published articles. The articles' "
            "authors are unknown and not recorded."],
        "rai:dataReleaseMaintenancePlan": (
            "Maintained by the chipwar project through its repository: versioned releases (semantic versions, CHANGELOG.md), texts "
            "never edited in place (corrections re-anchor every annotation), split assignment fixed per document."),
    }


def licenses(with_text: bool) -> list[Any]:
    """The annotations' licence, and in a build with texts, the texts' status."""
    out: list[Any] = [LICENSE_URL]
    if with_text:
        out.append({"@type": "sc:CreativeWork", "name": "Article texts: third-party copyrighted, no licence",
                    "description": "The article texts (and the span, sentence and token texts cut from them) are third-party "
                                   "copyrighted journalism; no licence has been granted to this project. Kept for research; do not "
                                   "redistribute them without the rights holder's permission (see LICENSE and each document's rights)."})
    return out


def croissant(folder: Path, corpus: Corpus, files: dict[str, dict[str, list[str]]], *, version: str, set_name: str = "gold",
              with_text: bool = True) -> dict[str, Any]:
    """The Croissant description of the built ``folder`` whose Parquet files are ``files`` (config -> split -> relative path)."""
    facts = citation_facts(corpus, version, set_name)
    configs = [c for c in files if files[c]]
    variant = ("with the article texts (not licensed; see license)" if with_text else
               "annotations only: article, span, sentence and token texts are null; restore them with `chipwar rehydrate`")
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": "chipwar",
        "alternateName": PRETTY_NAME,
        "description": (f"{PRETTY_NAME}. Version {version}, built from the '{set_name}' annotation set, {variant}. Standoff "
                        "annotations with Unicode code-point offsets, end-exclusive, over news and commentary on the "
                        "semiconductor 'chip war'."),
        "version": version,
        **({"datePublished": facts.released} if facts.released else {}),
        "creator": {"@type": "sc:Organization", "name": facts.author},
        "license": licenses(with_text),
        "inLanguage": sorted({tag for tag, _ in corpus_facts(corpus).languages if tag}),
        "keywords": ["media bias", "propaganda", "claim detection", "named entities", "semiconductors", "export controls",
                     "standoff annotation"],
        "citeAs": bibtex(facts),
        **({"url": facts.repository} if facts.repository else {}),
        **rai_fields(corpus, set_name, with_text),
        "distribution": _distribution(folder, {c: files[c] for c in configs}),
        "recordSet": [record_set(c, _features(folder / min(rel for rels in files[c].values() for rel in rels))) for c in configs],
    }
    return out


def croissant_bytes(description: dict[str, Any]) -> bytes:
    """The file's bytes: UTF-8 JSON, two-space indent, final newline (key order as built)."""
    return orjson.dumps(description, option=orjson.OPT_INDENT_2) + b"\n"


def write_croissant(folder: Path, corpus: Corpus, files: dict[str, dict[str, list[str]]], *, version: str, set_name: str = "gold",
                    with_text: bool = True) -> Path:
    """Write ``croissant.json`` into the built ``folder``; return its path."""
    path = folder / CROISSANT_FILE
    replace_file(path, croissant_bytes(croissant(folder, corpus, files, version=version, set_name=set_name, with_text=with_text)))
    return path
