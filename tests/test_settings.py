"""Settings declared once: CLI options, TOML keys and RunSettings fields map onto each other."""

import argparse
from dataclasses import fields

import pytest

from zhili.cli import build_parser, run_settings
from zhili.errors import ZhiliError
from zhili.pipeline import load_config
from zhili.settings import FIELDS, RunSettings, add_run_arguments, settings_to_argv, settings_to_toml

#: A non-default value for every setting (the test fails when a new field is not listed here).
CHANGED = {
    "sources": ["a.csv", "b/"], "out": "res", "unit": "paragraph", "text_col": "正文", "id_col": "编号",
    "name_pattern": "{city}_{year}", "sidecar": "meta.csv", "encoding": "gb18030", "sheet": ["2024"],
    "year_cols": ["date"], "clean_web": False, "bylines": False,
    "segmenter": "jieba", "user_dicts": ["u1.txt", "u2.txt"], "discover_phrases": True, "lexicon": False, "places": False,
    "stopwords": "policy", "extra_stopwords": ["的", "stop.txt"], "min_chars": 1, "pos": ["n", "vn"],
    "synonyms": False, "min_df": 3, "max_df": 0.5, "max_features": 500, "topics": 7, "topic_method": "lda",
    "themes": {"网格化": ["网格", "网格员"], "调解": ["矛盾纠纷"]}, "effects": "s(year) + city", "idf_by": "doc_id",
    "random_state": 7, "by": ["year", "city"],
    "dictionary": "dict.yaml", "exclude_places": False, "keyness_terms": 50, "n_jobs": -1, "cache": False,
    "report": False, "engine": "dask", "scheduler": "tcp://10.0.0.5:8786",
}


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    parser.add_argument("--config")
    return parser.parse_args(argv)


def test_every_setting_is_listed_and_has_a_flag():
    assert set(CHANGED) == set(FIELDS)
    defaults = RunSettings()
    for name, value in CHANGED.items():
        assert value != getattr(defaults, name), name
        assert name == "sources" or FIELDS[name].metadata["flags"], f"{name} has no CLI flag"
        assert FIELDS[name].metadata["help"], name


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_cli_round_trip_of_each_setting(name):
    s = RunSettings(**{name: CHANGED[name]})
    argv = settings_to_argv(s)
    assert argv, name
    assert run_settings(_parse(argv)) == [s]


def test_cli_round_trip_of_all_settings_at_once():
    s = RunSettings(**CHANGED)
    assert run_settings(_parse(settings_to_argv(s))) == [s]


def test_toml_round_trip_of_all_settings(tmp_path):
    s = RunSettings(**{**CHANGED, "sources": [str(tmp_path / "a.csv")], "out": str(tmp_path / "res"),
                       "sidecar": str(tmp_path / "m.csv"), "dictionary": str(tmp_path / "d.yaml"),
                       "user_dicts": [str(tmp_path / "u.txt")]})
    cfg = tmp_path / "run.toml"
    cfg.write_text(settings_to_toml(s), encoding="utf-8")
    assert load_config(cfg) == [s]


def test_a_given_option_equal_to_the_default_overrides_the_toml_file(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('unit = "paragraph"\nrandom_state = 7\n', encoding="utf-8")
    args = build_parser().parse_args(["run", "--config", str(cfg), "--unit", "document", "--seed", "42"])
    [s] = run_settings(args)
    assert (s.unit, s.random_state) == ("document", 42)
    [s] = run_settings(build_parser().parse_args(["run", "--config", str(cfg)]))
    assert (s.unit, s.random_state) == ("paragraph", 7)


def test_every_switch_can_be_given_its_default_over_the_toml_file(tmp_path):
    """`--no-cache` had no `--cache`: a TOML `cache = false` could not be undone on the command line."""
    from zhili.settings import opposite_flag

    switches = [name for name, f in FIELDS.items() if f.metadata["kind"] == "bool"]
    cfg = tmp_path / "run.toml"
    cfg.write_text(settings_to_toml(RunSettings(**{n: CHANGED[n] for n in switches})), encoding="utf-8")
    flags = [opposite_flag(n) for n in switches]
    assert "--cache" in flags and "--no-discover-phrases" in flags and len(set(flags)) == len(flags)
    [s] = run_settings(build_parser().parse_args(["run", "--config", str(cfg), *flags]))
    assert all(getattr(s, n) == getattr(RunSettings(), n) for n in switches)
    [s] = run_settings(build_parser().parse_args(["run", "--config", str(cfg)]))
    assert all(getattr(s, n) == CHANGED[n] for n in switches)


def test_seed_is_an_alias_of_random_state():
    assert run_settings(_parse(["--seed", "3"]))[0].random_state == 3
    assert run_settings(_parse(["--random-state", "3"]))[0].random_state == 3


@pytest.mark.parametrize("line, key", [("by = 5", "by"), ('min_df = "5"', "min_df"), ("topics = true", "topics"),
                                       ("cache = 1", "cache"), ("random_state = 1.5", "random_state"),
                                       ('unit = "chapter"', "unit"), ("sources = [1, 2]", "sources"),
                                       ("min_df = 2.5", "min_df"), ("max_df = 0", "max_df"),
                                       ("themes = 3", "themes"), ('max_features = "all"', "max_features")])
def test_toml_values_of_the_wrong_type_are_coded_errors(tmp_path, line, key):
    cfg = tmp_path / "run.toml"
    cfg.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ZhiliError, match=r"\[E(120|040)\]") as exc:
        load_config(cfg)
    assert isinstance(exc.value, ValueError) and key in str(exc.value) or exc.value.code == "E040"


