"""Tests for zhili.readers: encoding detection, document and table readers, folder walking."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path
import random

import docx
import pandas as pd
import pytest

from zhili.errors import ZhiliError
from zhili.readers import (
    DOCUMENT_SUFFIXES, TABLE_SUFFIXES, decode_bytes, iter_files, iter_table, read_document, read_table, walk_files,
)

# Policy-style text written for these tests, in both scripts.
SIMPLIFIED = (
    "各地要坚持以人民为中心，推进基层社会治理现代化。要完善网格化管理，健全矛盾纠纷多元化解机制，"
    "提高公共服务的便利程度。\n各级政府应当加强数据共享，依法保护个人信息，让群众办事少跑腿。\n"
    "到二〇二五年，城乡社区服务体系更加完善。"
)
TRADITIONAL = (
    "各地要堅持以人民為中心，推進基層社會治理現代化。要完善網格化管理，健全矛盾糾紛多元化解機制，"
    "提高公共服務的便利程度。\n各級政府應當加強資料共享，依法保護個人資訊，讓民眾辦事少跑腿。\n"
    "到2025年，城鄉社區服務體系更加完善。"
)


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in the non-embedded Adobe font STSong-Light (UTF-16 codes)."""
    content = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(
        f"<{line.encode('utf-16-be').hex()}> Tj T*" for line in lines
    ) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R >>",
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] "
        "/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# ---------------------------------------------------------------- decode_bytes


@pytest.mark.parametrize(
    ("text", "data", "expected_encoding"),
    [
        (SIMPLIFIED, SIMPLIFIED.encode("utf-8"), "utf-8"),
        (TRADITIONAL, TRADITIONAL.encode("utf-8"), "utf-8"),
        (SIMPLIFIED, codecs.BOM_UTF8 + SIMPLIFIED.encode("utf-8"), "utf-8-sig"),
        (SIMPLIFIED, codecs.BOM_UTF16_LE + SIMPLIFIED.encode("utf-16-le"), "utf-16-le"),
        (TRADITIONAL, codecs.BOM_UTF16_BE + TRADITIONAL.encode("utf-16-be"), "utf-16-be"),
        (TRADITIONAL, TRADITIONAL.encode("utf-16-le"), "utf-16-le"),  # no BOM: NULs of the ASCII digits/newlines
        (TRADITIONAL, TRADITIONAL.encode("utf-16-be"), "utf-16-be"),
        (SIMPLIFIED, SIMPLIFIED.encode("gbk"), "gb18030"),
        (SIMPLIFIED, SIMPLIFIED.encode("gb18030"), "gb18030"),
        (SIMPLIFIED + "㐀䶮", (SIMPLIFIED + "㐀䶮").encode("gb18030"), "gb18030"),  # 4-byte GB18030 sequences
        (TRADITIONAL, TRADITIONAL.encode("gbk"), "gb18030"),  # Traditional characters saved as GBK
        (TRADITIONAL, TRADITIONAL.encode("big5"), "big5hkscs"),
        (TRADITIONAL, TRADITIONAL.encode("cp950"), "big5hkscs"),
        (TRADITIONAL + "\n香港嘅政策", (TRADITIONAL + "\n香港嘅政策").encode("big5hkscs"), "big5hkscs"),
    ],
    ids=["utf8-simp", "utf8-trad", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-nobom", "utf16be-nobom",
         "gbk-simp", "gb18030-simp", "gb18030-4byte", "gbk-trad", "big5", "cp950", "big5hkscs"],
)
def test_decode_bytes_round_trips_chinese(text: str, data: bytes, expected_encoding: str) -> None:
    assert decode_bytes(data) == (text, expected_encoding)


def test_big5_bytes_also_decode_as_gb18030_so_detection_must_score() -> None:
    data = TRADITIONAL.encode("big5")
    assert data.decode("gb18030") != TRADITIONAL  # decodes, but as nonsense
    assert decode_bytes(data)[1] == "big5hkscs"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_decode_bytes_normalises_newlines(newline: str) -> None:
    data = SIMPLIFIED.replace("\n", newline).encode("gbk")
    assert decode_bytes(data)[0] == SIMPLIFIED


