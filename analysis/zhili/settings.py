"""The settings of a run, declared once: :class:`RunSettings` fields carry their CLI flag, TOML type
and help text, and the argparse options, the TOML loader and the manifest are all generated from them.

>>> s = RunSettings(unit="paragraph", by="year")
>>> s.unit, s.by
('paragraph', ['year'])
>>> settings_to_argv(RunSettings(unit="sentence", random_state=7))
['--unit', 'sentence', '--random-state', '7']
"""

from __future__ import annotations

import argparse
import math
import warnings
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import E, ZhiliError

#: Old names accepted in TOML files (and their replacement); each use warns with DeprecationWarning.
TOML_ALIASES = {"seed": "random_state", "seed_topics": "themes", "group_by": "by", "time": "by", "year_var": "by",
                "user_dict": "user_dicts"}
UNITS = ("document", "paragraph", "sentence")


def _setting(default: Any = MISSING, *, kind: str, help: str, flags: tuple[str, ...] = (), choices=None,
             const: Any = None, metavar: str | None = None, factory: Any = MISSING):
    """A dataclass field with the metadata the CLI and the TOML loader are generated from.

    ``kind`` names the type (see :data:`KINDS`); ``const`` makes a switch flag that stores that value.
    """
    meta = {"kind": kind, "help": help, "flags": flags, "choices": choices, "const": const, "metavar": metavar}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class RunSettings:
    """Every setting of a run; the manifest records all of them. Each field is also a CLI flag
    (``zhili run --help``) and a TOML key (``zhili run --config``) of the same name.

    >>> RunSettings(sources=["reports/"], unit="paragraph").unit
    'paragraph'
    """

    sources: list[str] = _setting(kind="paths", factory=list, flags=(), metavar="SOURCE",
                                  help="folders, document files or tables (default: the embedded seed corpus)")
    out: str = _setting("zhili-results", kind="str", flags=("--out",),
                        help="results folder; replaced as a whole when the run has finished (default: zhili-results)")
    unit: str = _setting("document", kind="str", flags=("--unit",), choices=UNITS,
                         help="unit of analysis (default: document)")
    text_col: str = _setting("text", kind="str", flags=("--text-col",),
                             help="text column of table sources (default: text)")
    id_col: str | None = _setting(None, kind="optstr", flags=("--id-col",),
                                  help="id column of table sources (default: id or doc_id when present)")
    name_pattern: str | None = _setting(None, kind="optstr", flags=("--name-pattern",),
                                        help='variables from file names, e.g. "{city}_{year}"')
    sidecar: str | None = _setting(None, kind="optpath", flags=("--sidecar",),
                                   help="metadata table joined on doc_id/id or file name "
                                        "(default: a folder's metadata.csv)")
    encoding: str | None = _setting(None, kind="optstr", flags=("--encoding",),
                                    help="force an encoding instead of detecting it (e.g. gb18030, big5)")
    sheet: list[str] = _setting(kind="list", factory=list, flags=("--sheet",), metavar="NAME",
                                help="read only this sheet of .xlsx sources; repeatable (default: every sheet, "
                                     "its name in the 'sheet' variable)")
    year_cols: list[str] = _setting(kind="list", factory=list, flags=("--year-col",), metavar="VAR",
                                    help="more variables read as years like 'year' (2019, 2019年, 二〇一九年, dates); "
                                         "repeatable")
    clean_web: bool = _setting(True, kind="bool", flags=("--no-clean-web",), const=False,
                               help="keep scraped-page residue (pinyin glosses, markup, navigation, site boilerplate, "
                                    "meta lines) in the text (default: removed, counted in removed_* columns)")
    bylines: bool = _setting(True, kind="bool", flags=("--keep-bylines",), const=False,
                             help="keep author/editor lines and licence footers in the text "
                                  "(default: they become variables)")
    segmenter: str = _setting("auto", kind="str", flags=("--segmenter",), choices=("auto", "native", "rjieba", "jieba"),
                              help="segmentation backend; all cut like jieba (default: auto = native where it was "
                                   "compiled, else rjieba)")
    user_dicts: list[str] = _setting(kind="paths", factory=list, flags=("--user-dict",), metavar="FILE",
                                     help="jieba-format user dictionary (word [freq] [pos]); repeatable; wins over ours")
    discover_phrases: bool = _setting(False, kind="bool", flags=("--discover-phrases",), const=True,
                                      help="find multi-word terms the segmenter splits (PMI + boundary entropy) and "
                                           "keep them whole in this run; listed in tables/phrases and phrases.txt")
    lexicon: bool = _setting(True, kind="bool", flags=("--no-lexicon",), const=False,
                             help="do not load the shipped governance lexicon")
    places: bool = _setting(True, kind="bool", flags=("--no-places",), const=False,
                            help="do not load the shipped place-name dictionary into the segmenter")
    stopwords: str = _setting("all", kind="str", flags=("--stopwords",), choices=("all", "general", "policy", "genre", "none"),
                              help="stopword list to drop: general (function words), policy (推进, 加强 …), genre "
                                   "(report procedure words: 各位代表, 请予审议 …) or all three (default: all)")
    extra_stopwords: list[str] = _setting(kind="list", factory=list, flags=("--extra-stopwords",),
                                          metavar="FILE_OR_WORD", help="more stopwords: a file or a word; repeatable")
    min_chars: int = _setting(2, kind="int", flags=("--min-chars",),
                              help="drop tokens shorter than this many characters (default: 2)")
    pos: list[str] | None = _setting(None, kind="optlist", flags=("--pos",), metavar="TAG",
                                     help="keep only these part-of-speech tags (e.g. n, vn); repeatable (default: all)")
    synonyms: bool = _setting(True, kind="bool", flags=("--no-synonyms",), const=False,
                              help="do not merge the shipped synonym variants into one term")
    min_df: int | float | None = _setting(None, kind="min_df", flags=("--min-df",),
                                          help="topic models drop terms in fewer units (int) or share (< 1); "
                                               "default 5, or 2 below 200 units")
    max_df: int | float = _setting(0.95, kind="max_df", flags=("--max-df",),
                                   help="topic models drop terms in more units (int) or share (<= 1) (default: 0.95)")
    max_features: int | None = _setting(20000, kind="optint", flags=("--max-features",),
                                        help="topic models keep at most this many terms; 'none' for all "
                                             "(default: 20000)")
    topics: int | str | None = _setting(None, kind="topics", flags=("--topics",), metavar="K|auto",
                                        help="fit a topic model with K topics, or choose K ('auto')")
    topic_method: str = _setting("auto", kind="str", flags=("--topic-method",), choices=("auto", "nmf", "lda", "dmr"),
                                 help="topic model (default: auto = NMF under KL divergence); dmr = prevalence "
                                      "depends on the --effects variables (needs zhili[dmr])")
    themes: dict[str, list[str]] = _setting(kind="themes", factory=dict, flags=("--theme",), metavar="NAME=WORD,WORD",
                                            help="a guided topic anchored on seed words, e.g. "
                                                 "脱贫攻坚=脱贫,扶贫,贫困人口 (repeatable)")
    effects: str | None = _setting(None, kind="optstr", flags=("--effects",), metavar="FORMULA",
                                   help='"s(year) + province": topic prevalence as a function of document '
                                        'variables; writes topic_effects tables (needs --topics)')
    idf_by: str | None = _setting(None, kind="optstr", flags=("--idf-by",), metavar="VAR",
                                  help="NMF topics: count a term's document frequency over the groups of this "
                                       "variable, e.g. doc_id with --unit paragraph (the source documents), so "
                                       "terms of a few documents (an era's) weigh more (default: over units)")
    random_state: int = _setting(42, kind="int", flags=("--random-state", "--seed"),
                                 help="seed of randomness for topic models, networks and intervals (default: 42)")
    by: list[str] = _setting(kind="list", factory=list, flags=("--by",), metavar="VAR",
                             help="compare groups of this document variable (repeatable: --by year --by city)")
    dictionary: str | None = _setting(None, kind="optpath", flags=("--dictionary",),
                                      help="category dictionary (YAML or CSV) to code documents with")
    exclude_places: bool = _setting(True, kind="bool", flags=("--keep-places",), const=False,
                                    help="keep place names in keyness tables")
    keyness_terms: int = _setting(200, kind="int", flags=("--keyness-terms",),
                                  help="strongest over-used terms kept per group in keyness.csv (default: 200)")
    n_jobs: int = _setting(1, kind="int", flags=("--n-jobs",), help="processes: 1 serial, N processes, -1 all cores, -2 all but one (default: 1; 0 is refused)")
    cache: bool = _setting(True, kind="bool", flags=("--no-cache",), const=False,
                           help="segment again instead of using the on-disk cache")
    report: bool = _setting(True, kind="bool", flags=("--no-report",), const=False, help="do not write report.html")
    engine: str = _setting("local", kind="str", flags=("--engine",), choices=("local", "dask"),
                           help="where ingest's segmentation and counting run: local processes (--n-jobs) or a Dask "
                                "cluster (needs pip install \"zhili[dask]\"; default: local)")
    scheduler: str | None = _setting(None, kind="optstr", flags=("--scheduler",), metavar="ADDRESS",
                                     help="with --engine dask: the scheduler of an existing cluster, e.g. "
                                          "tcp://host:8786 (default: a local cluster of --n-jobs worker processes)")

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, check_value(f.name, getattr(self, f.name)))
        for path in self.user_dicts:
            if Path(path).is_dir():
                raise ZhiliError(E.E125, path=path)
        for item in self.extra_stopwords:
            if Path(item).is_dir():
                raise ZhiliError(E.E129, path=item)

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def tokenize(self, units, progress: bool | None = None, client=None):
        """:func:`~zhili.tokens.tokens` with this run's segmenter, dictionaries, filter and cache
        (on the Dask cluster of ``client`` when one is given)."""
        from .tokens import tokens

        return tokens(units, segmenter=self.segmenter, lexicon=self.lexicon, places=self.places,
                      user_dicts=self.user_dicts, filter=self.token_filter, cache=self.cache, n_jobs=self.n_jobs,
                      progress=progress, client=client)

    def count(self, units, progress: bool | None = None, client=None):
        """:func:`~zhili.dtm.dtm_counted`: the DTM of :meth:`tokenize`, counted without holding the tokens."""
        from .dtm import dtm_counted

        return dtm_counted(units, segmenter=self.segmenter, lexicon=self.lexicon, places=self.places,
                           user_dicts=self.user_dicts, filter=self.token_filter, cache=self.cache, n_jobs=self.n_jobs,
                           progress=progress, client=client)

    @property
    def token_filter(self):
        from .tokens import TokenFilter

        return TokenFilter(stopwords=self.stopwords, extra_stopwords=tuple(self.extra_stopwords),
                           min_chars=self.min_chars, pos=tuple(self.pos) if self.pos else None,
                           synonyms=self.synonyms)


