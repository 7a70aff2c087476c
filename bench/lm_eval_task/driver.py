"""Runs INSIDE the lm-evaluation-harness venv: score MMLU test questions one at a time with lm-eval's stock
`gguf` model against an OpenAI-compatible llama.cpp server, appending one JSON line per question as it
finishes, until all are done or the deadline passes (so a time cap still leaves every finished question).

  <lmeval-venv>/bin/python driver.py --base-url http://127.0.0.1:PORT --mmlu-dir DIR --subjects a,b \
      --questions 20 --shots 5 --deadline EPOCH_S --output progress.jsonl
"""

import argparse
import json
import resource
import time
from pathlib import Path


def arguments(sample):
    """(context, continuation) pairs of a logged sample, whichever shape this lm-eval version logs."""
    args = sample.get("arguments")
    if isinstance(args, dict):
        return [(a["arg_0"], a["arg_1"]) for a in args.values()]
    return [tuple(a) for a in args or []]


def main():
    parser = argparse.ArgumentParser()
    for name in ("--base-url", "--mmlu-dir", "--subjects", "--output"):
        parser.add_argument(name, required=True)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--deadline", type=float, required=True)
    args = parser.parse_args()

    import lm_eval
    from lm_eval import simple_evaluate
    from lm_eval.models.gguf import GGUFLM
    from lm_eval.tasks import TaskManager

    lm = GGUFLM(base_url=args.base_url)
    here = str(Path(__file__).resolve().parent)
    with open(args.output, "a", encoding="utf-8") as out:
        def emit(row):
            row["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            out.write(json.dumps(row) + "\n")
            out.flush()

        emit({"event": "start", "lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "?"})
        for subject in args.subjects.split(","):
            tasks = TaskManager(include_path=here, include_defaults=False,
                                metadata={"subject": subject, "mmlu_dir": args.mmlu_dir})
            for index in range(args.questions):
                if time.time() >= args.deadline:
                    emit({"event": "stopped", "reason": "time cap"})
                    return
                started = time.time()
                result = simple_evaluate(model=lm, tasks=["mmlu_local"], num_fewshot=args.shots,
                                         samples={"mmlu_local": [index]}, task_manager=tasks, log_samples=True,
                                         bootstrap_iters=0)
                [sample] = result["samples"]["mmlu_local"]
                lls = [float(r[0]) for r in sample["filtered_resps"]]
                pairs = arguments(sample)
                emit({"event": "question", "id": f"{subject}/test/{index}", "gold": "ABCD"[int(sample["target"])],
                      "predicted": "ABCD"[max(range(4), key=lambda i: lls[i])], "loglikelihoods": lls,
                      "acc": float(sample["acc"]), "seconds": time.time() - started,
                      "context": pairs[0][0] if pairs else None,
                      "continuations": [c for _, c in pairs]})
        emit({"event": "done"})


if __name__ == "__main__":
    main()
