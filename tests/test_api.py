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
    else:  # a function or class of zhili's own, documented
        assert callable(obj) and obj.__module__.startswith("zhili.") and obj.__doc__, name


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        zhili.no_such_thing  # noqa: B018


def test_importing_zhili_does_not_load_scikit_learn_or_matplotlib():
    code = "import sys, zhili; print('sklearn' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
