"""Row (c) of the evaluate benchmark: lm-evaluation-harness, stock, on the same questions and GGUF model.

lm-eval's `gguf` model scores each choice by the echoed prompt log-probabilities of an OpenAI-compatible
llama.cpp server (here llama-cpp-python's, the one our `openai:` backend is tested against). Its built-in MMLU
task reads the hub, so `bench/lm_eval_task/` holds a task with lm-eval's own mmlu prompt over the local CSVs.
lm-eval runs in its own virtualenv (never ours), driven one question at a time so that a time cap still
leaves every finished question; the prompt it sent is checked against our `mmlu5` protocol's.

Default workload (issue 4): Qwen2.5-Coder 1.5B Q4_K_M, 5 shots, English, the first 20 test questions of the
first 10 subjects (alphabetical), as many as fit in 30 minutes.

  python bench/lm_eval_compare.py --setup       # once: python3.11 -m venv /work/lmeval-venv; pip install lm-eval
  python bench/lm_eval_compare.py --output bench/results/lm_eval.json     # the full run (up to ~32 minutes)
  python bench/lm_eval_compare.py --model gemma-3-270m-q4_k_m --subjects 1 --questions 1 --shots 0 --time-cap 300

The output JSON is what `bench/evaluate_speed.py --lmeval-results FILE` reads as row (c): questions, seconds,
peak_rss_mb, predictions {id: letter}, plus accuracy, how many questions had every choice scored 0.0, the
answer distribution, and the full configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_DIR = Path(__file__).resolve().parent / "lm_eval_task"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # support/llama_server.py: the server launcher the openai backend's tests use

from mmlu_ml.llama import assets  # noqa: E402
from mmlu_ml.core import mmlu  # noqa: E402
from mmlu_ml.core import protocols as prompts  # noqa: E402
from mmlu_ml.core.languages import load as load_languages  # noqa: E402
from mmlu_ml.core.subjects import SUBJECTS  # noqa: E402

LM_EVAL = "lm-eval==0.4.13"  # the version measured in ../shared/notes/peers.md


def setup(venv: Path) -> None:
    """A separate virtualenv for lm-eval: its dependencies never touch ours."""
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", LM_EVAL], check=True)


def lm_eval_version(venv: Path) -> str | None:
    proc = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import importlib.metadata as m; print(m.version('lm_eval'))"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def expected_prompt(source: str, subject: str, index: int, shots: int) -> str:
    """Our mmlu5 protocol's prompt for one question, to compare with the context lm-eval sent."""
    proto = prompts.get("mmlu5", shots)
    ds = mmlu.load(source, [subject], ["dev", "test"])
    dev = [q for q in ds.questions if q.split == "dev"]
    test = [q for q in ds.questions if q.split == "test"]
    en = load_languages().languages["en"]
    return proto.prefix(subject, en, dev, None) + proto.suffix(test[index], en)


def summarize(lines: list[dict], planned: int, wall_s: float, server_rss: float | None, config: dict,
              source: str) -> dict:
    done = [r for r in lines if r.get("event") == "question"]
    seconds = sum(r["seconds"] for r in done)
    driver_rss = max((r.get("max_rss_mb", 0) for r in lines), default=0)
    correct = sum(r["predicted"] == r["gold"] for r in done)
    prompt_check = None
    if done and done[0].get("context") is not None:
        subject, _, index = done[0]["id"].rsplit("/", 2)
        ours = expected_prompt(source, subject, int(index), config["shots"])
        prompt_check = {"id": done[0]["id"], "identical": done[0]["context"] == ours,
                        "continuations": done[0].get("continuations")}
    stopped = next((r.get("reason") for r in lines if r.get("event") == "stopped"), None)
    return {
        "questions": len(done), "questions_planned": planned, "seconds": round(seconds, 2),
        "questions_per_s": round(len(done) / seconds, 5) if seconds else None, "wall_s": round(wall_s, 1),
        "stopped_by": stopped or ("done" if any(r.get("event") == "done" for r in lines) else "driver ended early"),
        "correct": correct, "accuracy": round(correct / len(done), 4) if done else None,
        "all_choices_zero": sum(all(v == 0.0 for v in r["loglikelihoods"]) for r in done),
        "answer_distribution": dict(sorted(Counter(r["predicted"] for r in done).items())),
        "gold_distribution": dict(sorted(Counter(r["gold"] for r in done).items())),
        "peak_rss_mb": round((server_rss or 0) + driver_rss),
        "peak_rss_mb_parts": {"server": round(server_rss or 0), "lm_eval": round(driver_rss)},
        "predictions": {r["id"]: r["predicted"] for r in done},
        "loglikelihoods": {r["id"]: r["loglikelihoods"] for r in done},
        "prompt_check": prompt_check, "config": config,
        "notes": "lm-eval stock gguf model (echoed prompt log-probabilities) against llama-cpp-python's server",
    }


