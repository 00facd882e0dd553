"""Builds zhili's one C extension (jieba's cut returning ids); everything else is in pyproject.toml.

The extension is optional: without a C compiler zhili installs anyway and segments with rjieba.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("zhili._cut", ["zhili/_cut.c"], optional=True, extra_compile_args=["-O3"]
                             if not __import__("sys").platform.startswith("win") else [])])
