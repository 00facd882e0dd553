"""The HTML report: self-contained, escaped, written atomically, and clean in a real browser."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image

from zhili import files, report
from zhili.errors import ZhiliError

FIXTURE = Path(__file__).parent / "fixtures" / "results_minimal"
EVIL = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">')


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return report.write_report(FIXTURE, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture
def results(tmp_path) -> Path:
    """A writable copy of the fixture folder."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "results"))


def test_report_has_every_section_and_is_self_contained(built):
    html = built.read_text(encoding="utf-8")
    for heading in ("语料概况 Corpus overview", "主题 Topics", "Topic explorer", "Keyness", "提法 Formulations",
                    "共词网络 Co-word network", "运行记录 Run manifest", "Topic prevalence over time"):
        assert heading in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external resource"
    assert "http-equiv=\"Content-Security-Policy\"" in html
    assert html.count("data:image/png;base64,") >= 8
    assert built.stat().st_size < 1_000_000


def test_document_text_is_escaped(built):
    html = built.read_text(encoding="utf-8")
    for evil in EVIL:
        assert evil not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert html.count("<script") == 2  # the JSON data block and the explorer itself


def test_explorer_json_cannot_close_its_script_tag(built):
    html = built.read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="topic-explorer-data">(.*?)</script>', html, re.S)
    assert block and "<" not in block.group(1)
    data = json.loads(block.group(1))
    assert [t["id"] for t in data["topics"]] == [0, 1, 2]
    assert any(EVIL[1] == term[0] for term in data["topics"][2]["terms"])


def test_explorer_positions_follow_topic_similarity():
    import pandas as pd

    tt = pd.DataFrame({"topic": [0, 0, 1, 1, 2, 2], "term": ["a", "b", "a", "b", "c", "d"],
                       "weight": [0.5, 0.5, 0.6, 0.4, 0.5, 0.5]})
    xy = {t["id"]: (t["x"], t["y"]) for t in report.topic_explorer_data(tt)["topics"]}
    near = abs(xy[0][0] - xy[1][0]) + abs(xy[0][1] - xy[1][1])
    far = abs(xy[0][0] - xy[2][0]) + abs(xy[0][1] - xy[2][1])
    assert near < far


def test_missing_optional_tables_become_notes(results):
    for name in ("keyness.csv", "topic_terms.csv", "coword_edges.csv", "formulations.csv"):
        (results / "tables" / name).unlink()
    html = report.write_report(results).read_text(encoding="utf-8")
    assert "Section omitted: tables/keyness.csv not found." in html
    assert "Section omitted: tables/topic_terms.csv not found." in html
    assert 'id="topic-explorer"' not in html and "<script>" not in html
    assert "script-src &#39;none&#39;" in html


def test_default_path_is_inside_the_results_folder(results):
    assert report.write_report(results) == results / "report.html"


def test_failed_write_keeps_the_old_report(results, monkeypatch):
    target = results / "report.html"
    target.write_text("old good report", encoding="utf-8")

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        report.write_report(results)
    assert target.read_text(encoding="utf-8") == "old good report"
    assert sorted(p.name for p in results.iterdir()) == ["manifest.json", "report.html", "tables"]


@pytest.mark.parametrize("remove", ["manifest.json", "tables/documents.csv"])
def test_not_a_results_folder_is_e060(results, remove):
    (results / remove).unlink()
    with pytest.raises(ZhiliError) as error:
        report.write_report(results)
    assert error.value.code == "E060"
    assert Path(remove).name in str(error.value)


def test_manifest_from_another_major_version_is_e064(results):
    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    manifest["zhili_version"] = "99.0.0"
    (results / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ZhiliError) as error:
        report.write_report(results)
    assert error.value.code == "E064"
    assert "99.0.0" in str(error.value)


# --- in a real browser ---------------------------------------------------------------------------