def main(argv=None) -> dict:
    from mmlu_ml.llama.load import runtime
    runtime()  # the OpenMP wait policy, decided here as the tool decides it, and inherited by the modes run below
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m", help="GGUF name or path")
    parser.add_argument("--source", default=os.environ.get("MMLU_ML_SOURCE", str(ROOT.parent / "shared" / "mmlu")))
    parser.add_argument("--subjects", default="10", help="a count (the first N alphabetically) or names, comma-separated")
    parser.add_argument("--questions", type=int, default=20, help="first N test questions of each subject")
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--time-cap", type=float, default=1800, help="seconds lm-eval may run (default 30 min)")
    parser.add_argument("--venv", default="/work/lmeval-venv", help="lm-eval's own virtualenv")
    parser.add_argument("--setup", action="store_true", help=f"create --venv and pip install {LM_EVAL}, then exit")
    parser.add_argument("--n-ctx", type=int, default=4096, help="server context (5-shot prompts reach ~3k tokens)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cache-dir", default=str(ROOT / "cache"))
    parser.add_argument("--output", default=None, help="write the results JSON here")
    args = parser.parse_args(argv)

    venv = Path(args.venv)
    if args.setup:
        setup(venv)
        print(f"lm-eval {lm_eval_version(venv)} in {venv}")
        return {}
    version = lm_eval_version(venv)
    if version is None:
        raise SystemExit(f"lm-eval is not installed in {venv}; run: python {Path(__file__).name} --setup")
    subjects = list(SUBJECTS[: int(args.subjects)]) if args.subjects.isdigit() else args.subjects.split(",")
    unknown = [s for s in subjects if s not in SUBJECTS]
    if unknown:
        raise SystemExit(f"unknown subjects {unknown}; see `mmlu-ml data`")
    model_path = assets.resolve(args.model, args.cache_dir)
    from support.llama_server import start

    config = {"lm_eval": version, "model": args.model, "model_file": model_path.name,
              "server": "llama-cpp-python " + __import__("llama_cpp").__version__, "n_ctx": args.n_ctx,
              "threads": args.threads, "task": "bench/lm_eval_task/mmlu_local.yaml (lm-eval's mmlu prompt)",
              "shots": args.shots, "subjects": subjects, "questions_per_subject": args.questions,
              "time_cap_s": args.time_cap, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="lm_eval_compare.") as scratch:
        scratch = Path(scratch)
        print(f"starting llama-cpp-python's server on {model_path.name}...", file=sys.stderr, flush=True)
        server = start(model_path, args.model, scratch / "server.log", n_ctx=args.n_ctx, threads=args.threads)
        progress = scratch / "progress.jsonl"
        started, cut = time.time(), False
        try:
            command = [str(venv / "bin" / "python"), str(TASK_DIR / "driver.py"),
                       "--base-url", server.base_url.removesuffix("/v1"), "--mmlu-dir", args.source,
                       "--subjects", ",".join(subjects), "--questions", str(args.questions), "--shots", str(args.shots),
                       "--deadline", str(started + args.time_cap), "--output", str(progress)]
            print(f"lm-eval {version}: {len(subjects) * args.questions} questions, cap {args.time_cap:.0f} s "
                  f"(progress: {progress})", file=sys.stderr, flush=True)
            with open(scratch / "lm_eval.log", "wb") as log:
                driver = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
                try:  # the driver stops itself between questions; a question still running at the cap is cut
                    driver.wait(timeout=args.time_cap + 5)
                except subprocess.TimeoutExpired:
                    driver.kill()
                    driver.wait()
                    cut = True
            server_rss = server.peak_rss_mb()
        finally:
            server.stop()
        wall = time.time() - started
        lines = [json.loads(line) for line in progress.read_text().splitlines() if line.strip()] \
            if progress.exists() else []
        if cut:
            lines.append({"event": "stopped", "reason": "time cap (the question in flight was cut)"})
        elif not any(r.get("event") == "question" for r in lines) and driver.returncode != 0:
            tail = (scratch / "lm_eval.log").read_text(errors="replace")[-1500:]
            raise SystemExit(f"lm-eval failed ({driver.returncode}):\n{tail}")
    result = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              **summarize(lines, len(subjects) * args.questions, wall, server_rss, config, args.source)}
    print(f"lm-eval {version} stock gguf: {result['questions']}/{result['questions_planned']} questions in "
          f"{result['seconds']:.0f} s ({result['questions_per_s']} q/s; stopped by {result['stopped_by']}), "
          f"{result['correct']} right ({result['accuracy']}), {result['all_choices_zero']} with every choice "
          f"scored 0.0, answers {result['answer_distribution']}, peak RSS {result['peak_rss_mb']} MB "
          f"(server {result['peak_rss_mb_parts']['server']}), prompt identical to ours: "
          f"{(result['prompt_check'] or {}).get('identical')}")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
