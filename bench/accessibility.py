"""Accessibility benchmark: cohesion_gis against scipy, pandana and cityseer on the same work.

The work (the project's reference performance.md): for every node of a walking network, the
number of POIs within 400 m and 800 m of network distance and the gravity sum of
exp(-d / 200 m) over POIs within 800 m (cityseer's default decay at 800 m). POIs are snapped to
nodes.

Usage::

    .venv/bin/python bench/accessibility.py --workload helsinki|B|C|curve|jit|all [--repeat 3]

"End to end" is the same for every peer: from the node and edge tables (arrays, POIs already
snapped to nodes, loaded before the clock starts) to the per-node counts and gravity sums. For
cohesion_gis that is ``csr_from_edges`` (build) then ``node_aggregates_from_seeds`` (query: one
bounded search per distinct POI node to 800 m, counts and sums added as each search ends); numba's
one-off load of its compiled kernels from the cache is timed apart. cohesion_gis is also timed in
CPU seconds (all threads), which the load of a shared machine disturbs far less than wall time,
and by its fastest run. Each peer runs in a fresh subprocess
(peak memory is that process's max RSS; pandana's ``precompute`` must not run twice in one
process). Results are checked against cohesion_gis before
the times are printed. cityseer runs from ``bench/.venv`` through ``bench/_cityseer_peer.py``;
create it with ``.venv/bin/uv venv bench/.venv`` then
``.venv/bin/uv pip install --python bench/.venv/bin/python cityseer``.
Results are written to ``bench/output/results_<workload>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CITYSEER_PYTHON = HERE / ".venv" / "bin" / "python"
BETA_M = 200.0
# Peers too slow to run on a workload (measured in performance.md): pandana's build did not finish
# in 30 min on C, cityseer needs ~1 h on C; scipy is run on a sample of POIs and extrapolated.
PEERS = {
    "helsinki": ["cohesion_gis", "scipy", "pandana", "cityseer"],
    "B": ["cohesion_gis", "scipy", "pandana", "cityseer"],
    "C": ["cohesion_gis", "scipy"],
    "L10k": ["cohesion_gis", "scipy"],
    "L100k": ["cohesion_gis", "scipy"],
    "L300k": ["cohesion_gis", "scipy"],
    "L1M": ["cohesion_gis", "scipy"],
}
SCIPY_SAMPLE = 2_000


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- peers, each run in its own process ----------------------------------------------------------


def run_cohesion_gis(w: dict[str, np.ndarray], repeat: int) -> tuple[dict, dict]:
    import pandas as pd
    from _aggregates import node_aggregates_from_seeds

    from cohesion_gis.network import csr_from_edges

    ids = w["node_ids"]
    nodes = pd.DataFrame({"x": w["x"], "y": w["y"]}, index=ids)
    edges = pd.DataFrame({"u": ids[w["u"]], "v": ids[w["v"]], "length_m": w["length_m"]})
    poi = w["poi_node"]
    seeds = (poi, np.zeros(poi.size), np.arange(poi.size))
    t = time.perf_counter()
    tiny = csr_from_edges(nodes.iloc[:2], edges.iloc[:0])
    node_aggregates_from_seeds(tiny, np.array([0]), np.array([0.0]), np.array([0]))
    jit_load_s = time.perf_counter() - t
    base = rss_mb()
    builds, queries, cpus = [], [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        csr = csr_from_edges(nodes, edges)
        t1 = time.perf_counter()
        agg = node_aggregates_from_seeds(csr, *seeds, gravity_beta_m=BETA_M)
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        queries.append(t2 - t1)
        cpus.append(time.process_time() - c0)
    timing = {
        "build_s": statistics.median(builds),
        "query_s": statistics.median(queries),
        "total_s": statistics.median(np.add(builds, queries)),
        "min_total_s": float(np.min(np.add(builds, queries))),
        "cpu_s": statistics.median(cpus),
        "numba_cache_load_s": jit_load_s,
        "peak_mb": peak_mb(),
        "peak_above_inputs_mb": peak_mb() - base,
        "pairs": int(agg["count_800m"].sum()),
    }
    slow = node_aggregates_from_seeds(csr, *seeds, gravity_beta_m=800.0)  # pandana's exp(-d / r)
    result = {
        "count_400": agg["count_400m"].to_numpy(),
        "count_800": agg["count_800m"].to_numpy(),
        "gravity_800": agg["gravity_800m"].to_numpy(),
        "gravity_800_beta800": slow["gravity_800m"].to_numpy(),
    }
    return timing, result


def run_scipy(w: dict[str, np.ndarray], repeat: int) -> tuple[dict, dict]:
    import pandas as pd
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    from cohesion_gis.network import csr_from_edges

    ids = w["node_ids"]
    nodes = pd.DataFrame({"x": w["x"], "y": w["y"]}, index=ids)
    edges = pd.DataFrame({"u": ids[w["u"]], "v": ids[w["v"]], "length_m": w["length_m"]})
    poi = w["poi_node"]
    sample = poi if poi.size <= SCIPY_SAMPLE or w["x"].size < 200_000 else poi[:SCIPY_SAMPLE]
    base = rss_mb()
    t0 = time.perf_counter()
    csr = csr_from_edges(nodes, edges)
    graph = csr_array((csr.weights_m, csr.indices, csr.indptr), shape=(csr.n_nodes,) * 2)
    t1 = time.perf_counter()
    n = csr.n_nodes
    c400, c800, grav = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n)
    batch = max(1, 5_000_000 // n)
    for s in range(0, sample.size, batch):
        rows = dijkstra(graph, indices=sample[s : s + batch], limit=800.0)
        c400 += (rows <= 400.0).sum(0)
        c800 += (rows <= 800.0).sum(0)
        grav += np.where(rows <= 800.0, np.exp(-rows / BETA_M), 0.0).sum(0)
    t2 = time.perf_counter()
    scale = poi.size / sample.size
    timing = {
        "build_s": t1 - t0,
        "query_s": (t2 - t1) * scale,
        "total_s": t1 - t0 + (t2 - t1) * scale,
        "peak_mb": peak_mb(),
        "peak_above_inputs_mb": peak_mb() - base,
        "extrapolated_from_pois": int(sample.size) if scale > 1 else None,
    }
    result = {"count_400": c400, "count_800": c800, "gravity_800": grav} if scale == 1 else {}
    return timing, result


def run_pandana(w: dict[str, np.ndarray], repeat: int) -> tuple[dict, dict]:
    import pandana
    import pandas as pd

    ids = w["node_ids"]
    x = pd.Series(w["x"], index=ids)
    y = pd.Series(w["y"], index=ids)
    base = rss_mb()
    t0 = time.perf_counter()
    net = pandana.Network(
        x, y, pd.Series(ids[w["u"]]), pd.Series(ids[w["v"]]), pd.DataFrame({"w": w["length_m"]})
    )
    net.precompute(800.0)  # once per process: a second call doubles counts in pandana 0.8
    t1 = time.perf_counter()
    poi_ids = pd.Series(ids[w["poi_node"]])
    net.set(poi_ids, variable=pd.Series(np.ones(poi_ids.size)), name="poi")
    c400 = net.aggregate(400.0, type="count", decay="flat", name="poi")
    c800 = net.aggregate(800.0, type="count", decay="flat", name="poi")
    grav = net.aggregate(800.0, type="sum", decay="exp", name="poi")
    t2 = time.perf_counter()
    timing = {
        "build_s": t1 - t0,
        "query_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_mb": peak_mb(),
        "peak_above_inputs_mb": peak_mb() - base,
    }
    result = {
        "count_400": c400.reindex(ids).to_numpy(),
        "count_800": c800.reindex(ids).to_numpy(),
        "gravity_800_beta800": grav.reindex(ids).to_numpy(),
    }
    return timing, result


RUNNERS = {"cohesion_gis": run_cohesion_gis, "scipy": run_scipy, "pandana": run_pandana}


def child(peer: str, workload: str, out: Path, repeat: int) -> None:
    w = workloads.load(workload)
    timing, result = RUNNERS[peer](w, repeat)
    np.savez(out, **result)
    out.with_suffix(".json").write_text(json.dumps(timing))


# --- orchestration -------------------------------------------------------------------------------


def spawn(peer: str, workload: str, repeat: int, tmp: Path) -> tuple[dict, dict]:
    out = tmp / f"{peer}_{workload}.npz"
    if peer == "cityseer":
        if not CITYSEER_PYTHON.exists():
            return {"error": "bench/.venv with cityseer not found (see module docstring)"}, {}
        cmd = [str(CITYSEER_PYTHON), str(HERE / "_cityseer_peer.py"), workload, str(out)]
    else:
        cmd = [sys.executable, __file__, "--child", peer, "--workload", workload, "--out", str(out)]
        cmd += ["--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}, {}
    timing = json.loads(out.with_suffix(".json").read_text())
    with np.load(out) as f:
        return timing, {k: f[k] for k in f.files}


def agreement(ours: dict, theirs: dict) -> dict:
    """Share of nodes with equal counts; largest relative gravity difference."""
    found = {}
    for key in ("count_400", "count_800"):
        if key in theirs:
            found[key] = float(np.mean(ours[key] == np.round(theirs[key])))
    for key in ("gravity_800", "gravity_800_beta800"):
        if key in theirs:
            a, b = ours[key], np.nan_to_num(theirs[key])
            rel = np.abs(a - b) / np.maximum(np.abs(a), 1e-9)
            found[key + "_max_rel_diff"] = float(rel.max())
    return found


def bench_workload(name: str, repeat: int) -> dict:
    w = workloads.load(name)
    n_nodes, n_edges, n_pois = w["x"].size, w["u"].size, w["poi_node"].size
    print(f"\n== {name}: {n_nodes:,} nodes, {n_edges:,} edges, {n_pois:,} POIs")
    report: dict = {"workload": name, "nodes": n_nodes, "edges": n_edges, "pois": n_pois}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {peer: spawn(peer, name, repeat, Path(tmp)) for peer in PEERS[name]}
    ours_t, ours = runs["cohesion_gis"]
    for peer, (timing, result) in runs.items():
        if peer != "cohesion_gis" and result:
            timing["agreement"] = agreement(ours, result)
        report[peer] = timing
    for peer, (timing, _) in runs.items():
        if "error" in timing:
            print(f"  {peer:13s} FAILED: {timing['error']}")
            continue
        line = (
            f"  {peer:13s} build {timing['build_s']:8.3f} s  query {timing['query_s']:8.3f} s  "
            f"total {timing['total_s']:8.3f} s  peak RSS {timing['peak_mb']:7.0f} MB "
            f"(+{timing['peak_above_inputs_mb']:.0f})"
        )
        if "cpu_s" in timing:
            line += f"  [cpu {timing['cpu_s']:.3f} s, fastest {timing['min_total_s']:.3f} s]"
        if peer != "cohesion_gis":
            line += f"  cohesion_gis is {timing['total_s'] / ours_t['total_s']:6.1f}x faster"
        if timing.get("extrapolated_from_pois"):
            line += f"  [query extrapolated from {timing['extrapolated_from_pois']} POIs]"
        print(line)
        if "agreement" in timing:
            print(f"  {'':13s} agreement: {timing['agreement']}")
    if "numba_cache_load_s" in ours_t:
        print(f"  numba cache load (one-off per process): {ours_t['numba_cache_load_s']:.2f} s")
    return report


def bench_jit() -> dict:
    """Numba compile time with a cold cache, and load time from the cache, each in a new process."""
    code = (
        "import time, numpy as np, pandas as pd\n"
        "t = time.perf_counter()\n"
        "from _aggregates import node_aggregates_from_seeds\n"
        "from cohesion_gis.network import csr_from_edges\n"
        "t1 = time.perf_counter()\n"
        "n = pd.DataFrame({'x': [0.0, 1.0], 'y': [0.0, 0.0]}, index=[1, 2])\n"
        "e = pd.DataFrame({'u': [1], 'v': [2], 'length_m': [1.0]})\n"
        "node_aggregates_from_seeds(csr_from_edges(n, e), np.array([0]), np.zeros(1),"
        " np.array([0]))\n"
        "print(t1 - t, time.perf_counter() - t1)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                env=env,
                check=True,
                cwd=HERE,
            )
            runs.append([float(v) for v in out.stdout.split()])
    report = {
        "import_s": runs[1][0],
        "compile_cold_s": runs[0][1],
        "first_call_cached_s": runs[1][1],
    }
    print(
        f"\n== numba: import cohesion_gis.network {report['import_s']:.2f} s, first call "
        f"{report['compile_cold_s']:.2f} s with a cold cache (compile), "
        f"{report['first_call_cached_s']:.2f} s from the cache"
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workload", default="all", choices=["helsinki", "B", "C", "curve", "jit", "all", *PEERS]
    )
    parser.add_argument("--repeat", type=int, default=3, help="cohesion_gis runs (median)")
    parser.add_argument("--child", choices=list(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workload, args.out, args.repeat)
        return
    names = {
        "all": ["jit", "helsinki", "B", "C", "curve"],
        "curve": ["L10k", "L100k", "L300k", "L1M"],
    }.get(args.workload, [args.workload])
    if "curve" in names:
        names = [n for n in names if n != "curve"] + ["L10k", "L100k", "L300k", "L1M"]
    workloads.OUTPUT.mkdir(exist_ok=True)
    for name in names:
        report = bench_jit() if name == "jit" else bench_workload(name, args.repeat)
        (workloads.OUTPUT / f"results_{name}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
