"""The notebooks run top to bottom: the quickstart on the seed, the comparison on the seed and on
the government work reports, the covariate effects on the reports (parameters injected after the cell
tagged ``parameters``, as papermill does). The stored notebooks carry no outputs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
QUICKSTART = NOTEBOOKS / "01_quickstart.ipynb"
COMPARE = NOTEBOOKS / "02_compare_cities_years.ipynb"
EFFECTS = NOTEBOOKS / "03_covariate_effects.ipynb"
CELL_TIMEOUT = 600


def inject_parameters(nb: nbformat.NotebookNode, **params: object) -> None:
    """Add a cell tagged ``injected-parameters`` right after the ``parameters`` cell (papermill's convention)."""
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in params.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index + 1, cell)


def execute(path: Path, cache_dir: Path, **params: object) -> tuple[nbformat.NotebookNode, float]:
    """Run the notebook in ``notebooks/`` with a headless matplotlib; return it with outputs and the seconds taken."""
    nb = nbformat.read(path, as_version=4)
    if params:
        inject_parameters(nb, **params)
    env = {**os.environ, "MPLBACKEND": "Agg", "ZHILI_CACHE_DIR": str(cache_dir)}
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    started = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - started
    print(f"{path.name} {params or ''}: {seconds:.1f} s")
    return nb, seconds


def text_of(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def n_images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.parametrize("path", [QUICKSTART, COMPARE, EFFECTS], ids=lambda p: p.stem)
def test_stored_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code), f"clear the outputs of {path.name}"


@pytest.mark.parametrize("path, default", [(COMPARE, "CORPUS_PATH = None"), (EFFECTS, "DATA = None")],
                         ids=["compare", "effects"])
def test_notebook_has_a_parameters_cell(path, default):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and default in tagged[0].source


def test_quickstart_runs_on_the_seed(tmp_path):
    nb, _ = execute(QUICKSTART, tmp_path)
    out = text_of(nb)
    assert "貫徹落實 / 習近平" in out          # zhili, in the original Traditional script
    assert "貫徹落 / 實習 / 近平" in out       # plain jieba's mis-cut
    assert "五大导向" in out and "三降三升" in out and "一张网五统一" in out
    assert n_images(nb) >= 2                   # top terms and word cloud


def test_compare_notebook_runs_on_the_seed(tmp_path):
    nb, _ = execute(COMPARE, tmp_path)
    out = text_of(nb)
    assert "'year' has 1 group(s)" in out and "'province' has 1 group(s)" in out
    assert n_images(nb) >= 3                   # K search, formulation timeline, co-word network


def test_compare_notebook_runs_on_gov_work_reports(tmp_path, shared_data):
    reports = shared_data("gov_work_reports") / "docs.jsonl.gz"
    nb, seconds = execute(COMPARE, tmp_path, CORPUS_PATH=str(reports))
    out = text_of(nb)
    assert "skipped" not in out
    assert n_images(nb) >= 3 + 2 + 2 * 2       # + prevalence by year and province + keyness figures


def test_effects_notebook_runs_on_gov_work_reports(tmp_path, shared_data):
    reports = shared_data("gov_work_reports") / "docs.jsonl.gz"
    nb, _ = execute(EFFECTS, tmp_path, DATA=str(reports), N_TOPICS=5, N_DRAWS=20, N_COIN_FLIPS=2)
    out = text_of(nb)
    assert "coin flip significant for" in out and "read_zhili.R" in out
    assert n_images(nb) >= 2                   # expected shares over the years, province coefficients
