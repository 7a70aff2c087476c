"""Quality of a translator against the Okapi references: corpus chrF, the copy-English baseline, check flags.

    python bench/translate_quality.py --languages fr,de,zh,bn,te --strings 100 [--split val] [--translator local]

Strings: the questions of <split> that Okapi translated in every language asked for, shortest first (question
plus its four options, by total length), each question contributing its question and its options; strings
with nothing to translate (numbers, formulas: protect.is_untranslatable) are left out, as the stage copies
them. Questions are added until at least --strings strings are in. Outputs go to
results/bench/translate_quality/<translator>/<lang>.jsonl as they come, so a killed run resumes.
chrF is our own implementation of sacrebleu's default CHRF (char order 6, word order 0, beta 2, whitespace
removed, corpus statistics summed before the F-score), with a 95% bootstrap interval over the strings
(`chrf_95`); `--check-sacrebleu PATH` compares it with sacrebleu imported from PATH. Tune prompts on
--split dev, measure on val. `--protected`: instead, the dev+val strings holding a formula, code or a blank
(`spans_lost` counts those whose spans did not come back), with `--whole` to compare against the translator
without its piece-by-piece attempt.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mmlu_ml.core import protect  # noqa: E402
from mmlu_ml.core.records import Question  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference" / "okapi"
MMLU = ROOT.parent / "shared" / "mmlu"
FIELDS = ("question", "A", "B", "C", "D")
DEFAULT_LANGUAGES = ["fr", "de", "zh", "bn", "te"]


def _ngrams(text: str, n: int) -> Counter:
    s = "".join(text.split())
    return Counter(s[i:i + n] for i in range(len(s) - n + 1))


def segment_stats(hypothesis: str, reference: str, order: int = 6) -> list[int]:
    """One segment's chrF counts: hypothesis, reference and matching n-grams for n = 1..order (a hypothesis'
    n-grams count only where its reference has n-grams of that order, as in sacrebleu)."""
    stats = []
    for n in range(1, order + 1):
        h, r = _ngrams(hypothesis, n), _ngrams(reference, n)
        stats += [sum(h.values()) if r else 0, sum(r.values()), sum((h & r).values())]
    return stats


def chrf_of_stats(stats, beta: float = 2.0) -> float:
    """Corpus chrF (0-100) from summed segment counts: precision and recall averaged over the orders present
    in both hypothesis and reference, then F-beta of the averages."""
    precision = recall = 0.0
    effective = 0
    for k in range(0, len(stats), 3):
        n_hyp, n_ref, n_match = stats[k:k + 3]
        if n_hyp and n_ref:
            effective += 1
            precision += n_match / n_hyp
            recall += n_match / n_ref
    if not effective:
        return 0.0
    precision, recall = precision / effective, recall / effective
    factor = beta ** 2
    return 100 * (1 + factor) * precision * recall / (factor * precision + recall) if precision + recall else 0.0


def chrf(hypotheses: list[str], references: list[str], order: int = 6, beta: float = 2.0) -> float:
    """Corpus chrF, sacrebleu's default: segment counts summed over the corpus before the F-score."""
    totals = [0] * (3 * order)
    for hyp, ref in zip(hypotheses, references, strict=True):
        totals = [a + b for a, b in zip(totals, segment_stats(hyp, ref, order))]
    return chrf_of_stats(totals, beta)


