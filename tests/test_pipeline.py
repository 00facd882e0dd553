import json

import pandas as pd
import pytest

from zhili.errors import ZhiliError
from zhili.pipeline import RunSettings, ingest, run


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


# ---- the run as public steps ----

def test_each_step_alone_gives_the_tables_of_the_run(tmp_path):
    from zhili import pipeline as p

    s = RunSettings(unit="paragraph", topics=3, by=["year"], out=str(tmp_path), cache=False, report=False)
    res = run(s)
    docs = p.ingest(s)
    units = p.to_units(docs, s)
    toks = p.tokenize(units, s)
    d, tables = p.count(docs, toks)
    tables.update(p.formulation_tables(units, s))
    net = p.coword_network(units, toks, s)
    tables.update({"coword_nodes": net.nodes, "coword_edges": net.edges})
    model = p.fit_topics(d, s)
    tables.update(p.topic_tables(model, units))
    tables.update(p.comparison_tables(d, s, model, tables["terms"]))
    assert sorted(tables) == sorted(res.frames)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, res.frames[name], obj=name)
    assert res.model is not None and res.coword is not None and res.units is res.corpus


def test_the_run_is_timed_step_by_step(tmp_path):
    from zhili.pipeline import STEPS

    res = run(RunSettings(out=str(tmp_path), cache=False, report=False))
    ran = [st.name for st in STEPS if st.when(res.settings)]
    assert list(res.manifest["timings"]) == ran and "topics" not in ran
    assert set(res.tables) <= {*res.frames, "workbook", "coword_graphml"}


# ---- results folders that are always whole ----

def _small_corpus(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i}_{2018 + i}.txt").write_text("推进网格化服务管理。\n加强矛盾纠纷化解。\n", encoding="utf-8")
    return folder


def test_a_second_run_leaves_nothing_of_the_first(tmp_path):
    out = tmp_path / "out"
    run(RunSettings(unit="paragraph", topics=3, by=["year"], out=str(out), cache=False, report=False))
    assert (out / "model").is_dir() and (out / "tables" / "topics.csv").exists()
    run(RunSettings(sources=[str(_small_corpus(tmp_path / "in"))], out=str(out), cache=False, report=False))
    names = {p.name for p in (out / "tables").iterdir()}
    assert not (out / "model").exists() and "topics.csv" not in names and "keyness.csv" not in names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no work folder left beside it


def test_a_failed_run_keeps_the_previous_results_and_their_log(tmp_path):
    from zhili.pipeline import verify_results

    out = tmp_path / "out"
    run(RunSettings(out=str(out), cache=False, report=False))
    log_before = (out / "run.log").read_bytes()
    (tmp_path / "empty.txt").write_text(" ", encoding="utf-8")
    with pytest.raises(ZhiliError, match="E016"):
        run(RunSettings(sources=[str(tmp_path / "empty.txt")], out=str(out), cache=False, report=False))
    assert (out / "run.log").read_bytes() == log_before
    verify_results(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt", "out"]


def test_a_failed_first_run_leaves_its_log(tmp_path):
    (tmp_path / "empty.txt").write_text(" ", encoding="utf-8")
    with pytest.raises(ZhiliError, match="E016"):
        run(RunSettings(sources=[str(tmp_path / "empty.txt")], out=str(tmp_path / "out"), cache=False, report=False))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["run.log"]
    assert "empty.txt" in (tmp_path / "out" / "run.log").read_text(encoding="utf-8")


def test_report_refuses_a_folder_that_does_not_match_its_manifest(tmp_path):
    from zhili.pipeline import verify_results

    res = run(RunSettings(out=str(tmp_path), cache=False, report=False))
    assert "tables/terms.csv" in res.manifest["files"]
    (tmp_path / "tables" / "stray.csv").write_text("a\n", encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E126\].*stray.csv"):
        verify_results(tmp_path)
    (tmp_path / "tables" / "stray.csv").unlink()
    with open(tmp_path / "tables" / "terms.csv", "a", encoding="utf-8") as fh:
        fh.write("x,1,1,0\n")
    with pytest.raises(ZhiliError, match=r"\[E126\].*terms.csv"):
        verify_results(tmp_path)


@pytest.mark.parametrize("files", [None, [], "x", {"tables/terms.csv": 5}, {"tables/terms.csv": "ab12"}])
def test_report_refuses_a_manifest_whose_files_record_is_not_a_map(tmp_path, files):
    from zhili.pipeline import verify_results

    run(RunSettings(out=str(tmp_path), cache=False, report=False))
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "files": files}), encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E126\].*'files' record"):
        verify_results(tmp_path)