class DevTools:
    """Chrome DevTools protocol over --remote-debugging-pipe (fd 3 in, fd 4 out): no websocket needed."""

    def __init__(self, chromium: str, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_pipes():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
            os.set_inheritable(3, True)  # dup2 onto the same number keeps close-on-exec
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "--window-size=1200,900", "about:blank"],
            close_fds=False, preexec_fn=wire_pipes,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, session: str | None = None, timeout: float = 30, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self._next_id, timeout)
        assert "error" not in reply, reply
        return reply["result"]

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        seen = next((e for e in self.events if e.get("method") == method), None)
        return seen or self._read_until(lambda m: m.get("method") == method, timeout)

    def _read_until(self, done, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self.events.append(message)
                if done(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._from_chrome], [], [], remaining)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk

    def close(self) -> None:
        try:
            os.write(self._to_chrome, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        reason = "headless Chromium not installed (apt-get install chromium)"
        if os.environ.get("ZHILI_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; ZHILI_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="zhili-chromium-") as profile:
        tools = DevTools(chromium, Path(profile))
        try:
            yield tools
        finally:
            tools.close()


def test_report_in_headless_chromium(built, browser, tmp_path):
    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
        browser.send(domain, session)
    browser.send("Page.navigate", session, url=built.resolve().as_uri())
    browser.wait_for("Page.loadEventFired")

    def evaluate(expression: str):
        return browser.send("Runtime.evaluate", session, expression=expression, returnByValue=True)["result"].get("value")

    assert evaluate("typeof window.__pwned") == "undefined"
    assert evaluate("document.querySelectorAll('#topic-explorer svg.te-map circle').length") == 3
    assert evaluate("document.querySelectorAll('#topic-explorer svg.te-bars text.te-term').length") == 6
    first_bar = "document.querySelector('#topic-explorer svg.te-bars text.te-term').textContent"
    at_one = evaluate("(() => { const s = document.querySelector('.te-lambda'); s.value = '1';"
                      " s.dispatchEvent(new Event('input')); return " + first_bar + "; })()")
    at_zero = evaluate("(() => { const s = document.querySelector('.te-lambda'); s.value = '0';"
                       " s.dispatchEvent(new Event('input')); return " + first_bar + "; })()")
    assert at_one == "社会治理" and at_zero != at_one, "relevance(λ) must reorder the terms"
    evaluate("document.querySelectorAll('#topic-explorer .te-topic')[2].dispatchEvent(new MouseEvent('click'))")
    assert evaluate("document.getElementById('topic-explorer').dataset.selected") == "2"
    assert evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)") is True

    shot = base64.b64decode(browser.send("Page.captureScreenshot", session, format="png")["data"])
    (tmp_path / "report.png").write_bytes(shot)
    low, high = Image.open(io.BytesIO(shot)).convert("L").getextrema()
    assert low < high, "the page is blank"

    time.sleep(0.3)
    evaluate("0")  # reading this reply also collects any console messages that came before it
    errors = [e for e in browser.events if e.get("sessionId") == session and (
        e["method"] == "Runtime.exceptionThrown"
        or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
        or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"))]
    assert not errors, errors


def test_report_embeds_a_font_subset_for_machines_without_chinese_fonts(tmp_path):
    import re

    from zhili.report import write_report

    html = write_report(FIXTURE, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "font-src data:" in html
    face = re.search(r'@font-face \{ font-family: "Zhili Sans SC"; src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)', html)
    assert face and len(face.group(1)) < 2_000_000


def test_overview_skips_provenance_and_free_text_columns_regression(results):
    import pandas as pd

    from zhili.report import write_report

    path = results / "tables" / "documents.csv"
    docs = pd.read_csv(path, encoding="utf-8-sig")
    docs["year_source"] = "inferred from the text: the report reviews the previous year"
    docs.to_csv(path, index=False, encoding="utf-8-sig")
    html = write_report(results).read_text(encoding="utf-8")
    assert "Documents by year_source" not in html and "Documents by year" in html


def _edit(results: Path, name: str, edit) -> None:
    import pandas as pd

    path = results / "tables" / name
    edit(pd.read_csv(path, encoding="utf-8-sig")).to_csv(path, index=False, encoding="utf-8-sig")


def test_report_without_first_year_regression(results):
    """KeyError: ['first_year'] in plot_formulation_timeline for corpora without years."""
    _edit(results, "formulations.csv", lambda t: t.drop(columns=["first_year", "last_year"]))
    html = report.write_report(results).read_text(encoding="utf-8")
    assert "提法 Formulations" in html and "共建共治共享" in html


def test_report_with_no_formulations_at_all_regression(results):
    _edit(results, "formulations.csv", lambda t: t.iloc[0:0])
    _edit(results, "formulation_examples.csv", lambda t: t.iloc[0:0])
    html = report.write_report(results).read_text(encoding="utf-8")
    assert "No formulations were found in this corpus." in html


def test_mathtext_docvar_does_not_reach_matplotlib_regression(results):
    bad = "$\\frac{x}{$"
    _edit(results, "keyness.csv", lambda t: t.assign(group=bad))
    _edit(results, "topic_prevalence.csv", lambda t: t.assign(group=t["group"].where(t["by"] != "province", bad)))
    _edit(results, "topics.csv", lambda t: t.assign(label=bad))
    html = report.write_report(results).read_text(encoding="utf-8")
    assert "frac" in html


def test_missing_groups_are_counted_not_shown_as_nan(results):
    _edit(results, "documents.csv", lambda t: t.assign(city=[None] + list(t["city"][1:])))
    _edit(results, "keyness.csv", lambda t: t.assign(group=[None] + list(t["group"][1:])))
    html = report.write_report(results).read_text(encoding="utf-8")
    assert ">nan<" not in html and "(缺失 missing)" in html


def test_run_on_texts_without_year_writes_the_report_regression(tmp_path):
    """A folder of .txt files with no year crashed the report (KeyError: ['first_year'])."""
    from zhili.pipeline import RunSettings, run

    folder = tmp_path / "texts"
    folder.mkdir()
    for i, text in enumerate(["坚持“五大导向”，推进市域社会治理现代化。", "落实四个全面，加强网格化管理。",
                              "实现三降三升，完善矛盾纠纷多元化解。"]):
        (folder / f"doc{i}.txt").write_text(text * 3, encoding="utf-8")
    res = run(RunSettings(sources=[str(folder)], out=str(tmp_path / "out"), cache=False))
    assert (res.out / "report.html").stat().st_size > 0


def test_font_subset_is_cached_by_character_set(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "cache"))
    chars = frozenset(map(ord, "市域社会治理"))
    first = report.font_subset(chars)
    cached = list((tmp_path / "cache" / "fonts").glob("*.woff"))
    assert first[:4] == b"wOFF" and len(cached) == 1
    monkeypatch.setattr(report, "_subset", lambda chars: pytest.fail("subset again"))
    assert report.font_subset(chars) == first
    cached[0].write_bytes(b"planted")  # not a WOFF: made again, never embedded
    monkeypatch.undo()
    monkeypatch.setenv("ZHILI_CACHE_DIR", str(tmp_path / "cache"))
    assert report.font_subset(chars) == first


def test_effects_section_shows_coefficients_and_expected_shares(built):
    html = built.read_text(encoding="utf-8")
    section = re.search(r'<section id="effects">(.*?)</section>', html, re.S).group(1)
    assert "Covariate effects" in section and section.count("data:image/png;base64,") == 2  # coefficients, year
    assert "浙江" in section and "广东" in section


def test_no_effects_section_without_effects_tables(results):
    (results / "tables" / "topic_effects.csv").unlink()
    (results / "tables" / "topic_effects_expected.csv").unlink()
    html = report.write_report(results).read_text(encoding="utf-8")
    assert 'id="effects"' not in html


def test_k_search_section_shows_the_frontier_the_chosen_k_and_the_reason(results):
    _edit(results, "k_search.csv", lambda t: t.assign(frontier=[False, True, True, True]))
    manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
    manifest["k_search"] = {"recommended_k": 3, "reason": "K=3 has the highest mean <b>of</b> standardised scores."}
    (results / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    html = report.write_report(results).read_text(encoding="utf-8")
    section = re.search(r'<section id="k-search">(.*?)</section>', html, re.S).group(1)
    assert "Chosen K = 3." in section and "mean &lt;b&gt;of&lt;/b&gt; standardised" in section
    assert 'alt="一致性–排他性前沿 Coherence–exclusivity frontier"' in section


@pytest.mark.parametrize("texts, options", [
    (["的了和是在", "我们的他们了"], {}),                       # only stopwords
    (["，。！？", "……——"], {}),                                 # only punctuation
    (["推进市域社会治理现代化。", "加强网格化管理。"], {"min_chars": 50}),
    (["推进市域社会治理现代化。", "加强网格化管理。"], {"pos": ["zz"]}),
], ids=["stopwords", "punctuation", "min-chars-50", "pos-zz"])
def test_run_where_filtering_leaves_no_terms_regression(tmp_path, texts, options):
    """TypeError: Column 'count' has dtype object, cannot use method 'nlargest' (report._terms_section ->
    plotting.plot_top_terms) when the token filters left no term: the run completes, every document is in
    documents.csv, the terms section says why, run.log has W130."""
    import json as json_

    from zhili.pipeline import RunSettings, run

    src = tmp_path / "s.jsonl"
    src.write_text("".join(json_.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False) + "\n"
                           for i, t in enumerate(texts)), encoding="utf-8")
    res = run(RunSettings(sources=[str(src)], out=str(tmp_path / "out"), cache=False, n_jobs=1, **options))
    import pandas as pd

    docs = pd.read_csv(res.out / "tables" / "documents.csv", encoding="utf-8-sig")
    assert docs["doc_id"].tolist() == [f"d{i}" for i in range(len(texts))]
    html = (res.out / "report.html").read_text(encoding="utf-8")
    assert "No terms:" in html and "Loosen --stopwords" in html
    assert "[W130]" in (res.out / "run.log").read_text(encoding="utf-8")
    terms = pd.read_parquet(res.out / "tables" / "terms.parquet")
    assert terms.empty and str(terms["count"].dtype) == "int64" and str(terms["share"].dtype) == "float64"


def test_empty_terms_and_coword_tables_read_back_typed_regression(results):
    """An empty CSV reads back as text columns; the plots sort on 'count' and must not fail."""
    _edit(results, "terms.csv", lambda t: t.iloc[0:0])
    _edit(results, "coword_nodes.csv", lambda t: t.iloc[0:0])
    _edit(results, "coword_edges.csv", lambda t: t.iloc[0:0])
    html = report.write_report(results).read_text(encoding="utf-8")
    assert "No terms:" in html


def test_empty_grouped_term_table_keeps_typed_columns_regression():
    from zhili.corpus import corpus_from_texts
    from zhili.dtm import dtm, term_frequencies
    from zhili.tokens import tokens

    d = dtm(tokens(corpus_from_texts(["的了和是在"], docvars={"g": ["a"]}), cache=False))
    for table in (term_frequencies(d), term_frequencies(d, by="g")):
        assert table.empty and str(table["count"].dtype) == "int64" and str(table["doc_count"].dtype) == "int64"
        assert str(table["share"].dtype) == "float64"


def test_a_cached_figure_is_reused_only_when_its_input_is_identical(tmp_path):
    import pandas as pd

    from zhili import plotting

    terms = pd.DataFrame({"term": ["治理", "网格", "服务"], "count": [5, 3, 2], "doc_count": [1, 1, 1]})
    cache = report.FigureCache(tmp_path / "figures")
    drawn = cache(plotting.plot_top_terms, terms)
    assert (cache.drawn, cache.reused) == (1, 0)
    assert cache(plotting.plot_top_terms, terms.copy()) == drawn and (cache.drawn, cache.reused) == (1, 1)
    assert drawn == report.FigureCache(tmp_path / "fresh")(plotting.plot_top_terms, terms)  # same bytes as drawn anew
    for changed in (terms.assign(count=[5, 3, 1]), terms.iloc[:2]):
        assert cache(plotting.plot_top_terms, changed) != drawn
    cache(plotting.plot_top_terms, terms, n=2)
    assert (cache.drawn, cache.reused) == (4, 1)
    for entry in (tmp_path / "figures").rglob("*.png"):
        entry.write_bytes(b"planted")
    assert cache(plotting.plot_top_terms, terms) == drawn and cache.drawn == 5
