"""The ``zhili`` command: each subcommand parses arguments and calls one library function.

A :class:`~zhili.errors.ZhiliError` becomes one line on stderr and exit code 1; bad
arguments exit with 2 (argparse); success is 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
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
    "cache": "examples:\n  zhili cache                      # what the cache holds\n"
             "  zhili cache --clear --older-than 30   # remove entries written over 30 days ago",
}


def _declared(p: argparse.ArgumentParser, key: str, *flags: str, **overrides) -> None:
    """One option of a non-run command, with the help, choices and default declared on RunSettings."""
    from .settings import FIELDS

    f = FIELDS[key]
    meta = f.metadata
    opts = {"help": meta["help"], "dest": key, **overrides}
    if meta["kind"] == "bool":
        opts.setdefault("default", f.default)
        opts.setdefault("const", meta["const"])
        p.add_argument(*(flags or meta["flags"]), action="store_const", **opts)
        return
    if meta["choices"]:
        opts.setdefault("choices", meta["choices"])
    if meta["kind"] in ("list", "paths"):
        opts.setdefault("action", "append")
        opts.setdefault("default", [])
    else:
        opts.setdefault("default", f.default)
    p.add_argument(*(flags or meta["flags"]), metavar=meta["metavar"], **opts)


def _source_options(p: argparse.ArgumentParser) -> None:
    from .settings import FIELDS

    p.add_argument("sources", nargs="*", metavar="SOURCE", help=FIELDS["sources"].metadata["help"])
    for key in ("text_col", "id_col", "name_pattern", "sidecar", "encoding", "bylines"):
        _declared(p, key)


def _segment_options(p: argparse.ArgumentParser) -> None:
    _declared(p, "segmenter")
    _declared(p, "user_dicts", dest="user_dict")
    _declared(p, "lexicon", dest="no_lexicon", const=True, default=False)


def build_parser() -> argparse.ArgumentParser:
    from .manifest import zhili_version

    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="zhili", description="Segment and topic-model Chinese policy texts.",
                                     epilog=EPILOGS["zhili"], formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"zhili {zhili_version()}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail")
    # the same two flags after the command (zhili run -q ...); SUPPRESS keeps a value given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], formatter_class=fmt, epilog=EPILOGS[name], **kwargs)

    for name, help_text in (("run", "the main job: ingest, segment, count, formulations (and topics, comparisons, report)"),
                            ("topics", "fit a topic model (like run with --topics auto)"),
                            ("compare", "compare groups: keyness and topic prevalence (like run with --by)")):
        p = command(name, help=help_text)
        _run_options(p, command=name)
        p.set_defaults(func=_cmd_run)

    p = command("report", help="write report.html again from a results folder")
    p.add_argument("results", help="a folder written by zhili run")
    p.set_defaults(func=_cmd_report)

    p = command("ingest", help="read sources and write the documents table")
    _source_options(p)
    _declared(p, "unit")
    _declared(p, "out", help="folder for tables/documents.csv and tables/units.parquet (default: zhili-results)")
    p.set_defaults(func=_cmd_ingest)

    p = command("segment", help="segment UTF-8 lines; one line of space-separated tokens per line")
    p.add_argument("file", nargs="?", default="-", help="input file, or - for standard input (default)")
    p.add_argument("--keep-all", action="store_true",
                   help="keep every token (punctuation and spaces too): each whitespace character is a token "
                        "of its own, so zhili.segment.rejoin(line) gives the input line back")
    _segment_options(p)
    p.set_defaults(func=_cmd_segment)

    p = command("phrases", help="propose multi-word terms (PMI + boundary entropy)")
    _source_options(p)
    _segment_options(p)
    p.add_argument("--top", type=int, default=100)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--out", help="write the table (.csv/.parquet/.xlsx)")
    p.add_argument("--user-dict-out", help="also write the phrases as a jieba user dictionary")
    p.set_defaults(func=_cmd_phrases)

    p = command("kwic", help="keyword in context, in the original script")
    p.add_argument("pattern", help="term (Simplified or Traditional), or a regex with --regex")
    _source_options(p)
    p.add_argument("--window", type=int, default=20)
    p.add_argument("--regex", action="store_true")
    p.add_argument("--out", help="write the table (.csv/.parquet/.xlsx) instead of printing")
    p.set_defaults(func=_cmd_kwic)

    p = command("cache", help="show zhili's on-disk cache, or clear it (entries are only recomputed)")
    p.add_argument("--clear", action="store_true", help="remove the cache's entries (run no zhili meanwhile)")
    p.add_argument("--older-than", type=float, metavar="DAYS",
                   help="with --clear: only entries written more than DAYS days ago")
    p.set_defaults(func=_cmd_cache)
    return parser


def _run_options(p: argparse.ArgumentParser, command: str) -> None:
    """Every RunSettings field as an option (generated from its declaration), plus --config."""
    from .settings import add_run_arguments

    add_run_arguments(p, required=("by",) if command == "compare" else ())
    p.add_argument("--config", help="TOML file describing one or more analyses (see README); options given here "
                                    "override it, even when they equal the default")


def _corpus_kwargs(a: argparse.Namespace) -> dict:
    return {"text_col": a.text_col, "id_col": a.id_col, "name_pattern": a.name_pattern, "sidecar": a.sidecar,
            "encoding": a.encoding, "bylines": a.bylines}


def run_settings(a: argparse.Namespace) -> list:
    """The batch of :class:`~zhili.pipeline.RunSettings` an argument namespace asks for: the options
    given on the command line over the TOML file's analyses (or over the defaults)."""
    from .pipeline import RunSettings, load_config
    from .settings import given_settings

    given = given_settings(a)
    if getattr(a, "command", None) == "topics":
        given.setdefault("topics", "auto")
    if a.config:
        batch = load_config(a.config)
        root = given.pop("out", None)  # with a batch, --out is the folder the analyses' folders go in
        return [RunSettings(**{**vars(s), **given, **({"out": str(Path(root) / Path(s.out).name)} if root else {})})
                for s in batch]
    return [RunSettings(**given)]