def test_a_table_with_a_header_and_no_rows_says_so(tmp_path):
    (tmp_path / "empty.csv").write_text("text,year\n", encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E018\].*empty.csv"):
        run(RunSettings(sources=[str(tmp_path / "empty.csv")], out=str(tmp_path / "out"), cache=False, report=False))


def test_leftovers_of_a_killed_run_are_removed_and_a_half_swapped_folder_put_back(tmp_path):
    from zhili.files import clean_leftovers

    out = tmp_path / "out"
    run(RunSettings(out=str(out), cache=False, report=False))
    work = tmp_path / ".out.zhili-999999999-dead"  # a run killed between its two renames
    work.mkdir()
    out.rename(work / "previous")
    (tmp_path / ".out.zhili-999999998-dead" / "out").mkdir(parents=True)  # killed while building
    clean_leftovers(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (out / "manifest.json").exists()


def test_a_run_killed_at_any_moment_leaves_whole_results(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from zhili.pipeline import verify_results

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "zhili.cli", "-q", "run", "--unit", "paragraph", "--topics", "3", "--out", str(out)]
    env = {**os.environ, "ZHILI_CACHE_DIR": str(tmp_path / "cache")}
    assert subprocess.run(cmd, env=env).returncode == 0
    before = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["created"]
    for delay in (0.5, 2.0, 3.5):
        proc = subprocess.Popen(cmd, env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        verify_results(out)  # the old run or a new one, whole either way
    run(RunSettings(out=str(out), cache=False, report=False))  # the next run cleans up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out"]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["created"] >= before


@pytest.mark.parametrize("case", ["file", "foreign", "full"])
def test_unusable_out_is_refused_before_the_analysis(tmp_path, monkeypatch, case):
    import shutil
    from collections import namedtuple

    out = tmp_path / "out"
    if case == "file":
        out.write_text("x", encoding="utf-8")
        code = "E123"
    elif case == "foreign":
        out.mkdir()
        (out / "thesis.docx").write_text("x", encoding="utf-8")
        code = "E127"
    else:
        usage = namedtuple("usage", "total used free")
        monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10, 10, 0))
        code = "E124"
    monkeypatch.setattr("zhili.pipeline.ingest", lambda s: pytest.fail("analysis started"))
    with pytest.raises(ZhiliError, match=code):
        run(RunSettings(out=str(out), cache=False, report=False))


@pytest.mark.parametrize("name, code", [("../x", "E121"), ("/tmp/x", "E121"), ("a/b", "E121"), ("..", "E121"),
                                        ("", "E121"), (5, "E120")])
def test_batch_names_stay_inside_the_results_folder(tmp_path, name, code):
    from zhili.pipeline import load_config

    cfg = tmp_path / "run.toml"
    value = name if isinstance(name, int) else json.dumps(name)
    cfg.write_text(f"[[analysis]]\nname = {value}\n", encoding="utf-8")
    with pytest.raises(ZhiliError, match=code):
        load_config(cfg)


def test_duplicate_batch_names_are_refused(tmp_path):
    from zhili.pipeline import load_config

    cfg = tmp_path / "run.toml"
    cfg.write_text('[[analysis]]\nname = "a"\n[[analysis]]\nname = "a"\nunit = "paragraph"\n', encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E122\].*'a'"):
        load_config(cfg)


def test_source_column_n_tokens_does_not_crash_documents_table(tmp_path):
    src = tmp_path / "docs.jsonl"
    src.write_text('{"id": "a", "text": "推进网格化服务管理。", "n_tokens": "很多", "note": "$\\\\frac{x}{$"}\n',
                   encoding="utf-8")
    run(RunSettings(sources=[str(src)], out=str(tmp_path / "out"), cache=False, report=False))
    assert "n_tokens_original" in (tmp_path / "out" / "run.log").read_text(encoding="utf-8")
    docs = _read(tmp_path / "out" / "tables" / "documents.csv")
    assert docs.loc[0, "n_tokens"] > 0 and docs.loc[0, "n_tokens_original"] == "很多"
    assert docs.loc[0, "note"] == "$\\frac{x}{$"


