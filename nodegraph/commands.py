"""Extra `kinograph` subcommands contributed by other packages through entry points.

A command is an object with `name`, `help`, `add_arguments(parser)` and `run(args) -> int`
(the exit code), registered in the `kinograph.commands` entry-point group. Modules that
provide commands must stay light at import time: import Qt, torch, cv2 or av inside `run`.
"""

from __future__ import annotations

import argparse
from importlib import metadata
from typing import Protocol

COMMAND_GROUP = "kinograph.commands"


class Command(Protocol):
    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def entry_point_commands() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=COMMAND_GROUP)}
