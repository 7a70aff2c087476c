"""Stage 2: score a model per language, subject and category; resumable, cached, every number signed.

Questions are grouped by (language, subject) so a backend sees one shared prefix (instruction + shots) and a
list of suffixes, and can evaluate the prefix once. Each prediction is appended to
`<out>/predictions/<model>/<protocol>/<lang>.jsonl` as soon as it exists, tagged with a config key; a rerun
skips ids already there under the same key, so a killed run resumes and never scores a question twice.
Model answers also go to a response cache keyed on the exact prompt and the model's fingerprint.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from datetime import datetime, timezone
from collections import Counter
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from tqdm import tqdm

from .. import __version__
from ..core import artifacts, mmlu, openai_client, protocols, registry, settings
from . import models, scores
from ..core.cache import Cache, key_of
from .inputs import LanguageInput, Request, load_language
from .models.base import Model
from ..core.errors import MmluMlError
from ..core.languages import load as load_languages
from ..core.paths import predictions_file
from ..core.records import LETTERS, Appender, Question, write_jsonl
from ..core.subjects import SPLITS, SUBJECTS
from ..core.checks import flagged_questions

log = logging.getLogger(__name__)


# what every model backend's constructor takes; its other keyword parameters are its --model-args
COMMON_MODEL_ARGS = ("spec", "cache_dir", "base_url", "concurrency", "seed")


def model_backend(spec: str, model_args: str | None = None) -> tuple[type[Model], str, dict]:
    """(backend class, model name, its settings) of `--model backend:name`, checked before anything is loaded."""
    kind, sep, rest = (spec or "").partition(":")
    if not sep or not rest:
        raise MmluMlError(f"--model {spec!r} needs <backend>:<model>, e.g. llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m "
                          f"(backends: {', '.join(models.MODELS)})")
    cls = registry.load(models.MODELS, kind, "model backend")
    return cls, rest, settings.parse(model_args, cls, COMMON_MODEL_ARGS, "--model-args", kind)


def load_model(spec: str, cache_dir: Path, base_url: str | None = None, concurrency: int = 4, seed: int = 0,
               model_args: str | None = None) -> Model:
    cls, name, extra = model_backend(spec, model_args)
    return cls(name, Path(cache_dir), base_url=base_url, concurrency=concurrency, seed=seed, **extra)


def config_key(fingerprint: dict, protocol: protocols.Protocol, language: str, translator: dict | str | None) -> str:
    """Everything that changes a prediction: model, protocol settings, language, translation."""
    return key_of(fingerprint, protocol.settings(), language, translator or "source")[:16]


def prefix_digest(prefix: str) -> str:
    """What a prediction row keeps of the prompt's shared start (instruction line and shots)."""
    return hashlib.sha256(prefix.encode("utf-8")).hexdigest()[:12]


def _scrub(text: str) -> str:
    """Error text goes to files; never let a key the SDK echoed go with it (scrubbed before the cut, so a key
    across the 300th character cannot leave half of itself)."""
    return openai_client.scrub(text)[:300]


def _row(q: Question, gold: str, result, protocol: protocols.Protocol, inp: LanguageInput, key: str) -> dict:
    row = {"id": q.id, "subject": q.subject, "category": q.category, "gold": gold, "predicted": None}
    if isinstance(result, BaseException):
        row.update({"correct": False, "unparsed": False, "error": _scrub(f"{type(result).__name__}: {result}")})
    elif protocol.scoring == "logprob":
        logprobs = {str(k).strip(): float(v) for k, v in result.items()}
        if not all(letter in logprobs for letter in LETTERS):
            row.update({"correct": False, "unparsed": False, "error": f"backend returned letters {sorted(logprobs)}"})
        else:
            logprobs = {letter: logprobs[letter] for letter in LETTERS}
            predicted = max(LETTERS, key=lambda letter: logprobs[letter])
            row.update({"predicted": predicted, "logprobs": logprobs, "correct": predicted == gold,
                        "unparsed": False, "error": None})
    else:
        predicted = protocols.parse_answer(result, inp.language)
        row.update({"predicted": predicted, "raw": result, "correct": predicted == gold,
                    "unparsed": predicted is None, "error": None})
    if inp.language.code != "en":
        row["translator"] = inp.translator
    if q.id in inp.tags:
        row["tags"] = inp.tags[q.id]
    row["config_key"] = key
    return row


