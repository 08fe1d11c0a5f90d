"""cityseer peer for bench/accessibility.py, run with bench/.venv/bin/python (cityseer's own venv).

Usage: ``bench/.venv/bin/python bench/_cityseer_peer.py WORKLOAD OUT.npz``;
timings go to OUT.json.

The graph is built straight into cityseer's Rust ``NetworkStructure`` (``add_street_node`` /
``add_street_edge`` in both directions, as ``io.network_structure_from_nx`` does), skipping the
networkx route that performance.md found to be > 90 % of cityseer's documented build. POIs are
assigned with ``DataMap.assign_data_to_network`` (cityseer attaches them to the nearest edge).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads


def main() -> None:
    from cityseer import config, rustalgos

    config.QUIET_MODE = True
    name, out = sys.argv[1], Path(sys.argv[2])
    w = workloads.load(name)
    xy, ptr = w["geom_xy"], w["geom_ptr"]

    def wkt(coords: list[list[float]]) -> str:
        return "LINESTRING (" + ", ".join(f"{a!r} {b!r}" for a, b in coords) + ")"

    lines = [xy[ptr[e] : ptr[e + 1]] for e in range(w["u"].size)]
    wkts = [wkt(line.tolist()) for line in lines]
    wkts_reversed = [wkt(line[::-1].tolist()) for line in lines]
    with open("/proc/self/statm") as f:
        base = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    t0 = time.perf_counter()
    ns = rustalgos.graph.NetworkStructure()
    for k in range(w["x"].size):
        ns.add_street_node(k, float(w["x"][k]), float(w["y"][k]), True, 1.0)
    for e, (a, b) in enumerate(zip(w["u"].tolist(), w["v"].tolist(), strict=True)):
        ns.add_street_edge(a, b, e, a, b, wkts[e])
        ns.add_street_edge(b, a, e, b, a, wkts_reversed[e])
    ns.build_edge_rtree()
    data = rustalgos.data.DataMap()
    for k, node in enumerate(w["poi_node"].tolist()):
        data.insert(k, f"POINT ({float(w['x'][node])!r} {float(w['y'][node])!r})")
    data.assign_data_to_network(ns, 100.0, 50)
    t1 = time.perf_counter()
    acc = data.accessibility_decays(
        ns,
        dict.fromkeys(range(w["poi_node"].size), "poi"),
        ["poi"],
        decay_fns=["1", "exp(-4 * p)"],
        distances=[400, 800],
        pbar_disabled=True,
    )
    t2 = time.perf_counter()
    flat, decayed = acc[0].result["poi"], acc[1].result["poi"]
    order = np.asarray([int(k) for k in acc[0].node_keys_py])
    result = {}
    for key, values in (
        ("count_400", flat.count[400]),
        ("count_800", flat.count[800]),
        ("gravity_800", decayed.count[800]),
    ):
        full = np.zeros(w["x"].size)
        full[order] = values
        result[key] = full
    np.savez(out, **result)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timing = {
        "build_s": t1 - t0,
        "query_s": t2 - t1,
        "total_s": t2 - t0,
        "peak_mb": peak,
        "peak_above_inputs_mb": peak - base,
    }
    out.with_suffix(".json").write_text(json.dumps(timing))


if __name__ == "__main__":
    main()
