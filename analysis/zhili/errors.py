"""All of zhili's error messages, each with a code and a fix.

Every user-facing failure raises :class:`ZhiliError` with a code from :class:`E`,
so the CLI prints one clean line and notebooks show the same text.

>>> from zhili.errors import E, ZhiliError
>>> str(ZhiliError(E.E012, var="city", available="doc_id, year"))
"[E012] by= names docvar 'city', which the documents do not have; available: doc_id, year."
"""

from __future__ import annotations


class E:
    """Message templates. Codes are stable: never renumber, only append."""

    # input: paths, files, encodings
    E001 = "Source '{path}' does not exist. Check the path, or run `zhili run` with no source to analyse the seed corpus."
    E002 = "Cannot decode '{path}': {detail}. Re-save it as UTF-8, or pass --encoding."
    E003 = "'{path}' is empty (no text after reading). Remove it or fill it."
    E004 = "'{path}' looks binary, not text ({detail}). Convert it to .txt/.docx/.pdf or remove it."
    E005 = "Unsupported file type '{suffix}' for '{path}'. Supported: {supported}."
    E006 = "Cannot read '{path}': {detail}."
    E019 = "'{path}' is hidden (its name starts with '.'), so it is not read. Rename it without the '.' to include it."
    E007 = "Table '{path}' has no text column '{column}'; columns: {available}. Pass --text-col NAME."
    E008 = "Table '{path}' has no id column '{column}'; columns: {available}. Pass --id-col NAME, or omit it to number rows."
    E009 = "Duplicate document id '{doc_id}' ({first} and {second}). Make ids unique, e.g. prefix them with the source."
    E010 = "Sidecar '{path}' row {row}: key '{key}' matches no document. Fix the file name/id in the sidecar, or remove the row."
    E011 = "Sidecar '{path}' has no key column; it needs one of: {expected}. Columns: {available}."
    E012 = "by= names docvar '{var}', which the documents do not have; available: {available}."
    E013 = "--name-pattern '{pattern}' is invalid: {detail}. Use fields in braces, e.g. \"{{city}}_{{year}}\"."
    E014 = "Unknown unit '{unit}'. Use one of: document, paragraph, sentence."
    E015 = "Row {row} of '{path}': {detail}."
    E016 = "No documents to analyse: all {n} inputs were skipped (see the log). Fix the inputs listed above."
    E018 = ("No documents to analyse: the sources ({sources}) hold no data rows or text files. Check the paths, and that each "
            "table has rows under its header.")
    E017 = "Docvar '{var}' has a value that is not a year: '{value}' (document '{doc_id}'). Use 2019, 2019年 or 二〇一九年."
    # dictionaries and lexicons
    E020 = "Dictionary '{path}' line {line}: {detail}. Format: one entry per line, `word [freq] [pos]`, UTF-8."
    E021 = "Unknown segmenter '{name}'. Use 'auto', 'native', 'rjieba' or 'jieba'."
    E022 = "Unknown filter option '{name}'. Available: {available}."
    E023 = "Synonym file '{path}' line {line}: {detail}. Format: `canonical<TAB>variant1 variant2 ...`."
    E024 = "Unknown {what} '{value}'. Use one of: {available}."
    # document-term matrix
    E030 = "The vocabulary is empty after trimming (min_df={min_df}, max_df={max_df}, max_features={max_features}). Lower min_df or raise max_df."
    E031 = "Unknown weighting '{scheme}'. Use one of: count, prop, tfidf."
    E032 = "Unknown output format '{fmt}' for '{path}'. Use .csv, .parquet or .xlsx."
    # topics
    E040 = "Number of topics must be an integer >= 2 or 'auto'; got {k}."
    E041 = "Only {n_docs} units for {k} topics (a topic needs at least two; n_samples={n_docs}). Use fewer topics, or a smaller unit (--unit paragraph)."
    E042 = "Unknown topic method '{method}'. Use one of: {available}."
    E043 = "Seed words not in the vocabulary for theme '{theme}': {missing}. Check spelling or lower min_df; every theme needs at least one seed word in the vocabulary."
    E044 = "Model file '{path}' is not a zhili topic model ({detail})."
    E045 = "This model was fitted on a different vocabulary; transform() needs a DTM built with model.vocabulary_."
    E046 = "topic_names needs {k} names, got {n}."
    E047 = "Topic models need a count DTM; this one is weighted by '{weighting}'. Fit on the DTM before dtm_weight()."
    E048 = "The corpus has {n_corpus} units but the model has {n_model}; pass the corpus (same unit, same order) the DTM was built from."
    E049 = "Unknown term ranking '{by}'. Use one of: prob, frex, lift, relevance."
    E056 = "This TopicModel is not fitted yet; call .fit(dtm) first (or TopicModel.load(path))."
    # comparisons
    E050 = "Docvar '{var}' is empty for {n_missing} of {n} documents. Fill it (sidecar or --name-pattern) or group by another variable."
    E051 = "Dictionary '{path}' {where}: {detail}. See corpus/dictionaries/README.md for the format."
    E053 = "docvars has {n_rows} rows but there are {n_docs} documents. Give one docvars row per document (same order), or add a 'doc_id' column."
    E052 = "Keyness target '{target}' is not a value of '{var}'; values: {available}."
    E054 = "before_after needs documents on both sides of cut={cut} in '{var}'; its years run {first}-{last}. Choose a cut inside that range."
    E055 = "Co-word window '{window}' needs {window} units, but these units are '{unit}'. Build the tokens from corpus.reshape('{window}'), or use window='document'. Windows: document, paragraph, sentence."
    # results, config, report
    E060 = "'{path}' is not a zhili results folder ({detail}). Run `zhili run ... --out {path}` first."
    E061 = "Config '{path}': unknown key '{key}'. Known keys: {known}."
    E062 = "Config '{path}' is invalid: {detail}."
    E063 = "Cannot load font '{path}': {detail}. Install the package's dependencies again (pip install -e analysis)."
    E064 = "Results folder '{path}' was written by zhili {found}; this is zhili {current}. Re-run the analysis."
    E065 = ("The 'native' segmenter was not compiled when zhili was installed (it needs a C compiler), or was "
            "compiled from an older zhili. "
            "Install one (gcc, or Visual C++ Build Tools on Windows) and reinstall zhili, or use --segmenter rjieba.")
    # ingest: document variables, column names, rows inside files (E100-E119, W100-W119)
    E100 = "Workbook '{path}' has no sheet {sheet}; its sheets: {available}. Pass --sheet with one of them, or omit it to read every sheet."
    E101 = "Sidecar '{path}' has {n} rows for document '{doc_id}' (rows {rows}, keys {keys}). Keep one row per document."
    # web-text cleaning (zhili.webtext); W160 = a year taken from a meta line's publication date
    E160 = ("'{path}' has no text left after web-text cleaning (it was all markup, navigation or meta lines). "
            "Check the file, or keep it with clean_web=False.")
    # formulations, plots, report, segment command, kwic, tables (helper "fast": E170-E189, W170-W189)
    E170 = "Cannot segment '{path}': {detail}. Give a UTF-8 text file (one text per line), or - for standard input."
    E171 = "Invalid --regex '{pattern}': {detail}. Escape special characters, or drop --regex to search the literal term."
    E172 = "--window must be a whole number >= 0; got {window}."
    E173 = "User dictionary '{path}' is not a readable file ({detail}). Give a jieba-format text file: `word [freq] [pos]` per line."
    # Dask engine: --engine dask, --scheduler (helper "dask": E180-E189, W180-W189)
    E180 = ("--engine dask needs Dask's distributed scheduler, which is not installed ({detail}). "
            "Install it with: pip install \"zhili[dask]\" (or run with --engine local).")
    E181 = ("Cannot reach the Dask scheduler at '{address}' within {timeout} s ({detail}). Check the address "
            "(e.g. tcp://host:8786) and that `dask scheduler` runs there, or drop --scheduler to start a local cluster.")
    E182 = ("--scheduler '{address}' is given but the engine is '{engine}'. Add --engine dask, or drop --scheduler.")
    E183 = ("A Dask worker failed on partition {partition} of {n}: {detail}. Every worker needs zhili {version} "
            "installed (pip install \"zhili[dask]\"), its dictionaries at the same paths, and enough memory; a "
            "worker that was killed or lost its connection takes its partition with it: run again (shards the workers "
            "cached are reused).")
    E184 = ("Dask worker {worker} would not give the same tokens as this machine: its {what} is {theirs}, here "
            "{ours}. Its zhili, jieba, dictionary, stopword or synonym files differ; install the same versions and "
            "put the same files at the same paths on every worker.")
    E185 = ("The Dask scheduler at '{address}' has no worker after {timeout} s. Start one on each node with "
            "`dask worker {address}` (zhili installed there), or drop --scheduler to start a local cluster.")
    # topics, comparisons, grouping, effects (topics helper: E140-E159, W140-W159)
    E140 = "by= must name a document variable or a list of them; got {by}. Example: by='city' or by=['city', 'year']."
    E142 = "Effects formula '{formula}': {detail}. Write terms joined by +, e.g. \"s(year) + province\" (s(x) or s(x, df=4) for a smooth trend)."
    E143 = ("Effects formula '{formula}' names '{var}', which is not a document variable; available: {available}. "
            "Add it (a sidecar table, --name-pattern or a table column) or change the formula.")
    E144 = "--effects needs a topic model: add --topics K (or --topics auto)."
    E145 = ("The 'dmr' topic method (covariates in the model) needs tomotopy, which is not installed ({detail}). "
            "Install it with: pip install \"zhili[dmr]\" (or use --topic-method nmf and post-hoc effects).")
    E146 = "Topic covariates: {detail}."
    E147 = ("idf_by= counts a term's document frequency over groups of units (NMF only): {detail}. Example: "
            "idf_by='doc_id' on paragraph units counts the source documents that use a term.")
    # run: settings, results folders, batch names (run helper, E120-E139)
    E120 = "Setting '{key}' must be {expected}; got {value!r}."
    E121 = ("Analysis name '{name}' in '{path}' must be a plain folder name inside the results folder "
            "(no '..', no absolute path, no path separator). Rename it, e.g. name = \"national\".")
    E122 = "Analysis name '{name}' appears twice in '{path}'; each [[analysis]] writes its own folder. Give each a unique name."
    E123 = "Cannot write the results folder '{path}': {detail}. Choose another --out."
    E124 = ("Not enough free space for the results in '{path}': {free_mb} MB free, about {need_mb} MB needed. "
            "Free some space or choose another --out.")
    E125 = "User dictionary '{path}' is a folder, not a file. Pass the dictionary file itself (--user-dict FILE)."
    E126 = "Results folder '{path}' does not match its manifest: {detail}. Run the analysis again to rewrite it."
    E127 = ("'{path}' is not empty and not a zhili results folder (it holds {example}); a run replaces its results "
            "folder as a whole. Choose a new or empty --out.")
    E128 = "Cannot write the file '{path}': {detail}. Choose another --out."
    E129 = ("Stopword file '{path}' is a folder, not a file. Pass the file itself (--extra-stopwords FILE, one word "
            "per line) or a word.")
    E130 = ("The search pattern is empty{detail}; it would match between every two characters. Give a term, e.g. "
            "zhili kwic 网格化 reports/.")
    E131 = ("An empty path was given as {what}; it would mean the current folder. Give the folder or file to read "
            "(write . for the current folder).")
    E132 = ("[[analysis]] '{name}' in '{path}' sets out = {out!r}; an analysis writes into the folder of its name, "
            "inside the results folder. Remove its 'out' and use name = \"...\" (the results folder is a top-level "
            "out = \"...\" or --out; default zhili-results).")
    E133 = ("Cannot write zhili's temporary files in '{folder}': {detail}. The main job keeps the corpus' texts and "
            "counts there while it runs; set TMPDIR (Python: spill=FOLDER) to a folder with room for them.")
    E134 = ("The texts of this spilled corpus were in the temporary file '{path}', which is gone (it is removed when "
            "the process that read the corpus ends). Read the corpus again (zhili.corpus(...)); to keep a corpus "
            "beyond its process, read it with spill=False.")
    E135 = "zhili cache: {detail}. Example: zhili cache --clear --older-than 30."


