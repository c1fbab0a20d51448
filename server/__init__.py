"""Kinograph's headless job server: a queue of workflow runs behind an HTTP API, and its client.

Imports nodegraph and finds nodes only through the registry; never gui or Qt. command.py stays light at
import (the `kinograph` CLI loads it); FastAPI, uvicorn and httpx are imported where they are used.
"""
