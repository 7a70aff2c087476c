"""Evaluate-stage speed: prefix reuse (ours) against the naive way and the token floor, on one GGUF model.

Default workload (issue 4): Qwen2.5-Coder 1.5B Q4_K_M, protocol mmlu5 (5 shots, lm-eval's prompt), English,
the first 20 test questions of the first 10 subjects (alphabetical): 200 questions.

  (a) ours   llamacpp backend, each subject's prefix kept in the KV cache, only each question's tokens evaluated
  (b) naive  the same backend with reuse off: the whole prompt evaluated for every question
  (c) lm-eval  measured elsewhere (its stock gguf model + llama-cpp-python's server, a task over local CSVs):
             pass its figures with --lmeval-results FILE; --write-questions FILE writes the exact prompts
  (d) floor  each subject's prefix once + each question's own tokens (counted by the tokenizer, no model run)

Each of (a) and (b) runs in its own process, so its peak memory (max RSS) is its own. Questions/s exclude the
model load. Targets: (a) tokens <= 1.05 x floor, (a) q/s >= 4 x (b), (a) agrees with (b) on >= 97%, < 3 GB.

  python bench/evaluate_speed.py                        # the full workload (long: run it on an idle machine)
  python bench/evaluate_speed.py --subjects 2 --questions 2 --model gemma-3-270m-q4_k_m   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mmlu_ml.core import mmlu  # noqa: E402
from mmlu_ml.core import protocols as prompts  # noqa: E402
from mmlu_ml.core.languages import load as load_languages  # noqa: E402
from mmlu_ml.core.subjects import SUBJECTS  # noqa: E402

TARGETS = {"tokens_vs_floor": 1.05, "speedup_vs_naive": 4.0, "agreement_with_naive": 0.97, "peak_rss_mb": 3072}


def workload(source: str, subjects: list[str], questions: int, protocol: str, shots: int | None):
    """[(subject, prefix, [(id, gold, suffix)])] - the exact prompts every mode scores."""
    proto = prompts.get(protocol, shots)
    en = load_languages().languages["en"]
    ds = mmlu.load(source, subjects, ["dev", "test"])
    groups = []
    for subject in subjects:
        dev = [q for q in ds.questions if q.subject == subject and q.split == "dev"]
        test = [q for q in ds.questions if q.subject == subject and q.split == "test"][:questions]
        prefix = proto.prefix(subject, en, dev, None)
        groups.append((subject, prefix, [(q.id, q.answer, proto.suffix(q, en)) for q in test]))
    return proto, groups


def run_mode(mode: str, model: str, cache_dir: str, groups, letters, n_threads: int | None) -> dict:
    """In a child process: load the model, score every group; time, tokens, predictions and peak memory."""
    from mmlu_ml.evaluate.models.llamacpp import LlamaCppModel

    started = time.perf_counter()
    m = LlamaCppModel(model, Path(cache_dir), reuse_prefix=(mode == "ours"), n_threads=n_threads)
    loaded = time.perf_counter()
    predictions, errors = {}, 0
    for _subject, prefix, items in groups:
        results = m.letter_logprobs(prefix, [s for _, _, s in items], letters)
        for (qid, _gold, _s), r in zip(items, results):
            if isinstance(r, Exception):
                errors += 1
            else:
                predictions[qid] = max("ABCD", key=lambda k: r[k])
    done = time.perf_counter()
    out = {"mode": mode, "load_s": loaded - started, "seconds": done - loaded, "questions": len(predictions),
           "errors": errors, "evaluated_tokens": m.evaluated_tokens, "predictions": predictions,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "fingerprint": m.fingerprint(),
           "openmp_waits": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")},
           "load_average_at_end": round(os.getloadavg()[0], 2)}
    if mode == "ours":  # the floor and the naive total, counted with the same tokenizer
        tok = lambda text: len(m._tokens(text))  # noqa: E731
        out["floor_tokens"] = sum(tok(p) + sum(tok(p + s) - tok(p) for _, _, s in items) for _, p, items in groups)
        out["full_tokens"] = sum(tok(p + s) for _, p, items in groups for _, _, s in items)
    return out


def measure(mode: str, argv: list[str], scratch: Path) -> dict:
    """Run one mode as `python evaluate_speed.py ... --child-mode MODE`, so its peak RSS is its own."""
    result_file = scratch / f"{mode}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv,
           "--child-mode", mode, "--child-output", str(result_file)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"mode {mode} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return json.loads(result_file.read_text(encoding="utf-8"))


def agreement(a: dict, b: dict) -> float:
    common = set(a) & set(b)
    return sum(a[k] == b[k] for k in common) / len(common) if common else float("nan")


def summarize(runs: dict, gold: dict) -> dict:
    rows = {}
    for mode, r in runs.items():
        preds = r.get("predictions", {})
        rows[mode] = {
            "questions": r.get("questions"), "seconds": round(r["seconds"], 2) if r.get("seconds") else None,
            "questions_per_s": round(r["questions"] / r["seconds"], 3) if r.get("seconds") else None,
            "evaluated_tokens": r.get("evaluated_tokens"),
            "peak_rss_mb": round(r["peak_rss_mb"]) if r.get("peak_rss_mb") else None,
            "accuracy": round(sum(preds[k] == gold[k] for k in preds) / len(preds), 4) if preds else None,
            "agreement_with_naive": (round(agreement(preds, runs["naive"]["predictions"]), 4)
                                     if "naive" in runs and preds and mode != "naive" else None)}
    checks = {}
    ours, naive = runs.get("ours"), runs.get("naive")
    if ours:
        checks["tokens_vs_floor"] = round(ours["evaluated_tokens"] / ours["floor_tokens"], 4)
        checks["peak_rss_mb"] = round(ours["peak_rss_mb"])
        rows["floor"] = {"evaluated_tokens": ours["floor_tokens"]}
    if ours and naive:
        rate = lambda r: r["questions"] / r["seconds"]  # noqa: E731
        checks["speedup_vs_naive"] = round(rate(ours) / rate(naive), 3)
        checks["agreement_with_naive"] = round(agreement(ours["predictions"], naive["predictions"]), 4)
    passed = {k: (v <= TARGETS[k] if k in ("tokens_vs_floor", "peak_rss_mb") else v >= TARGETS[k])
              for k, v in checks.items()}
    return {"rows": rows, "checks": checks, "targets": TARGETS, "passed": passed}


def markdown(summary: dict) -> str:
    lines = ["| way | questions | q/s | evaluated tokens | peak RSS MB | accuracy | agrees with naive |",
             "|---|---|---|---|---|---|---|"]
    for mode, r in summary["rows"].items():
        cells = [r.get(k) for k in ("questions", "questions_per_s", "evaluated_tokens", "peak_rss_mb", "accuracy",
                                    "agreement_with_naive")]
        lines.append(f"| {mode} | " + " | ".join("-" if c is None else f"{c:,}" if isinstance(c, int) else str(c)
                                                  for c in cells) + " |")
    lines.append("")
    lines += [f"- {k}: {v} (target {'<=' if k in ('tokens_vs_floor', 'peak_rss_mb') else '>='} "
              f"{summary['targets'][k]}) {'PASS' if summary['passed'][k] else 'FAIL'}"
              for k, v in summary["checks"].items()]
    return "\n".join(lines)


def main(argv=None) -> dict:
    from mmlu_ml.llama.load import runtime
    runtime()  # the OpenMP wait policy, decided here as the tool decides it, and inherited by the modes run below
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m", help="GGUF name or path")
    parser.add_argument("--source", default=os.environ.get("MMLU_ML_SOURCE", str(ROOT.parent / "shared" / "mmlu")))
    parser.add_argument("--subjects", default="10",
                        help="a count (the first N alphabetically) or names, comma-separated")
    parser.add_argument("--questions", type=int, default=20, help="first N test questions of each subject")
    parser.add_argument("--protocol", default="mmlu5", choices=sorted(prompts.PROTOCOLS))
    parser.add_argument("--shots", type=int, default=None)
    parser.add_argument("--modes", default="ours,naive", help="ours, naive (the floor comes with ours)")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    parser.add_argument("--cache-dir", default=str(ROOT / "cache"))
    parser.add_argument("--output", default=None, help="write the full results as JSON here")
    parser.add_argument("--write-questions", default=None,
                        help="write the workload (id, gold, prefix, suffix) as JSONL for the lm-eval step, then exit")
    parser.add_argument("--lmeval-results", default=None,
                        help="JSON from the lm-eval step: {questions, seconds, peak_rss_mb, predictions {id: letter}, "
                             "evaluated_tokens?, notes?}; shown as row (c)")
    parser.add_argument("--previous", default=None, metavar="JSON",
                        help="an earlier --output of the same workload: its runs fill in the modes not measured now "
                             "(e.g. --modes '' --previous OLD --lmeval-results LM adds row (c) without re-running)")
    parser.add_argument("--child-mode", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-output", default=None, help=argparse.SUPPRESS)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)

    subjects = list(SUBJECTS[: int(args.subjects)]) if args.subjects.isdigit() else args.subjects.split(",")
    proto, groups = workload(args.source, subjects, args.questions, args.protocol, args.shots)
    gold = {qid: g for _, _, items in groups for qid, g, _ in items}
    if args.write_questions:
        with open(args.write_questions, "w", encoding="utf-8") as f:
            for subject, prefix, items in groups:
                for qid, g, suffix in items:
                    f.write(json.dumps({"id": qid, "subject": subject, "gold": g, "prefix": prefix, "suffix": suffix,
                                        "letters": list(proto.letters)}, ensure_ascii=False) + "\n")
        print(f"wrote {len(gold)} prompts to {args.write_questions}")
        return {}
    if args.child_mode:
        result = run_mode(args.child_mode, args.model, args.cache_dir, groups, list(proto.letters), args.threads)
        Path(args.child_output).write_text(json.dumps(result), encoding="utf-8")
        return result
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        load_at_start = round(os.getloadavg()[0], 2)
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            print(f"[{mode}] scoring {len(gold)} questions of {len(groups)} subjects...", file=sys.stderr, flush=True)
            runs[mode] = measure(mode, argv, Path(scratch))
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    measured_at = {mode: created for mode in runs}
    if args.previous:
        old = json.loads(Path(args.previous).read_text(encoding="utf-8"))
        if sorted(old["runs"].get("ours", old["runs"].get("naive", {})).get("predictions", {})) != sorted(gold):
            raise SystemExit(f"{args.previous} measured another workload; run the same --subjects/--questions")
        for mode, run in old["runs"].items():
            if mode not in runs and mode != "lm-eval":
                runs[mode] = run
                measured_at[mode] = old.get("measured_at", {}).get(mode, old["created"])
    if args.lmeval_results:
        runs["lm-eval"] = json.loads(Path(args.lmeval_results).read_text(encoding="utf-8"))
        measured_at["lm-eval"] = runs["lm-eval"].get("created", args.lmeval_results)
    summary = summarize(runs, gold)
    result = {"created": created, "model": args.model,
              "protocol": proto.settings(), "subjects": subjects, "questions_per_subject": args.questions,
              "cpu_count": os.cpu_count(), "load_average_at_start": load_at_start, "measured_at": measured_at,
              "openmp_waits": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")},
              "fingerprint": runs.get("ours", runs.get("naive", {})).get("fingerprint"),
              **summary, "runs": runs}
    print(markdown(summary))
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
