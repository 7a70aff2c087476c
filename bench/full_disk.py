"""Benchmark (issue 38): what a full disk costs a translation. The fake Azure server (own interpreter), MMLU dev+val
of all subjects into one language, one request in flight: a clean run's billed characters; then a run whose cache
file may not grow past a share of the clean cache's size (RLIMIT_FSIZE in the CLI's process, as `ulimit -f`
sets it), and the same command again once the limit is lifted. Prints JSON.

    python bench/full_disk.py --language cy --share 0.4
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def characters(endpoint: str) -> int:
    with urllib.request.urlopen(f"{endpoint}/stats", timeout=10) as r:
        return json.load(r).get("characters", 0)


def run(args: list, env: dict, limit: int | None = None) -> tuple[int, str]:
    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    proc = subprocess.run([sys.executable, "-m", "mmlu_ml.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600, preexec_fn=limited if limit else None)
    return proc.returncode, (proc.stderr.strip().splitlines() or [""])[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(ROOT.parent / "shared" / "mmlu"))
    ap.add_argument("--language", default="cy")
    ap.add_argument("--splits", default="dev,val")
    ap.add_argument("--share", type=float, default=0.4, help="the cache file's size limit, as a share of a clean run's")
    a = ap.parse_args()
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "support" / "fake_azure.py"), "--key", "bench-key"],
                              stdout=subprocess.PIPE, text=True)
    work = Path(tempfile.mkdtemp(prefix="bench-full-disk-"))
    try:
        endpoint = f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}"
        env = {**os.environ, "AZURE_TRANSLATOR_KEY": "bench-key", "AZURE_TRANSLATOR_ENDPOINT": endpoint,
               "PYTHONPATH": str(ROOT)}

        def args(name: str) -> list:
            return ["translate", "--translator", "azure", "--languages", a.language, "--splits", a.splits,
                    "--source", a.source, "--concurrency", "1", "--cache-dir", work / name / "cache",
                    "--out", work / name / "out"]

        c0 = characters(endpoint)
        clean_rc, _ = run(args("clean"), env)
        c1 = characters(endpoint)
        size = max(p.stat().st_size for p in (work / "clean" / "cache").glob("translations.sqlite*"))
        limit = int(size * a.share)
        full_rc, said = run(args("full"), env, limit)
        c2 = characters(endpoint)
        rerun_rc, _ = run(args("full"), env)
        c3 = characters(endpoint)
        clean, full, rerun = c1 - c0, c2 - c1, c3 - c2
        print(json.dumps({"language": a.language, "splits": a.splits, "cache_limit_bytes": limit,
                          "clean_cache_bytes": size, "exit_codes": [clean_rc, full_rc, rerun_rc],
                          "error_line": said, "billed_clean": clean, "billed_under_full_disk": full,
                          "billed_rerun": rerun, "ratio_total_to_clean": round((full + rerun) / clean, 3)}, indent=2))
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