def test_decode_bytes_with_given_encoding_strips_bom() -> None:
    data = codecs.BOM_UTF8 + "政策".encode()
    assert decode_bytes(data, encoding="utf-8") == ("政策", "utf-8")


@pytest.mark.parametrize(
    ("data", "encoding", "message_part"),
    [
        (SIMPLIFIED.encode("gbk"), "big5", "not valid big5"),
        (SIMPLIFIED.encode("utf-8"), "no-such-codec", "unknown encoding 'no-such-codec'"),
    ],
)
def test_decode_bytes_with_wrong_encoding_raises_e002(data: bytes, encoding: str, message_part: str) -> None:
    with pytest.raises(ZhiliError) as caught:
        decode_bytes(data, source="a.txt", encoding=encoding)
    assert caught.value.code == "E002"
    assert message_part in str(caught.value) and "'a.txt'" in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        "地方自治体は住民の生活を支えるために様々な行政サービスを提供しています。".encode("euc-jp"),
        "지방 정부는 주민의 생활을 지원하기 위해 다양한 행정 서비스를 제공하고 있습니다.".encode("euc-kr"),
        "café crème brûlée".encode("latin-1"),
    ],
    ids=["euc-jp", "euc-kr", "latin-1"],
)
def test_decode_bytes_refuses_to_guess_other_encodings(data: bytes) -> None:
    with pytest.raises(ZhiliError) as caught:
        decode_bytes(data, source="notes.txt")
    message = str(caught.value)
    assert caught.value.code == "E002"
    assert "gb18030" in message and "big5hkscs" in message and "--encoding" in message


@pytest.mark.parametrize(
    "data",
    [
        random.Random(0).randbytes(4096),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        bytes(range(1, 32)) * 20 + "正文".encode(),  # control bytes but no NUL
    ],
    ids=["random", "png-header", "control-bytes"],
)
def test_decode_bytes_rejects_binary_with_e004(data: bytes) -> None:
    with pytest.raises(ZhiliError) as caught:
        decode_bytes(data, source="blob.txt")
    assert caught.value.code == "E004"
    assert "'blob.txt'" in str(caught.value)


@pytest.mark.parametrize(
    ("stem", "expected_encoding"),
    [("pku_test_gold", "gb18030"), ("cityu_test_gold", "big5hkscs")],  # native CP936 and Big5-HKSCS
)
def test_decode_bytes_matches_sighan_utf8_versions(shared_data, stem: str, expected_encoding: str) -> None:
    gold = shared_data("sighan2005") / "gold"
    native = gzip.decompress((gold / f"{stem}.txt.gz").read_bytes())
    reference = gzip.decompress((gold / f"{stem}.utf8.gz").read_bytes()).decode("utf-8-sig").replace("\r\n", "\n")
    text, encoding = decode_bytes(native, source=stem)
    assert encoding == expected_encoding
    # Big5 byte A145 is U+2022 in Big5-HKSCS but U+2027 in Windows cp950, which the UTF-8 version used.
    assert text.replace("\u2022", "\u2027") == reference


# ---------------------------------------------------------------- read_document


@pytest.mark.parametrize("suffix", [".txt", ".md", ".TXT"])
@pytest.mark.parametrize(("text", "encoding"), [(SIMPLIFIED, "gbk"), (TRADITIONAL, "big5"), (SIMPLIFIED, "utf-16")])
def test_read_document_plain_text(tmp_path, suffix: str, text: str, encoding: str) -> None:
    path = tmp_path / f"doc{suffix}"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    assert read_document(path) == text


def test_read_document_honours_given_encoding(tmp_path) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(TRADITIONAL.encode("gbk"))
    assert read_document(path, encoding="gbk") == TRADITIONAL


