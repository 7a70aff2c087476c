"""Kill -9 `translate` and `evaluate` at random moments, resume, and compare with an uninterrupted run.

Translate: Azure backend against the fake server (tests/support/fake_azure.py, 300 ms per request), MMLU dev and val of all
57 subjects into Welsh, one request in flight. Evaluate: the Gemma 270M in llama.cpp, protocol mmlu5 (5 shots),
English, 6 subjects x 4 test questions. Each run is killed after a random delay, at least --kills times in all
per stage, then allowed to finish. Checks: final files equal the uninterrupted run's (translations byte for
byte; predictions as sets of (id, predicted, logprobs), scores.csv rows), no id missing or doubled, and
`PRAGMA integrity_check` is ok on every cache.

    python bench/kill_resume.py --kills 20 --shared ../shared    # prints a JSON summary
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.fake_azure import FakeAzure  # noqa: E402

KEY = "kill-resume-key-0123456789"


def cli(args, env, timeout=None):
    return subprocess.Popen([sys.executable, "-m", "mmlu_ml.cli", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def integrity(db: Path) -> str:
    if not db.exists():
        return "absent"
    with sqlite3.connect(db) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


def kill_loop(args, env, kills: int, rng: random.Random, delay: tuple[float, float], caches: list[Path]) -> dict:
    """Start, kill after a random delay, repeat `kills` times (a run that finishes first counts as no kill),
    then run to completion. Integrity of every cache is checked after each kill."""
    done_kills, finished_early, bad = 0, 0, []
    for _ in range(kills * 3):
        if done_kills >= kills:
            break
        proc = cli(args, env)
        wait = rng.uniform(*delay)
        try:
            proc.wait(wait)
            finished_early += 1  # it completed before the kill: nothing left to interrupt
            break
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            done_kills += 1
            bad += [f"{db.name}: {r}" for db in caches if (r := integrity(db)) not in ("ok", "absent")]
    final = cli(args, env)
    _, err = final.communicate(timeout=1800)
    return {"kills": done_kills, "finished_before_kill": finished_early, "final_exit": final.returncode,
            "final_stderr_tail": err.decode(errors="replace")[-300:] if final.returncode else "",
            "integrity_failures": bad}


def ids_of(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def translate_case(shared: Path, work: Path, kills: int, rng: random.Random) -> dict:
    base = ["translate", "--source", shared / "mmlu", "--translator", "azure", "--languages", "cy",
            "--splits", "dev,val", "--concurrency", "1"]
    with FakeAzure(key=KEY, latency=0.3) as fake:
        env = {**os.environ, "AZURE_TRANSLATOR_KEY": KEY, "AZURE_TRANSLATOR_ENDPOINT": fake.endpoint,
               "AZURE_TRANSLATOR_REGION": ""}
        env.pop("AZURE_TRANSLATOR_REGION")
        killed = work / "killed"
        result = kill_loop(base + ["--cache-dir", killed / "cache", "--out", killed / "out"], env, kills, rng,
                           (1.0, 6.0), [killed / "cache" / "translations.sqlite"])
        sent_killed = fake.snapshot().get("elements", 0)
        clean = work / "clean"
        proc = cli(base + ["--cache-dir", clean / "cache", "--out", clean / "out"], env)
        proc.communicate(timeout=600)
        sent_clean = fake.snapshot().get("elements", 0) - sent_killed
    a = killed / "out" / "translations" / "azure" / "cy"
    b = clean / "out" / "translations" / "azure" / "cy"
    ids = ids_of(a / "dev.jsonl")
    result.update({
        "identical_files": all((a / n).read_bytes() == (b / n).read_bytes() for n in ("dev.jsonl", "val.jsonl", "instructions.json")),
        "ids": len(ids), "ids_doubled": len(ids) - len(set(ids)),
        "ids_missing": len(set(ids_of(b / "dev.jsonl")) - set(ids)),
        "elements_sent_with_kills": sent_killed, "elements_sent_clean": sent_clean,
        "integrity_final": integrity(killed / "cache" / "translations.sqlite"),
    })
    return result


def predictions(path: Path) -> tuple[list[str], set]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["id"] for r in rows], {(r["id"], r["predicted"], json.dumps(r.get("logprobs"), sort_keys=True))
                                     for r in rows}


def score_rows(path: Path) -> list[tuple]:
    import csv
    with open(path, encoding="utf-8") as f:
        return [(r["model"], r["language"], r["n"], r["correct"], r["accuracy"]) for r in csv.DictReader(f)]


def evaluate_case(shared: Path, work: Path, kills: int, rng: random.Random, cache_dir: Path) -> dict:
    subjects = "astronomy,virology,marketing,sociology,philosophy,college_physics"
    env = {**os.environ}
    common = ["evaluate", "--source", shared / "mmlu", "--model", "llamacpp:gemma-3-270m-q4_k_m",
              "--protocol", "mmlu5", "--languages", "en", "--subjects", subjects, "--limit", "24"]
    # models are shared (joined once); responses are per run, so the clean run really computes
    import shutil
    for name in ("killed", "clean"):
        (work / name / "cache" / "models").mkdir(parents=True, exist_ok=True)
        gguf = cache_dir / "models" / "gemma-3-270m-q4_k_m.gguf"
        link = work / name / "cache" / "models" / gguf.name
        if not link.exists():
            link.symlink_to(gguf.resolve())
    killed = work / "killed"
    result = kill_loop(common + ["--cache-dir", killed / "cache", "--out", killed / "out"], env, kills, rng,
                       (1.0, 6.0), [killed / "cache" / "responses.sqlite"])
    clean = work / "clean"
    proc = cli(common + ["--cache-dir", clean / "cache", "--out", clean / "out"], env)
    proc.communicate(timeout=1800)
    rel = Path("predictions") / "gemma-3-270m-q4_k_m" / "mmlu5" / "en.jsonl"
    ids_k, set_k = predictions(killed / "out" / rel)
    ids_c, set_c = predictions(clean / "out" / rel)
    result.update({
        "ids": len(ids_k), "ids_doubled": len(ids_k) - len(set(ids_k)), "ids_missing": len(set(ids_c) - set(ids_k)),
        "same_predictions": set_k == set_c,
        "same_scores": score_rows(killed / "out" / "scores.csv") == score_rows(clean / "out" / "scores.csv"),
        "integrity_final": integrity(killed / "cache" / "responses.sqlite"),
    })
    shutil.rmtree(work / "killed" / "cache" / "models", ignore_errors=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--work", type=Path, default=ROOT / "results" / "bench" / "kill_resume")
    ap.add_argument("--cache-dir", type=Path, default=ROOT / "cache", help="where the Gemma model is (joined once)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", choices=["translate", "evaluate"], default=None)
    a = ap.parse_args()
    import shutil
    shutil.rmtree(a.work, ignore_errors=True)
    rng = random.Random(a.seed)
    out = {}
    if a.only in (None, "translate"):
        out["translate"] = translate_case(a.shared, a.work / "translate", a.kills, rng)
    if a.only in (None, "evaluate"):
        from mmlu_ml.llama import assets
        assets.resolve("gemma-3-270m-q4_k_m", a.cache_dir)
        out["evaluate"] = evaluate_case(a.shared, a.work / "evaluate", a.kills, rng, a.cache_dir)
    print(json.dumps(out, indent=2))
    ok = all(r["final_exit"] == 0 and r["ids_doubled"] == 0 and r["ids_missing"] == 0 and not r["integrity_failures"]
             and r["integrity_final"] == "ok" and r.get("identical_files", r.get("same_predictions"))
             for r in out.values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
