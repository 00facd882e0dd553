"""Document variables from file names, year cells and byline lines.

>>> pattern = compile_name_pattern("{city}_{year}")
>>> fields = parse_file_name("南通_二〇一九年", pattern)
>>> fields, parse_year(fields["year"])
({'city': '南通', 'year': '二〇一九年'}, 2019)
"""

from __future__ import annotations

import re

from zhili.docvars import CHINESE_DIGITS, parse_year  # noqa: F401  (the one year policy lives in docvars)
from zhili.errors import E, ZhiliError

_FIELD = re.compile(r"\{([^{}]*)\}")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
YEAR_FIELD_REGEX = rf"(?:[0-9０-９]{{4}}|[{CHINESE_DIGITS}]{{4}})年?"

# Byline lines: whole line, optionally in brackets, full- or half-width colon, both scripts.
_OPEN = r"[\(（\[【〔]?\s*"
_CLOSE = r"\s*[\)）\]】〕]?"
_NO_SENTENCE_END = r"[^。！？!?；;]"
BYLINE_PATTERNS = (
    # 作者系… but not 作者系统/系列… or 作者为了… (body sentences)
    ("author_post", re.compile(
        rf"{_OPEN}作者\s*(?:系(?!统|統|列)|係|为(?!了)|為(?!了)|是)\s*({_NO_SENTENCE_END}{{2,80}}?)\s*。?{_CLOSE}"
    )),
    ("author", re.compile(rf"{_OPEN}作者\s*[:：]\s*({_NO_SENTENCE_END}{{1,30}}?){_CLOSE}")),
    ("editor", re.compile(rf"{_OPEN}(?:责任编辑|責任編輯|编辑|編輯)\s*[:：]\s*({_NO_SENTENCE_END}{{1,30}}?){_CLOSE}")),
    ("source_outlet", re.compile(rf"{_OPEN}(?:来源|來源)\s*[:：]\s*({_NO_SENTENCE_END}{{1,50}}?){_CLOSE}")),
)
N_EDGE_LINES = 3
MAX_NAME_CHARS = 4
MIN_PARAGRAPH_CHARS = 40
_NAME_LINE = re.compile(rf"[\u4e00-\u9fff]{{1,{MAX_NAME_CHARS}}}")
_CHAPTER_HEADING = re.compile(r"第.{1,3}[章节節条條部编編篇]")
# Short first lines that are headings, not author names.
HEADING_WORDS = frozenset(
    "前言 引言 序言 序 摘要 导语 導語 概述 总则 總則 目录 目錄 附件 正文 说明 說明 按语 按語 编者按 編者按 结语 結語 "
    "结论 結論 背景 通知 公告 决定 決定 意见 意見 报告 報告".split()
)


def compile_name_pattern(pattern: str, year_fields: tuple[str, ...] = ("year",)) -> re.Pattern:
    """Regex for file stems from a pattern such as '{city}_{year}'; raises E013 if invalid.

    Each field matches as little as possible; a field named 'year' (or in ``year_fields``)
    matches four Arabic or Chinese digits with an optional 年. Text between fields must
    appear literally.

    >>> compile_name_pattern("{city}{year}报告").fullmatch("南通2019年报告").groupdict()
    {'city': '南通', 'year': '2019年'}
    """
    parts, names, end = [], [], 0
    for match in _FIELD.finditer(pattern):
        parts.append(_literal(pattern, pattern[end:match.start()]))
        name = match.group(1)
        if not _FIELD_NAME.fullmatch(name):
            raise ZhiliError(E.E013, pattern=pattern, detail=f"field name '{name}' must be letters, digits or _")
        if name in names:
            raise ZhiliError(E.E013, pattern=pattern, detail=f"field '{name}' appears twice")
        names.append(name)
        parts.append(f"(?P<{name}>{YEAR_FIELD_REGEX if name in year_fields else '.+?'})")
        end = match.end()
    parts.append(_literal(pattern, pattern[end:]))
    if not names:
        raise ZhiliError(E.E013, pattern=pattern, detail="it has no {field}")
    return re.compile("".join(parts))


