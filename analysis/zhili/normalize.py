"""Pure ``str -> str`` normalisation steps, composed into the analysis pipeline.

Every step maps one character to exactly one character, so the analysis text stays
aligned with the original: a token found at offsets ``[i, j)`` of the normalised text
is ``original[i:j]`` in the script the author wrote. KWIC and ``zhili segment`` rely on it.

>>> normalize("ＡＢＣ　習近平總書記")
'ABC 习近平总书记'
>>> detect_script("貫徹落實習近平總書記指示要求")
'traditional'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, reduce

Step = Callable[[str], str]

# Full-width letters, digits and number signs to ASCII; ideographic and odd spaces to ' '.
# Chinese punctuation (，。：（）) is left alone: segmenters treat both widths alike.
_FOLD = {**{chr(cp): chr(cp - 0xFEE0) for cp in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                                 *range(0xFF41, 0xFF5B), 0xFF05, 0xFF0B, 0xFF0D, 0xFF0E]},
         **{chr(cp): " " for cp in (0x3000, 0x00A0, *range(0x2000, 0x200E), 0x202F, 0x205F, 0xFEFF,
                                    0x2028, 0x2029)}}
_FOLD_RX = re.compile("[" + "".join(_FOLD) + "]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def fold_width(text: str) -> str:
    """Full-width letters, digits and %+-. to half-width; unusual spaces to ' '.

    >>> fold_width("２０１９年，ＧＤＰ增长６．５％")
    '2019年，GDP增长6.5%'
    """
    return _FOLD_RX.sub(lambda m: _FOLD[m.group()], text)


def strip_control(text: str) -> str:
    """Control characters (other than tab, newline, carriage return) to spaces.

    >>> strip_control("社会\\x07治理")
    '社会 治理'
    """
    return _CONTROL.sub(" ", text)


@lru_cache(maxsize=1)
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


#: Characters outside GB 2312 that OpenCC's t2s rewrites but that the Simplified standard of 2013
#: (通用规范汉字表, annex 1 notes) admits for surnames, given names and place names: 毕昇, 王昇, 陞, 脩, 氾 (a
#: surname), 逕. A Simplified text holding one is Simplified. 瀋 is not among them: Simplified writes 沈阳.
SIMPLIFIED_NAME_CHARS = "昇陞脩氾逕"


@lru_cache(maxsize=1)
def _traditional_chars() -> re.Pattern[str]:
    """A character class of the Traditional-only characters: those OpenCC's t2s changes on their
    own and that the Simplified standard does not hold (GB 2312, and the name characters of
    :data:`SIMPLIFIED_NAME_CHARS`). 乾, 薹, 於, 後, 麽, 昇 … are in both standards (乾县, 菜薹, 王昇),
    so they neither make a text Traditional nor get converted in a Simplified one."""
    return re.compile("[" + re.escape(_traditional_only()) + "]")


@lru_cache(maxsize=1)
def _traditional_only() -> str:
    """The Traditional-only characters of :func:`_traditional_chars`, as one string."""
    chars = [chr(c) for c in range(0x3400, 0xA000)]
    converted = _opencc("t2s").convert("\n".join(chars)).split("\n")
    return "".join(c for c, s in zip(chars, converted)
                   if s != c and len(s) == 1 and not _in_gb2312(c) and c not in SIMPLIFIED_NAME_CHARS)


@lru_cache(maxsize=1)
def _traditional_table():
    """A boolean array indexed by code point (below U+A000): True for a Traditional-only character."""
    import numpy as np

    table = np.zeros(0xA000, dtype=bool)
    table[[ord(c) for c in _traditional_only()]] = True
    return table


_HAN = re.compile(r"[\u3400-\u9fff]")


def traditional_share(text: str) -> float:
    """Share of Han characters that exist only in Traditional script (0 for pure Simplified).

    >>> traditional_share("社会治理") == 0.0
    True
    """
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    han = codes[(codes >= 0x3400) & (codes <= 0x9FFF)]  # the Han range of _HAN, counted in numpy
    if not len(han):
        return 0.0
    return int(_traditional_table()[han].sum()) / len(han)


#: Traditional prose has 15-40 % Traditional-only characters; at this share a text is Traditional.
TRADITIONAL_SHARE = 0.08


def detect_script(text: str) -> str:
    """'simplified', 'traditional', 'mixed' or 'none' (no Han characters).

    Traditional prose has 15-40% Traditional-only characters; a Simplified text quoting a
    Traditional passage lands in between. Characters of both standards (乾, 薹) do not count.

    >>> detect_script("社会治理现代化"), detect_script("abc"), detect_script("乾县菜薹种植"), detect_script("王昇同志")
    ('simplified', 'none', 'simplified', 'simplified')
    """
    if not _HAN.search(text):
        return "none"
    share = traditional_share(text)
    if share >= TRADITIONAL_SHARE:
        return "traditional"
    if share > 0.0:
        return "mixed"
    return "simplified"


#: a text is converted whole only when it is Traditional and has this many Han characters
MIN_WHOLE_HAN = 40
_RUN = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;\n]|$)")


def to_simplified(text: str) -> str:
    """Traditional to Simplified with OpenCC ``t2s``, one character for one character.

    A Traditional text (:data:`TRADITIONAL_SHARE`, at least :data:`MIN_WHOLE_HAN` Han characters)
    is converted whole; in any other text only
    the sentences that hold a Traditional-only character are, so a Simplified text keeps its
    乾县 and 菜薹 even when it quotes a Traditional passage. OpenCC converts phrase by phrase;
    on the rare line where that changes the length the line is converted character by
    character instead, so offsets stay aligned.

    >>> to_simplified("市域社會治理現代化")
    '市域社会治理现代化'
    >>> to_simplified("乾县种菜薹。引用“網格化管理”。")
    '乾县种菜薹。引用“网格化管理”。'
    """
    trad = _traditional_chars()
    if not trad.search(text):
        return text
    if len(_HAN.findall(text)) < MIN_WHOLE_HAN or traditional_share(text) < TRADITIONAL_SHARE:
        return "".join(_convert(run) if trad.search(run) else run for run in _RUN.findall(text))
    return _convert(text)


def _convert(text: str) -> str:
    cc = _opencc("t2s")
    out = cc.convert(text)
    if len(out) == len(text):
        return out
    lines = []
    for line in text.split("\n"):
        conv = cc.convert(line)
        if len(conv) != len(line):
            conv = "".join(c if len(s := cc.convert(c)) != 1 else s for c in line)
        lines.append(conv)
    return "\n".join(lines)


def compose(*steps: Step) -> Step:
    """Chain ``str -> str`` steps left to right.

    >>> compose(fold_width, to_simplified)("ＡＢ國家")
    'AB国家'
    """
    return lambda text: reduce(lambda acc, step: step(acc), steps, text)


DEFAULT_STEPS: tuple[Step, ...] = (fold_width, strip_control, to_simplified)
_default_pipeline = compose(*DEFAULT_STEPS)


@lru_cache(maxsize=1)
def _needs_work() -> re.Pattern[str]:
    """Any character that one of the default steps would change."""
    return re.compile(_FOLD_RX.pattern[:-1] + _CONTROL.pattern[1:-1] + _traditional_chars().pattern[1:])


def normalize(text: str) -> str:
    """The default analysis normalisation: width, control characters, Simplified script.

    Same result as ``compose(*DEFAULT_STEPS)``; most texts need none of it, and one scan
    tells.

    >>> normalize("２０１９年，市域社會治理")
    '2019年，市域社会治理'
    """
    return _default_pipeline(text) if _needs_work().search(text) else text
