"""The public API in zhili/__init__.py: every exported name resolves (heavy ones lazily)."""

import subprocess
import sys

import pytest

import zhili


@pytest.mark.parametrize("name", zhili.__all__)
def test_exported_name_resolves(name):
    obj = getattr(zhili, name)
    if name == "__version__":
        assert obj.count(".") >= 2
    elif name in zhili._VERBS:  # a module of zhili's own that calls the verb of its name
        assert callable(obj) and obj.__name__ == f"zhili.{name}" and getattr(obj, name).__doc__, name
    else:  # a function or class of zhili's own, documented
        assert callable(obj) and obj.__module__.startswith("zhili.") and obj.__doc__, name


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        zhili.no_such_thing  # noqa: B018


def test_importing_zhili_does_not_load_scikit_learn_or_matplotlib():
    code = "import sys, zhili; print('sklearn' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_verbs_named_like_their_module_stay_functions_after_the_module_is_imported():
    # Regression: `from zhili.keyness import ...` elsewhere in a session put the *module* on
    # zhili.keyness and zhili.coword, and `zhili.keyness(d, by=...)` failed (CI, order-dependent).
    code = (
        "import importlib, zhili\n"
        "names = [n for n in zhili.__all__ if n in zhili._LAZY and zhili._LAZY[n] == n]\n"
        "for n in names: importlib.import_module('zhili.' + n)\n"
        "print(sorted(n for n in names if not callable(getattr(zhili, n))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_modules_are_not_shadowed_by_the_verbs_of_their_name_regression():
    """issue 10: `import zhili.tokens` gave the function; now the module, which calls the verb."""
    import inspect

    import zhili.tokens as module
    from zhili import tokens

    assert tokens is module is zhili.tokens and module.Tokens.__name__ == "Tokens"
    assert "corpus" in inspect.signature(zhili.tokens).parameters
    d = zhili.dtm(zhili.tokens(zhili.corpus(), cache=False))
    assert "网格化" in set(d.vocabulary) and "callable" in repr(zhili.dtm)
