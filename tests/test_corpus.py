import json

import pandas as pd
import pytest

from zhili.corpus import corpus, corpus_from_texts, split_units
from zhili.errors import ZhiliError

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
