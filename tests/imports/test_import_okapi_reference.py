"""The Okapi import on the real data in ../shared/reference/okapi (dev and val, fr/de/zh): complete, aligned,
and the coverage it reports equal to the rows present. The data stays in ../shared; only figures are compared."""

from __future__ import annotations

import json

from conftest import SHARED, cli
from mmlu_ml.core.records import read_jsonl

OKAPI = SHARED / "reference" / "okapi"


def test_okapi_dev_val_fr_de_zh(tmp_path, mmlu_dir):
    proc = cli("import", "okapi", OKAPI, "--languages", "fr,de,zh", "--splits", "dev,val", "--source", mmlu_dir,
               "--out", tmp_path, check=True)
    assert "written:" in proc.stdout and "--translator okapi" in proc.stdout
    english = {"dev": 285, "val": 1531}
    for lang in ("fr", "de", "zh"):
        for split in ("dev", "val"):
            present = [json.loads(line) for line in (OKAPI / f"{lang}_{split}.jsonl").open(encoding="utf-8")]
            folder = tmp_path / "translations" / "okapi" / lang
            rows = list(read_jsonl(folder / f"{split}.jsonl"))
            manifest = json.loads((folder / f"{split}.manifest.json").read_text(encoding="utf-8"))
            counts = manifest["imported"]["alignment"]["counts"]
            assert counts["rows"] == counts["matched"] == len(rows) == len(present)
            assert counts["missing"] == english[split] - len(present) and counts["extra"] == 0
            assert manifest["coverage"] == round(len(present) / english[split], 6)
            by_id = {f"{r['subject']}/{r['split']}/{r['index']}": r for r in present}
            assert all(r["question"] == by_id[r["id"]]["question"] and r["answer"] == by_id[r["id"]]["answer"]
                       and r["choices"] == [by_id[r["id"]][k] for k in "ABCD"] for r in rows)
            checks = manifest["checks"]
            assert checks["questions"] == len(rows) and "not_target_language" in checks