@pytest.mark.parametrize(
    ("declared", "encoding"),
    [('<meta charset="gb2312">', "gbk"), ('<meta http-equiv="Content-Type" content="text/html; charset=big5">', "big5"),
     ('<meta charset="utf-8">', "gbk"), ("", "utf-8")],
    ids=["meta-gb2312", "meta-http-equiv-big5", "meta-wrong", "no-meta"],
)
def test_read_document_html_visible_text(tmp_path, declared: str, encoding: str) -> None:
    body = TRADITIONAL if encoding == "big5" else SIMPLIFIED
    first, second, third = body.split("\n")
    markup = (
        f"<html><head>{declared}<title>不算正文</title><style>p {{color: red}}</style></head><body>"
        f"<script>var hidden = '不算正文';</script><div class='nav'><p>{first}</p></div>"
        f"<p>{second[:10]}<b>{second[10:20]}</b>\n    {second[20:]}</p><ul><li>{third}</li></ul>"
        "<noscript>不算正文</noscript></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_bytes(markup.encode(encoding))
    assert read_document(path) == body


def test_read_document_html_line_breaks(tmp_path) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<p>第一行<br>第二行</p><table><tr><td>城市</td><td>南通</td></tr></table>", encoding="utf-8")
    assert read_document(path) == "第一行\n第二行\n城市\n南通"


def test_read_document_docx_paragraphs_and_tables(tmp_path) -> None:
    document = docx.Document()
    for line in SIMPLIFIED.split("\n")[:2]:
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "指标"
    table.cell(1, 0).text, table.cell(1, 1).text = "城市", "南通"
    document.add_paragraph(SIMPLIFIED.split("\n")[2])
    path = tmp_path / "report.docx"
    document.save(path)
    lines = SIMPLIFIED.split("\n")
    assert read_document(path) == "\n".join([lines[0], lines[1], "指标", "城市\t南通", lines[2]])


def test_read_document_pdf(tmp_path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(minimal_pdf(["推进市域社会治理现代化。", "Policy text 2019"]))
    assert read_document(path).split() == ["推进市域社会治理现代化。", "Policy", "text", "2019"]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.txt", b"", "E003"),
        ("blank.md", " \r\n\t\n".encode(), "E003"),
        ("empty.html", b"<html><body><script>x()</script></body></html>", "E003"),
        ("no-text.pdf", minimal_pdf([]), "E003"),
        ("blob.txt", bytes(range(256)) * 8, "E004"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "E006"),
        ("broken.pdf", b"%PDF-1.4\nnothing else", "E006"),
        ("notes.rtf", b"{\\rtf1 text}", "E005"),
    ],
)
def test_read_document_errors(tmp_path, name: str, content: bytes, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ZhiliError) as caught:
        read_document(path)
    assert caught.value.code == code
    assert name in str(caught.value)


def test_read_document_missing_and_folder(tmp_path) -> None:
    with pytest.raises(ZhiliError, match=r"\[E001\].*nothing\.txt"):
        read_document(tmp_path / "nothing.txt")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(ZhiliError, match=r"\[E006\].*folder"):
        read_document(tmp_path / "folder.txt")


def test_unsupported_suffix_message_lists_supported_types(tmp_path) -> None:
    path = tmp_path / "old.doc"
    path.write_bytes(b"x")
    with pytest.raises(ZhiliError) as caught:
        read_document(path)
    assert all(suffix in str(caught.value) for suffix in DOCUMENT_SUFFIXES)


# ---------------------------------------------------------------- read_table

ROWS = pd.DataFrame({
    "id": ["007", "008", "009"],
    "city": ["南通", "臺北", "广州"],
    "year": [2019, 2020, 2021],
    "text": [SIMPLIFIED, TRADITIONAL, ""],
})


def write_table(frame: pd.DataFrame, path) -> None:
    """Write ``frame`` in the format given by the file name."""
    name = path.name
    if name.endswith(".csv"):
        path.write_bytes(frame.to_csv(index=False).encode("utf-8"))
    elif name.endswith(".tsv"):
        path.write_bytes(frame.to_csv(index=False, sep="\t").encode("utf-8"))
    elif name.endswith(".xlsx"):
        frame.to_excel(path, index=False)
    elif name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        lines = frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
        path.write_bytes(gzip.compress(lines) if name.endswith(".gz") else lines)


