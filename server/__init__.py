"""Kinograph's headless job server: a queue of workflow runs behind an HTTP API, and its client.

Imports nodegraph (and finds nodes only through the registry); never gui or Qt. Modules are light at
import except app.py, which needs FastAPI.
"""
