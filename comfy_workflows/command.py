"""`kinograph import FILE [-o OUT]` and `kinograph export --comfy WORKFLOW [-o OUT]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nodegraph import models_dir
from nodegraph.errors import ValidationError


def default_output(source: str) -> Path:
    path = Path(source)
    return path.with_name(path.name + ".kinograph.json") if path.suffix.lower() != ".json" else \
        path.with_name(path.stem + ".kinograph.json")


class ImportCommand:
    name = "import"
    help = "turn a ComfyUI workflow (JSON, or a PNG, WebP or video ComfyUI saved) into a Kinograph workflow"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", help="a ComfyUI workflow: UI or API JSON, or an image or video carrying one")
        parser.add_argument("-o", "--output", metavar="OUT",
                            help="the Kinograph workflow to write (default: FILE.kinograph.json beside FILE)")
        parser.add_argument("--force", action="store_true", help="replace OUT when it exists")
        models_dir.add_argument(parser)
        parser.add_argument("--verbose", "-v", action="store_true")

    def run(self, args: argparse.Namespace) -> int:
        from nodegraph.registry import default_registry
        from nodegraph.validate import find_issues
        from nodegraph.workflow import atomic_write_text, parse_workflow

        from .importer import import_file

        models_dir.configure(args.models_dir)
        out = Path(args.output) if args.output else default_output(args.file)
        if out.exists() and not args.force:
            raise ValidationError(f"{out} exists; give another -o OUT, or --force to replace it")
        result = import_file(args.file)
        registry = default_registry()
        graph = parse_workflow(result.workflow, registry, base_dir=out.resolve().parent, source=str(out))
        for line in result.report.lines():
            print(line)
        atomic_write_text(out, json.dumps(result.workflow, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {out} ({len(graph.nodes)} nodes, {len(graph.links)} links)")
        for issue in find_issues(graph, registry):
            print(f"note: before it runs: {issue}", file=sys.stderr)
        return 0


class ExportCommand:
    name = "export"
    help = "write a Kinograph workflow as a ComfyUI API prompt (--comfy)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("workflow", help="the Kinograph workflow")
        parser.add_argument("--comfy", action="store_true", required=True,
                            help="as a ComfyUI API-format prompt (the one format written so far)")
        parser.add_argument("-o", "--output", metavar="OUT",
                            help="where to write it (default: WORKFLOW.comfy.json beside the workflow)")
        parser.add_argument("--force", action="store_true", help="replace OUT when it exists")
        parser.add_argument("--verbose", "-v", action="store_true")

    def run(self, args: argparse.Namespace) -> int:
        from nodegraph.registry import default_registry
        from nodegraph.workflow import atomic_write_text, load_workflow

        from .export import export_prompt

        source = Path(args.workflow)
        out = Path(args.output) if args.output else source.with_name(source.name.split(".")[0] + ".comfy.json")
        if out.exists() and not args.force:
            raise ValidationError(f"{out} exists; give another -o OUT, or --force to replace it")
        registry = default_registry()
        graph = load_workflow(source, registry)
        prompt = export_prompt(graph, registry)
        atomic_write_text(out, json.dumps(prompt, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {out} ({len(prompt)} ComfyUI nodes)")
        return 0


IMPORT = ImportCommand()
EXPORT = ExportCommand()
