"""Scoring segmentation against gold standards (SIGHAN bakeoff style).

Word precision, recall and F1 over character spans; OOV recall against a word list.

>>> s = segmentation_scores([["社会", "治理"]], [["社会治理"]])
>>> round(s["f1"], 3), s["n_gold"]
(0.0, 2)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence


def spans(words: Sequence[str]) -> set[tuple[int, int]]:
    """Character spans of consecutive words, ignoring whitespace.

    >>> sorted(spans(["社会", "治理"]))
    [(0, 2), (2, 4)]
    """
    out, pos = set(), 0
    for w in words:
        w = "".join(w.split())
        if w:
            out.add((pos, pos + len(w)))
            pos += len(w)
    return out


def segmentation_scores(gold: Iterable[Sequence[str]], predicted: Iterable[Sequence[str]],
                        known_words: Collection[str] | None = None) -> dict[str, float]:
    """Precision, recall, F1 (and OOV recall if ``known_words`` is given), line by line.

    Each gold line and predicted line must spell the same characters (whitespace aside);
    a mismatch raises ``ValueError`` naming the line.
    """
    n_gold = n_pred = n_ok = n_oov = n_oov_ok = 0
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True), start=1):
        if "".join("".join(g).split()) != "".join("".join(p).split()):
            raise ValueError(f"line {i}: predicted tokens do not spell the gold text")
        gs, ps = spans(g), spans(p)
        n_gold, n_pred, n_ok = n_gold + len(gs), n_pred + len(ps), n_ok + len(gs & ps)
        if known_words is not None:
            words = ["".join(w.split()) for w in g if w.strip()]
            for w, span in zip(words, sorted(gs)):
                if w not in known_words:
                    n_oov += 1
                    n_oov_ok += span in ps
    precision = n_ok / n_pred if n_pred else 0.0
    recall = n_ok / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    out = {"precision": precision, "recall": recall, "f1": f1, "n_gold": n_gold, "n_predicted": n_pred}
    if known_words is not None:
        out["oov_recall"] = n_oov_ok / n_oov if n_oov else float("nan")
    return out