def _ask(model: Model, fp: dict, protocol: protocols.Protocol, prefix: str, suffixes: list[str], cache: Cache) -> list:
    """Answers for one chunk, from the response cache where possible; only successes are cached."""
    if protocol.scoring == "logprob":
        keys = [key_of("letter_logprobs", fp, prefix + s, list(protocol.letters)) for s in suffixes]
    else:
        keys = [key_of("generate", fp, prefix + s, protocol.max_tokens) for s in suffixes]
    hits = cache.get_many(keys)
    todo = [i for i, k in enumerate(keys) if k not in hits]
    fresh = []
    if todo:
        if protocol.scoring == "logprob":
            fresh = model.letter_logprobs(prefix, [suffixes[i] for i in todo], list(protocol.letters))
        else:
            fresh = model.generate([prefix + suffixes[i] for i in todo], protocol.max_tokens)
        if len(fresh) != len(todo):
            raise MmluMlError(f"model backend {model.name} returned {len(fresh)} answers for {len(todo)} prompts")
        cache.put_many({keys[i]: r for i, r in zip(todo, fresh) if not isinstance(r, BaseException)})
    answers = dict(zip(todo, fresh))
    return [answers[i] if i in answers else hits[keys[i]] for i in range(len(keys))]


def evaluate_language(model: Model, fp: dict, protocol: protocols.Protocol, inp: LanguageInput, gold: dict[str, str],
                      out: Path, cache: Cache, chunk: int = 4) -> tuple[str, dict[str, dict], int]:
    """Score the questions of one language not yet scored under this configuration; returns (config key, rows,
    how many questions this call answered)."""
    code = inp.language.code
    key = config_key(fp, protocol, code, inp.translator_fingerprint if code != "en" else None)
    path = predictions_file(out, model.name, protocol.name, code)
    rows = {}
    if path.is_file():
        everything = artifacts.read_predictions(path)
        mine = [r for r in everything if r.get("config_key") == key]
        # another translation of the language keeps its rows beside these (translators.csv compares them)
        others = [r for r in everything if r.get("config_key") != key and r.get("translator")
                  and r.get("translator") != inp.translator]
        if len(mine) + len(others) != len(everything):  # an earlier configuration: its rows cannot join these
            write_jsonl(path, others + mine)
            log.warning("%s: dropped %d predictions of an earlier configuration (their answers stay in the "
                        "response cache)", path, len(everything) - len(mine) - len(others))
        rows = {r["id"]: r for r in mine}  # the last row of an id wins: a retried error is superseded
    prefixes = {subject: protocol.prefix(subject, inp.language, inp.shots.get(subject, []), inp.instructions)
                for subject in dict.fromkeys(q.subject for q in inp.questions)}
    digests = {subject: prefix_digest(prefix) for subject, prefix in prefixes.items()}
    # a row is kept only if its prompt began as this one does: a changed instruction line or shot rescores that
    # subject. A row written before rows carried the digest is kept, as it was then (a folder from before is
    # read as it was written; results/published's rows were stamped once, before any line changed)
    kept = {q.id for q in inp.questions if q.id in rows and not rows[q.id].get("error")
            and rows[q.id].get("prefix", digests[q.subject]) == digests[q.subject]}
    todo = [q for q in inp.questions if q.id not in kept]
    done = [rows[q.id] for q in inp.questions if q.id in kept]
    right, seen = sum(bool(r["correct"]) for r in done), len(done)
    with Appender(path) as app, tqdm(total=len(inp.questions), initial=len(done), desc=f"{model.name} {code}",
                                     unit="q", file=sys.stderr, dynamic_ncols=True) as bar:
        for subject, group in groupby(todo, key=lambda q: q.subject):
            group = list(group)
            prefix = prefixes[subject]
            for start in range(0, len(group), chunk):
                part = group[start:start + chunk]
                answers = _ask(model, fp, protocol, prefix, [protocol.suffix(q, inp.language) for q in part], cache)
                for q, answer in zip(part, answers):
                    row = _row(q, gold[q.id], answer, protocol, inp, key) | {"prefix": digests[subject]}
                    app.append(row)
                    rows[q.id] = row
                    if not row["error"]:
                        right, seen = right + bool(row["correct"]), seen + 1
                bar.update(len(part))
                bar.set_postfix_str(f"acc {right / seen:.1%}" if seen else "acc -")
    return key, rows, len(todo)


def _translator_label(name: str, fp: dict | None) -> str:
    if name == "source" or not fp:
        return name
    bits = [str(fp[k]) for k in ("model", "engine", "served_model") if fp.get(k)][:1]
    prompt = fp.get("prompt_version", fp.get("prompt"))
    if prompt is not None and not isinstance(prompt, (dict, list)):
        bits.append(str(prompt) if str(prompt).startswith("p") else f"p{prompt}")
    elif fp.get("api_version"):
        bits.append(str(fp["api_version"]))
    return f"{name}({','.join(bits)})" if bits else name