class W:
    """Warning templates (problems zhili worked around; the run goes on), numbered like :class:`E`.
    Format one with :func:`warning_text`."""

    W100 = "Columns of {where} named like zhili's own are kept under new names: {pairs}. Refer to them by the new names (e.g. --by)."
    W101 = "{n} documents have a '{var}' that is not a year ({examples}); it is left empty, the value as written kept in '{raw}'. Use 2019, 2019年, 二〇一九年 or a date."
    W102 = "'{path}' lines {lines}: lone surrogate characters (such as \\udc00, half of a broken character) were replaced by U+FFFD."
    W147 = ("{n} of {total} units have no value of '{var}' (idf_by); each of them counts as a group of its own "
            "in the idf{note}.")
    W170 = "{n} of {total} documents have no year in '{var}'{examples}; their formulations have no first year."
    W171 = "{n} of {total} documents have no value of '{var}'; they count in no group of '{var}'."
    W130 = ("The {n} analysed documents left no term after the token filters (stopwords={stopwords}, "
            "min_chars={min_chars}, pos={pos}): the terms table and its plots are empty. Loosen --stopwords, "
            "--min-chars or --pos if the texts hold words.")
    W140 = "{n_out} of {n} documents have no {var}; left out of {what}."
    W141 = "{n_out} of {n} units have no term of the model (headings, or only stopwords); their topic shares are the prior alone, so they are left out of {what}."


