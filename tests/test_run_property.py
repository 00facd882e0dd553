"""End to end, as a property: on any small corpus a researcher might bring — missing, mixed-type
and reserved-name document variables, one document or many groups, no year, no formulations,
odd characters — and any unit, grouping and topic setting, ``zhili.run`` either ends in a
:class:`ZhiliError` or writes a whole results folder: every input in documents.csv, the report,
every table readable.

The number of examples is fixed and derandomised so CI time is bounded (see ``EXAMPLES``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import zhili  # noqa: E402
from zhili.errors import ZhiliError  # noqa: E402

EXAMPLES = int(os.environ.get("ZHILI_PROPERTY_EXAMPLES", "25"))

SENTENCES = [
    "推进市域社会治理现代化。", "坚持五大导向，实现三降三升。", "加强网格化服务管理，化解矛盾纠纷。",
    "貫徹落實習近平總書記指示要求。", "建设更高水平的平安中国。", "完善共建共治共享的社会治理制度。",
    "=cmd|' /C calc'!A0", "$\\frac{x}{$", "🙂🚀 治理", "abc 123", "“枫桥经验”", "𠀀𠀀", "\t", "。",
]
RESERVED = ["status", "source", "position", "script", "topic_1", "reason", "n_chars", "n_tokens", "doc_id"]
NAMES = ["year", "city", "province", *RESERVED, "备注", "$\\frac{x}{$", "=HYPERLINK(\"x\")"]
VALUES = [None, "", 2019, 2020, "2019年", "二〇一九年", "未知", "2019-05-01", 3.5, True, "南通", "苏州",
          "$\\frac{x}{$", "=1+1", "@SUM(A1)", "🙂", "null"]

texts = st.lists(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3).map("".join),
                 min_size=1, max_size=3).map("\n".join)
columns = st.one_of(st.just(["year"]), st.lists(st.sampled_from(NAMES), max_size=3, unique=True))


@st.composite
def cases(draw):
    n_docs = draw(st.sampled_from([1, 2, 3, 6]))
    cols = draw(columns)
    docs = []
    for i in range(n_docs):
        rec = {"id": f"d{i}", "text": draw(texts)}
        for col in cols:
            if col != "doc_id":
                rec[col] = draw(st.sampled_from(VALUES))
        docs.append(rec)
    by = draw(st.lists(st.sampled_from(cols), max_size=2, unique=True)) if cols else []
    if draw(st.integers(0, 9)) == 0:  # now and then a variable the corpus does not have (E012)
        by = [*by, "no_such_var"]
    return {"docs": docs, "unit": draw(st.sampled_from(["document", "paragraph", "sentence"])), "by": by,
            "topics": draw(st.sampled_from([None, 2, "auto"])), "format": draw(st.sampled_from(["jsonl", "csv"]))}


def write_source(case: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if case["format"] == "jsonl":
        path = folder / "docs.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in case["docs"]), encoding="utf-8")
    else:
        path = folder / "docs.csv"
        pd.DataFrame(case["docs"]).to_csv(path, index=False, encoding="utf-8")
    return path


class ColumnsLost(AssertionError):
    """documents.csv lost one of its promised columns (e.g. a source column 'status' gives status_x/status_y)."""


def check_run(case: dict, root: Path, report: bool = True) -> str:
    """Run one case; assert the property. Returns 'ok' or the code of the ZhiliError it ended in."""
    source = write_source(case, root / "in")
    out = root / "out"
    s = zhili.RunSettings(sources=[str(source)], out=str(out), unit=case["unit"], by=case["by"],
                          topics=case["topics"], report=report)
    try:
        zhili.run(s)
    except ZhiliError as exc:
        return exc.code
    documents = pd.read_csv(out / "tables" / "documents.csv", encoding="utf-8-sig", dtype={"doc_id": str})
    assert len(documents) == len(case["docs"])
    if list(documents.columns[:6]) != ["doc_id", "source", "status", "reason", "n_chars", "n_tokens"]:
        raise ColumnsLost(f"documents.csv columns: {list(documents.columns)}")
    assert {r["id"] for r in case["docs"]} <= set(documents["doc_id"]) | set(documents.get("id", []))
    assert not report or (out / "report.html").stat().st_size > 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for rel in manifest["tables"].values():
        path = out / rel
        if path.suffix == ".csv":
            pd.read_csv(path, encoding="utf-8-sig")
            pd.read_parquet(path.with_suffix(".parquet"))
        elif path.suffix == ".xlsx":
            pd.read_excel(path, sheet_name=None)
    zhili.pipeline.verify_results(out)
    return "ok"


def test_run_on_any_small_corpus_ends_whole_or_in_a_coded_error(tmp_path_factory):
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases())
    def prop(case):
        check_run(case, tmp_path_factory.mktemp("case"))

    prop()