def _cmd_run(a: argparse.Namespace) -> int:
    from .pipeline import run

    summary = []
    for settings in run_settings(a):
        res = run(settings, progress=False if a.quiet else None)
        summary.append(res)
    _print_summary(summary)
    return 0


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
    from .pipeline import verify_results
    from .report import write_report

    verify_results(a.results)
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


def _cmd_cache(a: argparse.Namespace) -> int:
    from .cache import cache_info, clear_cache
    from .errors import E
    from .segment import cache_root

    if a.older_than is not None and not a.clear:
        raise ZhiliError(E.E135, detail="--older-than DAYS goes with --clear")
    if a.clear:
        removed = clear_cache(a.older_than)
        log.info("removed %d files, %.1f MB, from %s", removed["files"].sum(), removed["bytes"].sum() / 1e6, cache_root())
    info = cache_info()
    sys.stdout.write(f"{cache_root()}: {info['files'].sum()} files, {info['bytes'].sum() / 1e6:.1f} MB\n")
    for r in info.itertuples():
        sys.stdout.write(f"  {r.part:<13} {r.files:>8} files {r.bytes / 1e6:>10.1f} MB  {r.what}\n")
    return 0


def _log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a skipped group, a partial seed-word miss) as one clean line each."""
    log.warning("warning: %s", message)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``zhili`` command. Logging and warning display are set up here and put back on return,
    so calling ``main`` twice in one process (tests, notebooks) adds nothing twice."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = log.handlers[:], log.level, log.propagate
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _log_warning
            if args.command is None:
                parser.print_help()
                return 2
            previous = _terminate_like_interrupt()
            try:
                _check_user_dicts(args)
                _check_paths(args)
                return args.func(args)
            except ZhiliError as exc:
                sys.stderr.write(f"zhili: error: {exc}\n")
                return 1
            except KeyboardInterrupt:
                sys.stderr.write("zhili: interrupted\n")
                return 130
            except BrokenPipeError:  # the reader went away (zhili segment ... | head): stop quietly, as cat does
                _silence_stdout()
                return 141
            except OSError as exc:  # one no step foresaw (the output's disk full …): one line; -v adds the traceback
                if getattr(args, "verbose", False):
                    log.exception("traceback:")
                sys.stderr.write(f"zhili: error: {exc}\n")
                return 1
            finally:
                if previous is not None:
                    signal.signal(signal.SIGTERM, previous)
    finally:
        log.handlers[:], level, log.propagate = saved
        log.setLevel(level)


def _silence_stdout() -> None:
    """Point standard output at the null device, so flushing it at exit raises no second
    BrokenPipeError (the recipe of Python's ``signal`` documentation)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a notebook, captured output)
        pass


def _terminate_like_interrupt():
    """SIGTERM (``kill``, a scheduler's time limit) ends the command like Ctrl-C, so its temporary
    files (the spilled texts, zhili-texts-*) are removed; by default Python dies at once and leaves them.
    Returns the previous handler (None when not in the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _check_paths(args: argparse.Namespace) -> None:
    """Before any work: no empty source path (E131), and every output of kwic, phrases and ingest
    writable where it is asked for (E128 a file, E123 a folder; zhili run checks its own, E123)."""
    from .errors import E
    from .files import check_output_file, check_output_folder

    if args.command in ("run", "topics", "compare"):
        return  # RunSettings and pipeline.run check these (E131, E123)
    for src in getattr(args, "sources", None) or []:
        if not str(src).strip():
            raise ZhiliError(E.E131, what="a source")
    if getattr(args, "sidecar", None) is not None and not str(args.sidecar).strip():
        raise ZhiliError(E.E131, what="--sidecar")
    if args.command == "ingest":
        check_output_folder(args.out)
    for key in ("out", "user_dict_out"):
        path = getattr(args, key, None) if args.command in ("kwic", "phrases") else None
        if path is None:
            continue
        if key == "out" and Path(path).suffix.lower() not in (".csv", ".parquet", ".xlsx"):
            raise ZhiliError(E.E032, fmt=Path(path).suffix or "(none)", path=path)
        check_output_file(path)


def _check_user_dicts(args: argparse.Namespace) -> None:
    from .errors import E

    for path in [*(getattr(args, "user_dict", None) or []), *(getattr(args, "user_dicts", None) or [])]:
        if Path(path).is_dir():
            raise ZhiliError(E.E125, path=path)


if __name__ == "__main__":
    sys.exit(main())
