"""The ``zhili`` command: each subcommand parses arguments and calls one library function.

A :class:`~zhili.errors.ZhiliError` becomes one line on stderr and exit code 1; bad
arguments exit with 2 (argparse); success is 0.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from .errors import ZhiliError

log = logging.getLogger("zhili")

EPILOGS = {
    "zhili": "examples:\n  zhili run                       # analyse the embedded seed corpus into ./zhili-results\n"
             "  zhili run reports/ --by year --topics auto --out results/\n  echo 推进市域社会治理现代化 | zhili segment",
    "run": "examples:\n  zhili run\n  zhili run reports/ --name-pattern \"{city}_{year}\" --unit paragraph --out results/\n"
           "  zhili run reports.xlsx --text-col 正文 --id-col 编号 --by year --by city --topics auto\n"
           "  zhili run --config run.toml        # a batch of analyses, each into its own folder",
    "topics": "examples:\n  zhili topics reports/ --unit paragraph\n  zhili topics reports/ --topics 15 --seed 7 --out results/",
    "compare": "example:\n  zhili compare reports/ --by year --by province --topics auto --out results/",
    "report": "example:\n  zhili report results/",
    "ingest": "example:\n  zhili ingest reports/ --sidecar meta.csv --out results/",
    "segment": "examples:\n  echo 貫徹落實習近平總書記指示 | zhili segment\n  zhili segment input.txt --keep-all > tokens.txt",
    "phrases": "example:\n  zhili phrases reports/ --top 100 --user-dict my_terms.txt",
    "kwic": "example:\n  zhili kwic reports/ 网格化 --window 15 --out kwic.csv",
}


def _source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("sources", nargs="*", metavar="SOURCE",
                   help="folders, document files or tables (default: the embedded seed corpus)")
    p.add_argument("--text-col", default="text", help="text column of table sources (default: text)")
    p.add_argument("--id-col", help="id column of table sources (default: id or doc_id when present)")
    p.add_argument("--name-pattern", help='variables from file names, e.g. "{city}_{year}"')
    p.add_argument("--sidecar", help="metadata table joined on doc_id/id or file name (default: a folder's metadata.csv)")
    p.add_argument("--encoding", help="force an encoding instead of detecting it (e.g. gb18030, big5)")
    p.add_argument("--keep-bylines", action="store_true",
                   help="keep author/editor lines and licence footers in the text (default: they become variables)")


def _segment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--segmenter", default="auto", choices=["auto", "native", "rjieba", "jieba"],
                   help="segmentation backend; all cut like jieba (default: auto = native where it was "
                        "compiled, else rjieba)")
    p.add_argument("--user-dict", action="append", default=[], metavar="FILE",
                   help="jieba-format user dictionary (word [freq] [pos]); repeatable; wins over ours")
    p.add_argument("--no-lexicon", action="store_true", help="do not load the shipped governance lexicon")


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="zhili", description="Segment and topic-model Chinese policy texts.",
                                     epilog=EPILOGS["zhili"], formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"zhili {version('zhili')}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for name, help_text in (("run", "the main job: ingest, segment, count, formulations (and topics, comparisons, report)"),
                            ("topics", "fit a topic model (like run with --topics auto)"),
                            ("compare", "compare groups: keyness and topic prevalence (like run with --by)")):
        p = sub.add_parser(name, help=help_text, epilog=EPILOGS[name], formatter_class=fmt)
        _run_options(p, command=name)
        p.set_defaults(func=_cmd_run)

    p = sub.add_parser("report", help="write report.html again from a results folder", epilog=EPILOGS["report"],
                       formatter_class=fmt)
    p.add_argument("results", help="a folder written by zhili run")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("ingest", help="read sources and write the documents table", epilog=EPILOGS["ingest"],
                       formatter_class=fmt)
    _source_options(p)
    p.add_argument("--unit", default="document", choices=["document", "paragraph", "sentence"])
    p.add_argument("--out", default="zhili-results")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("segment", help="segment UTF-8 lines; one line of space-separated tokens per line",
                       epilog=EPILOGS["segment"], formatter_class=fmt)
    p.add_argument("file", nargs="?", default="-", help="input file, or - for standard input (default)")
    p.add_argument("--keep-all", action="store_true",
                   help="keep every token (punctuation and spaces too): each whitespace character is a token "
                        "of its own, so zhili.segment.rejoin(line) gives the input line back")
    _segment_options(p)
    p.set_defaults(func=_cmd_segment)

    p = sub.add_parser("phrases", help="propose multi-word terms (PMI + boundary entropy)", epilog=EPILOGS["phrases"],
                       formatter_class=fmt)
    _source_options(p)
    _segment_options(p)
    p.add_argument("--top", type=int, default=100)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--out", help="write the table (.csv/.parquet/.xlsx)")
    p.add_argument("--user-dict-out", help="also write the phrases as a jieba user dictionary")
    p.set_defaults(func=_cmd_phrases)

    p = sub.add_parser("kwic", help="keyword in context, in the original script", epilog=EPILOGS["kwic"],
                       formatter_class=fmt)
    p.add_argument("pattern", help="term (Simplified or Traditional), or a regex with --regex")
    _source_options(p)
    p.add_argument("--window", type=int, default=20)
    p.add_argument("--regex", action="store_true")
    p.add_argument("--out", help="write the table (.csv/.parquet/.xlsx) instead of printing")
    p.set_defaults(func=_cmd_kwic)
    return parser


def _run_options(p: argparse.ArgumentParser, command: str) -> None:
    _source_options(p)
    _segment_options(p)
    p.add_argument("--config", help="TOML file describing one or more analyses (see README); options given here override it")
    p.add_argument("--unit", default=None, choices=["document", "paragraph", "sentence"],
                   help="unit of analysis (default: document)")
    p.add_argument("--out", default=None, help="results folder (default: zhili-results)")
    p.add_argument("--topics", default="auto" if command == "topics" else None, metavar="K|auto",
                   help="fit a topic model with K topics, or choose K ('auto')")
    p.add_argument("--topic-method", default="auto", choices=["auto", "nmf", "lda"])
    p.add_argument("--theme", action="append", default=[], metavar="NAME=WORD,WORD",
                   help="a guided topic anchored on seed words, e.g. 脱贫攻坚=脱贫,扶贫,贫困人口 (repeatable)")
    p.add_argument("--by", action="append", default=[], required=command == "compare", metavar="VAR",
                   help="compare groups of this document variable (repeatable: --by year --by city)")
    p.add_argument("--dictionary", help="category dictionary (YAML or CSV) to code documents with")
    p.add_argument("--keep-places", action="store_true", help="keep place names in keyness tables")
    p.add_argument("--stopwords", default="all", choices=["all", "general", "policy", "none"])
    p.add_argument("--extra-stopwords", action="append", default=[], metavar="FILE_OR_WORD")
    p.add_argument("--min-df", type=float, default=None,
                   help="topic models drop terms in fewer units (int) or share (< 1); default 5, or 2 below 200 units")
    p.add_argument("--seed", type=int, default=42, help="random_state for topic models and intervals (default 42)")
    p.add_argument("--n-jobs", type=int, default=1, help="processes (-1: all cores)")
    p.add_argument("--no-cache", action="store_true", help="segment again instead of using the on-disk cache")
    p.add_argument("--no-report", action="store_true", help="do not write report.html")


def _corpus_kwargs(a: argparse.Namespace) -> dict:
    return {"text_col": a.text_col, "id_col": a.id_col, "name_pattern": a.name_pattern, "sidecar": a.sidecar,
            "encoding": a.encoding, "bylines": not a.keep_bylines}


def _cmd_run(a: argparse.Namespace) -> int:
    from .pipeline import RunSettings, load_config, run

    given = {"sources": a.sources, "unit": a.unit, "out": a.out, "segmenter": a.segmenter, "user_dicts": a.user_dict,
             "lexicon": not a.no_lexicon, "stopwords": a.stopwords, "extra_stopwords": a.extra_stopwords,
             "n_jobs": a.n_jobs, "cache": not a.no_cache, "topics": _topics_arg(a.topics),
             "topic_method": a.topic_method, "by": a.by, "dictionary": a.dictionary, "random_state": a.seed,
             "exclude_places": not a.keep_places, "themes": _themes_arg(a.theme),
             "min_df": None if a.min_df is None else int(a.min_df) if a.min_df >= 1 else a.min_df,
             "report": not a.no_report, **_corpus_kwargs(a)}
    if a.config:
        defaults = RunSettings()
        changed = {k: v for k, v in given.items() if v not in (None, []) and v != getattr(defaults, k)}
        batch = [RunSettings(**{**vars(s), **changed}) for s in load_config(a.config)]
    else:
        batch = [RunSettings(**{k: v for k, v in given.items() if v is not None})]
    summary = []
    for settings in batch:
        res = run(settings, progress=False if a.quiet else None)
        summary.append(res)
    _print_summary(summary)
    return 0


def _themes_arg(values: list[str]) -> dict[str, list[str]]:
    themes = {}
    for value in values:
        name, _, words = value.partition("=")
        if not name.strip() or not words.strip():
            from .errors import E

            raise ZhiliError(E.E043, theme=value, missing="(write --theme NAME=WORD,WORD)")
        themes[name.strip()] = [w.strip() for w in words.replace("，", ",").split(",") if w.strip()]
    return themes


def _topics_arg(value: str | None) -> int | str | None:
    if value is None or value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        from .errors import E

        raise ZhiliError(E.E040, k=value) from None


def _print_summary(results: list) -> None:
    log.info("")
    log.info("%-28s %8s %8s %8s  %s", "results", "docs", "skipped", "units", "tables")
    for res in results:
        c = res.manifest["counts"]
        k = f", K={res.model.n_topics_}" if res.model is not None else ""
        log.info("%-28s %8d %8d %8d  %d tables%s", str(res.out), c["analysed"], c["skipped"], c["units"],
                 len(res.tables), k)
        if c["skipped"]:
            log.info("  skipped documents and reasons: %s", res.out / "run.log")
        if "report" in res.tables:
            log.info("  report: %s", res.tables["report"].resolve())


def _cmd_report(a: argparse.Namespace) -> int:
    from .report import write_report

    log.info("report: %s", write_report(a.results))
    return 0


def _cmd_ingest(a: argparse.Namespace) -> int:
    from .corpus import corpus
    from .dtm import write_table

    c = corpus(*a.sources, **_corpus_kwargs(a), unit=a.unit)
    out = Path(a.out) / "tables"
    write_table(c.document_table(), out / "documents.csv")
    write_table(c.docs, out / "units.parquet")
    for w in c.warnings:
        log.warning(w)
    log.info("%r -> %s", c, out)
    return 0


def _cmd_segment(a: argparse.Namespace) -> int:
    from .segment import Segmenter, segment_file

    seg = Segmenter(backend=a.segmenter, lexicon=not a.no_lexicon, user_dicts=a.user_dict)
    segment_file(a.file, sys.stdout.buffer, seg, keep_all=a.keep_all)
    return 0


def _cmd_phrases(a: argparse.Namespace) -> int:
    from .corpus import corpus
    from .dtm import write_table
    from .lexicon import stopwords
    from .phrases import find_phrases, to_user_dict
    from .tokens import TokenFilter, tokens

    c = corpus(*a.sources, **_corpus_kwargs(a))
    toks = tokens(c, segmenter=a.segmenter, lexicon=not a.no_lexicon, user_dicts=a.user_dict,
                  filter=TokenFilter(stopwords="none", min_chars=1, synonyms=False))
    table = find_phrases(toks, min_count=a.min_count, top=a.top, stopwords=stopwords("general"))
    if a.out:
        write_table(table, a.out)
    else:
        sys.stdout.write(table.to_string(index=False) + "\n")
    if a.user_dict_out:
        to_user_dict(table, a.user_dict_out)
    return 0


def _cmd_kwic(a: argparse.Namespace) -> int:
    from .corpus import corpus
    from .dtm import write_table
    from .kwic import kwic, kwic_pattern

    kwic_pattern(a.pattern, a.regex, a.window)  # a bad --regex or --window fails before the corpus is read
    hits = kwic(corpus(*a.sources, **_corpus_kwargs(a)), a.pattern, window=a.window, regex=a.regex)
    if a.out:
        write_table(hits, a.out)
    else:
        for r in hits.itertuples():
            sys.stdout.write(f"{r.doc_id}\t{r.left:>{a.window}}【{r.keyword}】{r.right}\n")
    return 0


def _log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a skipped group, a partial seed-word miss) as one clean line each."""
    log.warning("warning: %s", message)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False
    warnings.showwarning = _log_warning
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ZhiliError as exc:
        sys.stderr.write(f"zhili: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("zhili: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
