"""zhili (治理): segment and topic-model Chinese policy and governance texts, and compare
themes across cities and years.

>>> import zhili
>>> c = zhili.corpus()                       # the embedded seed essay
>>> toks = zhili.tokens(c, cache=False)
>>> d = zhili.dtm(toks)
>>> "网格化" in set(d.vocabulary)
True
"""

from importlib.metadata import PackageNotFoundError, version

from .corpus import Corpus, corpus, corpus_from_texts, split_units
from .dtm import DTM, dtm, dtm_group, dtm_trim, dtm_weight, term_frequencies, write_table
from .errors import E, ZhiliError
from .kwic import kwic
from .normalize import detect_script, normalize, to_simplified
from .pipeline import RunResult, RunSettings, run
from .segment import Segmenter
from .tokens import TokenFilter, Tokens, tokens, tokens_filter, tokens_replace

try:
    __version__ = version("zhili")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

# Heavier parts (scikit-learn, matplotlib) load on first use, so `zhili segment` starts fast.
_LAZY = {
    "TopicModel": "topics", "search_k": "topics",
    "compare_topics": "compare", "topic_regression": "compare", "topic_trends": "compare",
    "before_after": "compare", "term_trends": "compare",
    "keyness": "keyness", "coword": "coword", "read_dictionary": "dictionary", "code_dictionary": "dictionary",
    "formulation_table": "formulations", "extract_formulations": "formulations",
    "find_phrases": "phrases", "write_report": "report", "load_config": "pipeline",
    "verify_results": "pipeline",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'zhili' has no attribute {name!r}")


__all__ = [
    "Corpus", "DTM", "E", "RunResult", "RunSettings", "Segmenter", "TokenFilter", "Tokens", "ZhiliError",
    "corpus", "corpus_from_texts", "detect_script", "dtm", "dtm_group", "dtm_trim", "dtm_weight", "kwic",
    "normalize", "run", "split_units", "term_frequencies", "to_simplified", "tokens", "tokens_filter",
    "tokens_replace", "write_table", "__version__", *_LAZY,
]
