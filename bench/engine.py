"""Per-node scheduling overhead of Kinograph's scheduler against dask's synchronous scheduler.

No-op nodes on chains and wide fan-in graphs of 100, 1,000 and 10,000 nodes; plus a cached re-run and a re-run
after one param change. Run: python bench/engine.py [--repeat N]
With --subgraphs: what flattening 100 subgraph instances of 10 inner nodes adds to planning, against the same
graph flattened by hand.
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


def subgraph_workflows(instances: int, inner: int) -> tuple[Graph, Graph, NodeRegistry]:
    """A chain of `instances` subgraph instances of an `inner`-node chain, and the same graph flattened by hand."""
    from nodegraph.subgraphs import PortSpec, PromotedParam, SubgraphDef

    reg = NodeRegistry()
    reg.register_all((Source, Step))
    body = Graph("body")
    for i in range(inner):
        body.nodes[f"s{i}"] = NodeInstance(f"s{i}", "bench.step")
        if i:
            body.links.append(Link(f"s{i - 1}", "out", f"s{i}", "a"))
    defn = SubgraphDef("block", body, [PortSpec("a", [("s0", "a")])], [PortSpec("out", [(f"s{inner - 1}", "out")])],
                       [PromotedParam("value", [("s0", "value")])])
    nested, flat = Graph("nested"), Graph("flat")
    nested.subgraphs = {"block": defn}
    for g in (nested, flat):
        g.nodes["src"] = NodeInstance("src", "bench.source")
    previous = previous_flat = ("src", "out")
    for b in range(instances):
        nested.nodes[f"b{b}"] = NodeInstance(f"b{b}", "subgraph:block", {"value": b})
        nested.links.append(Link(*previous, f"b{b}", "a"))
        previous = (f"b{b}", "out")
        for i in range(inner):
            flat.nodes[f"b{b}_s{i}"] = NodeInstance(f"b{b}_s{i}", "bench.step", {"value": b} if i == 0 else {})
            flat.links.append(Link(*(previous_flat if i == 0 else (f"b{b}_s{i - 1}", "out")), f"b{b}_s{i}", "a"))
        previous_flat = (f"b{b}_s{inner - 1}", "out")
    nested.touch()
    flat.touch()
    return nested, flat, reg


def measure_subgraphs(instances: int, inner: int, repeat: int) -> None:
    """Planning and validating (what a run does before the first node) with subgraphs against the same graph
    flattened by hand: from the file, in memory after an edit (flattened afresh), and in memory again. Pairs are
    timed in turn (the order swapped every pair) and the ratio taken pair by pair, as the machine's speed drifts."""
    import statistics

    from nodegraph.validate import find_issues
    from nodegraph.workflow import dumps_workflow, loads_workflow

    def prepare(graph: Graph, reg: NodeRegistry) -> None:
        find_issues(graph, reg, Scheduler(reg).plan(graph))

    def warmed(graph: Graph, reg: NodeRegistry) -> Graph:
        prepare(graph, reg)
        graph.touch()
        memo = getattr(graph, "_flat_memo", None)
        if memo is not None:
            memo[2].touch()  # what the graph's own derived topology would have been: fair to both
        return graph

    cases = (
        ("load the file, plan, validate", lambda g, reg: dumps_workflow(g, reg),
         lambda text, reg: prepare(loads_workflow(text, reg), reg)),
        ("plan, validate (after an edit)", lambda g, reg: g, prepare),
        ("plan, validate (again, unchanged)", warmed, prepare),
    )

    def once(which: int, setup, work) -> float:
        graphs = subgraph_workflows(instances, inner)
        target = setup(graphs[which], graphs[2])
        gc.collect()
        started = time.perf_counter()
        work(target, graphs[2])
        return time.perf_counter() - started

    print(f"{instances} instances x {inner} inner nodes ({instances * inner + 1} nodes flat), median of {repeat} "
          "pairs")
    print("| work | flattened by hand ms | with subgraphs ms | with subgraphs / by hand |")
    print("|---|---|---|---|")
    for label, setup, work in cases:
        flat, nested, ratios = [], [], []
        for i in range(repeat):
            if i % 2:
                nested.append(once(0, setup, work))
                flat.append(once(1, setup, work))
            else:
                flat.append(once(1, setup, work))
                nested.append(once(0, setup, work))
            ratios.append(nested[-1] / flat[-1])
        print(f"| {label} | {statistics.median(flat) * 1e3:.1f} | {statistics.median(nested) * 1e3:.1f} | "
              f"{statistics.median(ratios):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--subgraphs", action="store_true", help="only the subgraph flattening figure")
    args = parser.parse_args()
    if args.subgraphs:
        measure_subgraphs(100, 10, args.repeat)
        return
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