def warning_text(template: str, /, **fields: object) -> str:
    """The message of warning ``template`` (a :class:`W` member) with its code in front.

    >>> warning_text(W.W171, n=2, total=5, var="city")
    "[W171] 2 of 5 documents have no value of 'city'; they count in no group of 'city'."
    """
    code = next(name for name, value in vars(W).items() if value is template)
    return f"[{code}] " + template.format(**fields)


class ZhiliError(Exception):
    """An error a user can fix; the message says how. ``ZhiliError(E.Exxx, ...)`` returns the
    subclass that also fits Python's hierarchy (a bad value is a ``ValueError``, a missing file a
    ``FileNotFoundError``; see :func:`error_class`).

    >>> ZhiliError(E.E014, unit="page").code
    'E014'
    >>> isinstance(ZhiliError(E.E001, path="x.txt"), FileNotFoundError)
    True
    """

    def __new__(cls, template: str = "", /, **fields: object):
        if cls is ZhiliError:
            cls = error_class(_code_of(template))
        return super().__new__(cls)

    def __reduce__(self):  # pickled across worker processes: rebuilt from the code, not the message
        return (_restore, (self.code, self.fields))

    def __init__(self, template: str, /, **fields: object) -> None:
        code = _code_of(template)
        self.code = code
        self.fields = fields
        message = f"[{code}] " + template.format(**fields)
        super().__init__(message)
        self.args = (message,)  # OSError subclasses take their args in __new__, not __init__


