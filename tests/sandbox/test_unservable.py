"""Bodies the sandbox cannot serve back are refused before anything is written.

`NaN`, `Infinity`, a float that overflows, or a lone UTF-16 surrogate parse in
Python but cannot appear in a JSON answer: stored, they would make every later
answer showing them fail. Numbers over Python's digit limit and very deep
nesting make the parser itself give up. Every case gets a 4xx, and the
connection it came on keeps serving.
"""

from __future__ import annotations

import pathlib
import typing

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess, start_sandbox

pytestmark = pytest.mark.attack('sandbox-500s')

Json = dict[str, typing.Any]
JSON = {'content-type': 'application/json'}

# Raw bodies: httpx's json= would refuse to send most of these.
BAD_VALUES: list[tuple[str, bytes, str, str]] = [
    ('nan', b'NaN', 'finite_number', 'NaN'),
    ('infinity', b'Infinity', 'finite_number', 'Infinity'),
    ('minus-infinity', b'-Infinity', 'finite_number', '-Infinity'),
    ('overflowing-float', b'1e400', 'finite_number', 'Infinity'),
    ('surrogate-escape', b'"a\\ud800b"', 'string_unicode', 'a\\ud800b'),
    ('surrogate-bytes', b'"a\xed\xa0\x80b"', 'string_unicode', 'a\\ud800b'),
]


def _project_url(project: str) -> str:
    return f'/organizations/engineering/projects/{project}'


def _connection(response: httpx.Response) -> object:
    """The local address of the connection a response came on."""
    stream = response.extensions['network_stream']
    return stream.get_extra_info('client_addr')


