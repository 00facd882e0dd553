"""Figures render Chinese with real glyphs from the shipped font, on a machine without CJK fonts."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pandas as pd
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from PIL import Image

from zhili import plotting
from zhili.errors import ZhiliError

TABLES = Path(__file__).parent / "fixtures" / "results_minimal" / "tables"


def table(name: str) -> pd.DataFrame:
    return pd.read_csv(TABLES / name, encoding="utf-8-sig")


def render(fig: Figure) -> list[str]:
    """Save ``fig`` as PNG; return the warnings matplotlib raised while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=60)
    image = Image.open(io.BytesIO(buffer.getvalue()))
    low, high = image.convert("L").getextrema()
    assert low < high, "figure is blank"
    return [str(w.message) for w in caught]


def test_font_is_the_shipped_cjk_font_not_dejavu():
    family = plotting.use_chinese_font()
    assert family == "Zhili Sans SC"
    used = Path(font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]), fallback_to_default=False))
    assert used.resolve() == plotting.FONT_PATH.resolve()
    assert "DejaVu" not in used.name


def test_chinese_labels_have_no_missing_glyphs():
    plotting.use_chinese_font()
    fig = Figure()
    ax = fig.add_subplot()
    ax.bar(["社会治理", "網格化", "共建共治共享"], [3, 2, 1])
    ax.set_title("社会治理 網格化 —— 「一网通办」（2019–2021年）")
    messages = render(fig)
    assert not [m for m in messages if "missing from font" in m], messages


@pytest.mark.parametrize("make", [
    lambda: plotting.plot_top_terms(table("terms.csv"), n=10),
    lambda: plotting.plot_wordcloud(table("terms.csv")),
    lambda: plotting.plot_prevalence_over_time(table("topic_prevalence.csv"), by="year", labels={0: "基层治理"}),
    lambda: plotting.plot_prevalence_heatmap(table("topic_prevalence.csv"), by="province"),
    lambda: plotting.plot_keyness(table("keyness.csv"), "浙江"),
    lambda: plotting.plot_k_search(table("k_search.csv")),
    lambda: plotting.plot_coword(table("coword_nodes.csv"), table("coword_edges.csv")),
    lambda: plotting.plot_formulation_timeline(table("formulations.csv")),
], ids=["top_terms", "wordcloud", "prevalence_time", "heatmap", "keyness", "k_search", "coword", "formulations"])
def test_every_figure_renders_without_missing_glyphs(make):
    fig = make()
    assert isinstance(fig, Figure)
    messages = render(fig)
    assert not [m for m in messages if "missing from font" in m], messages


def test_prevalence_panels_one_per_topic_with_bands():
    fig = plotting.plot_prevalence_over_time(table("topic_prevalence.csv"), by="year", labels={0: "基层治理"})
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 3
    assert panels[0].get_title() == "0: 基层治理"
    assert all(ax.collections for ax in panels), "each panel needs its interval band"


def test_empty_tables_give_a_message_not_an_error():
    empty = table("keyness.csv").iloc[0:0]
    fig = plotting.plot_keyness(empty, "广东")
    assert "No key terms" in fig.axes[0].texts[0].get_text()


def test_coword_layout_is_reproducible():
    nodes, edges = table("coword_nodes.csv"), table("coword_edges.csv")
    first = plotting.plot_coword(nodes, edges, seed=1).axes[0].collections[-1].get_offsets()
    again = plotting.plot_coword(nodes, edges, seed=1).axes[0].collections[-1].get_offsets()
    assert (first == again).all()


def test_bad_font_file_is_e063(tmp_path):
    bad = tmp_path / "broken.otf"
    bad.write_bytes(b"not a font" * 20)
    with pytest.raises(ZhiliError) as error:
        plotting.use_chinese_font(bad)
    assert error.value.code == "E063"
    assert "broken.otf" in str(error.value)
    with pytest.raises(ZhiliError, match="E063"):
        plotting.use_chinese_font(tmp_path / "absent.otf")


def test_prevalence_panels_in_numeric_topic_order_regression():
    import pandas as pd

    from zhili.plotting import plot_prevalence_over_time, topic_title

    rows = [{"by": "year", "group": y, "topic": t, "mean": 0.1, "ci_low": 0.05, "ci_high": 0.2, "n_docs": 3}
            for t in range(12) for y in (2019, 2020)]
    fig = plot_prevalence_over_time(pd.DataFrame(rows))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == [topic_title(t) for t in range(12)]


def test_formulation_timeline_single_year_has_a_narrow_axis_regression():
    import pandas as pd

    from zhili.plotting import plot_formulation_timeline

    fig = plot_formulation_timeline(pd.DataFrame({"canonical": ["五大导向", "三降三升"], "count": [3, 2],
                                                  "n_docs": [1, 1], "first_year": [2019, 2019]}))
    lo, hi = fig.axes[0].get_xlim()
    assert hi - lo <= 6