class ZhiliWarning(UserWarning):
    """A problem zhili worked around (e.g. a skipped document); the run goes on."""


# ---- run helper block: the catalogue fits Python's exception hierarchy ----

def _code_of(template: object) -> str:
    return next((name for name, value in vars(E).items() if value is template), "E000")


def _restore(code: str, fields: dict) -> ZhiliError:
    return ZhiliError(getattr(E, code), **fields) if hasattr(E, code) else ZhiliError("", **fields)


class ZhiliValueError(ZhiliError, ValueError):
    """A bad value, option, setting or file content."""


class ZhiliFileNotFoundError(ZhiliError, FileNotFoundError):
    """A path that does not exist."""


class ZhiliIsADirectoryError(ZhiliError, IsADirectoryError):
    """A folder where a file was expected."""


class ZhiliOSError(ZhiliError, OSError):
    """A file or folder that cannot be read or written."""


class ZhiliImportError(ZhiliError, ImportError):
    """A part of zhili that was not installed."""


#: Codes that are not bad values; every other code raises :class:`ZhiliValueError`.
ERROR_CLASSES: dict[str, type[ZhiliError]] = {
    "E001": ZhiliFileNotFoundError, "E006": ZhiliOSError, "E063": ZhiliOSError, "E065": ZhiliImportError,
    "E123": ZhiliOSError, "E124": ZhiliOSError, "E128": ZhiliOSError, "E125": ZhiliIsADirectoryError, "E129": ZhiliIsADirectoryError,
    "E145": ZhiliImportError,  # tomotopy for method='dmr'
    "E180": ZhiliImportError, "E181": ZhiliOSError,  # the Dask engine
    "E133": ZhiliOSError, "E134": ZhiliFileNotFoundError,  # a temporary folder that is full or cannot be written
}


def error_class(code: str) -> type[ZhiliError]:
    """The :class:`ZhiliError` subclass raised for ``code``.

    >>> error_class("E040").__name__, error_class("E001").__name__
    ('ZhiliValueError', 'ZhiliFileNotFoundError')
    """
    if code == "E000":
        return ZhiliError
    return ERROR_CLASSES.get(code, ZhiliValueError)