@dataclass(frozen=True)
class Evaluation:
    """What a run of the evaluate stage wrote: its scores.csv rows, the translator pairs it compared, and where."""

    rows: list[dict]
    pairs: list[dict]
    scores: Path
    predictions: Path


def run_evaluate(source=None, languages="gpt4", subjects="all", splits="test", limit=None, cache_dir="cache",
                 out="results", model="llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m", protocol="gpt4", shots=None,
                 eval_translator=None, base_url=None, model_concurrency=4, max_tokens=None, seed=0,
                 model_args=None) -> Evaluation:
    """The `evaluate` command. Validates every input before loading the model."""
    started = time.time()
    model_backend(model, model_args)  # a wrong backend or setting fails before anything is read
    out, cache_dir = Path(out), Path(cache_dir)
    langs = load_languages().select(languages)
    subj = mmlu.parse_list(subjects, SUBJECTS, "subject")
    spl = mmlu.parse_list(splits, SPLITS, "split")
    proto = protocols.get(protocol, shots, max_tokens)
    ds = mmlu.load(source, subj, list(dict.fromkeys(spl + (["dev"] if proto.shots else []))))
    scored_all = [q for q in ds.questions if q.split in spl]
    scored = [q for q in scored_all if limit is None or q.index < limit]
    dev = [q for q in ds.questions if q.split == "dev"]
    gold = {q.id: q.answer for q in scored}
    req = Request(source, subj, subjects in (None, "", "all"), spl, limit, out,
                  out_given=Path(out) != Path("results"))
    names = [t.strip() for t in (eval_translator or "").split(",") if t.strip()] or [None]
    inputs = [load_language(lang, scored, dev, proto, req, name)
              for lang in langs for name in (names if lang.code != "en" else [None])]
    tags = {i: t for inp in inputs for i, t in inp.tags.items()}
    for inp in inputs:  # a set's metadata is about the question, so English is grouped by it too
        if inp.language.code == "en":
            inp.tags = {q.id: tags[q.id] for q in inp.questions if q.id in tags}

    mdl = load_model(model, cache_dir, base_url, model_concurrency, seed, model_args)
    fp = mdl.fingerprint()
    cache = Cache(cache_dir / "responses.sqlite", "responses")
    chunk = max(4, 2 * model_concurrency, mdl.prompts_per_call)
    results, spent = [], {}
    try:
        for inp in inputs:
            began = time.monotonic()
            key, rows, answered = evaluate_language(mdl, fp, proto, inp, gold, out, cache, chunk)
            results.append((inp, key, rows))
            spent[key] = {"duration_s": round(time.monotonic() - began, 3), "answered": answered}
    finally:
        cache.close()
    return _write_results(mdl, fp, proto, results, ds, scored_all, limit, req, model, started, spent)