@pytest.mark.parametrize(
    ('value', 'kind', 'shown'),
    [case[1:] for case in BAD_VALUES],
    ids=[case[0] for case in BAD_VALUES],
)
async def test_patch_with_a_value_json_cannot_carry_is_422_and_stores_nothing(
    http: httpx.AsyncClient, billing_api: str, value: bytes, kind: str, shown: str
) -> None:
    url = _project_url(billing_api)
    before = (await http.get(url)).json()
    body = (
        b'[{"op": "add", "path": "/identifiers/x", "value": "ok"},'
        b' {"op": "add", "path": "/environments/production/x", "value": '
        + value
        + b'}]'
    )
    response = await http.patch(url, content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json() == {
        'detail': [
            {
                'type': kind,
                'loc': ['body', 1, 'value'],
                'msg': response.json()['detail'][0]['msg'],
                'input': shown,
            }
        ]
    }
    # Nothing was written, and the project and the list still answer, on
    # the same connection.
    after = await http.get(url)
    assert after.status_code == 200
    assert after.json() == before
    assert _connection(after) == _connection(response)
    listed = await http.get('/organizations/engineering/projects/')
    assert listed.status_code == 200


async def test_every_bad_value_is_reported_with_where_it_is(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    body = (
        b'[{"op": "add", "path": "/environments/production/x",'
        b' "value": {"a": [1, NaN], "b\\udc00": "c", "d": "\\ud83d\\ude00"}}]'
    )
    response = await http.patch(_project_url(billing_api), content=body, headers=JSON)
    assert response.status_code == 422
    assert [(e['type'], e['loc'], e['input']) for e in response.json()['detail']] == [
        ('finite_number', ['body', 0, 'value', 'a', 1], 'NaN'),
        ('string_unicode', ['body', 0, 'value', 'b\\udc00', '[key]'], 'b\\udc00'),
    ]


async def test_a_surrogate_pair_is_an_ordinary_character(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    body = b'[{"op": "add", "path": "/identifiers/emoji", "value": "\\ud83d\\ude00"}]'
    response = await http.patch(_project_url(billing_api), content=body, headers=JSON)
    assert response.status_code == 200
    assert response.json()['identifiers']['emoji'] == '\N{GRINNING FACE}'


@pytest.mark.parametrize(
    ('field', 'value'),
    [
        ('title', b'"\\ud800"'),
        ('description', b'"x\\udfff"'),
        ('created_by', b'"\\udabc@example.com"'),
    ],
)
async def test_release_create_refuses_lone_surrogates(
    http: httpx.AsyncClient, billing_api: str, field: str, value: bytes
) -> None:
    url = _project_url(billing_api) + '/releases/'
    before = (await http.get(url)).json()
    body = b'{"committish": "abc1234", "title": "t", "tag": "9.9.9", "%s": %s}' % (
        field.encode(),
        value,
    )
    response = await http.post(url, content=body, headers=JSON)
    assert response.status_code == 422
    [error] = response.json()['detail']
    assert (error['type'], error['loc']) == ('string_unicode', ['body', field])
    assert (await http.get(url)).json() == before


async def test_release_link_label_with_a_surrogate_is_refused(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    url = _project_url(billing_api) + '/releases/'
    body = (
        b'{"committish": "abc1234", "title": "t", "links": '
        b'[{"type": "x", "url": "https://example.com", "label": "\\ud800"}]}'
    )
    response = await http.post(url, content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json()['detail'][0]['loc'] == ['body', 'links', 0, 'label']
    assert (await http.get(url, params={'committish': 'abc1234'})).json() == []


@pytest.mark.parametrize('field', ['note', 'external_run_id'])
async def test_deployment_event_refuses_lone_surrogates(
    http: httpx.AsyncClient, billing_api: str, field: str
) -> None:
    releases = _project_url(billing_api) + '/releases/'
    release = (await http.get(releases)).json()[0]['id']
    url = f'{releases}{release}/environments/production'
    before = (await http.get(url)).json()
    body = b'{"status": "success", "%s": "\\ud800"}' % field.encode()
    response = await http.post(url, content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json()['detail'][0]['loc'] == ['body', field]
    assert (await http.get(url)).json() == before
    assert (await http.get(f'{releases}{release}/environments')).status_code == 200


async def test_auth_comes_before_the_value_check(
    anonymous: httpx.AsyncClient, readonly: httpx.AsyncClient, billing_api: str
) -> None:
    # Like the real server, which validates bodies after authentication.
    body = b'[{"op": "add", "path": "/x", "value": NaN}]'
    url = _project_url(billing_api)
    assert (await anonymous.patch(url, content=body, headers=JSON)).status_code == 401
    assert (await readonly.patch(url, content=body, headers=JSON)).status_code == 403


@pytest.mark.parametrize(
    ('body', 'detail'),
    [
        (
            b'{"committish": ' + b'1' * 5000 + b'}',
            'There was an error parsing the body: a number has more than 4300 '
            'digits; send it as a string',
        ),
        (
            b'[' * 100_000 + b']' * 100_000,
            'There was an error parsing the body: it nests arrays or objects '
            'more than 128 levels deep',
        ),
        (
            b'{"a": ' * 129 + b'1' + b'}' * 129,
            'There was an error parsing the body: it nests arrays or objects '
            'more than 128 levels deep',
        ),
    ],
    ids=['huge-integer', 'deep-100000', 'deep-129'],
)
@pytest.mark.parametrize('authenticated', [False, True])
async def test_bodies_the_parser_gives_up_on_are_400_on_a_usable_connection(
    imbi_sandbox: SandboxProcess, body: bytes, detail: str, authenticated: bool
) -> None:
    headers = {'authorization': f'Bearer {imbi_sandbox.token}'} if authenticated else {}
    async with httpx.AsyncClient(base_url=imbi_sandbox.base_url) as client:
        url = '/organizations/engineering/projects/x/releases/'
        refused = await client.post(url, content=body, headers={**JSON, **headers})
        assert refused.status_code == 400
        assert refused.json() == {'detail': detail}
        status = await client.get('/status')
        assert status.status_code == 200
        assert _connection(status) == _connection(refused)


async def test_nesting_up_to_the_limit_is_stored_and_served(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    # The body's list and op object are two levels; the value takes the rest.
    value: object = 'bottom'
    for _ in range(126):
        value = [value]
    ops = [{'op': 'add', 'path': '/environments/production/deep', 'value': value}]
    response = await http.patch(_project_url(billing_api), json=ops)
    assert response.status_code == 200
    fetched = await http.get(_project_url(billing_api))
    assert fetched.status_code == 200
    production = next(
        env for env in fetched.json()['environments'] if env['slug'] == 'production'
    )
    assert production['deep'] == value


def test_a_refused_value_leaves_a_file_database_servable(
    tmp_path: pathlib.Path,
) -> None:
    # The reported failure: a stored NaN made the project answer 500 on every
    # restart.
    db = tmp_path / 'sandbox.db'
    with start_sandbox(db_path=db) as first:
        headers = {'authorization': f'Bearer {first.token}'}
        with httpx.Client(base_url=first.base_url, headers=headers) as client:
            [project] = [
                p
                for p in client.get('/organizations/engineering/projects/').json()
                if p['slug'] == 'billing-api'
            ]
            refused = client.patch(
                _project_url(project['id']),
                content=b'[{"op": "add", "path": "/identifiers/x", "value": NaN}]',
                headers=JSON,
            )
            assert refused.status_code == 422
    with start_sandbox(db_path=db) as second:
        headers = {'authorization': f'Bearer {second.token}'}
        with httpx.Client(base_url=second.base_url, headers=headers) as client:
            assert client.get(_project_url(project['id'])).status_code == 200
            assert client.get('/organizations/engineering/projects/').status_code == 200


ODD_QUERIES = [
    '?slim=%ff',
    '?include_archived=%00',
    '?integration_slug=%ed%a0%80&identifier=%ff',
    '?project_type=%00%ff',
    '?committish=%ed%a0%80&tag=%00',
    '?integration_slug=github&subject=%ed%a0%80',
    '?%ff=%ff&%ff=1',
    '?filter=%ff:eq:%ff&filter=%ed%a0%80:in:,&filter=:::',
    '?project_id=%ed%a0%80',
    '?' + 'a' * 5000,
]
ODD_HEADERS: list[dict[str, bytes]] = [
    {'authorization': b'Bearer \xff\xfe'},
    {'authorization': b'Bearer ik_' + b'\xff' * 32 + b'_x'},
    {'authorization': b'Bearer ik_' + '\u0663'.encode() * 32 + b'_x'},
    {'authorization': b'Basic \x01'},
    {'content-type': b'application/json; charset="'},
    {'content-type': b'application/\xff+json'},
    {'x-odd': b'\xff\x01\x7f', 'accept': b'\xff'},
]


async def test_odd_queries_and_headers_never_give_a_500(
    imbi_sandbox: SandboxProcess, billing_api: str
) -> None:
    project = _project_url(billing_api)
    paths = [
        '/organizations/',
        '/organizations/engineering',
        '/organizations/engineering/environments/',
        '/organizations/engineering/projects/',
        project,
        project + '/releases/',
        project + '/releases/current',
        project + '/releases/%ed%a0%80/environments/%ff',
        project + '/schema',
        '/users/me',
        '/users/by-identity',
        '/_sandbox/faults',
    ]
    token = {'authorization': f'Bearer {imbi_sandbox.token}'.encode()}
    async with httpx.AsyncClient(base_url=imbi_sandbox.base_url) as client:
        for path in paths:
            for query in ODD_QUERIES:
                for method in ('GET', 'POST', 'PATCH'):
                    response = await client.request(
                        method, path + query, headers={**token, **JSON}, content=b'{}'
                    )
                    assert response.status_code < 500, (method, path, query)
            for headers in ODD_HEADERS:
                response = await client.get(path, headers={**token, **headers})
                assert response.status_code < 500, (path, headers)


@pytest.mark.parametrize(
    'rule',
    [
        {'headers': {'X-Price': '10 \N{EURO SIGN}'}},
        {'headers': {'X-Split': 'a\r\nInjected: yes'}},
        {'headers': {'bad name': 'x'}},
        {'headers': {'Content-Length': '5'}},
        {'status': 101},
        {'action': 'redirect', 'location': 'https://\N{EURO SIGN}.example/'},
        {'text': 'x', 'content_type': 'text/\N{EURO SIGN}'},
    ],
)
async def test_fault_rules_that_http_cannot_send_are_refused(
    http: httpx.AsyncClient, rule: Json
) -> None:
    response = await http.post('/_sandbox/faults', json={'path': '/status', **rule})
    assert response.status_code == 422
    assert (await http.get('/status')).status_code == 200


@pytest.mark.parametrize('status', [204, 304])
async def test_a_bodiless_fault_status_keeps_the_connection_in_step(
    http: httpx.AsyncClient, status: int
) -> None:
    added = await http.post(
        '/_sandbox/faults', json={'path': '/status', 'status': status, 'times': 1}
    )
    assert added.status_code == 201
    faulted = await http.get('/status')
    assert (faulted.status_code, faulted.content) == (status, b'')
    after = await http.get('/status')
    assert after.json() == {'service': 'imbi', 'status': 'ok'}
    assert _connection(after) == _connection(faulted)