@pytest.mark.parametrize("suffix", TABLE_SUFFIXES)
@pytest.mark.parametrize("with_id", [True, False], ids=["id-column", "no-id"])
def test_read_table_formats(tmp_path, suffix: str, with_id: bool) -> None:
    path = tmp_path / f"docs{suffix}"
    write_table(ROWS if with_id else ROWS.drop(columns="id"), path)
    table = read_table(path)
    assert list(table.columns) == ["doc_id", "text", "_row", "city", "year"]
    expected_ids = ["007", "008", "009"] if with_id else ["docs-1", "docs-2", "docs-3"]
    assert table["doc_id"].tolist() == expected_ids
    assert table["text"].tolist() == [SIMPLIFIED, TRADITIONAL, ""]
    assert table["_row"].tolist() == [1, 2, 3]
    assert table["city"].tolist() == ["南通", "臺北", "广州"]
    assert table["year"].tolist() == [2019, 2020, 2021]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-16"])
def test_read_table_csv_from_excel_encodings(tmp_path, encoding: str) -> None:
    path = tmp_path / "excel.csv"
    frame = ROWS.assign(text=[SIMPLIFIED, SIMPLIFIED, "短文"])  # Big5-free so GBK can hold it
    path.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode(encoding))
    table = read_table(path)
    assert table["text"].tolist() == [SIMPLIFIED, SIMPLIFIED, "短文"]
    assert table["doc_id"].tolist() == ["007", "008", "009"]


def test_read_table_custom_columns_and_cell_types(tmp_path) -> None:
    path = tmp_path / "custom.xlsx"
    pd.DataFrame({
        "编号": [1.0, None, 3.0],
        "content": ["第一篇", 12345, None],
        "text": ["另一列", "另一列", "另一列"],
    }).to_excel(path, index=False)
    table = read_table(path, text_col="content", id_col="编号")
    assert table["doc_id"].tolist() == ["1", "custom-2", "3"]  # empty id cell -> file-row id
    assert table["text"].tolist() == ["第一篇", "12345", ""]
    assert list(table.columns) == ["doc_id", "text", "_row", "text_original"]


def test_read_table_parquet_keeps_a_saved_index(tmp_path) -> None:
    path = tmp_path / "indexed.parquet"
    ROWS.rename(columns={"id": "doc_id"}).set_index("doc_id").to_parquet(path)
    assert read_table(path)["doc_id"].tolist() == ["007", "008", "009"]


def test_read_table_jsonl_rows_are_line_numbers(tmp_path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "第一篇"}\n\n{"text": "第二篇", "tags": ["a", "b"]}\n', encoding="utf-8")
    table = read_table(path)
    assert table["_row"].tolist() == [1, 3]
    assert table["doc_id"].tolist() == ["docs-1", "docs-3"]


def test_read_table_missing_text_column_names_file_and_columns(tmp_path) -> None:
    path = tmp_path / "reports.csv"
    path.write_text("标题,正文\n甲,乙\n", encoding="utf-8")
    with pytest.raises(ZhiliError) as caught:
        read_table(path)
    message = str(caught.value)
    assert caught.value.code == "E007"
    assert str(path) in message and "标题, 正文" in message and "--text-col" in message


def test_read_table_missing_id_column(tmp_path) -> None:
    path = tmp_path / "reports.csv"
    path.write_text("text\n正文\n", encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E008\].*'编号'.*columns: text"):
        read_table(path, id_col="编号")


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.csv", b"", "E003"),
        ("broken.xlsx", b"not a workbook", "E006"),
        ("broken.parquet", b"PAR1 nope", "E006"),
        ("broken.jsonl.gz", b"\x1f\x8b not gzip", "E006"),
        ("old.xls", b"x", "E005"),
    ],
)
def test_read_table_errors(tmp_path, name: str, content: bytes, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ZhiliError) as caught:
        read_table(path)
    assert caught.value.code == code
    assert name in str(caught.value)


