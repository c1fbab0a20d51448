"""Per-node scheduling overhead of Kinograph's scheduler against dask's synchronous scheduler.

No-op nodes on chains and wide fan-in graphs of 100, 1,000 and 10,000 nodes; plus a cached re-run and a re-run
after one param change. Run: python bench/engine.py [--repeat N]
"""

from __future__ import annotations

import argparse
import gc
import time

from dask.local import get_sync

from nodegraph import Graph, Link, NodeInstance, NodeRegistry, Scheduler
from nodegraph.node import Node, Param, Port
from nodegraph.types import INT


class Source(Node):
    """A no-op source."""

    type_id = "bench.source"
    outputs = (Port("out", INT),)
    params = (Param("value", int, default=0),)

    def run(self, ctx, *, value):
        return {"out": value}


class Step(Node):
    """A no-op step with one input."""

    type_id = "bench.step"
    inputs = (Port("a", INT),)
    outputs = (Port("out", INT),)
    params = (Param("value", int, default=0),)
    is_output = True

    def run(self, ctx, *, a, value):
        return {"out": a}


def fan_in_class(width: int) -> type[Node]:
    """A sink with `width` inputs (node classes are plain Python, so one can be made on the fly)."""

    def run(self, ctx, **kwargs):
        return {"out": 0}

    return type("FanIn", (Node,), {
        "type_id": "bench.fan_in", "is_output": True, "run": run,
        "inputs": tuple(Port(f"in{i}", INT) for i in range(width)), "outputs": (Port("out", INT),)})


def chain(n: int) -> tuple[Graph, NodeRegistry, dict]:
    reg = NodeRegistry()
    reg.register_all((Source, Step))
    g = Graph("chain")
    g.add_node(NodeInstance("n0", "bench.source"))
    for i in range(1, n):
        g.nodes[f"n{i}"] = NodeInstance(f"n{i}", "bench.step")
        g.links.append(Link(f"n{i - 1}", "out", f"n{i}", "a"))
    g.touch()
    dsk = {"n0": (_noop,)}
    for i in range(1, n):
        dsk[f"n{i}"] = (_noop, f"n{i - 1}")
    return g, reg, {"dask": dsk, "target": f"n{n - 1}", "middle": f"n{n // 2}"}


def fan_in(n: int) -> tuple[Graph, NodeRegistry, dict]:
    reg = NodeRegistry()
    reg.register(Source)
    reg.register(fan_in_class(n - 1))
    g = Graph("fan-in")
    for i in range(n - 1):
        # distinct values: identical sources would share one cache entry (the cache is keyed by content)
        g.nodes[f"s{i}"] = NodeInstance(f"s{i}", "bench.source", {"value": i})
        g.links.append(Link(f"s{i}", "out", "sink", f"in{i}"))
    g.nodes["sink"] = NodeInstance("sink", "bench.fan_in")
    g.touch()
    dsk = {f"s{i}": (_noop,) for i in range(n - 1)}
    dsk["sink"] = (_noop, *[f"s{i}" for i in range(n - 1)])
    return g, reg, {"dask": dsk, "target": "sink", "middle": f"s{(n - 1) // 2}"}


def _noop(*args):
    return 0


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(shape: str, n: int, repeat: int) -> dict:
    graph, reg, extra = (chain if shape == "chain" else fan_in)(n)

    def cold():  # a fresh scheduler each time: nothing cached
        result = Scheduler(reg).run(graph, validate_first=False)
        assert result.ok and len(result.executed) == n, result.error

    ours = best(cold, repeat)
    dask = best(lambda: get_sync(extra["dask"], extra["target"]), repeat)
    with_validation = best(lambda: Scheduler(reg).run(graph), repeat)

    warm = Scheduler(reg)
    warm.run(graph)
    cached = best(lambda: warm.run(graph, validate_first=False), repeat)
    node = graph.nodes[extra["middle"]]
    counter = iter(range(1, 10**9))

    def one_change():
        node.params["value"] = next(counter)
        result = warm.run(graph, validate_first=False)
        one_change.executed = len(result.executed)

    changed = best(one_change, repeat)
    return {
        "shape": shape, "nodes": n,
        "ours_us": ours / n * 1e6, "dask_us": dask / n * 1e6, "ratio": ours / dask,
        "validated_us": with_validation / n * 1e6, "cached_us": cached / n * 1e6,
        "changed_ms": changed * 1e3, "changed_ran": one_change.executed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="100,1000,10000")
    args = parser.parse_args()
    rows = [measure(shape, int(n), args.repeat) for shape in ("chain", "fan-in") for n in args.sizes.split(",")]
    header = ("graph", "nodes", "kinograph µs/node", "dask sync µs/node", "ratio", "with validation µs/node",
              "cached re-run µs/node", "one param changed", "nodes re-run")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(f"| {r['shape']} | {r['nodes']:,} | {r['ours_us']:.1f} | {r['dask_us']:.1f} | {r['ratio']:.2f} | "
              f"{r['validated_us']:.1f} | {r['cached_us']:.1f} | {r['changed_ms']:.1f} ms | {r['changed_ran']:,} |")


if __name__ == "__main__":
    main()
