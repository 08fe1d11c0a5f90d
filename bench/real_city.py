"""Benchmark: a whole real city end to end (load, score, sites, maps) against pyrosm's bare read.

The peer's work is pyrosm reading the same file into GeoDataFrames: the walking network, the
buildings and the POIs (amenity, leisure, tourism, shop, historic). cohesion_gis then does the
planner's job on the same file: :func:`cohesion_gis.load_city` (networks, layers, districts,
residents), the cohesion score, the hostile-vehicle site assessment and the two offline maps with
their figures. Each runs in its own child process, so each peak memory (max RSS) is its own.
Issue 14's target: Malta within 8x pyrosm's read, under 3 GB.

Run: ``.venv/bin/python bench/real_city.py [PBF ...]`` (default: Malta from ../shared/data).
Prints seconds per step, the ratio to pyrosm's read and the peak memory of each process.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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
    start = time.perf_counter()
    from pyrosm import OSM

    osm = OSM(pbf)
    _nodes, edges = osm.get_network(network_type="walking", nodes=True)
    buildings = osm.get_buildings()
    pois = osm.get_pois(
        custom_filter={"amenity": True, "leisure": True, "tourism": True, "shop": True,
                       "historic": True}
    )  # fmt: skip
    seconds = time.perf_counter() - start
    queue.put(
        {
            "steps": {"pyrosm read": seconds},
            "counts": {"walk edges": len(edges), "buildings": len(buildings), "pois": len(pois)},
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        }
    )


def _ours(pbf: str, queue: multiprocessing.Queue) -> None:
    """cohesion_gis end to end: load, score, sites, maps (imports counted in the load)."""
    steps = {}
    start = time.perf_counter()
    import cohesion_gis as cg
    from cohesion_gis.cohesion import score_districts
    from cohesion_gis.hvm.assess import assess_sites
    from cohesion_gis.pipeline import cohesion_maps, sites_maps

    city = cg.load_city(pbf)
    steps["load"] = time.perf_counter() - start
    mark = time.perf_counter()
    scores = score_districts(city, sensitivity=False)
    steps["score"] = time.perf_counter() - mark
    mark = time.perf_counter()
    sites = assess_sites(city)
    steps["sites"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        written = cohesion_maps(city, scores, out) + sites_maps(city, sites, out)
        sizes = {p.name: round(p.stat().st_size / 1e6, 1) for p in written}
    steps["maps"] = time.perf_counter() - mark
    queue.put(
        {
            "steps": steps,
            "counts": {**city.summary().drop("crs").to_dict(), "map MB": sizes},
            "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        }
    )


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
    """Run the peer and cohesion_gis on each file; print times, ratio and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pbf", nargs="*", default=[str(DATA / "malta-2018-08-27.osm.pbf")])
    for pbf in parser.parse_args().pbf:
        peer = _run(_peer, pbf)
        ours = _run(_ours, pbf)
        read_s = peer["steps"]["pyrosm read"]
        total_s = sum(ours["steps"].values())
        print(f"\n{Path(pbf).name}")
        print(f"  pyrosm read (walk network, buildings, POIs): {read_s:6.1f} s, "
              f"peak {peer['rss_gb']:.2f} GB  {peer['counts']}")  # fmt: skip
        for step, seconds in ours["steps"].items():
            print(f"  {step:<6} {seconds:6.1f} s  ({seconds / read_s:4.1f}x pyrosm)")
        ratio = total_s / read_s
        verdict = "ok" if ratio <= LIMIT_RATIO and ours["rss_gb"] <= LIMIT_RSS_GB else "OVER"
        print(f"  total  {total_s:6.1f} s = {ratio:.1f}x pyrosm's read "
              f"(target <= {LIMIT_RATIO:g}x); peak {ours['rss_gb']:.2f} GB "
              f"(target < {LIMIT_RSS_GB:g} GB): {verdict}")  # fmt: skip
        print("  " + json.dumps(ours["counts"], ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