@pytest.mark.parametrize(
    ("content", "detail"),
    [('{"text": oops}', "not valid JSON"), ('["text"]', "JSON object"), ('"just a string"', "JSON object")],
)
def test_broken_jsonl_line_is_an_error_row_not_a_failed_file(tmp_path, content: str, detail: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "year": 2019}\n' + content + '\n\n{"text": "c"}\n', encoding="utf-8")
    table = read_table(path)
    assert table["_row"].tolist() == [1, 2, 4] and table["text"].tolist() == ["a", "", "c"]
    assert table["_error"].iloc[0] == table["_error"].iloc[2] == ""
    assert table["_error"].iloc[1].startswith("[E015] Row 2 of") and detail in table["_error"].iloc[1]


@pytest.mark.parametrize(("cell", "kind"), [('["推进", "网格"]', "a list"), ("42", "the number 42"),
                                            ('{"a": 1}', "a JSON object"), ("true", "true/false")])
def test_text_cell_holding_a_list_or_number_is_skipped_not_analysed(tmp_path, cell: str, kind: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "推进网格化"}\n{"text": ' + cell + '}\n', encoding="utf-8")
    table = read_table(path)
    assert table["text"].tolist() == ["推进网格化", ""]
    assert table["_error"].iloc[1].startswith("[E015] Row 2 of") and kind in table["_error"].iloc[1]