FIELDS = {f.name: f for f in fields(RunSettings)}


# ---- one type per kind: checking a value (API, TOML) and parsing a CLI string ----

def _fail(key: str, expected: str, value: Any) -> ZhiliError:
    return ZhiliError(E.E120, key=key, expected=expected, value=value)


def _str_list(key: str, value: Any, what: str) -> list[str]:
    if isinstance(value, (str, Path)):
        return [str(value)]  # one value, never its characters
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, Path)) for v in value):
        return [str(v) for v in value]
    raise _fail(key, f"a list of {what} (or one)", value)


def _number(key: str, value: Any, share_max: float, lo_share_open: bool) -> int | float:
    """``min_df``/``max_df``: an integer count >= 1, or a finite share in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(key, "a number of units (integer >= 1) or a share (0 < x <= 1)", value)
    if isinstance(value, float):
        if not math.isfinite(value) or value <= 0:
            raise _fail(key, "a finite number > 0", value)
        if value > share_max or (value == 1.0 and lo_share_open):
            if not value.is_integer():
                raise _fail(key, "a share below 1 or a whole number of units", value)
            return int(value)
        return value
    if value < 1:
        raise _fail(key, "a number of units >= 1 (or a share 0 < x < 1)", value)
    return value


def _check_themes(key: str, value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise _fail(key, "a table of NAME = [WORD, ...]", value)
    out = {}
    for name, words in value.items():
        if isinstance(words, str):
            words = [w.strip() for w in words.replace("，", ",").split(",") if w.strip()]
        out[str(name)] = _str_list(f"{key}.{name}", words, "seed words")
    return out


def check_value(key: str, value: Any) -> Any:
    """The value of setting ``key`` in its canonical type, or :class:`ZhiliError` E120 (never a
    silent coercion that changes meaning: ``"5"`` is not 5, a string is not a list of its characters).

    >>> check_value("by", "year")
    ['year']
    >>> check_value("min_df", 5.0)
    5
    """
    f = FIELDS[key]
    kind, choices = f.metadata["kind"], f.metadata["choices"]
    if kind in ("str", "optstr", "optpath"):
        if value is None and kind != "str":
            return None
        if isinstance(value, Path) and kind == "optpath":
            value = str(value)
        if not isinstance(value, str):
            raise _fail(key, "a string", value)
        if kind == "optpath" and not value.strip():
            raise ZhiliError(E.E131, what=f"'{key}'")
        if choices and value not in choices:
            raise _fail(key, "one of " + ", ".join(choices), value)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _fail(key, "true or false", value)
        return value
    if kind in ("int", "optint"):
        if value is None and kind == "optint":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(key, "an integer" + (" (or none)" if kind == "optint" else ""), value)
        if key == "n_jobs" and value == 0:
            raise _fail(key, "a whole number other than 0 (1: serial, N: N processes, -1: all cores, "
                             "-2: all but one)", value)
        if kind == "optint" and value < 1:
            raise _fail(key, "an integer >= 1 (or none)", value)
        return value
    if kind in ("list", "paths"):
        values = _str_list(key, value, "paths" if kind == "paths" else "strings")
        if kind == "paths" and any(not v.strip() for v in values):
            raise ZhiliError(E.E131, what=f"'{key}'")
        return values
    if kind == "optlist":
        return None if value is None else _str_list(key, value, "strings")
    if kind == "min_df":
        return None if value is None else _number(key, value, share_max=1.0, lo_share_open=True)
    if kind == "max_df":
        return _number(key, value, share_max=1.0, lo_share_open=False)
    if kind == "topics":
        if value is None or value == "auto":
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ZhiliError(E.E040, k=value)
        return value
    if kind == "themes":
        return _check_themes(key, value)
    raise AssertionError(f"unknown kind {kind!r}")  # a declaration bug, caught by the tests


def _parse_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # type: ignore[return-value]  # check_value turns it into E120


def _parse_theme(text: str) -> tuple[str, list[str]]:
    name, _, words = text.partition("=")
    seeds = [w.strip() for w in words.replace("，", ",").split(",") if w.strip()]
    if not name.strip() or not seeds:
        raise ZhiliError(E.E043, theme=text, missing="(write --theme NAME=WORD,WORD)")
    return name.strip(), seeds


def parse_cli_value(key: str, text: str) -> Any:
    """One command-line string of setting ``key`` in its type (list kinds: one element)."""
    kind = FIELDS[key].metadata["kind"]
    if kind in ("int", "optint"):
        if kind == "optint" and text.lower() == "none":
            return None
        try:
            return int(text)
        except ValueError:
            raise _fail(key, "an integer", text) from None
    if kind in ("min_df", "max_df"):
        return _parse_number(text)
    if kind == "topics":
        if text == "auto":
            return text
        try:
            return int(text)
        except ValueError:
            raise ZhiliError(E.E040, k=text) from None
    if kind == "themes":
        return _parse_theme(text)
    return text


# ---- generated CLI ----

def add_run_arguments(parser: argparse.ArgumentParser, *, required: tuple[str, ...] = ()) -> None:
    """One option per :class:`RunSettings` field. Defaults are suppressed, so the namespace holds
    exactly what was given on the command line (see :func:`given_settings`)."""
    for f in fields(RunSettings):
        meta = f.metadata
        common = {"dest": f.name, "default": argparse.SUPPRESS, "help": meta["help"]}
        if not meta["flags"]:  # the positional sources
            parser.add_argument(f.name, nargs="*", metavar=meta["metavar"], default=argparse.SUPPRESS,
                                help=meta["help"])
            continue
        if meta["kind"] == "bool":
            parser.add_argument(*meta["flags"], action="store_const", const=meta["const"], **common)
            # the default given explicitly, so a command line can undo a TOML file's value
            parser.add_argument(opposite_flag(f.name), action="store_const", const=not meta["const"],
                                dest=f.name, default=argparse.SUPPRESS,
                                help=f"undo {meta['flags'][0]} (the default; overrides a --config file)")
            continue
        repeat = meta["kind"] in ("list", "paths", "optlist", "themes")
        parser.add_argument(*meta["flags"], action="append" if repeat else "store", metavar=meta["metavar"],
                            choices=meta["choices"], required=f.name in required, **common)


def opposite_flag(name: str) -> str:
    """The flag that gives a switch setting its default: ``--cache`` for ``--no-cache``,
    ``--no-discover-phrases`` for ``--discover-phrases``."""
    flag = name.replace("_", "-")
    return f"--{flag}" if FIELDS[name].metadata["const"] is False else f"--no-{flag}"


def given_settings(namespace: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, typed and checked — a value equal to the
    default is still given, and overrides a TOML file."""
    given = {}
    for key, raw in vars(namespace).items():
        if key not in FIELDS:
            continue
        kind = FIELDS[key].metadata["kind"]
        if key == "sources" or kind == "bool":
            value = raw
        elif kind == "themes":
            value = dict(parse_cli_value(key, r) for r in raw)
        elif isinstance(raw, list):
            value = [parse_cli_value(key, r) for r in raw]
        else:
            value = parse_cli_value(key, raw)
        given[key] = check_value(key, value)
    return given


