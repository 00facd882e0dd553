"""All of zhili's error messages, each with a code and a fix.

Every user-facing failure raises :class:`ZhiliError` with a code from :class:`E`,
so the CLI prints one clean line and notebooks show the same text.

>>> from zhili.errors import E, ZhiliError
>>> str(ZhiliError(E.E012, var="city", available="doc_id, year"))
"[E012] group_by needs docvar 'city'; available: doc_id, year."
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
    E007 = "Table '{path}' has no text column '{column}'; columns: {available}. Pass --text-col NAME."
    E008 = "Table '{path}' has no id column '{column}'; columns: {available}. Pass --id-col NAME, or omit it to number rows."
    E009 = "Duplicate document id '{doc_id}' ({first} and {second}). Make ids unique, e.g. prefix them with the source."
    E010 = "Sidecar '{path}' row {row}: key '{key}' matches no document. Fix the file name/id in the sidecar, or remove the row."
    E011 = "Sidecar '{path}' has no key column; it needs one of: {expected}. Columns: {available}."
    E012 = "group_by needs docvar '{var}'; available: {available}."
    E013 = "--name-pattern '{pattern}' is invalid: {detail}. Use fields in braces, e.g. \"{{city}}_{{year}}\"."
    E014 = "Unknown unit '{unit}'. Use one of: document, paragraph, sentence."
    E015 = "Row {row} of '{path}': {detail}."
    E016 = "No documents to analyse: all {n} inputs were skipped (see the log). Fix the inputs listed above."
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
    E041 = "Only {n_docs} units for {k} topics (a topic needs at least two). Use fewer topics, or a smaller unit (--unit paragraph)."
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
    E065 = ("The 'native' segmenter was not compiled when zhili was installed (it needs a C compiler). "
            "Install one (gcc, or Visual C++ Build Tools on Windows) and reinstall zhili, or use --segmenter rjieba.")
    # topics, comparisons, grouping, effects (topics helper: E140-E159, W140-W159)
    E140 = "by= must name a document variable or a list of them; got {by}. Example: by='city' or by=['city', 'year']."
    E142 = "Effects formula '{formula}': {detail}. Write terms joined by +, e.g. \"s(year) + province\" (s(x) or s(x, df=4) for a smooth trend)."
    W140 = "[W140] {n_out} of {n} documents have no {var}; left out of {what}."


class ZhiliError(Exception):
    """An error a user can fix; the message says how.

    >>> ZhiliError(E.E014, unit="page").code
    'E014'
    """

    def __init__(self, template: str, /, **fields: object) -> None:
        code = next((name for name, value in vars(E).items() if value is template), "E000")
        self.code = code
        self.fields = fields
        super().__init__(f"[{code}] " + template.format(**fields))


class ZhiliWarning(UserWarning):
    """A problem zhili worked around (e.g. a skipped document); the run goes on."""