def test_a_rerun_reuses_the_formulations_and_a_corrupt_entry_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "cache"))
    s = RunSettings(unit="paragraph", by=["year"], out=str(tmp_path / "a"), report=False)
    first = run(s)
    second = run(RunSettings(**{**vars(s), "out": str(tmp_path / "b")}))
    assert "formulations" in second.manifest["reused"] and "formulations" not in first.manifest.get("reused", [])
    assert "formulations reused" in (tmp_path / "b" / "run.log").read_text(encoding="utf-8")
    for name in ("formulations", "formulation_examples"):
        assert (tmp_path / "a" / "tables" / f"{name}.csv").read_bytes() == (tmp_path / "b" / "tables" / f"{name}.csv").read_bytes()
    for entry in (tmp_path / "cache" / "steps" / "formulations").rglob("*.parquet"):
        entry.write_bytes(b"PAR1 planted")
    third = run(RunSettings(**{**vars(s), "out": str(tmp_path / "c")}))
    assert "formulations" not in third.manifest.get("reused", [])
    pd.testing.assert_frame_equal(third.frames["formulations"], first.frames["formulations"])


def test_discover_phrases_keeps_proposed_terms_whole_for_this_run(tmp_path):
    seed = [p for p in ingest(RunSettings()).docs["text"][0].split("\n") if p.strip()]
    left = ["推进", "深化", "完善", "落实", "坚持", "优化", "做好", "强化", "健全", "抓好", "创新", "拓展"]
    right = ["改革", "机制", "工作", "服务", "体系", "平台", "模式", "成效", "制度", "流程", "考核", "队伍"]
    lines = [f"{a}红色物业联盟{b}，群众满意。" for a, b in zip(left, right)] + seed  # 红色/物业/联盟 when not found
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) + "\n"
                           for i, t in enumerate(lines)), encoding="utf-8")
    s = RunSettings(sources=[str(src)], out=str(tmp_path / "out"), discover_phrases=True, report=False,
                    cache=False)
    res = run(s)
    assert res.settings == s  # the phrase dictionary belongs to the run, not to the settings given
    assert res.manifest["phrases"]["proposed"][0] == "红色物业联盟"
    assert (tmp_path / "out" / "phrases.txt").read_text(encoding="utf-8").startswith("红色物业联盟 ")
    phrases = _read(tmp_path / "out" / "tables" / "phrases.csv").set_index("phrase")
    assert phrases.loc["红色物业联盟", "proposed"] and not phrases.loc["推进市域社会治理现代化", "proposed"]
    terms = _read(tmp_path / "out" / "tables" / "terms.csv").set_index("term")
    assert terms.loc["红色物业联盟", "count"] == 12  # every use cut whole
    plain = run(RunSettings(**{**vars(s), "discover_phrases": False, "out": str(tmp_path / "plain")}))
    assert "红色物业联盟" not in plain.frames["terms"]["term"].tolist() and "phrases" not in plain.manifest


def test_manifest_sums_web_cleaning_and_years_from_meta_lines(tmp_path):
    src = tmp_path / "web.jsonl"
    texts = ["中国长安网 | 责任编辑：张三 | 发布时间：2021-05-06\n推进社會(shè huì)治理现代化，网格化服务管理。",
             "推进网格化服务管理，化解矛盾纠纷。"]
    src.write_text("".join(json.dumps({"id": f"w{i}", "text": t}, ensure_ascii=False) + "\n"
                           for i, t in enumerate(texts)), encoding="utf-8")
    res = run(RunSettings(sources=[str(src)], out=str(tmp_path / "out"), report=False, cache=False))
    web = res.manifest["web_cleaning"]
    assert web["on"] and web["years_from_meta_line"] == 1
    assert web["removed_characters"]["pinyin"] == len("(shè huì)")
    assert web["removed_characters"]["meta"] > 0


@pytest.mark.parametrize("out", ["../../etc/x", "/tmp/zhili-abs", "x"])
def test_config_out_inside_an_analysis_is_refused_regression(tmp_path, out):
    """`out` inside [[analysis]] bypassed the name check (E121): '../../etc/x' or an absolute path left
    the results folder."""
    from zhili.pipeline import load_config

    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[[analysis]]\nname = "a"\nout = "{out}"\n', encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E132\].*'a'.*name = ") as exc:
        load_config(cfg)
    assert isinstance(exc.value, ValueError)


