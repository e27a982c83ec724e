"""Regenerate counts.json: what SCALE-Sim itself reports for a set of GEMMs.

    pip install -e '.[scalesim]'          # SCALE-Sim v2 (PyPI ``scalesim==2.0.2``)
    python test/inputs/scalesim/generate.py

Runs SCALE-Sim on every GEMM below (output-stationary and weight-stationary; each GEMM on one
array and two SRAM configurations) and writes, per run, what its reports say: compute cycles
(COMPUTE_REPORT.csv), SRAM reads/writes and DRAM reads/writes per operand
(DETAILED_ACCESS_REPORT.csv) and the average bandwidths (BANDWIDTH_REPORT.csv).  SCALE-Sim
counts *words* (one word = one byte here, so its "kB" SRAM sizes are kilo-words).  The config
text of every run is stored next to its counts.  Takes about a minute on one core per dataflow
and configuration; test/python/simulator/test_scalesim_counts.py reads the committed JSON.

SRAM configurations (``InterfaceBandwidth: CALC``, SCALE-Sim's default bandwidth-estimate mode,
which never stalls):
  * ``compulsory``: 1024 kB per buffer, far above every operand, so DRAM traffic is each
    operand once;
  * ``small``: 1 kB input buffers, below every reused footprint, so SCALE-Sim re-fetches every
    read from DRAM (the 1024 kB output buffer keeps output traffic compulsory).

SCALE-Sim v2 (2.0.x) is pinned: PyPI's newest ``scalesim`` is 3.0.0 (SCALE-Sim v3), which
needs an extra layout file and config sections; its OS/WS counting code is the same.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.metadata
import io
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "counts.json"

# (M, N, K, rows, cols): small odd shapes (partial row and column folds, non-square arrays) and
# scaled-down LLM linears (decode M = 1, small batches M = 8, prefill-like M = 64).
GEMMS = [
    (1, 1, 1, 8, 8),
    (20, 37, 50, 8, 8),
    (7, 100, 64, 8, 9),
    (33, 65, 129, 16, 16),
    (100, 37, 300, 16, 8),
    (1, 256, 256, 8, 8),
    (8, 384, 256, 8, 8),
    (64, 256, 512, 16, 16),
    (1, 512, 384, 16, 16),
    (8, 512, 512, 32, 32),
    (64, 384, 256, 32, 32),
]
SRAM_KB = {"compulsory": (1024, 1024, 1024), "small": (1, 1, 1024)}  # ifmap, filter, ofmap
DATAFLOWS = ("os", "ws")

CONFIG = """[general]
run_name = run

[architecture_presets]
ArrayHeight : {rows}
ArrayWidth : {cols}
IfmapSramSzkB : {ifmap_kb}
FilterSramSzkB : {filter_kb}
OfmapSramSzkB : {ofmap_kb}
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks : 1

[run_presets]
InterfaceBandwidth : CALC
"""

DETAIL_KEYS = {  # DETAILED_ACCESS_REPORT.csv column -> our key
    "SRAM IFMAP Reads": "sram_ifmap_reads", "SRAM Filter Reads": "sram_filter_reads",
    "SRAM OFMAP Writes": "sram_ofmap_writes", "DRAM IFMAP Reads": "dram_ifmap_reads",
    "DRAM Filter Reads": "dram_filter_reads", "DRAM OFMAP Writes": "dram_ofmap_writes",
}


def _read_report(path: Path) -> dict[str, str]:
    with open(path) as f:
        rows = [[c.strip() for c in row] for row in csv.reader(f)]
    return dict(zip(rows[0], rows[1]))


def run_one(job: tuple) -> dict:
    from scalesim.scale_sim import scalesim

    (M, N, K, rows, cols), sram, dataflow = job
    ifmap_kb, filter_kb, ofmap_kb = SRAM_KB[sram]
    config = CONFIG.format(rows=rows, cols=cols, ifmap_kb=ifmap_kb, filter_kb=filter_kb,
                           ofmap_kb=ofmap_kb, dataflow=dataflow)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "scale.cfg").write_text(config)
        (d / "gemm.csv").write_text(f"Layer, M, N, K,\ngemm, {M}, {N}, {K},\n")
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=str(d / "scale.cfg"),
                           topology=str(d / "gemm.csv"), input_type_gemm=True)
            sim.run_scale(top_path=str(d))
        seconds = time.perf_counter() - t
        compute = _read_report(d / "run" / "COMPUTE_REPORT.csv")
        detail = _read_report(d / "run" / "DETAILED_ACCESS_REPORT.csv")
        bandwidth = _read_report(d / "run" / "BANDWIDTH_REPORT.csv")
    rec = {"M": M, "N": N, "K": K, "rows": rows, "cols": cols, "dataflow": dataflow, "sram": sram,
           "total_cycles": int(compute["Total Cycles"]), "stall_cycles": int(compute["Stall Cycles"])}
    rec["compute_cycles"] = rec["total_cycles"] - rec["stall_cycles"]
    rec.update({ours: int(float(detail[theirs])) for theirs, ours in DETAIL_KEYS.items()})
    rec["bandwidth_report"] = {k: float(v) for k, v in bandwidth.items() if k and k != "LayerID"}
    rec["seconds"] = round(seconds, 1)
    print(f"{dataflow} {sram:10} {M}x{N}x{K} on {rows}x{cols}: {rec['compute_cycles']} cycles, "
          f"{seconds:.1f} s", file=sys.stderr)
    return rec


def main() -> None:
    jobs = [(g, sram, df) for df in DATAFLOWS for sram in SRAM_KB for g in GEMMS]
    with ProcessPoolExecutor() as pool:
        runs = list(pool.map(run_one, jobs))
    for r in runs:
        del r["seconds"]  # keep the fixture reproducible byte for byte
    out = {
        "generator": "test/inputs/scalesim/generate.py",
        "scalesim_version": importlib.metadata.version("scalesim"),
        "word_bytes": 1,
        "config_template": CONFIG,
        "sram_kb": {k: dict(zip(("ifmap", "filter", "ofmap"), v)) for k, v in SRAM_KB.items()},
        "topology": "Layer, M, N, K,\\ngemm, <M>, <N>, <K>,  (GEMM mode: input_type_gemm=True)",
        "runs": runs,
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT} ({len(runs)} runs)", file=sys.stderr)


if __name__ == "__main__":
    main()
