import json
from pathlib import Path

import pandas as pd
import pytest

from zhili.corpus import corpus, corpus_from_texts, split_units
from zhili.errors import ZhiliError, ZhiliWarning

POLICY = "推进市域社会治理现代化。加强网格化服务管理！\n\n完善矛盾纠纷多元化解机制。"


def test_default_corpus_is_the_seed_with_its_metadata():
    c = corpus()
    row = c.docs.iloc[0]
    assert len(c) == 1 and row["city"] == "南通市" and row["year"] == 2019 and row["script"] == "traditional"
    assert row["author"] == "姜永華"
    assert "責任編輯" not in row["text"] and "作者系" not in row["text"]


def test_folder_with_name_pattern_and_skips(tmp_path):
    (tmp_path / "南通_2019.txt").write_text(POLICY, encoding="utf-8")
    (tmp_path / "苏州_二〇二〇年.txt").write_text(POLICY, encoding="gb18030")
    (tmp_path / "empty_2021.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    c = corpus(tmp_path, name_pattern="{city}_{year}")
    assert sorted(c.docs["city"]) == ["南通", "苏州"]
    assert sorted(c.docs["year"].tolist()) == [2019, 2020]
    skipped = c.log[c.log["status"] == "skipped"]
    assert len(c.log) == 4 and len(skipped) == 2
    assert all(r.startswith("[E0") for r in skipped["reason"])


def test_table_source_docvars_duplicates_and_empty_rows(tmp_path):
    path = tmp_path / "docs.csv"
    pd.DataFrame({"id": ["a", "b", "a", "c"], "text": [POLICY, POLICY, POLICY, ""],
                  "city": ["南通", "苏州", "南通", "扬州"]}).to_csv(path, index=False)
    c = corpus(path)
    assert c.docs["doc_id"].tolist() == ["a", "b"]
    reasons = c.log.set_index("source")["reason"]
    assert any("E009" in r for r in reasons) and any("Row 4" in r and "E015" in r for r in reasons)


def test_sidecar_join_and_unmatched_row_warning(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "nt.txt").write_text(POLICY, encoding="utf-8")
    side = tmp_path / "meta.csv"
    side.write_text("file,city,year\nnt.txt,南通市,2019年\nmissing.txt,苏州市,2020\n", encoding="utf-8")
    c = corpus(tmp_path / "docs", sidecar=side)
    assert c.docs.loc[0, "city"] == "南通市" and c.docs.loc[0, "year"] == 2019
    assert any("E010" in w and "missing.txt" in w for w in c.warnings)


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(ZhiliError, match=r"\[E001\].*nope"):
        corpus(tmp_path / "nope")


def test_jsonl_gz_source(tmp_path):
    import gzip

    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i, year in enumerate([2019, 2020]):
            f.write(json.dumps({"id": f"d{i}", "text": POLICY, "year": year}, ensure_ascii=False) + "\n")
    c = corpus(path)
    assert c.docs["year"].tolist() == [2019, 2020] and c.inputs[0]["n_docs"] == 2


@pytest.mark.parametrize("unit, n", [("document", 1), ("paragraph", 2), ("sentence", 3)])
def test_reshape_keeps_doc_id_and_position(unit, n):
    c = corpus_from_texts([POLICY], doc_ids=["nt"], docvars={"city": ["南通"]}).reshape(unit)
    assert len(c) == n and set(c.docs["doc_id"]) == {"nt"} and set(c.docs["city"]) == {"南通"}
    if unit != "document":
        assert c.docs["position"].tolist() == list(range(1, n + 1))


@pytest.mark.parametrize("derive", [lambda c: c.reshape("paragraph"), lambda c: c.subset([True])])
def test_reshape_and_subset_share_no_mutable_state_with_their_corpus(derive):
    c = corpus_from_texts([POLICY], doc_ids=["nt"])
    c.warnings.append("from ingest")
    d = derive(c)
    assert d.warnings == ["from ingest"] and d.inputs == c.inputs
    d.warnings.append("from the units")
    d.inputs.append({"source": "x"})
    d.log.loc[0, "reason"] = "changed"
    assert c.warnings == ["from ingest"] and {"source": "x"} not in c.inputs
    assert c.log.loc[0, "reason"] != "changed"


def test_split_units_sentence_keeps_closing_quotes():
    assert split_units("他说：“好。”然后走了。", "sentence") == ["他说：“好。”", "然后走了。"]


def test_bad_year_is_reported_not_dropped():
    c = corpus_from_texts(["甲乙"], docvars={"year": ["明年"]})
    assert c.docs["year"].isna().all()


def test_licence_footer_becomes_a_variable_and_a_log_line(tmp_path):
    body = "各位代表：现在，我代表市人民政府向大会报告工作，请予审议。" * 5
    (tmp_path / "a.txt").write_text(body + "\n\n本作品是中华人民共和国的\n法律\n公有领域\nPublic domain\nfalse",
                                    encoding="utf-8")
    (tmp_path / "b.txt").write_text(body, encoding="utf-8")
    c = corpus(tmp_path)
    assert c.texts == [body, body]
    assert c.docs["footer_removed"].tolist()[0] == 42 and pd.isna(c.docs["footer_removed"].tolist()[1])
    assert any("licence footer" in w and "1 documents" in w for w in c.warnings)
    kept = corpus(tmp_path, bylines=False)
    assert "Public domain" in kept.texts[0] and "footer_removed" not in kept.docs


def test_no_wikisource_notice_reaches_the_national_reports(shared_data):
    c = corpus(shared_data("gov_work_reports") / "docs.jsonl.gz")
    assert c.docs["footer_removed"].notna().sum() >= 50
    assert not any("Public domain" in t or "公有领域" in t for t in c.texts)


# ---------------------------------------------------------------- one model of docvars (issue 9 §1)


def test_years_are_nullable_integers_with_the_raw_value_kept(tmp_path):
    path = tmp_path / "docs.csv"
    years = ["2019", "", "null", "未知", "2019-05-01", "2019年", "二〇一九年", "2020/3"]
    pd.DataFrame({"id": [f"d{i}" for i in range(len(years))], "text": POLICY, "year": years}).to_csv(path, index=False)
    with pytest.warns(ZhiliWarning, match=r"W101.*2 documents.*'null', '未知'.*year_raw"):
        c = corpus(path)
    assert str(c.docs["year"].dtype) == "Int64"
    assert c.docs["year"].tolist() == [2019, pd.NA, pd.NA, pd.NA, 2019, 2019, 2019, 2020]
    assert c.docs["year_raw"].tolist() == [pd.NA, pd.NA, "null", "未知", pd.NA, pd.NA, pd.NA, pd.NA]
    assert "nan" not in c.document_table().astype(str).to_csv()


def test_xlsx_dates_and_named_year_columns_are_years(tmp_path):
    import datetime

    path = tmp_path / "docs.xlsx"
    pd.DataFrame({"text": [POLICY, POLICY], "year": [datetime.datetime(2019, 5, 1), None],
                  "pub_year": ["2018年", "二〇二〇年"], "city": ["南通", None]}).to_excel(path, index=False)
    c = corpus(path, year_cols=["pub_year"])
    assert c.docs["year"].tolist() == [2019, pd.NA] and c.docs["pub_year"].tolist() == [2018, 2020]
    assert c.docs["city"].tolist() == ["南通", pd.NA]


def test_name_pattern_year_fields_are_years(tmp_path):
    (tmp_path / "南通_2019-05.txt").write_text(POLICY, encoding="utf-8")
    (tmp_path / "苏州_二〇二〇年.txt").write_text(POLICY, encoding="utf-8")
    c = corpus(tmp_path, name_pattern="{city}_{year}")
    assert str(c.docs["year"].dtype) == "Int64" and c.docs["year"].tolist() == [pd.NA, 2020]
    c = corpus(tmp_path, name_pattern="{city}_{when}", year_cols=["when"])
    assert c.docs["when"].tolist() == [pd.NA, 2020]


def test_docvar_columns_are_numbers_or_text_and_missing_is_na(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [{"text": POLICY, "n": 1, "share": 0.5, "mixed": 3, "flags": ["a"], "ok": True},
            {"text": POLICY, "n": None, "share": None, "mixed": "三", "flags": [], "ok": None}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    d = corpus(path).docs
    assert [str(d[c].dtype) for c in ("n", "share", "mixed", "flags", "ok")] == ["Int64", "Float64", "object", "object", "boolean"]
    assert d["mixed"].tolist() == ["3", "三"] and d["flags"].tolist() == ['["a"]', "[]"]
    assert d["n"].isna().tolist() == [False, True] and d["share"].tolist()[1] is pd.NA


def test_web_articles_with_a_third_missing_years_ingest_typed(shared_data):
    c = corpus(shared_data("web_articles") / "docs.jsonl.gz")
    assert str(c.docs["year"].dtype) == "Int64" and 0 < c.docs["year"].isna().sum() < len(c.docs)
    assert c.docs["script_original"].notna().all()  # the user's own 'script' column, kept
    assert set(c.docs["script"]) <= {"simplified", "traditional", "mixed", "none"}


# ---------------------------------------------------------------- user columns never collide (issue 9 §2)


@pytest.mark.parametrize("name", ["status", "reason", "n_chars", "n_tokens", "source", "position", "script",
                                  "footer_removed", "doc_id", "topic_0", "year_raw", "sheet"])
def test_user_column_named_like_zhilis_own_keeps_its_values(tmp_path, name):
    path = tmp_path / "docs.csv"
    pd.DataFrame({"id": ["a", "b"], "text": [POLICY, "平安建设"], name: ["用户甲", "用户乙"]}).to_csv(path, index=False)
    with pytest.warns(ZhiliWarning, match=rf"W100.*'{name}' -> '{name}_original'"):
        c = corpus(path, id_col="id")
    assert c.docs[f"{name}_original"].tolist() == ["用户甲", "用户乙"]
    table = c.document_table()
    assert table.columns[:5].tolist() == ["doc_id", "source", "status", "reason", "n_chars"]
    assert table["status"].tolist() == ["analysed", "analysed"] and table["reason"].tolist() == ["", ""]
    assert table["doc_id"].tolist() == ["a", "b"] and table["source"].str.endswith(("row 1", "row 2")).all()
    assert not any(col.endswith(("_x", "_y")) for col in table.columns)


def test_user_status_column_does_not_crash_documents_table(tmp_path):
    path = tmp_path / "docs.csv"
    pd.DataFrame({"text": [POLICY, ""], "status": ["draft", "final"], "reason": ["r1", "r2"]}).to_csv(path, index=False)
    table = corpus(path).document_table()
    assert table["status"].tolist() == ["analysed", "skipped"] and "E015" in table["reason"].iloc[1]
    assert table["status_original"].fillna("-").tolist() == ["draft", "-"]
    assert table["reason_original"].fillna("-").tolist() == ["r1", "-"]


def test_script_and_source_of_a_sidecar_or_name_pattern_are_kept_apart(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "nt_政府.txt").write_text(POLICY, encoding="utf-8")
    side = tmp_path / "meta.csv"
    side.write_text("file,source,script,position\nnt_政府.txt,人民网,繁体,3\n", encoding="utf-8")
    with pytest.warns(ZhiliWarning):
        c = corpus(tmp_path / "docs", sidecar=side, name_pattern="{city}_{status}")
    row = c.docs.iloc[0]
    assert row["source"].endswith("nt_政府.txt") and row["script"] == "simplified" and row["position"] == 0
    assert (row["source_original"], row["script_original"], row["position_original"]) == ("人民网", "繁体", 3)
    assert row["status_original"] == "政府" and c.document_table()["status"].tolist() == ["analysed"]


def test_corpus_from_texts_docvars_rename_and_ids():
    with pytest.warns(ZhiliWarning, match="status"):
        c = corpus_from_texts(["甲", "乙"], docvars={"doc_id": ["x", "y"], "status": ["a", "b"], "year": ["2019年", None]})
    assert c.docs["doc_id"].tolist() == ["x", "y"] and c.docs["status_original"].tolist() == ["a", "b"]
    assert c.docs["year"].tolist() == [2019, pd.NA]
    with pytest.raises(ZhiliError, match="E053"):
        corpus_from_texts(["甲"], docvars={"year": [2019, 2020]})


# ---------------------------------------------------------------- row-level accounting (issue 9 §3)


def test_broken_jsonl_line_skips_that_line_only(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text(f'{{"id": "a", "text": "{POLICY[:10]}"}}\n{{"id": "b", "text": oops\n{{"id": "c", "text": "平安建设"}}\n',
                    encoding="utf-8")
    c = corpus(path)
    assert c.docs["doc_id"].tolist() == ["a", "c"]
    skipped = c.log[c.log["status"] == "skipped"]
    assert len(c.log) == 3 and len(skipped) == 1 and "Row 2" in skipped["reason"].iloc[0]
    assert skipped["source"].iloc[0].endswith("row 2") and c.inputs[0]["n_docs"] == 3


def test_every_xlsx_sheet_is_read_or_the_one_chosen(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"text": [POLICY], "year": [2019]}).to_excel(xl, sheet_name="2019", index=False)
        pd.DataFrame({"text": ["平安建设"], "year": [2020]}).to_excel(xl, sheet_name="2020", index=False)
    c = corpus(path)
    assert c.docs["sheet"].tolist() == ["2019", "2020"] and c.docs["year"].tolist() == [2019, 2020]
    assert c.log["source"].str.contains("sheet '2020' row 1").any()
    one = corpus(path, sheet="2020")
    assert one.texts == ["平安建设"] and "sheet" not in one.docs


def test_dangling_links_and_unreadable_folders_are_in_the_log(tmp_path, monkeypatch):
    import os

    (tmp_path / "a.txt").write_text(POLICY, encoding="utf-8")
    os.symlink(tmp_path / "gone.txt", tmp_path / "b.txt")
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p=".": (_ for _ in ()).throw(PermissionError(13, "Permission denied", str(p)))
                        if str(p).endswith("locked") else real_scandir(p))
    c = corpus(tmp_path)
    log = c.log.set_index("doc_id")
    assert log.loc["a", "status"] == "analysed"
    assert log.loc["b", "status"] == "skipped" and "does not exist" in log.loc["b", "reason"]
    assert log.loc["locked", "status"] == "skipped" and "Permission denied" in log.loc["locked", "reason"]


def test_sidecar_with_two_rows_for_one_document_is_an_error_naming_it(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "nt.txt").write_text(POLICY, encoding="utf-8")
    side = tmp_path / "meta.csv"
    side.write_text("file,year\nnt.txt,2019\nnt,2020\n", encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E101\].*2 rows for document 'nt'.*rows 1, 2"):
        corpus(tmp_path / "docs", sidecar=side)


def test_lone_surrogate_in_json_is_repaired_not_fatal(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "a", "text": "治理\\udc00现代化", "city": "南\\ud800通"}\n{"id": "b", "text": "平安"}\n',
                    encoding="utf-8")
    c = corpus(path)
    assert c.texts == ["治理\ufffd现代化", "平安"] and c.docs["city"].tolist()[0] == "南\ufffd通"
    assert any("W102" in w for w in c.warnings)
    c.document_table().to_csv(tmp_path / "out.csv")  # writes as UTF-8


def test_packaged_seed_is_the_repository_seed():
    from zhili.corpus import default_seed_dir

    repo = Path(__file__).resolve().parents[1] / "seeds"
    packaged = default_seed_dir()
    assert sorted(p.name for p in packaged.iterdir()) == sorted(p.name for p in repo.iterdir())
    assert all((packaged / p.name).read_bytes() == p.read_bytes() for p in repo.iterdir())


def test_installed_wheel_runs_the_default_job_outside_the_repo(tmp_path):
    """issue 9 §7: a built wheel (what `pip install ./analysis` installs) ships the seed corpus."""
    import os
    import subprocess
    import sys

    analysis = Path(__file__).resolve().parents[1] / "analysis"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(analysis), "-w", str(tmp_path / "wheel")],
                           capture_output=True, text=True, timeout=300)
    if built.returncode and ("No matching distribution" in built.stderr or "Could not find" in built.stderr):
        pytest.skip(f"cannot fetch the build requirements: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((tmp_path / "wheel").glob("zhili-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("ZHILI_CACHE_DIR", str(tmp_path / "cache"))  # a warm cache keeps the test short
    env["MPLBACKEND"] = "Agg"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--force-reinstall",
                    "-q", str(wheel)], check=True, capture_output=True, timeout=300, env=env)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run([str(python), "-c", "import zhili; print(zhili.__file__)"], cwd=outside, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert str(venv) in where
    run = subprocess.run([str(python), "-m", "zhili.cli", "run", "--out", str(outside / "out")], cwd=outside, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    documents = pd.read_csv(outside / "out" / "tables" / "documents.csv")
    assert documents["status"].tolist() == ["analysed"] and documents["city"].tolist() == ["南通市"]


def test_skipped_duplicate_id_does_not_show_the_first_documents_variables_regression(tmp_path):
    import json

    from zhili.corpus import corpus

    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "d0", "text": "推进网格化管理。", "city": "AAA"},
                                                 ensure_ascii=False), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"id": "d0", "text": "加强矛盾纠纷化解。", "city": "BBB"},
                                                 ensure_ascii=False), encoding="utf-8")
    table = corpus(tmp_path / "a.jsonl", tmp_path / "b.jsonl").document_table()
    assert table["status"].tolist() == ["analysed", "skipped"] and "E009" in table["reason"].iloc[1]
    assert table["city"].iloc[0] == "AAA" and pd.isna(table["city"].iloc[1])


def test_hidden_files_and_folders_are_accounted_not_silently_left_out_regression(tmp_path):
    from zhili.corpus import corpus

    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.txt").write_text("平安建设", encoding="utf-8")
    (tmp_path / ".note.txt").write_text("网格", encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")  # system files stay out without a word
    (tmp_path / "a.txt").write_text("推进网格化管理。", encoding="utf-8")
    log = corpus(tmp_path).log.set_index("doc_id")
    assert log.loc["a", "status"] == "analysed" and len(log) == 3
    assert log.loc[[".hidden", ".note"], "reason"].str.startswith("[E019]").all()