def test_jsonl_with_only_broken_lines_gives_error_rows(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("oops\n[1]\n", encoding="utf-8")
    assert read_table(path)["_error"].str.startswith("[E015]").all()


def test_lone_surrogate_in_json_text_is_replaced_and_noted(tmp_path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "治理\\udc00现代化", "city\\ud800": ["\\udfff"]}\n{"text": "\\ud83d\\ude00ok"}\n', encoding="utf-8")
    table = read_table(path)
    assert table["text"].tolist() == ["治理\ufffd现代化", "\U0001f600ok"]
    assert table["city\ufffd"].iloc[0] == ["\ufffd"]
    assert any("W102" in n and "lines 1" in n for n in table.attrs["notes"])


def test_jsonl_line_in_another_encoding_is_skipped_alone(tmp_path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes('{"text": "甲"}\n'.encode() + '{"text": "市域治理"}\n'.encode("gbk") + b'{"text": "ok"}\n')
    table = read_table(path)
    assert table["text"].tolist() == ["甲", "", "ok"] and "not valid utf-8" in table["_error"].iloc[1]


def test_iter_table_streams_jsonl_gz_in_batches(tmp_path) -> None:
    import gzip

    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i in range(5):
            f.write(json.dumps({"id": f"d{i}", "text": "治理", "year": 2019 + i}) + "\n")
    batches = list(iter_table(path, batch_rows=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert pd.concat(batches)["doc_id"].tolist() == [f"d{i}" for i in range(5)]


def test_xlsx_every_sheet_is_read_with_its_name(tmp_path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"text": ["甲", "乙"], "year": [2019, 2020]}).to_excel(xl, sheet_name="南通", index=False)
        pd.DataFrame({"text": ["丙"], "year": [2021]}).to_excel(xl, sheet_name="苏州", index=False)
        pd.DataFrame({"note": ["说明"]}).to_excel(xl, sheet_name="notes", index=False)
        pd.DataFrame().to_excel(xl, sheet_name="empty", index=False)
    table = read_table(path)
    assert table["sheet"].tolist() == ["南通", "南通", "苏州", "notes"]
    assert table["doc_id"].tolist()[:3] == ["book-南通-1", "book-南通-2", "book-苏州-1"]
    assert table["_error"].iloc[3].startswith("[E007]") and "notes" in table["_error"].iloc[3]
    one = read_table(path, sheet="苏州")
    assert one["text"].tolist() == ["丙"] and "sheet" not in one
    assert read_table(path, sheet=1)["text"].tolist() == ["丙"]
    with pytest.raises(ZhiliError, match=r"\[E100\].*'北京'.*'南通', '苏州'"):
        read_table(path, sheet="北京")


@pytest.mark.parametrize("name", ["status", "source", "position", "script", "n_chars", "reason", "topic_3", "doc_id"])
def test_reserved_column_names_are_renamed_in_tables(tmp_path, name: str) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"id": ["a"], "text": ["治理"], name: ["用户的值"]}).to_csv(path, index=False)
    table = read_table(path, id_col="id")
    assert table[f"{name}_original"].tolist() == ["用户的值"] and table.attrs["renamed"] == {name: f"{name}_original"}


# ---------------------------------------------------------------- iter_files


def test_iter_files_walks_folders_sorted_without_junk(tmp_path) -> None:
    for name in ["b/2.txt", "b/1.txt", "a.txt", ".hidden/x.txt", "b/.DS_Store", "~$draft.docx", "Thumbs.db",
                 "__MACOSX/a.txt", "c/d/e.pdf"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_files(tmp_path)] == [
        "a.txt", "b/1.txt", "b/2.txt", "c/d/e.pdf"
    ]
    assert list(iter_files(tmp_path / "a.txt")) == [tmp_path / "a.txt"]


def test_iter_files_missing_path(tmp_path) -> None:
    with pytest.raises(ZhiliError, match=r"\[E001\]"):
        iter_files(tmp_path / "missing")


def test_walk_files_reports_dangling_links_and_unlistable_folders(tmp_path, monkeypatch) -> None:
    import os

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("x")
    (tmp_path / "locked").mkdir()
    os.symlink(tmp_path / "nowhere.txt", tmp_path / "dangling.txt")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = {p.relative_to(tmp_path).as_posix(): problem for p, problem in walk_files(tmp_path)}
    assert found["sub/a.txt"] is None
    assert "does not exist" in found["dangling.txt"] and "Permission denied" in found["locked"]
    assert "loop" in found["sub/loop"]
    assert [p.name for p in iter_files(tmp_path)] == ["a.txt"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_iter_table_batches_concatenate_to_read_table(tmp_path, suffix: str) -> None:
    frame = pd.DataFrame({"id": [f"d{i}" for i in range(7)], "text": ["治理"] * 7, "city": ["南通", None] * 3 + ["苏州"]})
    path = tmp_path / f"t{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    batches = list(iter_table(path, batch_rows=3))
    if suffix == ".parquet":
        assert [len(b) for b in batches] == [3, 3, 1]
    streamed = pd.concat(batches, ignore_index=True)
    whole = read_table(path)
    assert streamed["doc_id"].tolist() == whole["doc_id"].tolist() == frame["id"].tolist()
    assert streamed["_row"].tolist() == list(range(1, 8))
    assert streamed["city"].fillna("-").tolist() == whole["city"].fillna("-").tolist()


def test_csv_with_bytes_of_another_encoding_after_the_sample_is_a_decoding_error(tmp_path, monkeypatch) -> None:
    import zhili.readers as readers

    monkeypatch.setattr(readers, "SAMPLE_BYTES", 64)
    path = tmp_path / "t.csv"
    path.write_bytes(("text\n" + "治理\n" * 40).encode() + "市域\n".encode("gbk"))
    with pytest.raises(ZhiliError, match=r"\[E002\].*not valid utf-8"):
        read_table(path)


def test_truncated_jsonl_gz_keeps_its_readable_lines_regression(tmp_path):
    """A .jsonl.gz cut short (an interrupted download) lost every line: the whole file was E006."""
    import zhili

    rng = random.Random(0)
    han = "治理网格化服务管理矛盾纠纷多元化解平安建设基层社会现代化"
    lines = [json.dumps({"id": f"d{i}", "text": "".join(rng.choice(han) for _ in range(300))}, ensure_ascii=False)
             for i in range(200)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    c = zhili.corpus(path)
    log = c.log
    analysed = log[log["status"] == "analysed"]
    assert 10 < len(analysed) < 200 and analysed["doc_id"].tolist() == [f"d{i}" for i in range(len(analysed))]
    skipped = log[log["status"] == "skipped"]
    assert len(skipped) >= 1 and skipped["reason"].str.contains("the file ends here").any()