def _write_results(mdl, fp, proto, results, ds, scored_all, limit, req, spec, started, spent) -> Evaluation:
    out = req.out
    entry = f"{mdl.name}/{proto.name}"
    earlier = scores.manifest_languages(out / "evaluation.manifest.json", entry)
    short = fp.get("sha256", key_of(fp))[:8]
    fingerprint = key_of(fp)[:12]
    score_rows, by_category, by_tag, paired_rows, check_rows, per_language = [], [], [], [], [], {}
    source = {q.id: q for q in scored_all}  # the English of each question, for the translation checks
    sizes = dict(Counter(q.subject for q in scored_all))  # the split's subjects, for the whole split's estimates
    english = next(((key, rows) for inp, key, rows in results if inp.language.code == "en"), None)
    if english is None:  # pair with English predictions made by an earlier run of the same configuration
        key = config_key(fp, proto, "en", None)
        english = (key, artifacts.latest_rows(predictions_file(out, mdl.name, proto.name, "en"), key))
    primary: set[str] = set()
    for inp, key, rows in results:
        code = inp.language.code
        if code in primary:  # a second translation of a language: in translators.csv, not in scores.csv
            per_language[f"{code}@{inp.translator}"] = {"config_key": key, "translator": inp.translator,
                                                        "translator_fingerprint": inp.translator_fingerprint,
                                                        "files": inp.files, "questions": len(inp.questions)}
            continue
        primary.add(code)
        s = scores.summarize(inp.questions, rows, sizes)
        label = _translator_label(inp.translator, inp.translator_fingerprint)
        signature = artifacts.Signature(proto.name, proto.shots, label, mdl.name, short, s["n"], len(scored_all),
                                        __version__).format()
        base = {"model": mdl.name, "protocol": proto.name, "language": code}
        score_rows.append({**base, **{k: v for k, v in s.items() if k != "categories"}, "shots": proto.shots,
                           "translator": label, "model_fingerprint": fingerprint, "questions_total": len(scored_all),
                           "limit": limit, "tool_version": __version__, "signature": signature})
        by_category += scores.category_rows(base, s["categories"])
        by_tag += scores.tag_rows(base, inp.questions, rows, inp.tags)
        if code != "en" and english[1]:
            paired_rows.append({**base, **scores.paired(inp.questions, rows, english[1], sizes)})
            flagged = flagged_questions([(source[q.id], q) for q in inp.questions if q.id in source], inp.language)
            check_rows += [{**base, **r} for r in scores.paired_by_checks(inp.questions, rows, english[1], flagged)]
        per_language[code] = {"config_key": key, "translator": inp.translator,
                              "translator_fingerprint": inp.translator_fingerprint, "files": inp.files,
                              "questions": len(inp.questions), "n": s["n"], "errors": s["errors"],
                              "subjects": list(req.subjects), "splits": list(req.splits), "limit": limit,
                              "source_hash": ds.source_hash, "signature": signature,
                              "effort": scores.add_effort(earlier.get(code), key, spent[key])}
        if per_language[code]["effort"] is None:
            del per_language[code]["effort"]
        here = mdl.machine()
        if here is not None:  # a local model: the builds and CPUs its answers came from (they differ by CPU)
            per_language[code]["machines"] = scores.machines(earlier.get(code), here, spent[key]["answered"])
    scores.upsert_csv(out / "scores.csv", artifacts.SCORE_COLUMNS, score_rows, ("model", "protocol", "language"))
    scores.upsert_csv(out / "scores_by_category.csv", artifacts.CATEGORY_COLUMNS, by_category,
                      ("model", "protocol", "language", "category"))
    if paired_rows:
        scores.upsert_csv(out / "paired.csv", artifacts.PAIRED_COLUMNS, paired_rows, ("model", "protocol", "language"))
    if check_rows:
        scores.upsert_csv(out / "paired_by_checks.csv", artifacts.CHECK_COLUMNS, check_rows,
                          ("model", "protocol", "language", "questions"))
    if by_tag:
        scores.upsert_csv(out / "scores_by_tag.csv", artifacts.TAG_COLUMNS, by_tag,
                          ("model", "protocol", "language", "tag", "value"))
    pairs = translator_rows(mdl, fp, proto, results, english, req)
    if pairs:
        scores.upsert_csv(out / "translators.csv", artifacts.TRANSLATOR_COLUMNS, pairs,
                          ("model", "protocol", "language", "translator_a", "translator_b"))
    scores.update_manifest(out / "evaluation.manifest.json", entry, {
        "tool_version": __version__, "model": {"spec": spec, "name": mdl.name, "fingerprint": fp},
        "protocol": proto.settings(), "shots": proto.shots, "source": ds.source, "source_hash": ds.source_hash,
        "subjects": list(req.subjects), "splits": list(req.splits), "limit": limit, "languages": per_language,
        "duration_s": round(time.time() - started, 3),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return Evaluation(score_rows, pairs, out / "scores.csv", out / "predictions" / mdl.name / proto.name)


def translator_rows(mdl, fp: dict, proto, results, english, req) -> list[dict]:
    """translators.csv: every pair of translations of a language scored under this model and protocol, this run's
    and earlier runs' alike (each found under its own translations/ folder and configuration key)."""
    out = []
    for code in dict.fromkeys(inp.language.code for inp, _, _ in results if inp.language.code != "en"):
        ids = {q.id for inp, _, _ in results if inp.language.code == code for q in inp.questions}
        path = predictions_file(req.out, mdl.name, proto.name, code)
        found = {}
        for tset in artifacts.translation_sets(req.out, code):
            key = config_key(fp, proto, code, tset.fingerprint(list(req.splits) + ["dev"], None))
            rows = {i: r for i, r in artifacts.latest_rows(path, key).items() if i in ids}
            if rows:
                found[tset.translator] = rows
        names = sorted(found)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                out.append({"model": mdl.name, "protocol": proto.name, "language": code, "translator_a": a,
                            "translator_b": b, **scores.translator_pair(english[1], found[a], found[b])})
    return out
