import os
import subprocess
import sys

import pytest

from zhili.cli import main


def zhili(*args, input=None):
    return subprocess.run([sys.executable, "-m", "zhili.cli", *args], input=input, capture_output=True, text=True)


def test_segment_keep_all_rejoins_to_the_input():
    lines = ["貫徹落實習近平總書記指示要求，推進市域社會治理現代化。", "一张网、五统一"]
    out = zhili("segment", "--keep-all", input="\n".join(lines) + "\n")
    assert out.returncode == 0
    got = out.stdout.splitlines()
    assert [line.replace(" ", "") for line in got] == lines
    assert "習近平" in got[0].split()


def test_segment_default_drops_punctuation():
    out = zhili("segment", input="网格化，管理。\n")
    assert out.stdout.split() == ["网格化", "管理"]


def test_missing_source_is_one_line_and_nonzero(tmp_path):
    out = zhili("run", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert out.returncode == 1
    assert out.stderr.strip().count("\n") == 0 and "[E001]" in out.stderr and "Traceback" not in out.stderr


def test_bad_option_exits_2():
    assert zhili("run", "--unit", "chapter").returncode == 2


@pytest.mark.parametrize("command", ["run", "ingest", "segment", "phrases", "kwic"])
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0 and "example" in capsys.readouterr().out


def test_kwic_and_ingest_in_process(tmp_path, capsys):
    assert main(["kwic", "网格化", "--window", "4"]) == 0
    assert "【網格化】" in capsys.readouterr().out
    assert main(["ingest", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "tables" / "documents.csv").exists()


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("zhili ")


def test_version_is_read_in_one_place_that_survives_a_source_tree(capsys, monkeypatch):
    """`zhili --version` and the manifest crashed where zhili is not installed (only __version__ did not)."""
    from importlib.metadata import PackageNotFoundError

    import zhili
    import zhili.manifest

    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(zhili.manifest, "version", not_installed)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == "zhili 0+unknown"
    assert zhili.manifest.new_manifest("zhili run", {})["zhili_version"] == zhili.__version__ == "0+unknown"


def test_config_batch_writes_each_folder_and_a_summary(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('report = false\ncache = false\n[[analysis]]\nname = "docs"\n[[analysis]]\nname = "paras"\n'
                   'unit = "paragraph"\ntopics = 3\n', encoding="utf-8")
    out = zhili("run", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "zhili-results" / "docs" / "tables" / "terms.csv").exists()
    assert (tmp_path / "zhili-results" / "paras" / "tables" / "topics.csv").exists()
    assert "K=3" in out.stderr and out.stderr.count("zhili-results") >= 2


def test_unknown_config_key_is_a_clean_error(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text("topcs = 5\n", encoding="utf-8")
    out = zhili("run", "--config", str(cfg))
    assert out.returncode == 1 and "[E061]" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("args, code", [(["run", "--topics", "1", "--unit", "paragraph"], "E040"),
                                        (["run", "--topics", "five"], "E040"),
                                        (["run", "--topics", "3"], "E041"),
                                        (["compare", "--by", "city_tier"], "E012")])
def test_bad_topic_and_group_options(tmp_path, args, code):
    out = zhili(*args, "--out", str(tmp_path / "o"), "--no-cache", "--no-report")
    assert out.returncode == 1 and f"[{code}]" in out.stderr and "Traceback" not in out.stderr


def test_report_command_on_a_non_results_folder(tmp_path):
    out = zhili("report", str(tmp_path))
    assert out.returncode == 1 and "[E060]" in out.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_prints_nothing_on_success(tmp_path, where):
    args = ["-q", "run"] if where == "before" else ["run", "-q"]
    out = zhili(*args, "--out", str(tmp_path), "--no-cache", "--no-report")
    assert out.returncode == 0 and out.stderr == ""


def test_min_df_inf_is_a_coded_error(tmp_path):
    out = zhili("run", "--min-df", "inf", "--out", str(tmp_path / "o"))
    assert out.returncode == 1 and "[E120]" in out.stderr and "Traceback" not in out.stderr


def test_user_dict_folder_is_a_coded_error(tmp_path):
    out = zhili("segment", "--user-dict", str(tmp_path), input="网格化\n")
    assert out.returncode == 1 and "[E125]" in out.stderr and "Traceback" not in out.stderr


def test_main_leaves_logging_and_warnings_as_it_found_them(tmp_path):
    import logging
    import warnings

    log = logging.getLogger("zhili")
    before = (log.handlers[:], log.level, log.propagate, warnings.showwarning)
    for _ in range(2):
        assert main(["-q", "ingest", "--out", str(tmp_path)]) == 0
    assert (log.handlers[:], log.level, log.propagate, warnings.showwarning) == before


def test_report_refuses_a_folder_that_does_not_match_its_manifest(tmp_path):
    assert main(["-q", "run", "--out", str(tmp_path), "--no-cache", "--no-report"]) == 0
    (tmp_path / "tables" / "terms.csv").write_text("term\n", encoding="utf-8")
    out = zhili("report", str(tmp_path))
    assert out.returncode == 1 and "[E126]" in out.stderr and "terms.csv" in out.stderr


def test_kwic_empty_pattern_and_empty_source_are_coded_errors_regression(tmp_path):
    """`zhili kwic ""` printed every character; `zhili kwic 网格 ""` read the current folder."""
    src = tmp_path / "k.jsonl"
    src.write_text('{"id": "a", "text": "推进网格化管理。"}\n', encoding="utf-8")
    for args, code in ((["kwic", "", str(src)], "[E130]"), (["kwic", "网格", ""], "[E131]"),
                       (["ingest", "", "--out", str(tmp_path / "o")], "[E131]"),
                       (["run", "", "--out", str(tmp_path / "o")], "[E131]")):
        out = zhili(*args)
        assert out.returncode == 1 and code in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
        assert out.stdout == ""


@pytest.mark.parametrize("command", ["kwic", "phrases-out", "phrases-user-dict-out", "ingest"])
def test_out_under_a_file_is_a_coded_error_regression(tmp_path, command):
    """`kwic --out FILE/x.csv` raised FileExistsError, `ingest --out FILE/x` NotADirectoryError."""
    src = tmp_path / "k.jsonl"
    src.write_text('{"id": "a", "text": "推进网格化管理。"}\n', encoding="utf-8")
    args = {"kwic": ["kwic", "网格", str(src), "--out", str(src / "x.csv")],
            "phrases-out": ["phrases", str(src), "--out", str(src / "x.csv")],
            "phrases-user-dict-out": ["phrases", str(src), "--user-dict-out", str(src / "u.txt")],
            "ingest": ["ingest", str(src), "--out", str(src / "x")]}[command]
    out = zhili(*args)
    code = "[E123]" if command == "ingest" else "[E128]"
    assert out.returncode == 1 and code in out.stderr and "is a file, not a folder" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_kwic_out_that_is_a_folder_or_has_a_bad_suffix_is_refused_before_reading(tmp_path):
    (tmp_path / "d.csv").mkdir()
    out = zhili("kwic", "网格", str(tmp_path / "missing"), "--out", str(tmp_path / "d.csv"))
    assert out.returncode == 1 and "[E128]" in out.stderr  # before the missing source is read (E001)
    out = zhili("kwic", "网格", str(tmp_path / "missing"), "--out", str(tmp_path / "k.txt"))
    assert out.returncode == 1 and "[E032]" in out.stderr


def test_n_jobs_zero_and_extra_stopwords_folder_are_coded_errors_regression(tmp_path):
    out = zhili("run", "--n-jobs", "0", "--out", str(tmp_path / "o"))
    assert out.returncode == 1 and "[E120]" in out.stderr and "n_jobs" in out.stderr and "-1" in out.stderr
    out = zhili("run", "--extra-stopwords", str(tmp_path), "--out", str(tmp_path / "o"))
    assert out.returncode == 1 and "[E129]" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_sigterm_removes_the_spilled_texts(tmp_path):
    """Bug: `kill` (SIGTERM) of a running `zhili run` left its zhili-texts-* file in TMPDIR
    (Python dies without running exit handlers); Ctrl-C removed it."""
    import os
    import signal
    import time

    script = (
        "import time, zhili.cli as cli\n"
        "from zhili.textstore import TextStore\n"
        "def slow(args):\n"
        "    store = TextStore(); store.append('网格化'); store.flush(); print('ready', flush=True); time.sleep(60)\n"
        "cli._check_paths = slow\n"
        "raise SystemExit(cli.main(['ingest', '--out', 'x']))\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    assert list(tmp_path.glob("zhili-texts-*"))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    time.sleep(0.1)
    assert not list(tmp_path.glob("zhili-texts-*"))


@pytest.mark.parametrize("args, words", [
    (["--idf-by", "doc_id"], ["--topics K"]),
    (["--topics", "3", "--topic-method", "lda", "--idf-by", "doc_id"], ["--topic-method nmf"]),
    (["--unit", "paragraph", "--topics", "3", "--idf-by", "county"], ["'county'", "available:", "doc_id"]),
], ids=["no_topic_model", "not_nmf", "unknown_variable"])
def test_idf_by_the_run_cannot_use_is_a_coded_error_before_any_result(tmp_path, args, words):
    out = zhili("run", "--out", str(tmp_path / "res"), "--no-cache", *args)
    assert out.returncode == 1 and "[E147]" in out.stderr and "Traceback" not in out.stderr
    assert all(w in out.stderr for w in words), out.stderr
    assert not (tmp_path / "res").exists()



def test_output_piped_into_a_reader_that_stops_early_ends_quietly_regression(tmp_path):
    """`zhili segment big.txt | head -1` ended in a BrokenPipeError traceback."""
    big = tmp_path / "big.txt"
    big.write_text("推进网格化服务管理\n" * 200_000, encoding="utf-8")  # far more than a pipe holds
    proc = subprocess.Popen([sys.executable, "-m", "zhili.cli", "segment", str(big)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.readline().decode().split() == ["推进", "网格化服务管理"]
    proc.stdout.close()  # the reader goes away
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141 and "Traceback" not in err, err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [["cache"], ["segment", "{big}"]])
def test_output_to_a_full_disk_is_one_line_not_a_traceback_regression(tmp_path, args):
    """`zhili segment big.txt > /dev/full` ended in an OSError traceback."""
    big = tmp_path / "big.txt"
    big.write_text("推进网格化服务管理\n" * 100_000, encoding="utf-8")
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "zhili.cli", *[a.format(big=big) for a in args]], stdout=full,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "ZHILI_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 1 and "No space left" in out.stderr and "Traceback" not in out.stderr, out.stderr