def settings_to_argv(settings: RunSettings) -> list[str]:
    """The ``zhili run`` arguments that give ``settings`` (only what differs from the defaults).

    >>> settings_to_argv(RunSettings(by=["year", "city"], cache=False))
    ['--by', 'year', '--by', 'city', '--no-cache']
    """
    defaults, argv, positional = RunSettings(), [], []
    for f in fields(RunSettings):
        value, meta = getattr(settings, f.name), f.metadata
        if value == getattr(defaults, f.name):
            continue
        flag = meta["flags"][0] if meta["flags"] else None
        if flag is None:
            positional = [str(v) for v in value]
        elif meta["kind"] == "bool":
            argv.append(flag)
        elif meta["kind"] == "themes":
            argv += [x for name, words in value.items() for x in (flag, f"{name}={','.join(words)}")]
        elif isinstance(value, list):
            argv += [x for v in value for x in (flag, str(v))]
        else:
            argv += [flag, "none" if value is None else str(value)]
    return argv + positional


def settings_to_toml(settings: RunSettings) -> str:
    """The top-level TOML lines that give ``settings`` (only what differs from the defaults).

    >>> settings_to_toml(RunSettings(unit="paragraph", topics=5))
    'unit = "paragraph"\\ntopics = 5\\n'
    """
    import json

    defaults, lines = RunSettings(), []
    for f in fields(RunSettings):
        value = getattr(settings, f.name)
        if value == getattr(defaults, f.name) or value is None:
            continue
        if isinstance(value, dict):
            body = ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {json.dumps(v, ensure_ascii=False)}"
                             for k, v in value.items())
            lines.append(f"{f.name} = {{ {body} }}")
        else:
            lines.append(f"{f.name} = {json.dumps(value, ensure_ascii=False)}")
    return "".join(line + "\n" for line in lines)


def from_toml_table(table: dict[str, Any], where: str) -> dict[str, Any]:
    """Checked settings from one TOML table (old key names renamed with a DeprecationWarning)."""
    out = {}
    for key, value in table.items():
        if key in TOML_ALIASES:
            new = TOML_ALIASES[key]
            warnings.warn(f"{where}: '{key}' is deprecated; write '{new}'", DeprecationWarning, stacklevel=3)
            key = new
        out[key] = check_value(key, value)
    return out