def test_config_top_level_out_is_the_folder_of_the_analyses(tmp_path):
    from zhili.pipeline import load_config

    cfg = tmp_path / "run.toml"
    cfg.write_text('out = "res"\n[[analysis]]\nname = "a"\n[[analysis]]\nname = "b"\n', encoding="utf-8")
    assert [r.out for r in load_config(cfg)] == [str(tmp_path / "res" / "a"), str(tmp_path / "res" / "b")]
    cfg.write_text('out = "res"\n', encoding="utf-8")  # one analysis, no table: out is its folder
    assert [r.out for r in load_config(cfg)] == [str(tmp_path / "res")]


def test_formulations_cache_key_follows_texts_docvars_and_units():
    from zhili.corpus import corpus_from_texts
    from zhili.pipeline import formulations_key

    s = RunSettings(by=["city"])

    def key(texts, cities, unit="document"):
        return formulations_key(corpus_from_texts(texts, docvars={"city": cities}).reshape(unit), s, "fp")

    base = key(["坚持五大导向。\n推进三降三升。"], ["南通"])
    assert base == key(["坚持五大导向。\n推进三降三升。"], ["南通"])
    assert base != key(["坚持五大导向。\n推进三降三升！"], ["南通"])
    assert base != key(["坚持五大导向。\n推进三降三升。"], ["苏州"])
    assert base != key(["坚持五大导向。\n推进三降三升。"], ["南通"], unit="paragraph")
    assert key(["甲\n乙"], ["南通"], "paragraph") != key(["甲乙"], ["南通"], "paragraph")


def _tables_and_log(folder):
    """Every written table's bytes (the workbook by its parts), run.log without its cache notes, the report's figures."""
    import re
    import zipfile

    out = {}
    for path in sorted((folder / "tables").iterdir()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                out.update({f"{path.name}:{n}": book.read(n) for n in book.namelist()})
        else:
            out[path.name] = path.read_bytes()
    out["run.log"] = [line for line in (folder / "run.log").read_text(encoding="utf-8").splitlines()
                      if not line.startswith("cache\t")]
    out["figures"] = re.findall(r"data:image/png;base64,[A-Za-z0-9+/=]+", (folder / "report.html").read_text(encoding="utf-8"))
    return out


def test_a_rerun_with_another_k_reuses_what_does_not_depend_on_k_and_writes_the_same_as_a_cold_run(
        tmp_path, monkeypatch, seed_text):
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "cache"))
    paragraphs = [p for p in seed_text.split("\n") if p.strip()]
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "year": 2015 + i % 4, "text": "\n".join(paragraphs[i::7])},
                                      ensure_ascii=False) + "\n" for i in range(7)), encoding="utf-8")
    base = {"sources": [str(src)], "unit": "paragraph", "by": ["year"]}
    first = run(RunSettings(**base, topics=3, out=str(tmp_path / "k3")))
    rerun = run(RunSettings(**base, topics=2, out=str(tmp_path / "k2")))
    assert "reused" not in first.manifest
    reused = rerun.manifest["reused"]
    assert {"ingest", "formulations", "comparisons (keyness, term_trends)"} <= set(reused)
    assert rerun.documents.store is not None and rerun.documents.texts == first.documents.texts
    written = next(r for r in reused if r.startswith("written tables ("))
    assert {"documents", "terms", "keyness", "term_trends"} <= set(written[len("written tables ("):-1].split(", "))
    assert not {"doc_topics", "topics", "topic_prevalence"} & set(written[len("written tables ("):-1].split(", "))
    assert any(r.startswith("report figures (") for r in reused)
    assert "comparisons (keyness, term_trends) reused" in (tmp_path / "k2" / "run.log").read_text(encoding="utf-8")
    cold = run(RunSettings(**base, topics=2, out=str(tmp_path / "cold"), cache=False))
    assert "reused" not in cold.manifest
    assert _tables_and_log(tmp_path / "k2") == _tables_and_log(tmp_path / "cold")


def test_cached_tables_keep_object_columns_missing_values_and_warnings(tmp_path, monkeypatch):
    import warnings

    from zhili.errors import ZhiliWarning
    from zhili.pipeline import cached_tables

    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path))
    table = pd.DataFrame({"group": pd.Series([2019, 2020, 2021], dtype=object),
                          "city": pd.Series(["南通市", pd.NA, "苏州市"], dtype=object),
                          "note": pd.Series([None, "x", None], dtype=object), "n": [1.5, 2.0, 3.0]})

    def compute():
        warnings.warn("[W999] a note for run.log", ZhiliWarning, stacklevel=2)
        return {"t": table}

    with pytest.warns(ZhiliWarning, match="W999"):
        _, hit = cached_tables("test", "key", compute)
    assert not hit
    with pytest.warns(ZhiliWarning, match="W999"):
        again, hit = cached_tables("test", "key", lambda: pytest.fail("recomputed"))
    assert hit
    pd.testing.assert_frame_equal(again["t"], table)
    assert again["t"]["city"][1] is pd.NA and again["t"]["note"][0] is None and type(again["t"]["group"][0]) is int


