"""zhili (治理): segment and topic-model Chinese policy and governance texts, and compare
themes across cities and years.

>>> import zhili
>>> c = zhili.corpus()                       # the embedded seed essay
>>> toks = zhili.tokens(c, cache=False)
>>> d = zhili.dtm(toks)
>>> "网格化" in set(d.vocabulary)
True
"""

import sys
from importlib import import_module
from types import ModuleType

from .errors import E, ZhiliError

# Everything loads on first use, so `zhili segment` starts without pandas, scipy or scikit-learn.
_LAZY = {
    "Corpus": "corpus", "corpus": "corpus", "corpus_from_texts": "corpus", "split_units": "corpus",
    "DTM": "dtm", "dtm": "dtm", "dtm_group": "dtm", "dtm_trim": "dtm", "dtm_weight": "dtm",
    "term_frequencies": "dtm", "write_table": "io",
    "kwic": "kwic", "detect_script": "normalize", "normalize": "normalize", "to_simplified": "normalize",
    "RunResult": "pipeline", "RunSettings": "pipeline", "run": "pipeline", "load_config": "pipeline",
    "verify_results": "pipeline", "Segmenter": "segment",
    "TokenFilter": "tokens", "Tokens": "tokens", "tokens": "tokens", "tokens_filter": "tokens",
    "tokens_replace": "tokens",
    "TopicModel": "topics", "search_k": "topics",
    "compare_topics": "compare", "topic_regression": "compare", "topic_trends": "compare",
    "before_after": "compare", "term_trends": "compare", "posterior_draws": "compare",
    "topic_effects": "effects", "export_for_r": "export", "pyldavis_data": "export",
    "keyness": "keyness", "coword": "coword", "read_dictionary": "dictionary", "code_dictionary": "dictionary",
    "formulation_table": "formulations", "formulation_tables": "formulations",
    "extract_formulations": "formulations",
    "find_phrases": "phrases", "write_report": "report", "cache_info": "cache", "clear_cache": "cache",
}
# Verbs named like the module that defines them (zhili.tokens, zhili.corpus …): the package attribute
# is the module itself, made callable, so `zhili.tokens(corpus)` calls the verb and
# `import zhili.tokens as m; m.Tokens` gets the module — neither shadows the other.
_VERBS = {name for name, module in _LAZY.items() if name == module}


class _VerbModule(ModuleType):
    """A zhili module that defines a verb of its own name: calling the module calls the verb
    (``zhili.dtm(tokens)`` is ``zhili.dtm.dtm(tokens)``), with the verb's signature."""

    def _verb(self):
        return super().__getattribute__(self.__name__.rpartition(".")[2])

    def __call__(self, *args, **kwargs):
        return self._verb()(*args, **kwargs)

    def __repr__(self) -> str:
        name = self.__name__.rpartition(".")[2]
        return f"<module {self.__name__!r}, callable: {name}(...) calls {self.__name__}.{name}>"

    @property
    def __signature__(self):
        from inspect import signature

        return signature(self._verb())


def _version() -> str:
    from .manifest import zhili_version

    return zhili_version()


class _Package(ModuleType):
    def __getattribute__(self, name: str):
        if name in _VERBS:
            return _verb_module(name)
        return super().__getattribute__(name)


def _verb_module(name: str) -> ModuleType:
    module = import_module(f"{__name__}.{name}")
    if not isinstance(module, _VerbModule):
        module.__class__ = _VerbModule
    return module


def __getattr__(name: str):
    if name in _VERBS:
        return _verb_module(name)
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'zhili' has no attribute {name!r}")


sys.modules[__name__].__class__ = _Package

__all__ = ["E", "ZhiliError", "__version__", *_LAZY]
