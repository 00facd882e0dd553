"""The error catalogue: every code unique, used, formatting with its fields, and fitting Python's hierarchy."""

import pickle
import re
import string
from pathlib import Path

import pytest

import zhili
from zhili.errors import E, ERROR_CLASSES, ZhiliError, ZhiliValueError, error_class

PACKAGE = Path(zhili.__file__).parent
CODES = sorted(name for name in vars(E) if re.fullmatch(r"E\d{3}", name))
SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.py") if p.name != "errors.py")


def _fields(template):
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_codes_are_unique_and_templates_distinct():
    templates = [getattr(E, c) for c in CODES]
    assert len(set(templates)) == len(templates)
    assert all(name in CODES or name.startswith("_") for name in vars(E))


@pytest.mark.parametrize("code", CODES)
def test_code_is_used_in_the_package(code):
    assert re.search(rf"\bE\.{code}\b", SOURCES), f"{code} is never raised"


@pytest.mark.parametrize("code", CODES)
def test_code_formats_with_its_fields_and_survives_pickling(code):
    fields = {f.split("!")[0].split(".")[0]: f"<{f}>" for f in _fields(getattr(E, code))}
    err = ZhiliError(getattr(E, code), **fields)
    assert str(err).startswith(f"[{code}] ") and err.code == code
    assert all(value in str(err) for value in fields.values())
    assert isinstance(err, error_class(code)) and isinstance(err, ZhiliError)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and back.fields == err.fields


def test_classes_fit_pythons_hierarchy():
    assert isinstance(ZhiliError(E.E001, path="x"), FileNotFoundError)
    assert isinstance(ZhiliError(E.E014, unit="page"), ValueError)
    assert isinstance(ZhiliError(E.E125, path="d"), IsADirectoryError)
    assert isinstance(ZhiliError(E.E123, path="d", detail="x"), OSError)
    assert set(ERROR_CLASSES) <= set(CODES) and error_class("E999") is ZhiliValueError
    with pytest.raises(ValueError, match="E040"):
        raise ZhiliError(E.E040, k=1)
