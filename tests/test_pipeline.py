import json

import pandas as pd
import pytest

from zhili.errors import ZhiliError
from zhili.pipeline import RunSettings, run


def _read(path):
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), f"{path.name} must be UTF-8 with BOM for Excel"
    return pd.read_csv(path, encoding="utf-8-sig")


def test_default_run_on_seed(tmp_path):
    res = run(RunSettings(out=str(tmp_path), cache=False, report=False))
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["in"] == manifest["counts"]["analysed"] == 1
    assert manifest["inputs"][0]["sha256"] and manifest["libraries"]["jieba"]
    docs = _read(tmp_path / "tables" / "documents.csv")
    assert list(docs.columns[:6]) == ["doc_id", "source", "status", "reason", "n_chars", "n_tokens"]
    assert docs.loc[0, "city"] == "南通市" and docs.loc[0, "n_tokens"] > 1000
    terms = _read(tmp_path / "tables" / "terms.csv")
    assert {"term", "count", "doc_count"} <= set(terms.columns) and "网格化" in set(terms["term"])
    assert terms.loc[0, "term"] == "社会治理"
    assert res.dtm.shape[0] == 1


def test_every_input_accounted_for(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text("推进网格化服务管理。", encoding="utf-8")
    (src / "empty.txt").write_text("", encoding="utf-8")
    (src / "blob.txt").write_bytes(bytes(range(256)) * 4)
    res = run(RunSettings(sources=[str(src)], out=str(tmp_path / "out"), cache=False, report=False))
    docs = _read(tmp_path / "out" / "tables" / "documents.csv")
    assert len(docs) == 3 and sorted(docs["status"]) == ["analysed", "skipped", "skipped"]
    assert res.manifest["counts"] == {**res.manifest["counts"], "in": 3, "analysed": 1, "skipped": 2}
    log = (tmp_path / "out" / "run.log").read_text(encoding="utf-8")
    assert "empty.txt" in log and "blob.txt" in log


def test_all_skipped_is_an_error(tmp_path):
    (tmp_path / "empty.txt").write_text(" ", encoding="utf-8")
    with pytest.raises(ZhiliError, match="E016"):
        run(RunSettings(sources=[str(tmp_path / "empty.txt")], out=str(tmp_path / "out"), cache=False, report=False))


def test_paragraph_unit(tmp_path):
    res = run(RunSettings(unit="paragraph", out=str(tmp_path), cache=False, report=False))
    assert res.manifest["counts"]["units"] > 10 and res.dtm.docvars["position"].min() == 1


def test_topics_and_comparisons_on_seed_paragraphs(tmp_path):
    res = run(RunSettings(unit="paragraph", topics="auto", by=["year"], out=str(tmp_path), cache=False))
    tables = tmp_path / "tables"
    for name in ("topics", "doc_topics", "k_search", "topic_prevalence", "keyness", "formulations",
                 "formulation_examples", "coword_nodes", "coword_edges"):
        assert (tables / f"{name}.csv").exists() and (tables / f"{name}.parquet").exists(), name
    assert (tables / "coword.graphml").exists() and (tables / "zhili-tables.xlsx").exists()
    topics = _read(tables / "topics.csv")
    assert {"topic", "label", "top_terms", "share"} <= set(topics.columns)
    doc_topics = _read(tables / "doc_topics.csv")
    assert list(doc_topics.columns[:2]) == ["doc_id", "position"] and f"topic_{len(topics) - 1}" in doc_topics
    prevalence = _read(tables / "topic_prevalence.csv")
    assert {"by", "group", "topic", "mean", "ci_low", "ci_high", "n_docs"} <= set(prevalence.columns)
    assert (tmp_path / "report.html").exists() and (tmp_path / "model" / "manifest.json").exists()
    assert {"year", "term", "rate", "ci_low", "ci_high"} <= set(_read(tables / "term_trends.csv").columns)
    assert res.manifest["k_search"]["recommended_k"] == len(topics)


def test_same_seed_same_topics_table(tmp_path):
    a = run(RunSettings(unit="paragraph", topics=3, out=str(tmp_path / "a"), cache=False, report=False))
    b = run(RunSettings(unit="paragraph", topics=3, out=str(tmp_path / "b"), cache=False, report=False))
    assert (a.out / "tables" / "topics.csv").read_bytes() == (b.out / "tables" / "topics.csv").read_bytes()


def test_config_batch_and_unknown_key(tmp_path):
    from zhili.pipeline import load_config

    cfg = tmp_path / "run.toml"
    cfg.write_text('unit = "paragraph"\n[[analysis]]\nname = "a"\n[[analysis]]\nname = "b"\nunit = "sentence"\n',
                   encoding="utf-8")
    runs = load_config(cfg)
    assert [(r.unit, r.out) for r in runs] == [("paragraph", str(tmp_path / "zhili-results" / "a")),
                                              ("sentence", str(tmp_path / "zhili-results" / "b"))]
    cfg.write_text('unti = "paragraph"\n', encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E061\].*'unti'.*unit"):
        load_config(cfg)
    cfg.write_text('unit = "paragraph\n', encoding="utf-8")
    with pytest.raises(ZhiliError, match="E062"):
        load_config(cfg)
