"""Build zhili's governance user dictionary from real text, keeping only terms with evidence.

Run from the repo root (needs the shared data; reads it, never copies it)::

    python corpus/lexicon/build_lexicon.py

Inputs: ``candidates.txt`` (hand-curated terms) + candidates mined here (frequent jieba-token n-grams
that plain jieba splits), minus ``rejected.txt`` (mined candidates reviewed by hand and dropped).
Outputs: ``analysis/zhili/data/governance_lexicon.txt`` (jieba user-dict format),
``governance_lexicon_evidence.csv`` and ``mined_candidates.csv`` (mined candidates with their fate; fragments and
phrases with function words are only counted).
The evidence rules are documented in README.md beside this file.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import jieba

from _corpus import REPO, Doc, fresh_tokenizer, load_docs

HERE = Path(__file__).resolve().parent
OUT_DICT = REPO / "analysis" / "zhili" / "data" / "governance_lexicon.txt"
OUT_EVIDENCE = HERE / "governance_lexicon_evidence.csv"
OUT_MINED = HERE / "mined_candidates.csv"

# Evidence: a candidate (curated or mined) is kept when it occurs >= MIN_OCC times in >= MIN_DOCS documents of the
# gov + CPC reports, or >= MIN_SEED times in the seed essay (the text zhili is built for).
MIN_OCC, MIN_DOCS, MIN_SEED = 5, 3, 2
# ... or >= MIN_WEB_OCC times in the web pages (web_articles, cleaned by zhili.webtext): the
# vocabulary of local governance that national and provincial reports rarely use (吹哨报到, 三治融合).
MIN_WEB_OCC, MIN_WEB_DOCS = 2, 1
# Mining is stricter, because nobody proposed these terms: >= 30 occurrences in >= 15 documents, and
# varied neighbours on both sides (boundary entropy >= 1.5 nats), so fragments of longer phrases drop out.
MINE_MIN_OCC, MINE_MIN_DOCS, MINE_MIN_ENTROPY = 30, 15, 1.5
# jieba's suggest_freq gives the least frequency that keeps a word whole in isolation; in running text
# a neighbour can still pull a character away, so the floor is that value times a safety factor.
FREQ_FACTOR = 5
# A candidate that plain jieba keeps whole when segmented alone still qualifies if, in running text, plain jieba
# keeps it whole in fewer than this share of its occurrences (e.g. 人民调解 0.86, 党员干部 0.81).
MAX_WHOLE_RATE_BEFORE = 0.95
FRAGMENT = "low boundary entropy (fragment of a longer phrase)"
FUNCTION_PHRASE = "contains a function word or a one-character edge"
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")

# Tokens that make a mined n-gram a phrase rather than a term.
FUNCTION_TOKENS = set(
    "的 了 和 与 及 是 在 等 为 以 对 把 将 中 上 下 我们 要 都 各 个 家 从 向 由 于 并 而 或 也 就 还 又 被 让 使 有 着"
    " 之 其 这 那 此 该 我 你 他 其中 以及 进行 更 最 很 新 多 好 大 全 再 已 已经 一批 一些 一个 项 次 年 月 日 万 亿"
    " 元 亿元 万元 以上 左右 以下 方面 工作 问题 重点 我省 我市 全市 全省 全国 各位 代表 我国 能 可 会".split()
)
BOILERPLATE_START = set(
    "加快 深入 推进 扎实 持续 加强 全面 坚持 推动 实施 落实 完善 健全 提升 提高 积极 不断 切实 着力 大力 强化 深化"
    " 促进 支持 建成 建设 实现 开展 打造 发展 确保 做好 抓好 抓 打好 用好 取得 保持 增强 优化 扩大 构建 形成 巩固 培育"
    " 围绕 加大 稳定 稳步 继续 努力 进一步 更加 充分 有效 统筹 创新 开工 完成 启动 新增 累计 贯彻 坚定 认真 始终 广泛"
    " 主动 不 没有 必须 应当 今年 去年 成功 入选 获评 获批 创建 争创 通过 纳入 有序 基本 初步 逐步 率先 连续 采取".split()
)
# A mined term must name a governance/policy matter: it has to contain one of these morphemes.
GOVERNANCE_MORPHEMES = (
    "治理 综治 政法 网格 矛盾 纠纷 信访 调解 平安 法治 执法 监管 政务 应急 安全 风险 隐患 基层 社区 群众 民生"
    " 改革 政府 营商 审批 救助 养老 就业 债务 诉求 防控 稳定 廉政 腐败 作风 党建 民主 减灾 低保 医保 托育 帮扶 返贫"
).split()


def read_term_list(path: Path) -> dict[str, str]:
    """``term [pos]`` lines -> {term: pos}; '#' comments and blank lines skipped; pos defaults to 'nz'."""
    terms: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            word, *rest = line.split()
            terms[word] = rest[0] if rest else "nz"
    return terms


def _entropy(counts: Counter) -> float:
    total = sum(counts.values())
    return -sum(c / total * math.log(c / total) for c in counts.values())


def mine_candidates(docs: list[Doc], tok: jieba.Tokenizer) -> list[dict]:
    """Frequent 2-4-token n-grams (2-8 chars) of plain-jieba output in the gov/CPC reports, with filters."""
    count: Counter = Counter()
    doc_sets: defaultdict[str, set] = defaultdict(set)
    left: defaultdict[str, Counter] = defaultdict(Counter)
    right: defaultdict[str, Counter] = defaultdict(Counter)
    for doc in docs:
        if doc.corpus in ("seed", "web"):
            continue
        for run in HAN_RUN.findall(doc.text):
            toks = tok.lcut(run)
            for i in range(len(toks)):
                gram = toks[i]
                for j in range(i + 1, min(len(toks), i + 4)):
                    gram += toks[j]
                    if len(gram) > 8:
                        break
                    count[gram] += 1
                    doc_sets[gram].add(doc.doc_id)
                    left[gram][toks[i - 1] if i else "^"] += 1
                    right[gram][toks[j + 1] if j + 1 < len(toks) else "$"] += 1
    mined = []
    for gram, n in count.items():
        if n < MINE_MIN_OCC or len(doc_sets[gram]) < MINE_MIN_DOCS:
            continue
        ent = min(_entropy(left[gram]), _entropy(right[gram]))
        pieces = tok.lcut(gram)
        reason = ""
        if ent < MINE_MIN_ENTROPY:
            reason = FRAGMENT
        elif any(p in FUNCTION_TOKENS for p in pieces) or len(pieces[0]) == 1 or len(pieces[-1]) == 1:
            reason = FUNCTION_PHRASE
        elif pieces[0] in BOILERPLATE_START:
            reason = "starts with a boilerplate verb/adverb (a phrase, not a term)"
        elif not any(m in gram for m in GOVERNANCE_MORPHEMES):
            reason = "no governance morpheme"
        mined.append({"term": gram, "n_occurrences": n, "n_docs": len(doc_sets[gram]),
                      "boundary_entropy": round(ent, 2), "filter": reason})
    return sorted(mined, key=lambda r: (-r["n_docs"], r["term"]))


def count_term(term: str, docs: list[Doc]) -> dict[str, int]:
    """Raw substring occurrences and document counts per corpus."""
    out = {"occ_gov": 0, "docs_gov": 0, "occ_cpc": 0, "docs_cpc": 0, "seed": 0, "occ_web": 0, "docs_web": 0}
    for doc in docs:
        n = doc.text.count(term)
        if doc.corpus == "seed":
            out["seed"] += n
        elif n:
            out[f"occ_{doc.corpus}"] += n
            out[f"docs_{doc.corpus}"] += 1
    return out


def has_evidence(c: dict[str, int]) -> bool:
    corpus_ok = c["occ_gov"] + c["occ_cpc"] >= MIN_OCC and c["docs_gov"] + c["docs_cpc"] >= MIN_DOCS
    web_ok = c["occ_web"] >= MIN_WEB_OCC and c["docs_web"] >= MIN_WEB_DOCS
    return corpus_ok or web_ok or c["seed"] >= MIN_SEED


def choose_frequencies(kept: dict[str, dict], tok: jieba.Tokenizer) -> dict[str, int]:
    """Add terms shortest first; freq = max(occurrences in our texts, FREQ_FACTOR x jieba's suggest_freq).

    jieba's dictionary counts are corpus frequencies, so a term's own count in the reports is the natural
    value; the suggest_freq floor (computed with the shorter terms already added) keeps rare terms whole.
    """
    freqs = {}
    for term in sorted(kept, key=lambda t: (len(t), t)):
        k = kept[term]
        freqs[term] = max(k["occ_gov"] + k["occ_cpc"] + k["seed"] + k["occ_web"], tok.suggest_freq(term) * FREQ_FACTOR)
        tok.add_word(term, freqs[term])
    return freqs


def whole_rate(kept: dict[str, dict], tok: jieba.Tokenizer, docs: list[Doc]) -> dict[str, float]:
    """Share of a term's raw occurrences with no token boundary inside (one token, or inside a longer one)."""
    terms = set(kept)
    whole: Counter = Counter()
    for doc in docs:
        for run in HAN_RUN.findall(doc.text):
            for token in tok.lcut(run):
                if len(token) > 1:
                    whole.update(substrings_in(token, terms))
    raw = {t: k["occ_gov"] + k["occ_cpc"] + k["seed"] + k["occ_web"] for t, k in kept.items()}
    return {t: round(min(whole[t], raw[t]) / raw[t], 3) if raw[t] else float("nan") for t in kept}


def substrings_in(token: str, terms: set[str]) -> list[str]:
    """The terms that occur inside a token (including the token itself)."""
    return [token[i:j] for i in range(len(token)) for j in range(i + 2, len(token) + 1) if token[i:j] in terms]


def main() -> None:
    docs = load_docs()
    base = fresh_tokenizer()
    curated = read_term_list(HERE / "candidates.txt")
    rejected = read_term_list(HERE / "rejected.txt")

    mined = mine_candidates(docs, base)
    for row in mined:
        if not row["filter"] and row["term"] in rejected:
            row["filter"] = "rejected by hand review (rejected.txt)"
    mined_ok = {r["term"] for r in mined if not r["filter"]}

    candidates = {**{t: "nz" for t in mined_ok}, **curated}
    with_evidence: dict[str, dict] = {}
    dropped: Counter = Counter()
    for term, pos in candidates.items():
        counts = count_term(term, docs)
        if not has_evidence(counts):
            dropped["too rare in the corpora and the seed"] += 1
            continue
        source = "curated+mined" if term in curated and term in mined_ok else ("curated" if term in curated else "mined")
        with_evidence[term] = {"pos": pos, "split": "/".join(base.lcut(term)), "source": source, **counts}
    # "jieba splits it": split when segmented alone, or not whole in running text often enough.
    rates_before = whole_rate(with_evidence, base, docs)
    kept = {t: k for t, k in with_evidence.items() if "/" in k["split"] or rates_before[t] < MAX_WHOLE_RATE_BEFORE}
    dropped["jieba already keeps it whole"] = len(with_evidence) - len(kept)

    freqs = choose_frequencies(kept, base)  # `base` now holds the lexicon
    rates = whole_rate(kept, base, docs)

    OUT_DICT.parent.mkdir(parents=True, exist_ok=True)
    with OUT_DICT.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("# zhili governance lexicon (jieba user-dict: word freq pos). Generated by corpus/lexicon/build_lexicon.py;\n")
        fh.write("# evidence per term: corpus/lexicon/governance_lexicon_evidence.csv. Do not edit by hand.\n")
        for term in sorted(kept):
            fh.write(f"{term} {freqs[term]} {kept[term]['pos']}\n")
    with OUT_EVIDENCE.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["term", "freq_used", "pos", "n_occurrences_gov_reports", "n_docs_gov_reports",
                    "n_occurrences_cpc", "n_docs_cpc", "n_in_seed", "n_occurrences_web", "n_docs_web",
                    "jieba_default_split", "source",
                    "whole_rate_before", "whole_rate_after"])
        for term in sorted(kept):
            k = kept[term]
            w.writerow([term, freqs[term], k["pos"], k["occ_gov"], k["docs_gov"], k["occ_cpc"], k["docs_cpc"],
                        k["seed"], k["occ_web"], k["docs_web"], k["split"], k["source"], rates_before[term], rates[term]])
    with OUT_MINED.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["term", "n_occurrences", "n_docs", "boundary_entropy", "filter", "in_lexicon"])
        w.writeheader()
        for row in mined:  # fragments and function-word phrases are only counted, to keep the table small
            if row["filter"] not in (FRAGMENT, FUNCTION_PHRASE):
                w.writerow({**row, "in_lexicon": row["term"] in kept})

    print(f"candidates: {len(curated)} curated, {len(mined)} mined ({len(mined_ok)} pass the mining filters)")
    print("mined, by filter:", dict(Counter(r["filter"] or "passed" for r in mined)))
    print(f"kept {len(kept)}; dropped: {dict(dropped)}")
    low = sorted((r, t) for t, r in rates.items() if r < 0.9)
    print(f"terms whole in < 90% of their occurrences after loading: {len(low)}", low[:30])


if __name__ == "__main__":
    main()
