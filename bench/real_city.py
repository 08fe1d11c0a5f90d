"""Benchmark: a whole real city end to end (load, score, sites, maps) against pyrosm's bare read.

The peer's work is pyrosm reading the same file into GeoDataFrames: the walking network, the
buildings and the POIs (amenity, leisure, tourism, shop, historic). cohesion_gis then does the
planner's job on the same file: :func:`cohesion_gis.load_city` (networks, layers, districts,
residents), the cohesion score, the hostile-vehicle site assessment and the two offline maps with
their figures. Each runs in its own child process, so each peak memory (max RSS) is its own.
pyrosm's read counts its imports (pyrosm, geopandas); ours are a step of their own (pyrosm,
geopandas, numba, folium, matplotlib: about 2.5 s CPU on the 2-core machine), so the load step is
the loader's work alone; the total counts everything.
Issue 14's target: Malta within 8x pyrosm's read, under 3 GB.

Run: ``.venv/bin/python bench/real_city.py [PBF ...]`` (default: Malta from ../shared/data).
Prints, per step, wall and CPU seconds, their ratios to pyrosm's read and the peak memory so far
(the machine is shared: under load the wall times grow, CPU times much less, so both are shown).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import time
import warnings
from pathlib import Path
from queue import Empty

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
LIMIT_RATIO = 8.0
LIMIT_RSS_GB = 3.0


def _peer(pbf: str, queue: multiprocessing.Queue) -> None:
    """pyrosm's bare read: walk network, buildings, POIs."""
    warnings.simplefilter("ignore")
    mark = _clock()
    from pyrosm import OSM

    osm = OSM(pbf)
    _nodes, edges = osm.get_network(network_type="walking", nodes=True)
    buildings = osm.get_buildings()
    pois = osm.get_pois(
        custom_filter={"amenity": True, "leisure": True, "tourism": True, "shop": True,
                       "historic": True}
    )  # fmt: skip
    steps: dict[str, dict[str, float]] = {}
    _step(steps, "pyrosm read", mark)
    queue.put(
        {
            "steps": steps,
            "counts": {"walk edges": len(edges), "buildings": len(buildings), "pois": len(pois)},
            "rss_gb": _peak_gb(),
        }
    )


def _ours(pbf: str, queue: multiprocessing.Queue) -> None:
    """cohesion_gis end to end: imports, load, score, sites, maps."""
    steps: dict[str, dict[str, float]] = {}
    mark = _clock()
    from pyrosm import OSM  # noqa: F401 (read_pbf imports it on first use: counted here)

    import cohesion_gis as cg
    import cohesion_gis.maps.static
    from cohesion_gis.cohesion import score_districts
    from cohesion_gis.hvm.assess import assess_sites
    from cohesion_gis.pipeline import cohesion_maps, sites_maps

    mark = _step(steps, "imports (pyrosm, numba, folium)", mark)
    city = cg.load_city(pbf)
    mark = _step(steps, "load", mark)
    scores = score_districts(city, sensitivity=False)
    mark = _step(steps, "score", mark)
    sites = assess_sites(city)
    mark = _step(steps, "sites", mark)
    with tempfile.TemporaryDirectory() as out:
        written = cohesion_maps(city, scores, out)
        mark = _step(steps, "maps: cohesion (HTML, PNG, PDF)", mark)
        written += sites_maps(city, sites, out)
        mark = _step(steps, "maps: sites (HTML, PNG, PDF)", mark)
        sizes = {p.name: round(p.stat().st_size / 1e6, 1) for p in written}
    queue.put(
        {
            "steps": steps,
            "counts": {**city.summary().drop("crs").to_dict(), "map MB": sizes},
            "rss_gb": _peak_gb(),
        }
    )


def _clock() -> tuple[float, float]:
    """(wall s, CPU s of this process)."""
    return time.perf_counter(), time.process_time()


def _peak_gb() -> float:
    """Peak resident memory of this process so far (GB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _step(
    steps: dict[str, dict[str, float]], name: str, mark: tuple[float, float]
) -> tuple[float, float]:
    """Record the wall and CPU seconds since ``mark`` and the peak memory so far; a new mark."""
    now = _clock()
    steps[name] = {"wall_s": now[0] - mark[0], "cpu_s": now[1] - mark[1], "peak_gb": _peak_gb()}
    return now


def _run(target, pbf: str) -> dict:
    """Run ``target`` in a fresh process; its result, or a RuntimeError if it died."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(pbf, queue))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5.0)
        except Empty:
            if not process.is_alive():
                message = f"{target.__name__} failed (exit code {process.exitcode})"
                raise RuntimeError(message) from None
            continue
        process.join()
        return result


def main() -> None:
    """Run the peer and cohesion_gis on each file; print times, ratios and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pbf", nargs="*", default=[str(DATA / "malta-2018-08-27.osm.pbf")])
    for pbf in parser.parse_args().pbf:
        peer = _run(_peer, pbf)
        ours = _run(_ours, pbf)
        read = peer["steps"]["pyrosm read"]
        print(f"\n{Path(pbf).name} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
              "cores: wall times grow with it, CPU times much less)")  # fmt: skip
        print(
            f"  pyrosm read (walk network, buildings, POIs): {read['wall_s']:6.1f} s wall, "
            f"{read['cpu_s']:6.1f} s CPU, peak {peer['rss_gb']:.2f} GB  {peer['counts']}"
        )
        print(f"  {'step':<32} {'wall s':>7} {'ratio':>6} {'CPU s':>7} {'ratio':>6} {'peak GB':>8}")
        for step, t in ours["steps"].items():
            print(
                f"  {step:<32} {t['wall_s']:7.1f} {t['wall_s'] / read['wall_s']:5.1f}x "
                f"{t['cpu_s']:7.1f} {t['cpu_s'] / read['cpu_s']:5.1f}x {t['peak_gb']:8.2f}"
            )
        wall = sum(t["wall_s"] for t in ours["steps"].values())
        cpu = sum(t["cpu_s"] for t in ours["steps"].values())
        ratio = wall / read["wall_s"]
        verdict = "ok" if ratio <= LIMIT_RATIO and ours["rss_gb"] <= LIMIT_RSS_GB else "OVER"
        print(
            f"  {'total':<32} {wall:7.1f} {ratio:5.1f}x {cpu:7.1f} "
            f"{cpu / read['cpu_s']:5.1f}x {ours['rss_gb']:8.2f}"
        )
        print(f"  target: wall <= {LIMIT_RATIO:g}x pyrosm's read, peak < {LIMIT_RSS_GB:g} GB: "
              f"{verdict}")  # fmt: skip
        print("  " + json.dumps(ours["counts"], ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