def test_a_single_string_is_one_source_not_its_characters(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('sources = "a.csv"\nby = "year"\n', encoding="utf-8")
    [s] = load_config(cfg)
    assert s.sources == [str(tmp_path / "a.csv")] and s.by == ["year"]


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "abc"])
def test_bad_min_df_on_the_command_line_is_a_coded_error(value):
    with pytest.raises(ZhiliError, match=r"\[E120\].*min_df"):
        run_settings(_parse(["--min-df", value]))


def test_min_df_share_and_count():
    assert run_settings(_parse(["--min-df", "0.01"]))[0].min_df == 0.01
    assert run_settings(_parse(["--min-df", "5"]))[0].min_df == 5
    assert run_settings(_parse(["--min-df", "5.0"]))[0].min_df == 5


def test_old_toml_names_are_deprecated_aliases(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('seed = 9\ngroup_by = ["year"]\n[seed_topics]\n\"网格化\" = [\"网格\"]\n', encoding="utf-8")
    with pytest.warns(DeprecationWarning, match="random_state"):
        [s] = load_config(cfg)
    assert (s.random_state, s.by, s.themes) == (9, ["year"], {"网格化": ["网格"]})


def test_max_features_none():
    assert run_settings(_parse(["--max-features", "none"]))[0].max_features is None


def test_user_dict_folder_is_a_coded_error(tmp_path):
    with pytest.raises(ZhiliError, match="E125") as exc:
        RunSettings(user_dicts=[str(tmp_path)])
    assert isinstance(exc.value, IsADirectoryError)


def test_fields_are_declared_in_one_place():
    for f in fields(RunSettings):
        assert {"kind", "help", "flags"} <= set(f.metadata), f.name


def test_out_with_a_batch_is_the_folder_of_its_analyses(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[[analysis]]\nname = "a"\n[[analysis]]\nname = "b"\n', encoding="utf-8")
    batch = run_settings(build_parser().parse_args(["run", "--config", str(cfg), "--out", str(tmp_path / "r")]))
    assert [s.out for s in batch] == [str(tmp_path / "r" / "a"), str(tmp_path / "r" / "b")]


def test_n_jobs_zero_is_refused_and_negative_counts_are_kept_regression():
    """--n-jobs 0 was accepted silently (n_workers made it 1)."""
    with pytest.raises(ZhiliError, match=r"\[E120\] Setting 'n_jobs'"):
        RunSettings(n_jobs=0)
    assert [RunSettings(n_jobs=n).n_jobs for n in (1, 4, -1, -2)] == [1, 4, -1, -2]


def test_extra_stopwords_folder_is_a_coded_error_regression(tmp_path):
    """--extra-stopwords FOLDER was taken as a stopword 'word' silently."""
    with pytest.raises(ZhiliError, match=r"\[E129\]") as exc:
        RunSettings(extra_stopwords=["的", str(tmp_path)])
    assert isinstance(exc.value, IsADirectoryError)
    assert RunSettings(extra_stopwords=["的"]).extra_stopwords == ["的"]


@pytest.mark.parametrize("key, value", [("sources", [""]), ("user_dicts", [" "]), ("sidecar", ""),
                                        ("dictionary", "")])
def test_empty_path_is_a_coded_error_regression(key, value):
    with pytest.raises(ZhiliError, match=r"\[E131\]"):
        RunSettings(**{key: value})
