"""Benchmark: all of MMLU dev+test into one language through the fake Azure server, 200 ms added per request.

Reports wall time, requests, characters billed, peak memory, and the ratio of the wall time to the bound the
request limits set (characters / 50,000 x latency / concurrency); then runs again and counts requests (0).
The fake server runs in its own interpreter, so it does not compete with the client for the GIL.

    python bench/translate_azure.py --language sw --concurrency 8
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mmlu_ml.translate import stage as translate  # noqa: E402
from mmlu_ml.core.options import Places, Selection  # noqa: E402
from mmlu_ml.translate.stage import run_translate  # noqa: E402


def stats(endpoint: str) -> dict:
    with urllib.request.urlopen(f"{endpoint}/stats", timeout=10) as r:
        return json.load(r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(ROOT.parent / "shared" / "mmlu"))
    ap.add_argument("--language", default="sw")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--with-checks", action="store_true",
                    help="also run the translation checks (language detection over every string; timed apart)")
    args = ap.parse_args()
    if not args.with_checks:
        translate.check_language = None  # measure the translation path; the checks are benchmarked on their own

    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "support" / "fake_azure.py"), "--key", "bench-key",
                               "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True)
    work = None
    try:
        port = int(server.stdout.readline().split()[1])
        endpoint = f"http://127.0.0.1:{port}"
        os.environ.update(AZURE_TRANSLATOR_KEY="bench-key", AZURE_TRANSLATOR_ENDPOINT=endpoint)
        work = Path(tempfile.mkdtemp(prefix="bench-translate-"))
        where = (Selection.parse(args.source, "all", "dev,test"), Places(work / "results", work / "cache"))
        kwargs = dict(languages=args.language, translator="azure", concurrency=args.concurrency,
                      chars_per_hour=40_000_000)
        runs = []
        for attempt in ("first", "second"):
            before = stats(endpoint)
            start, cpu = time.perf_counter(), time.process_time()
            summary = run_translate(*where, **kwargs)
            wall = time.perf_counter() - start
            after = stats(endpoint)
            sent_any = after.get("ok", 0) > before.get("ok", 0)
            sending = after["last_t"] - after["first_t"] + args.latency if sent_any else 0  # first request to last reply
            runs.append({"run": attempt, "wall_s": round(wall, 2), "client_cpu_s": round(time.process_time() - cpu, 2),
                         "send_phase_s": round(sending, 2),
                         "requests": after.get("requests", 0) - before.get("requests", 0),
                         "characters_billed": after.get("characters", 0) - before.get("characters", 0),
                         "strings": sum(r["strings"] for r in summary),
                         "sent": sum(r["sent"] for r in summary)})
        first = runs[0]
        bound = first["characters_billed"] / 50_000 * args.latency / args.concurrency
        result = {
            "language": args.language, "concurrency": args.concurrency, "latency_s": args.latency,
            "runs": runs, "bound_s": round(bound, 2), "ratio_to_bound": round(first["wall_s"] / bound, 2),
            "send_phase_ratio": round(first["send_phase_s"] / bound, 2),
            "server_ms_per_request": round(1000 * after.get("service_s", 0) / max(after.get("ok", 0), 1), 1),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        print(json.dumps(result, indent=2))
    finally:
        server.terminate()
        server.wait(10)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
