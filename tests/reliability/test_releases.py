"""Release resolution and the deploy helper (API >= 2.5 paths take the id)."""

from __future__ import annotations

import json

import httpx
import pytest

from imbi_toolkit.api import Imbi, errors

from .conftest import FAST, Script

OLD = {'id': 'OLDxxxxxxxxxxxxxxxxxx', 'committish': 'abc1234', 'tag': '1.0.0'}
NEW = {'id': 'NEWxxxxxxxxxxxxxxxxxx', 'committish': 'abc1234', 'tag': None}
EDGE = {
    'environment': {'slug': 'prod', 'name': 'Production'},
    'deployments': [{'status': 'success'}],
    'current_status': 'success',
}


def _client(script: Script) -> Imbi:
    return Imbi(
        base_url='http://imbi.test/api',
        token='tok-en',
        transport=httpx.MockTransport(script),
        max_retries=2,
        retry_policy=FAST,
    )


async def test_find_release_queries_and_takes_newest() -> None:
    script = Script([httpx.Response(200, json=[NEW, OLD])])
    async with _client(script) as client:
        release = await client.find_release('eng', 'p/1', committish='ABC1234DEADBEEF')
    assert release == NEW
    request = script.requests[0]
    assert request.url.raw_path.startswith(
        b'/api/organizations/eng/projects/p%2F1/releases/?'
    )
    assert dict(request.url.params) == {'committish': 'abc1234'}


async def test_find_release_needs_a_key() -> None:
    script = Script([httpx.Response(200, json=[])])
    async with _client(script) as client:
        with pytest.raises(ValueError, match='tag= or committish='):
            await client.find_release('eng', 'p1')
    assert script.requests == []


async def test_resolve_missing_release_is_a_clear_error() -> None:
    script = Script([httpx.Response(200, json=[])])
    async with _client(script) as client:
        with pytest.raises(errors.ReleaseNotFoundError, match=r"tag '9\.9\.9'"):
            await client.resolve_release_id('eng', 'p1', tag='9.9.9')


async def test_non_list_answer_is_an_error() -> None:
    script = Script([httpx.Response(200, text='<html>proxy page</html>')])
    async with _client(script) as client:
        with pytest.raises(errors.ImbiError, match='did not answer with a JSON array'):
            await client.find_release('eng', 'p1', tag='1')


async def test_deploy_answered_by_a_proxy_page_is_a_clear_error() -> None:
    script = Script([httpx.Response(200, text='<html>proxy page</html>')])
    async with _client(script) as client:
        with pytest.raises(
            errors.ImbiError,
            match=r'^POST .*/environments/prod did not answer with a JSON object$',
        ):
            await client.deploy('eng', 'p1', 'prod', status='success', release_id='r1')


async def test_deploy_resolves_tag_then_posts_to_the_id() -> None:
    script = Script([httpx.Response(200, json=[OLD]), httpx.Response(200, json=EDGE)])
    async with _client(script) as client:
        edge = await client.deploy(
            'eng', 'p1', 'prod', status='success', tag='1.0.0', note='by CI'
        )
    assert edge == EDGE
    lookup, post = script.requests
    assert dict(lookup.url.params) == {'tag': '1.0.0'}
    assert post.method == 'POST'
    assert post.url.path == (
        f'/api/organizations/eng/projects/p1/releases/{OLD["id"]}/environments/prod'
    )
    assert json.loads(post.content) == {'status': 'success', 'note': 'by CI'}


async def test_deploy_with_known_id_skips_lookup() -> None:
    script = Script([httpx.Response(200, json=EDGE)])
    async with _client(script) as client:
        await client.deploy('eng', 'p1', 'prod', status='pending', release_id='r1')
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        ({'status': 'done', 'tag': '1'}, 'unknown deployment status'),
        ({'status': 'success', 'tag': '1', 'release_id': 'r'}, 'not both'),
        ({'status': 'success'}, 'tag= or committish='),
    ],
)
async def test_deploy_bad_input_sends_nothing(
    kwargs: dict[str, str], message: str
) -> None:
    script = Script([httpx.Response(200, json=EDGE)])
    async with _client(script) as client:
        with pytest.raises(ValueError, match=message):
            await client.deploy('eng', 'p1', 'prod', **kwargs)  # type: ignore[arg-type]
    assert script.requests == []


async def test_deploy_missing_release_raises_not_found() -> None:
    script = Script([httpx.Response(404, json={'detail': "Release 'r1' not found"})])
    async with _client(script) as client:
        with pytest.raises(errors.NotFoundError, match="Release 'r1' not found"):
            await client.deploy('eng', 'p1', 'prod', status='success', release_id='r1')


async def test_ensure_release_created() -> None:
    script = Script([httpx.Response(201, json=OLD)])
    async with _client(script) as client:
        release = await client.ensure_release(
            'eng', 'p1', {'committish': 'abc1234', 'title': 't', 'tag': '1.0.0'}
        )
    assert release == OLD


async def test_ensure_release_without_tag_skips_tagged_releases() -> None:
    script = Script(
        [
            httpx.Response(409, json={'detail': 'exists'}),
            httpx.Response(200, json=[OLD, NEW]),
        ]
    )
    async with _client(script) as client:
        release = await client.ensure_release(
            'eng', 'p1', {'committish': 'abc1234', 'title': 't'}
        )
    assert release == NEW


async def test_ensure_release_conflict_without_match_raises_conflict() -> None:
    script = Script(
        [httpx.Response(409, json={'detail': 'exists'}), httpx.Response(200, json=[])]
    )
    async with _client(script) as client:
        with pytest.raises(errors.ConflictError, match='exists'):
            await client.ensure_release(
                'eng', 'p1', {'committish': 'abc1234', 'title': 't', 'tag': 'x'}
            )


async def test_ensure_release_validation_error() -> None:
    detail = [{'type': 'extra_forbidden', 'loc': ['body', 'version'], 'msg': 'Extra'}]
    script = Script([httpx.Response(422, json={'detail': detail})])
    async with _client(script) as client:
        with pytest.raises(errors.UnprocessableEntityError, match=r'body\.version'):
            await client.ensure_release('eng', 'p1', {'version': '1'})
