"""Hand a fitted topic model to other tools: R (``stm``, ``quanteda``) and pyLDAvis.

``export_for_r(model, d, folder)`` writes the counts as Matrix Market (``counts.mtx``), the
vocabulary (``vocabulary.txt``, one term a line), the document variables
(``docvars.csv``), the fitted shares and topic-term weights, and ``read_zhili.R``, a short
script that reads them into a ``quanteda`` dfm and the ``stm`` input format.
``pyldavis_data(model, d)`` gives the five arrays ``pyLDAvis.prepare`` takes;
``export_for_pyldavis`` writes them as one JSON file.

>>> import tempfile, types
>>> import scipy.sparse as sp
>>> from zhili.dtm import DTM
>>> d = DTM(sp.csr_matrix(np.array([[2, 1, 0], [0, 1, 3]])), np.array(["网格", "治理", "调解"], dtype=object),
...         pd.DataFrame({"doc_id": ["a", "b"], "city": ["南通", "苏州"]}))
>>> model = types.SimpleNamespace(doc_topic_=np.array([[0.9, 0.1], [0.2, 0.8]]), vocabulary_=d.vocabulary,
...     topic_term_=np.array([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6]]), n_topics_=2)
>>> sorted(p.name for p in export_for_r(model, d, tempfile.mkdtemp()).iterdir())[:3]
['counts.mtx', 'doc_topics.csv', 'docvars.csv']
>>> sorted(pyldavis_data(model, d))
['doc_lengths', 'doc_topic_dists', 'term_frequency', 'topic_term_dists', 'vocab']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from .dtm import DTM
from .errors import E, ZhiliError
from .grouping import doc_ids

R_SCRIPT = """# Read a zhili export into R (quanteda / stm). Run from this folder.
library(Matrix)
counts <- readMM("counts.mtx")
vocabulary <- readLines("vocabulary.txt", encoding = "UTF-8")
docvars <- read.csv("docvars.csv", encoding = "UTF-8", check.names = FALSE)
colnames(counts) <- vocabulary
rownames(counts) <- docvars$doc_id
# quanteda
dfm <- quanteda::as.dfm(counts)
quanteda::docvars(dfm) <- docvars
# stm: documents as a list of 2 x n integer matrices (1-based term index, count)
stm_input <- quanteda::convert(dfm, to = "stm")
# zhili's fitted shares and topics, to compare with stm::stm(stm_input$documents, stm_input$vocab, K, ...)
theta <- as.matrix(read.csv("doc_topics.csv", encoding = "UTF-8", check.names = FALSE)[, -1])
beta <- as.matrix(read.csv("topic_terms.csv", encoding = "UTF-8", check.names = FALSE, row.names = 1))
"""


def _aligned(model: object, d: DTM) -> tuple[sp.csr_matrix, np.ndarray]:
    vocabulary = np.asarray(model.vocabulary_, dtype=object)
    if d.shape[0] != model.doc_topic_.shape[0] or not np.array_equal(np.asarray(d.vocabulary, dtype=object),
                                                                      vocabulary):
        raise ZhiliError(E.E048, n_corpus=f"{d.shape[0]} (with its own vocabulary)" if d.shape[0] ==
                         model.doc_topic_.shape[0] else d.shape[0], n_model=model.doc_topic_.shape[0])
    return sp.csr_matrix(d.matrix), vocabulary


def export_for_r(model: object, d: DTM, folder: str | Path) -> Path:
    """Write the DTM the model was fitted on, its docvars, the model's shares and topics and
    ``read_zhili.R`` into ``folder``; returns the folder."""
    counts, vocabulary = _aligned(model, d)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.mmwrite(str(folder / "counts.mtx"), counts.astype(np.int64), field="integer")
    (folder / "vocabulary.txt").write_text("\n".join(map(str, vocabulary)) + "\n", encoding="utf-8")
    docvars = d.docvars.drop(columns=[c for c in ("text",) if c in d.docvars.columns]).reset_index(drop=True)
    docvars.to_csv(folder / "docvars.csv", index=False, encoding="utf-8")
    names = [f"topic_{k}" for k in range(model.n_topics_)]
    ids = pd.Series(doc_ids(docvars))
    pd.concat([ids.rename("doc_id"), pd.DataFrame(model.doc_topic_, columns=names)], axis=1).to_csv(
        folder / "doc_topics.csv", index=False, encoding="utf-8")
    pd.DataFrame(model.topic_term_, index=names, columns=list(map(str, vocabulary))).to_csv(
        folder / "topic_terms.csv", encoding="utf-8")
    (folder / "read_zhili.R").write_text(R_SCRIPT, encoding="utf-8")
    return folder


def pyldavis_data(model: object, d: DTM) -> dict:
    """The keyword arguments of ``pyLDAvis.prepare``: ``topic_term_dists`` (K x V),
    ``doc_topic_dists`` (units x K), ``doc_lengths``, ``vocab``, ``term_frequency``."""
    counts, vocabulary = _aligned(model, d)
    return {"topic_term_dists": np.asarray(model.topic_term_, dtype=float),
            "doc_topic_dists": np.asarray(model.doc_topic_, dtype=float),
            "doc_lengths": np.asarray(counts.sum(axis=1)).ravel().astype(np.int64),
            "vocab": [str(t) for t in vocabulary],
            "term_frequency": np.asarray(counts.sum(axis=0)).ravel().astype(np.int64)}


def export_for_pyldavis(model: object, d: DTM, path: str | Path) -> Path:
    """:func:`pyldavis_data` as one JSON file (``pyLDAvis.prepare(**json.load(f))``)."""
    data = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in pyldavis_data(model, d).items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path