ALL_FIGURES = [
    lambda: plotting.plot_top_terms(table("terms.csv"), n=10),
    lambda: plotting.plot_prevalence_over_time(table("topic_prevalence.csv"), by="year"),
    lambda: plotting.plot_prevalence_heatmap(table("topic_prevalence.csv"), by="province"),
    lambda: plotting.plot_keyness(table("keyness.csv"), "浙江"),
    lambda: plotting.plot_k_search(table("k_search.csv")),
    lambda: plotting.plot_coword(table("coword_nodes.csv"), table("coword_edges.csv")),
    lambda: plotting.plot_formulation_timeline(table("formulations.csv")),
]


def test_figures_leave_global_rcparams_as_they_were():
    import matplotlib

    before = {k: v for k, v in matplotlib.rcParams.items()}
    for make in ALL_FIGURES:
        messages = render(make())
        assert not [m for m in messages if "missing from font" in m], messages
    assert {k: v for k, v in matplotlib.rcParams.items()} == before


def test_formulation_timeline_without_first_year_regression():
    """KeyError: ['first_year'] for a corpus without years (folder of .txt, THUCNews, court texts)."""
    no_year = table("formulations.csv").drop(columns="first_year")
    fig = plotting.plot_formulation_timeline(no_year)
    assert "No formulations with a year" in fig.axes[0].texts[0].get_text()
    render(fig)
    empty = plotting.plot_formulation_timeline(pd.DataFrame(columns=["canonical", "count", "n_docs"]))
    assert "No formulations" in empty.axes[0].texts[0].get_text()
    all_missing = table("formulations.csv").assign(first_year=pd.NA)
    render(plotting.plot_formulation_timeline(all_missing))


def test_mathtext_in_docvars_is_drawn_as_written_regression():
    r"""A docvar like $\frac{x}{$ reached matplotlib's mathtext parser and crashed the report."""
    bad = "$\\frac{x}{$"
    keyness = table("keyness.csv").assign(group=bad, term=[f"{bad}{i}" for i in range(len(table("keyness.csv")))])
    render(plotting.plot_keyness(keyness, bad))
    prevalence = table("topic_prevalence.csv")
    prevalence = prevalence[prevalence["by"] == "province"].assign(group=bad)
    render(plotting.plot_prevalence_heatmap(prevalence, by="province", labels={0: bad}))
    terms = pd.DataFrame({"term": [bad, "$x$", "治理"], "count": [3, 2, 1]})
    render(plotting.plot_top_terms(terms))


@pytest.mark.parametrize("n_groups", [1, 300])
def test_one_group_and_hundreds_of_groups(n_groups):
    groups = [f"城市{i}" for i in range(n_groups)]
    prevalence = pd.DataFrame([{"by": by, "group": g if by == "city" else 2000 + i, "topic": t, "mean": 0.2,
                                "ci_low": 0.1, "ci_high": 0.3, "n_docs": 2}
                               for by in ("city", "year") for i, g in enumerate(groups) for t in range(3)])
    render(plotting.plot_prevalence_heatmap(prevalence, by="city"))
    render(plotting.plot_prevalence_over_time(prevalence, by="year"))


def test_missing_groups_are_not_drawn_as_nan():
    prevalence = table("topic_prevalence.csv")
    rows = prevalence[prevalence["by"] == "province"]
    with_missing = pd.concat([rows, rows.head(1).assign(group=float("nan"))])
    fig = plotting.plot_prevalence_heatmap(with_missing, by="province")
    render(fig)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "nan" not in labels and labels


EFFECT_FIGURES = [
    lambda: plotting.plot_k_frontier(table("k_search.csv").assign(frontier=[False, True, True, True])),
    lambda: plotting.plot_k_frontier(table("k_search.csv")),  # written before the frontier column
    lambda: plotting.plot_topic_effects(table("topic_effects.csv"), labels={0: "基层治理"}),
    lambda: plotting.plot_expected_shares(table("topic_effects_expected.csv"), "year", labels={0: "基层治理"}),
]


@pytest.mark.parametrize("make", EFFECT_FIGURES, ids=["frontier", "frontier_unmarked", "effects", "expected"])
def test_k_frontier_and_effect_figures_render_and_leave_rcparams(make):
    import matplotlib

    before = dict(matplotlib.rcParams)
    messages = render(make())
    assert not [m for m in messages if "missing from font" in m], messages
    assert dict(matplotlib.rcParams) == before


def test_effects_plot_has_one_panel_per_covariate_level_and_marks_intervals_excluding_zero():
    fig = plotting.plot_topic_effects(table("topic_effects.csv"))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["year：每单位 per unit", "province：浙江 vs 广东"]
    colours = fig.axes[0].collections[0].get_colors()  # topic 1's interval holds 0: grey
    assert len(colours) == 3 and tuple(colours[1][:3]) != tuple(colours[0][:3])


def test_frontier_rings_the_chosen_k():
    fig = plotting.plot_k_frontier(table("k_search.csv").assign(frontier=[False, True, True, True]), chosen=4)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "选定 chosen K=4" in legend
