"""Schemathesis drives every operation of the OpenAPI document: no request may get a 500."""

from __future__ import annotations

import os

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.server.conftest import wait_for
from tests.server.testnodes import wait_write

EXAMPLES = int(os.environ.get("KINOGRAPH_TEST_EXAMPLES", "25"))


def test_generated_requests_never_get_a_server_error(server, client):
    wait_for(client, client.submit(wait_write())["id"])  # a real job, so some ids and outputs exist
    document = httpx.get(server.url + "/v1/openapi.json", headers=server.headers()).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    seen: dict[str, set[int]] = {}
    for operation in operations:
        _fuzz(operation, server, seen)
    assert {"GET /v1/jobs", "POST /v1/jobs", "GET /v1/jobs/{job_id}/outputs/{path}"} <= set(seen)
    assert any(code in (404, 422) for codes in seen.values() for code in codes)


def _fuzz(operation, server, seen: dict[str, set[int]]) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(base_url=server.url, headers=server.headers(), timeout=10)
        seen.setdefault(label, set()).add(response.status_code)
        assert response.status_code < 500, (label, case.as_curl_command(), response.text[:500])

    check()
