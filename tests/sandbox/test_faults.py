"""Fault injection and latency, observed over real sockets."""

from __future__ import annotations

import time

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess


async def test_503_with_retry_after_then_recovery(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    rule = imbi_sandbox.add_fault(
        path='/organizations/', status=503, headers={'Retry-After': '5'}, times=2
    )
    assert rule['id'] >= 1
    for _ in range(2):
        response = await http.get('/organizations/')
        assert response.status_code == 503
        assert response.headers['retry-after'] == '5'
        assert response.json() == {'detail': 'Service Unavailable'}
    assert (await http.get('/organizations/')).status_code == 200
    [listed] = (await http.get('/_sandbox/faults')).json()
    assert (listed['matched'], listed['fired']) == (3, 2)


@pytest.mark.parametrize('status', [429, 500, 502, 504])
async def test_other_statuses(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient, status: int
) -> None:
    imbi_sandbox.add_fault(method='GET', path='/users/me', status=status)
    response = await http.get('/users/me')
    assert response.status_code == status
    assert response.headers['content-type'] == 'application/json'


async def test_custom_bodies(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    imbi_sandbox.add_fault(
        path='/users/me',
        status=429,
        body={'error': 'Rate limit exceeded: 10 per 1 minute'},
        times=1,
    )
    limited = await http.get('/users/me')
    assert limited.json() == {'error': 'Rate limit exceeded: 10 per 1 minute'}
    imbi_sandbox.add_fault(
        path='/users/me', status=502, text='<html>Bad Gateway</html>'
    )
    gateway = await http.get('/users/me')
    assert gateway.status_code == 502
    assert gateway.headers['content-type'].startswith('text/html')
    with pytest.raises(ValueError):
        gateway.json()


async def test_skip_lets_the_first_requests_through(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    imbi_sandbox.add_fault(method='POST', path='/organizations/*', skip=1, times=1)
    url = '/organizations/engineering/projects/x/releases/'
    assert (await http.post(url, json={})).status_code == 422  # reached the app
    assert (await http.post(url, json={})).status_code == 503
    assert (await http.post(url, json={})).status_code == 422
    assert (await http.get('/organizations/')).status_code == 200  # method differs


async def test_dropped_connection(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    imbi_sandbox.add_fault(path='/organizations/', action='drop', times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get('/organizations/')
    assert (await http.get('/organizations/')).status_code == 200


async def test_answer_lost_after_the_write(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient, billing_api: str
) -> None:
    imbi_sandbox.add_fault(
        method='POST', path='*/releases/', action='drop_after', times=1
    )
    url = f'/organizations/engineering/projects/{billing_api}/releases/'
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post(url, json={'committish': 'abcdef9', 'title': 'lost answer'})
    listed = await http.get(url, params={'committish': 'abcdef9'})
    assert [r['title'] for r in listed.json()] == ['lost answer']


async def test_truncated_body(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    imbi_sandbox.add_fault(path='/organizations/', action='truncate', times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get('/organizations/')


async def test_redirect_to_another_host(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    imbi_sandbox.add_fault(
        path='/users/me', action='redirect', location='http://evil.invalid/users/me'
    )
    response = await http.get('/users/me')
    assert response.status_code == 307
    assert response.headers['location'] == 'http://evil.invalid/users/me'


async def test_slow_response(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    imbi_sandbox.add_fault(path='/status', action='delay', delay_ms=400, times=1)
    with pytest.raises(httpx.ReadTimeout):
        await http.get('/status', timeout=0.1)
    started = time.perf_counter()
    imbi_sandbox.add_fault(path='/status', action='delay', delay_ms=200, times=1)
    assert (await http.get('/status')).status_code == 200
    assert time.perf_counter() - started >= 0.2


async def test_fault_admin_needs_the_admin_token(
    imbi_sandbox: SandboxProcess,
    readonly: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
) -> None:
    refused = await readonly.post('/_sandbox/faults', json={'path': '*'})
    assert refused.status_code == 403
    assert (await anonymous.delete('/_sandbox/faults')).status_code == 401
    assert (await readonly.post('/_sandbox/reset')).status_code == 403


async def test_bad_rule_is_422(http: httpx.AsyncClient) -> None:
    response = await http.post('/_sandbox/faults', json={'action': 'explode'})
    assert response.status_code == 422
    assert response.json()['detail'][0]['loc'] == ['body', 'action']


async def test_rules_are_removed_one_by_one_and_by_reset(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    first = imbi_sandbox.add_fault(path='/users/me')
    imbi_sandbox.add_fault(path='/organizations/')
    assert (await http.delete(f'/_sandbox/faults/{first["id"]}')).status_code == 204
    assert (await http.delete(f'/_sandbox/faults/{first["id"]}')).status_code == 404
    assert (await http.get('/users/me')).status_code == 200
    imbi_sandbox.reset()
    assert (await http.get('/organizations/')).status_code == 200
    assert (await http.get('/_sandbox/faults')).json() == []


async def test_latency_and_faults_from_the_command_line(
    imbi_sandbox_factory: object,
) -> None:
    assert callable(imbi_sandbox_factory)
    sandbox: SandboxProcess = imbi_sandbox_factory(
        latency_ms=150, faults=[{'path': '/users/me', 'status': 504, 'times': 1}]
    )
    headers = {'authorization': f'Bearer {sandbox.token}'}
    async with httpx.AsyncClient(base_url=sandbox.base_url, headers=headers) as client:
        started = time.perf_counter()
        assert (await client.get('/users/me')).status_code == 504
        assert (await client.get('/users/me')).status_code == 200
        assert time.perf_counter() - started >= 0.3


@pytest.mark.parametrize(
    ('options', 'least', 'most'),
    [
        # A network's latency comes on top of the time the server took.
        ({'latency_ms': 200}, 0.35, 10.0),
        # A response time includes it: the answer is due 200 ms after arrival.
        ({'response_time_ms': 200}, 0.2, 0.33),
    ],
)
async def test_response_time_counts_from_arrival_and_latency_after_handling(
    imbi_sandbox_factory: object,
    options: dict[str, int],
    least: float,
    most: float,
) -> None:
    assert callable(imbi_sandbox_factory)
    # The server takes 150 ms to handle each /users/me.
    slow = {'path': '/users/me', 'action': 'delay', 'delay_ms': 150}
    sandbox: SandboxProcess = imbi_sandbox_factory(faults=[slow], **options)
    headers = {'authorization': f'Bearer {sandbox.token}'}
    async with httpx.AsyncClient(base_url=sandbox.base_url, headers=headers) as client:
        await client.get('/openapi.json')  # connected, and the app warmed up
        started = time.perf_counter()
        assert (await client.get('/users/me')).status_code == 200
        took = time.perf_counter() - started
    assert least <= took <= most