def chrf_interval(hypotheses: list[str], references: list[str], resamples: int = 1000, seed: int = 0,
                  level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of corpus chrF over segments: how much the score owes to which strings
    happen to be in the sample (a fixed seed, so the interval is reproducible)."""
    import numpy as np
    stats = np.array([segment_stats(h, r) for h, r in zip(hypotheses, references, strict=True)], dtype=np.int64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(stats), size=(resamples, len(stats)))
    scores = [chrf_of_stats(stats[p].sum(axis=0).tolist()) for p in picks]
    tail = (1 - level) / 2
    return float(np.quantile(scores, tail)), float(np.quantile(scores, 1 - tail))


@functools.lru_cache(maxsize=None)
def _csv_rows(split: str, subject: str) -> list[Question]:
    from mmlu_ml.core.mmlu import parse_csv
    path = MMLU / split / f"{subject}_{split}.csv"
    return parse_csv(path.read_text(encoding="utf-8"), subject, split, str(path))


def select(languages: list[str], n_strings: int, split: str, spread: bool = False,
           exclude: frozenset = frozenset()) -> list[dict]:
    """Items {id, field, english, refs {lang: text}, question_id} in a fixed order (see the module doc);
    `spread`: questions evenly spaced over the length order instead of the shortest (for tuning on dev);
    `exclude`: question ids to leave out (the default sample, for a held-out one)."""
    refs = {}
    for lang in languages:
        for line in (REFERENCE / f"{lang}_{split}.jsonl").read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            row = json.loads(line)
            refs.setdefault((row["subject"], row["index"]), {})[lang] = row
    keys = [k for k, v in refs.items() if len(v) == len(languages)]
    english = {}
    for subject in sorted({s for s, _ in keys}):
        for q in _csv_rows(split, subject):
            english[(subject, q.index)] = q
    keys.sort(key=lambda k: (len(english[k].question) + sum(map(len, english[k].choices)), k))
    if spread:  # every 7th question: long ones too, in a sample small enough to iterate on
        keys = keys[::7]
    items: list[dict] = []
    for key in keys:
        q = english[key]
        if q.id in exclude:
            continue
        texts = dict(zip(FIELDS, (q.question, *q.choices)))
        for field in FIELDS:
            if protect.is_untranslatable(texts[field]):
                continue
            items.append({"id": f"{q.id}:{field}", "question_id": q.id, "field": field, "english": texts[field],
                          "refs": {lang: refs[key][lang][field] for lang in languages}})
        if len(items) >= n_strings:
            break
    return items


def subject_items(subjects: list[str], lang: str, exclude: frozenset, glossary=None) -> list[dict]:
    """Every string of `subjects` that Okapi translated into `lang`, dev and val, but the ids in `exclude` (the
    default sample); with `glossary`, only the strings holding one of its terms (the others come back the
    same with or without it). A check of glossary entries on strings they were not written from."""
    items = []
    for split in ("dev", "val"):
        refs = {}
        for line in (REFERENCE / f"{lang}_{split}.jsonl").read_text(encoding="utf-8").split("\n"):
            row = json.loads(line) if line.strip() else {}
            if row.get("subject") in subjects:
                refs[(row["subject"], row["index"])] = row
        for subject in subjects:
            for q in _csv_rows(split, subject):
                for field, text in zip(FIELDS, (q.question, *q.choices)):
                    item = {"id": f"{q.id}:{field}", "question_id": q.id, "field": field, "english": text}
                    if (subject, q.index) not in refs or item["id"] in exclude or protect.is_untranslatable(text) \
                            or (glossary is not None and not glossary.hints(text, subject, lang)):
                        continue
                    items.append({**item, "refs": {lang: refs[(subject, q.index)][field]}})
    return items


def protected_items(lang: str, exclude: frozenset) -> list[dict]:
    """Every string of dev and val that Okapi translated into `lang` and that holds a span the translator must
    keep (mmlu_ml.core.protect: formulas, code, blanks), the ids in `exclude` (the default sample) left out."""
    from mmlu_ml.core.subjects import SUBJECTS
    return [it for it in subject_items(list(SUBJECTS), lang, exclude) if protect.spans(it["english"])]


def use_plain_prompt() -> None:
    """The `local` translator as first measured, before any of its code: one plain instruction, no examples,
    no second attempt, formulas and quantities sent like any text, no placeholders (the loop guard's early stop
    stays)."""
    from mmlu_ml.core import examples as llm_examples
    from mmlu_ml.core.languages import language_name
    from mmlu_ml.translate.llm import prompt as llm_translate
    from mmlu_ml.translate.translators import local as local_translator
    llm_examples.TRANSLATED.clear()
    llm_translate.instructions = lambda source, target, batch: (
        f"Translate the following text from {source.name} into {language_name(target)}.")
    local_translator.instructions = llm_translate.instructions
    local_translator.defects = lambda *args: []
    local_translator.keep_as_is = lambda text: False
    local_translator.LocalTranslator._masked_attempt = _unmasked  # formulas sent as they are


def _unmasked(*args):
    """No masked attempt (a coroutine step that asks for nothing): the text goes to the model as it is."""
    return None
    yield


def _translator(name: str, model: str | None, cache_dir: Path):
    from mmlu_ml.core.registry import load
    from mmlu_ml.translate.translators import TRANSLATORS
    return load(TRANSLATORS, name, "translator")(model, cache_dir)


def translate_missing(items: list[dict], lang: str, translator, out_file: Path, glossary=None) -> dict[str, dict]:
    """Outputs by item id, translating (and appending) only the items not yet in `out_file`, in calls of the
    translator's `max_items` as the stage makes them: first what goes alone, then short options with their
    question and its translation where the translator asks for that; each with the hints of `glossary`
    (mmlu_ml.translate.glossary) where the translator takes them. `seconds`: a call's time over its strings."""
    from tqdm import tqdm
    from mmlu_ml.translate import in_context
    from mmlu_ml.core.languages import load as load_languages
    from mmlu_ml.core.records import Appender, read_jsonl
    table = load_languages()
    done = {r["id"]: r for r in read_jsonl(out_file)} if out_file.exists() else {}
    target = table.languages[lang]
    english = {it["id"]: it["english"] for it in items}
    words = translator.option_context(target) if hasattr(translator, "option_context") else 0
    hinted = glossary is not None and hasattr(translator, "takes_hints") and translator.takes_hints(target)

    def hints_of(it):
        return glossary.hints(it["english"], it["question_id"].split("/")[0], lang) if hinted else ()

    def in_context_of(it):
        return it["field"] != "question" and in_context.wants_context(it["english"], words)

    todo = [it for it in items if it["id"] not in done]
    with Appender(out_file) as app, tqdm(total=len(todo), desc=f"{translator.name} {lang}", unit="str",
                                        file=sys.stderr) as bar:
        for phase in (False, True):
            batch = [it for it in todo if in_context_of(it) == phase and it["id"] not in done]
            for k in range(0, len(batch), translator.max_items):
                part, texts = batch[k:k + translator.max_items], []
                for it in part:
                    question = done.get(f"{it['question_id']}:question", {}).get("output")
                    context = (english[f"{it['question_id']}:question"], question) if phase and question else ("", "")
                    texts.append(in_context.sent_as(it["english"], hints_of(it), *context))
                start = time.perf_counter()
                outputs = translator.translate(texts, table.languages["en"], target)
                seconds = round((time.perf_counter() - start) / len(part), 3)
                for it, text in zip(part, outputs):
                    row = {"id": it["id"], "output": text, "seconds": seconds}
                    app.append(row)
                    done[it["id"]] = row
                bar.update(len(part))
    return done


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--languages", default=",".join(DEFAULT_LANGUAGES))
    ap.add_argument("--strings", type=int, default=100)
    ap.add_argument("--split", default="val", choices=["dev", "val"])
    ap.add_argument("--translator", default="local")
    ap.add_argument("--translator-model", default=None)
    ap.add_argument("--cache-dir", default=str(ROOT / "cache"))
    ap.add_argument("--out", default=str(ROOT / "results" / "bench" / "translate_quality"))
    ap.add_argument("--spread", action="store_true", help="Questions spread over all lengths, not the shortest.")
    ap.add_argument("--held-out", action="store_true",
                    help="Leave out the questions of the default sample (100 strings): a check for what was tuned on it.")
    ap.add_argument("--glossary", default="default", help="Term base (mmlu_ml/glossary.yaml), a YAML file or 'none'.")
    ap.add_argument("--subjects", default=None, metavar="LIST",
                    help="Instead of the sample: the strings of these subjects (dev+val, one language) that hold a "
                         "term of the glossary --hinted-by, the default sample left out; with --glossary none too.")
    ap.add_argument("--hinted-by", default="default", help="The glossary that picks the strings of --subjects.")
    ap.add_argument("--protected", action="store_true",
                    help="Instead of the sample: the strings of dev+val (one language) holding a formula, code or a "
                         "blank, the default sample left out.")
    ap.add_argument("--whole", action="store_true",
                    help="`local` without its piece-by-piece attempt on texts that fail whole (to compare).")
    ap.add_argument("--plain", action="store_true", help="The plain prompt measured before any code (baseline).")
    ap.add_argument("--tag", default="", help="Suffix of the output folder, to keep prompt variants apart.")
    ap.add_argument("--labels", default=None, metavar="JSON",
                    help="Hand labels (bench/translate_quality_labels.json): how many labelled failures the checks flag.")
    ap.add_argument("--check-sacrebleu", metavar="PATH", default=None,
                    help="A folder holding sacrebleu (pip install --target PATH sacrebleu): compare chrF with it.")
    args = ap.parse_args(argv)
    languages = [x.strip() for x in args.languages.split(",") if x.strip()]
    # The same sample whichever languages run: questions Okapi has in the five default ones (and any other asked).
    sample = DEFAULT_LANGUAGES + [x for x in languages if x not in DEFAULT_LANGUAGES]
    held_out = frozenset(it["question_id"] for it in select(sample, 100, args.split)) if args.held_out else frozenset()
    items = select(sample, args.strings, args.split, args.spread, held_out)
    if args.subjects:  # the same strings whatever --glossary says, so runs with and without compare
        from mmlu_ml.translate import glossary as glossary_mod
        default_ids = frozenset(it["id"] for it in select(sample, 100, "val"))
        items = subject_items(args.subjects.split(","), languages[0], default_ids, glossary_mod.load(args.hinted_by))
    if args.protected:
        items = protected_items(languages[0], frozenset(it["id"] for it in select(sample, 100, "val")))
    if args.plain:
        use_plain_prompt()
    if args.whole:
        from mmlu_ml.translate.translators.local import LocalTranslator
        LocalTranslator.split_failures = False
    translator = _translator(args.translator, args.translator_model, Path(args.cache_dir))
    from mmlu_ml.translate import glossary as glossary_mod
    glossary = glossary_mod.load(args.glossary)
    folder = Path(args.out) / f"{args.translator}{args.tag}" / (
        f"subjects-{args.subjects.replace(',', '+')}" if args.subjects else "protected" if args.protected else
        args.split + ("-spread" if args.spread else "") + ("-held-out" if args.held_out else ""))
    summary = {"translator": translator.fingerprint(), "glossary": glossary.describe() if glossary else None,
               "split": "dev+val" if args.subjects or args.protected else args.split, "strings": len(items),
               "questions": len({it["question_id"] for it in items}), "languages": {}}
    for lang in languages:
        outputs = translate_missing(items, lang, translator, folder / f"{lang}.jsonl", glossary)
        hyps = [outputs[it["id"]]["output"] or "" for it in items]
        refs = [it["refs"][lang] for it in items]
        copy = [it["english"] for it in items]
        row = {"chrf": round(chrf(hyps, refs), 1), "chrf_95": [round(x, 1) for x in chrf_interval(hyps, refs)],
               "copy_english_chrf": round(chrf(copy, refs), 1),
               "failed": sum(1 for it in items if outputs[it["id"]]["output"] is None),
               "spans_lost": sum(1 for it in items if any(
                   span not in (outputs[it["id"]]["output"] or "") for span in protect.spans(it["english"]))),
               "seconds_per_string": round(sum(outputs[it["id"]]["seconds"] for it in items) / len(items), 2)}
        row.update(flag_rates(items, outputs, lang))
        if args.labels:
            run = args.tag.lstrip("-") or args.translator  # labels are kept per run: p6, plain, ...
            row.update(label_recall(items, outputs, lang, json.loads(Path(args.labels).read_text()), run))
        if args.check_sacrebleu:
            sys.path.append(args.check_sacrebleu)
            import sacrebleu
            row["sacrebleu_chrf"] = round(sacrebleu.corpus_chrf(hyps, [refs]).score, 1)
        summary["languages"][lang] = row
        print(lang, json.dumps(row), flush=True)
    from mmlu_ml.core.records import write_json
    write_json(folder / "summary.json", summary)
    print(f"{len(items)} strings ({summary['questions']} questions) of {summary['split']}; summary: {folder / 'summary.json'}")
    return 0


def _language(code: str):
    from mmlu_ml.core.languages import load as load_languages
    return load_languages().languages[code]


def _pairs(items: list[dict], outputs: dict) -> list:
    """(English, translated) Question pairs for the questions of `items`; untranslatable fields copied."""
    from dataclasses import replace
    by_question: dict[str, dict[str, str]] = {}
    for it in items:
        by_question.setdefault(it["question_id"], {})[it["field"]] = outputs[it["id"]]["output"] or ""
    pairs = []
    for qid, fields in by_question.items():
        subject, split, index = qid.rsplit("/", 2)
        english = _csv_rows(split, subject)[int(index)]
        texts = [fields.get(f, orig) for f, orig in zip(FIELDS, (english.question, *english.choices))]
        pairs.append((english, replace(english, question=texts[0], choices=tuple(texts[1:]))))
    return pairs


def flag_rates(items: list[dict], outputs: dict, lang: str) -> dict:
    """Share of strings any check flags (0 until mmlu_ml.core.checks is importable)."""
    try:
        from mmlu_ml.core import checks
    except ImportError:
        return {}
    flagged = checks.flagged_strings(_pairs(items, outputs), _language(lang))
    keys = {it["id"] for it in items}
    hit = {k for names in flagged.values() for k in names if k in keys}
    return {"flagged": round(len(hit) / len(items), 3),
            "flagged_by_check": {name: len(set(v) & keys) for name, v in flagged.items() if set(v) & keys}}


def label_recall(items: list[dict], outputs: dict, lang: str, labels: dict, run: str) -> dict:
    """Hand labels of this run and language (bench/translate_quality_labels.json): of the strings labelled
    answered / echo / loop, how many a check flags; of the others (ok), how many are flagged anyway."""
    from mmlu_ml.core import checks
    if lang not in labels.get("labelled", {}).get(run, []):
        return {}
    bad = labels["labels"].get(run, {}).get(lang, {})
    flagged = {k for keys in checks.flagged_strings(_pairs(items, outputs), _language(lang)).values() for k in keys}
    ids = [it["id"] for it in items]
    out = {"labelled": len(ids), "labelled_bad": {}, "bad_flagged": {}}
    for kind in ("answered", "echo", "loop"):
        mine = [k for k in ids if bad.get(k) == kind]
        out["labelled_bad"][kind] = len(mine)
        out["bad_flagged"][kind] = sum(k in flagged for k in mine)
    ok = [k for k in ids if k not in bad]
    out["ok_flagged"] = sum(k in flagged for k in ok)
    return out


if __name__ == "__main__":
    sys.exit(main())
