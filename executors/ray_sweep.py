"""`kinograph run --executor ray`: the variants of a sweep spread over the workers of a Ray cluster.

Variants go to idle workers, preferring one that already holds the models a variant needs (the same values of
the params that feed a model loader); events stream back by polling the busy workers; a worker that dies has its
variant run again on its replacement (attempts counted); a cancel reaches every worker."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from nodegraph.graph import Graph
from nodegraph.registry import NodeRegistry
from nodegraph.sweep import Variant, VariantOutcome
from nodegraph.workflow import dumps_workflow

from .ray_pool import WorkerPool, connect, models_dirs_of, parse_address, require_ray
from .transfer import input_files, land, pack

MAX_ATTEMPTS = 3  # a variant whose worker dies is run again, at most this many times in all
POLL_S = 0.2
RESOURCE_TYPES = ("MODEL", "UPSCALE_MODEL")


def affinity_keys(graph: Graph, registry: NodeRegistry, variants: list[Variant]) -> dict[int, tuple]:
    """variant index -> the settings it makes on nodes that a model loader depends on (itself included): variants
    with the same key load the same models."""
    import networkx as nx

    dag = graph.nx()
    loaders = {node_id for node_id, node in graph.nodes.items()
               if (cls := registry.get(node.type)) and any(p.type in RESOURCE_TYPES for p in cls.outputs)}
    feeding = loaders.union(*(nx.ancestors(dag, node_id) for node_id in loaders))
    return {v.index: tuple((n, p, repr(val)) for n, p, val in v.settings if n in feeding) for v in variants}


def pick(pending: deque, slot, keys: dict[int, tuple], busy_keys: set) -> Variant:
    """The next variant for `slot`: one whose models it holds, else one no busy worker is loading, else the first."""
    for want in (lambda k: k in slot.held, lambda k: k not in busy_keys):
        for variant in pending:
            if want(keys[variant.index]):
                pending.remove(variant)
                return variant
    return pending.popleft()


class RaySweepExecutor:
    """Runs variants on a Ray cluster's workers; made by the `ray` entry point from the command line's options."""

    def __init__(self, args, registry: NodeRegistry):
        require_ray()
        self.registry = registry
        self.address = parse_address(args.executor.strip(), args.ray_address)
        self.cpus_per_worker = args.cpus_per_worker
        self.shared_dir = Path(args.shared_dir).expanduser().resolve() if args.shared_dir else None
        if self.shared_dir is not None and not self.shared_dir.is_dir():
            from nodegraph.errors import ValidationError

            raise ValidationError(f"--shared-dir {args.shared_dir!r} is not a folder; give a folder every Ray node "
                                  "sees at the same path")
        self.device = args.device
        self.models_dirs = models_dirs_of(args)
        self.workers = getattr(args, "workers", None)
        self._cancelled = False
        self.pool: WorkerPool | None = None

    def describe(self) -> str:
        return f"Ray ({self.address or 'started on this machine'})"

    def cancel(self) -> None:
        self._cancelled = True

    def run_variants(self, graph: Graph, variants: list[Variant], targets, output_dir: Path,
                     events_for) -> list[VariantOutcome]:
        import ray

        started_ray = connect(self.address)
        try:
            self.pool = WorkerPool(cpus_per_worker=self.cpus_per_worker, device=self.device,
                                   shared_dir=str(self.shared_dir) if self.shared_dir else None,
                                   models_dirs=self.models_dirs, workers=self.workers)
            try:
                return self._dispatch(graph, variants, targets, output_dir, events_for)
            finally:
                self.pool.shutdown()
        finally:
            if started_ray:
                ray.shutdown()

    def _dispatch(self, graph, variants, targets, output_dir: Path, events_for) -> list[VariantOutcome]:
        import ray
        from ray.exceptions import RayActorError

        from nodegraph.planning import plan as plan_of

        plan = plan_of(graph, self.registry, targets)
        jobs = {}  # variant index -> (workflow text, inputs, packages)
        reads = {}
        for variant in variants:
            twin = variant.apply(graph)
            reads[variant.index] = input_files(twin, self.registry, plan)
            jobs[variant.index] = dumps_workflow(twin, self.registry, absolute_paths=True)
        # each file once into the object store (or the shared folder), whatever the number of variants reading it
        packages = pack([f for files in reads.values() for f in files.values()], self.shared_dir, ray.put)
        for index, files in reads.items():
            inputs = {f"{n}.{p}": (f.key, f.name) for (n, p), f in files.items()}
            jobs[index] = (jobs[index], inputs, {f.key: packages[f.key] for f in files.values()})
        keys = affinity_keys(graph, self.registry, variants)
        pending = deque(variants)
        attempts = dict.fromkeys(jobs, 0)
        outcomes: dict[int, VariantOutcome] = {}
        running: dict = {}  # object ref -> (slot, variant, started)
        by_name = {v.name or "run": v for v in variants}
        cancel_sent = False
        pool = self.pool
        while pending or running:
            if self._cancelled:
                while pending:
                    variant = pending.popleft()
                    outcomes[variant.index] = VariantOutcome(variant, "cancelled", error="cancelled before it started",
                                                             worker="-", attempts=0)
                if not cancel_sent:
                    for slot, _, _ in running.values():
                        slot.actor.cancel.remote()
                    cancel_sent = True
            busy = {id(slot) for slot, _, _ in running.values()}
            for slot in pool.slots:
                if not pending or id(slot) in busy:
                    continue
                busy_keys = {keys[v.index] for _, v, _ in running.values()}
                variant = pick(pending, slot, keys, busy_keys)
                workflow, inputs, packages = jobs[variant.index]
                attempts[variant.index] += 1
                ref = slot.actor.run.remote(variant.name or "run", workflow, None, inputs, packages, targets,
                                            variant.name or "run")
                running[ref] = (slot, variant, time.perf_counter())
                busy.add(id(slot))
            if not running:
                continue
            ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
            self._relay(running, by_name, events_for)
            for ref in ready:
                slot, variant, sent = running.pop(ref)
                try:
                    answer = ray.get(ref)
                except RayActorError:
                    pool.replace(slot)
                    if attempts[variant.index] < MAX_ATTEMPTS and not self._cancelled:
                        pending.appendleft(variant)
                        continue
                    why = "cancelled" if self._cancelled else "failed"
                    outcomes[variant.index] = VariantOutcome(
                        variant, why, error=f"its worker died {attempts[variant.index]} time(s)",
                        worker=slot.name, attempts=attempts[variant.index])
                    continue
                for tag, event in answer["events"]:
                    events_for(by_name[tag])(event)
                slot.held.add(keys[variant.index])
                folder = output_dir / variant.name if variant.name else output_dir
                files = land(answer["files"], folder)
                outcomes[variant.index] = VariantOutcome(
                    variant, answer["status"], files, answer["seconds"], answer["error"], worker=slot.name,
                    attempts=attempts[variant.index], executed=answer["executed"], cached=answer["cached"],
                    loads=answer["loads"], round_trip=time.perf_counter() - sent)
        return [outcomes[v.index] for v in variants]

    def _relay(self, running: dict, by_name: dict, events_for) -> None:
        """Pass on the events the busy workers gathered since the last poll (a dead worker's are lost with it)."""
        import ray
        from ray.exceptions import RayActorError, RayError

        polls = [slot.actor.poll.remote() for slot, _, _ in running.values()]
        for poll in polls:
            try:
                events = ray.get(poll, timeout=10)
            except (RayActorError, RayError):
                continue
            for tag, event in events:
                events_for(by_name[tag])(event)


def factory(args, registry: NodeRegistry) -> RaySweepExecutor:
    """The `kinograph.executors` entry point `ray`."""
    return RaySweepExecutor(args, registry)