def test_a_reused_ingest_whose_texts_are_damaged_or_gone_reads_the_sources_again(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "cache"))
    s = {"unit": "paragraph", "by": ["year"], "report": False}
    first = run(RunSettings(**s, out=str(tmp_path / "a")))
    texts = list((tmp_path / "cache" / "steps" / "ingest").rglob("texts.utf8"))
    assert len(texts) == 1 and "ingest" not in first.manifest.get("reused", [])
    data = texts[0].read_bytes()
    texts[0].write_bytes(data[:-3] + "治理".encode()[:3])  # same size, other bytes
    second = run(RunSettings(**s, out=str(tmp_path / "b")))
    assert "ingest" not in second.manifest.get("reused", []) and second.units.texts == first.units.texts
    third = run(RunSettings(**s, out=str(tmp_path / "c")))
    assert "ingest" in third.manifest["reused"] and third.units.texts == first.units.texts
    texts[0].unlink()
    fourth = run(RunSettings(**s, out=str(tmp_path / "d")))
    assert "ingest" not in fourth.manifest.get("reused", []) and fourth.units.texts == first.units.texts
    for name in ("documents.csv", "terms.csv", "formulations.csv"):
        assert len({(tmp_path / d / "tables" / name).read_bytes() for d in "abcd"}) == 1


def test_a_cached_step_table_with_flipped_bytes_is_recomputed_not_reused_regression(tmp_path, monkeypatch):
    """A flipped bit in a step's cached Parquet read back as other text (人工智能 -> 人巤智能) on
    every later run; now its SHA-256 (in tables.json) must match, or the step is computed again."""
    from zhili.pipeline import cached_tables

    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path))
    table = pd.DataFrame({"formulation": ["人工智能", "三治融合"], "count": [14, 3]})
    cached_tables("test", "key", lambda: {"t": table})
    path = next((tmp_path / "steps" / "test" / "key").glob("t.parquet"))
    data = bytearray(path.read_bytes())
    at = data.find("工".encode())
    data[at + 2] ^= 0x01
    path.write_bytes(bytes(data))
    again, hit = cached_tables("test", "key", lambda: {"t": table})
    assert not hit
    pd.testing.assert_frame_equal(again["t"], table)
    _, hit = cached_tables("test", "key", lambda: pytest.fail("recomputed"))
    assert hit  # stored again, intact


def test_a_step_cache_folder_copied_under_another_key_is_recomputed_regression(tmp_path, monkeypatch):
    import shutil

    from zhili.pipeline import cached_tables

    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path))
    cached_tables("test", "key-a", lambda: {"t": pd.DataFrame({"city": ["南通"]})})
    cached_tables("test", "key-b", lambda: {"t": pd.DataFrame({"city": ["苏州"]})})
    shutil.rmtree(tmp_path / "steps" / "test" / "key-a")
    shutil.copytree(tmp_path / "steps" / "test" / "key-b", tmp_path / "steps" / "test" / "key-a")
    again, hit = cached_tables("test", "key-a", lambda: {"t": pd.DataFrame({"city": ["南通"]})})
    assert not hit and again["t"]["city"].tolist() == ["南通"]


def test_manifest_records_the_math_libraries_thread_counts(tmp_path):
    """The last digits of fitted numbers depend on the BLAS/OpenMP thread count (found comparing the
    Dask and local engines), so the manifest records it to reproduce a run. Only BLAS and OpenMP:
    scipy's Matrix Market pool (loaded by export_for_r) reports a function as its version."""
    import io

    import scipy.io
    import scipy.sparse

    scipy.io.mmwrite(io.BytesIO(), scipy.sparse.eye(2, format="csr"))  # loads that pool
    res = run(RunSettings(out=str(tmp_path / "r"), topics=2, unit="paragraph", cache=False, report=False))
    recorded = json.loads((tmp_path / "r" / "manifest.json").read_text(encoding="utf-8"))["threads"]
    assert recorded == res.manifest["threads"] and recorded
    assert all(isinstance(x["num_threads"], int) and x["library"] != "scipy_mmio" for x in recorded)
