"""Build zhili's two stopword lists, with the evidence for the policy list.

Run from the repo root (the policy list needs the shared data; the general list needs the stopwordsiso wheel)::

    pip download --no-deps stopwordsiso==0.7.1 -d /tmp/swiso
    python corpus/lexicon/build_stopwords.py /tmp/swiso/stopwordsiso-0.7.1-py3-none-any.whl

* ``stopwords_general.txt``: the Chinese list of stopwords-iso (PyPI ``stopwordsiso`` 0.7.1, MIT), Han-only
  entries, minus the entries that carry content in policy text (``CONTENT_IN_POLICY_TEXT``).
* ``stopwords_policy.txt``: policy boilerplate. A word qualifies when it is in >= MIN_DF of the government work
  reports overall AND in >= MIN_GROUP_DF of the reports of every group (national reports of three eras, provincial,
  city; the pre-2000 national reports are shown but not required), i.e. it is everywhere, in every period and at every
  level; then a hand check keeps only boilerplate (``POLICY_BOILERPLATE``), not content words. The table of every word that passed the numbers goes to ``stopwords_policy_evidence.csv``.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

from _corpus import REPO, Doc, fresh_tokenizer, load_docs

HERE = Path(__file__).resolve().parent
DATA = REPO / "analysis" / "zhili" / "data"
OUT_EVIDENCE = HERE / "stopwords_policy_evidence.csv"
HAN = re.compile(r"^[\u4e00-\u9fff]+$")

MIN_DF, MIN_GROUP_DF = 0.80, 0.50
# zhili is for contemporary governance texts: the national reports before 2000 (11 of 1954-77, 18 of 1978-99) speak
# an older political language (提升, 着力, 强化 are rare before 2000); their shares are shown in the evidence table
# but not required.
EARLY_GROUPS = {"national_1954_1977", "national_1978_1999"}

# stopwords-iso entries that are content words in governance texts (people, time units, places, actions a
# researcher counts): kept out of the general list.
CONTENT_IN_POLICY_TEXT = set(
    "人 人们 人家 全体 全部 区 年 月 日 时 秒 本地 当地 开始 结果 作为 才能 用 做 看 说 出来 打 拿 冲 去 来 叫 望 朝 替代"
    " 对比 对方 分 点 称 管 论 离 距 光 巴 冒 腾 赶 乘 靠 共 内 前后 本人 自身 别人 旁人 请 起 经过 受到".split()
)
# Function words common in formal Chinese that stopwords-iso lacks.
GENERAL_ADDITIONS = set("之后 之前 之间 以后 以前 以下 其间 方面 的话 有所 予以 加以 给予 进行 是否 有着 这种 那种 各项 各类 一系列".split())

# Hand check: of the words that pass the numbers, those that are boilerplate in policy prose (exhortative verbs,
# intensifying adverbs, evaluative modifiers, meta nouns about the work itself). Every other word that passes the
# numbers is a content word (经济, 人民, 企业, 粮食 ...) and is kept. Words listed here that fail the numbers
# (e.g. 提升, 着力, newer than the 1980s-90s reports) are shown in the evidence table but not used.
POLICY_BOILERPLATE = set(
    """全面 加强 坚持 实现 取得 开展 支持 积极 促进 做好 完成 扩大 推动 提出 改善 加快 坚决 巩固 更加 要求 有效 不断
    保持 增强 建立 深入 实施 贯彻 健全 大力 推进 严格 完善 持续 抓好 落实 解决 做到 形成 突出 达到 进一步 推广 深化
    自觉 办好 努力 大力发展 发挥 扎实 培育 切实 更好 引导 运用 有力 深入开展 主动 确保 稳步 坚定 鼓励 制定 探索 一批
    提高 重要 主要 重大 基本 重点 关键 成绩 成效 措施 意见 部署 工作 建设 任务 作用 一年 提升 着力 加大 强化 优化
    全力 认真 积极推进 着力推进 进一步加强""".split()
)


def general_list(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        iso = json.loads(zf.read("stopwordsiso/stopwords-iso.json").decode("utf-8"))["zh"]
    words = {w for w in iso if HAN.match(w)} - CONTENT_IN_POLICY_TEXT
    return sorted(words | GENERAL_ADDITIONS)


def group_of(doc: Doc) -> str:
    if doc.meta.get("level") == "national":
        year = doc.meta["year"]
        return "national_1954_1977" if year < 1978 else ("national_1978_1999" if year < 2000 else "national_2000_2025")
    return "province" if doc.meta.get("level") == "province" else "city"


def policy_table(docs: list[Doc], general: set[str]) -> list[dict]:
    tok = fresh_tokenizer()
    for line in (DATA / "governance_lexicon.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, freq, pos = line.split()
            tok.add_word(word, int(freq), pos)
    groups = sorted({group_of(d) for d in docs})
    n_docs = Counter(group_of(d) for d in docs)
    df: dict[str, Counter] = {}
    tf: Counter = Counter()
    n_tokens = 0
    for doc in docs:
        tokens = [t for t in tok.lcut(doc.text) if HAN.match(t)]
        n_tokens += len(tokens)
        tf.update(tokens)
        for t in set(tokens):
            df.setdefault(t, Counter())[group_of(doc)] += 1
    rows = []
    for word, by_group in df.items():
        overall = sum(by_group.values()) / len(docs)
        shares = {g: by_group[g] / n_docs[g] for g in groups}
        required = [s for g, s in shares.items() if g not in EARLY_GROUPS]
        passes = overall >= MIN_DF and min(required) >= MIN_GROUP_DF
        if len(word) < 2 or word in general or not (passes or word in POLICY_BOILERPLATE):
            continue
        if passes:
            decision = "policy stopword" if word in POLICY_BOILERPLATE else "content word (hand check)"
        else:
            decision = "boilerplate, below thresholds (not used)"
        rows.append({"word": word, "df_all": round(overall, 3), **{f"df_{g}": round(s, 3) for g, s in shares.items()},
                     "per_10k_tokens": round(tf[word] / n_tokens * 1e4, 2), "decision": decision})
    return sorted(rows, key=lambda r: (r["decision"] != "policy stopword", r["decision"], -r["df_all"], r["word"]))


def write_list(path: Path, header: str, words: list[str]) -> None:
    path.write_text(f"# {header}\n" + "\n".join(words) + "\n", encoding="utf-8")


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    general = general_list(Path(argv[0]))
    write_list(DATA / "stopwords_general.txt",
               "zhili general stopwords: stopwords-iso zh (stopwordsiso 0.7.1, MIT), Han-only, minus policy content "
               "words, plus a few formal function words. Generated by corpus/lexicon/build_stopwords.py.", general)
    docs = [d for d in load_docs() if d.corpus == "gov"]
    rows = policy_table(docs, set(general))
    policy = sorted(r["word"] for r in rows if r["decision"] == "policy stopword")
    write_list(DATA / "stopwords_policy.txt",
               f"zhili policy boilerplate: in >= {MIN_DF:.0%} of government work reports and >= {MIN_GROUP_DF:.0%} of "
               "every group (era/level), hand-checked. Evidence: corpus/lexicon/stopwords_policy_evidence.csv.", policy)
    with OUT_EVIDENCE.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"general: {len(general)} words; policy: {len(policy)}; evidence rows: {len(rows)}")


if __name__ == "__main__":
    main(sys.argv[1:])