def _literal(pattern: str, text: str) -> str:
    if "{" in text or "}" in text:
        raise ZhiliError(E.E013, pattern=pattern, detail="unbalanced braces")
    return re.escape(text)


def parse_file_name(stem: str, pattern: re.Pattern) -> dict[str, str] | None:
    """Fields of a file stem (name without suffix), or None if it does not match.

    >>> parse_file_name("南通_2019", compile_name_pattern("{city}_{year}"))
    {'city': '南通', 'year': '2019'}
    >>> parse_file_name("南通", compile_name_pattern("{city}_{year}")) is None
    True
    """
    match = pattern.fullmatch(stem)
    return match.groupdict() if match else None


def extract_bylines(text: str) -> tuple[str, dict[str, str]]:
    """Remove author/editor/source lines at the start or end of a text; return them as variables.

    Looks at the first and last three non-empty lines only, so body sentences stay. Variables:
    author_post ('(作者系…)'), author ('作者：…', or a first line of at most four Han characters
    followed by a long paragraph), editor ('责任编辑：…'), source_outlet ('来源：…').
    Values are kept as written. Lines such as '记者 …' stay in the text.

    >>> body = "推进市域社会治理现代化。" * 4
    >>> extract_bylines("张三\\n" + body + "\\n责任编辑：李四") == (body, {"author": "张三", "editor": "李四"})
    True
    """
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    edge = sorted(set(filled[:N_EDGE_LINES] + filled[-N_EDGE_LINES:]))
    variables: dict[str, str] = {}
    removed: set[int] = set()
    for i in edge:
        for name, regex in BYLINE_PATTERNS:
            match = regex.fullmatch(lines[i].strip())
            if match and name not in variables:
                variables[name] = match.group(1).strip()
                removed.add(i)
                break
    if filled and "author" not in variables and _is_author_name_line(lines, filled):
        variables["author"] = lines[filled[0]].strip()
        removed.add(filled[0])
    kept = "\n".join(line for i, line in enumerate(lines) if i not in removed)
    return (kept.strip("\n") if removed else text), variables


# Licence footers that sites append to a text (Wikisource's public-domain templates, in either
# script); they are not the author's words. A footer starts at one of these lines.
_FOOTER_START = re.compile(r"本作品(?:是中华人民共和国的|是中華人民共和國的|在全世界都属于公有领域|在全世界都屬於公有領域)"
                           r"|Public domain")
MAX_FOOTER_CHARS = 2000


def strip_licence_footer(text: str) -> tuple[str, int]:
    """Remove a licence footer (Wikisource's public-domain notice) from the end of a text.

    Returns the text and how many characters were removed (0: none found). Only a footer in
    the second half of the text and shorter than ``MAX_FOOTER_CHARS`` is removed.

    >>> body = "各位代表：现在，我代表国务院向大会作政府工作报告。" * 3
    >>> strip_licence_footer(body + "\\n\\n本作品是中华人民共和国的\\n法律\\n公有领域\\nPublic domain\\nfalse")[1]
    42
    >>> strip_licence_footer("本作品是中华人民共和国的法律，这里是正文。" + body)[1]
    0
    """
    for match in re.finditer(r"^\s*(?:" + _FOOTER_START.pattern + ")", text, flags=re.M):
        start = match.start()
        if start >= len(text) / 2 and len(text) - start <= MAX_FOOTER_CHARS:
            kept = text[:start].rstrip()
            return kept, len(text) - len(kept)
    return text, 0


def _is_author_name_line(lines: list[str], filled: list[int]) -> bool:
    """Is the first non-empty line a bare name directly followed by a long paragraph?"""
    first = lines[filled[0]].strip()
    if len(filled) < 2 or filled[1] != filled[0] + 1 or first in HEADING_WORDS or _CHAPTER_HEADING.fullmatch(first):
        return False
    return bool(_NAME_LINE.fullmatch(first)) and len(lines[filled[1]].strip()) >= MIN_PARAGRAPH_CHARS
