"""Release resolution, creation and deployment events in the operations layer."""

from __future__ import annotations

import json

import httpx
import pytest

from imbi_toolkit.api import Imbi, errors
from imbi_toolkit.operations import Toolkit
from imbi_toolkit.plugins import PluginManager

from ..fakes import FAST, Script

OLD = {'id': 'OLDxxxxxxxxxxxxxxxxxx', 'committish': 'abc1234', 'tag': '1.0.0'}
NEW = {'id': 'NEWxxxxxxxxxxxxxxxxxx', 'committish': 'abc1234', 'tag': None}
EDGE = {
    'environment': {'slug': 'prod', 'name': 'Production'},
    'deployments': [{'status': 'success'}],
    'current_status': 'success',
}


def _toolkit(client: Imbi) -> Toolkit:
    return Toolkit(client, plugin_manager=PluginManager())


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
            await _toolkit(client).resolve_release_id('eng', 'p1', tag='9.9.9')


async def test_non_list_answer_is_an_error() -> None:
    script = Script([httpx.Response(200, text='<html>proxy page</html>')])
    async with _client(script) as client:
        with pytest.raises(
            errors.UnexpectedResponseError,
            match=r'200 with text/plain.*not a JSON array',
        ):
            await client.find_release('eng', 'p1', tag='1')


async def test_deploy_answered_by_a_proxy_page_is_a_clear_error() -> None:
    script = Script([httpx.Response(200, text='<html>proxy page</html>')])
    async with _client(script) as client:
        with pytest.raises(
            errors.UnexpectedResponseError,
            match=r'^POST .*/environments/prod answered 200 with text/plain',
        ):
            await _toolkit(client).record_deployment(
                'eng', 'p1', 'prod', {'status': 'success'}, release_id='r1'
            )


async def test_deploy_resolves_tag_then_posts_to_the_id() -> None:
    script = Script([httpx.Response(200, json=[OLD]), httpx.Response(200, json=EDGE)])
    async with _client(script) as client:
        edge = await _toolkit(client).record_deployment(
            'eng', 'p1', 'prod', {'status': 'success', 'note': 'by CI'}, tag='1.0.0'
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
        await _toolkit(client).record_deployment(
            'eng', 'p1', 'prod', {'status': 'pending'}, release_id='r1'
        )
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        ({'status': 'done', 'release_id': 'r'}, 'unknown deployment status'),
        ({'status': 'success', 'tag': '1', 'release_id': 'r'}, 'not both'),
        ({'status': 'success'}, 'not neither'),
    ],
)
async def test_deploy_bad_input_sends_nothing(
    kwargs: dict[str, str], message: str
) -> None:
    script = Script([httpx.Response(200, json=EDGE)])
    async with _client(script) as client:
        with pytest.raises(ValueError, match=message):
            status = kwargs.pop('status')
            await _toolkit(client).record_deployment(
                'eng', 'p1', 'prod', {'status': status}, **kwargs
            )
    assert script.requests == []


async def test_deploy_missing_release_raises_not_found() -> None:
    script = Script([httpx.Response(404, json={'detail': "Release 'r1' not found"})])
    async with _client(script) as client:
        with pytest.raises(errors.NotFoundError, match="Release 'r1' not found"):
            await _toolkit(client).record_deployment(
                'eng', 'p1', 'prod', {'status': 'success'}, release_id='r1'
            )


async def test_ensure_release_created() -> None:
    script = Script([httpx.Response(201, json=OLD)])
    async with _client(script) as client:
        release = await _toolkit(client).create_release(
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
        release = await _toolkit(client).create_release(
            'eng', 'p1', {'committish': 'abc1234', 'title': 't'}
        )
    assert release == NEW


async def test_ensure_release_conflict_without_match_raises_conflict() -> None:
    script = Script(
        [httpx.Response(409, json={'detail': 'exists'}), httpx.Response(200, json=[])]
    )
    async with _client(script) as client:
        with pytest.raises(errors.ConflictError, match='exists'):
            await _toolkit(client).create_release(
                'eng', 'p1', {'committish': 'abc1234', 'title': 't', 'tag': 'x'}
            )


async def test_ensure_release_validation_error() -> None:
    detail = [{'type': 'extra_forbidden', 'loc': ['body', 'version'], 'msg': 'Extra'}]
    script = Script([httpx.Response(422, json={'detail': detail})])
    async with _client(script) as client:
        with pytest.raises(errors.UnprocessableEntityError, match=r'body\.version'):
            await _toolkit(client).create_release('eng', 'p1', {'version': '1'})


# -- "created or already there", from the answer itself, on every generation --

BODY = {'committish': 'abc1234', 'title': 't', 'tag': '1.0.0'}


@pytest.mark.parametrize(
    ('answers', 'created'),
    [
        ([httpx.Response(201, json=OLD)], True),  # any generation: new
        ([httpx.Response(200, json=OLD)], False),  # 2.32.3+: already there
        # up to 2.32.2: 409, then looked up by tag
        (
            [
                httpx.Response(409, json={'detail': 'exists'}),
                httpx.Response(200, json=[OLD]),
            ],
            False,
        ),
    ],
)
async def test_created_comes_from_the_answer(
    answers: list[httpx.Response], created: bool
) -> None:
    script = Script(answers)
    async with _client(script) as client:
        outcome = await _toolkit(client).ensure_release('eng', 'p1', BODY)
    assert (outcome.release, outcome.created) == (OLD, created)
    if len(script.requests) == 2:  # the 409 lookup asks by tag alone (2.26+ key)
        assert dict(script.requests[1].url.params) == {'tag': '1.0.0'}


@pytest.mark.parametrize(
    'answers',
    [
        [httpx.Response(200, json=OLD)],
        [
            httpx.Response(409, json={'detail': 'exists'}),
            httpx.Response(200, json=[OLD]),
        ],
    ],
    ids=['200 (2.32.3+)', '409 (2.26-2.32.2)'],
)
async def test_a_tag_of_another_commit_is_never_returned_in_silence(
    answers: list[httpx.Response],
) -> None:
    script = Script(answers)
    async with _client(script) as client:
        with pytest.raises(errors.ReleaseMismatchError) as caught:
            await _toolkit(client).ensure_release(
                'eng', 'p1', {'committish': 'fff0000', 'tag': '1.0.0'}
            )
    message = str(caught.value)
    assert "'abc1234'" in message and "'fff0000'" in message
    assert caught.value.release == OLD


async def test_a_missing_title_is_the_tag_and_an_empty_tag_is_not_sent() -> None:
    script = Script([httpx.Response(201, json=OLD), httpx.Response(201, json=NEW)])
    async with _client(script) as client:
        toolkit = _toolkit(client)
        await toolkit.create_release(
            'eng', 'p1', {'committish': 'abc1234', 'tag': 'v2'}
        )
        await toolkit.create_release('eng', 'p1', {'committish': 'abc1234', 'tag': ''})
    first, second = (json.loads(request.content) for request in script.requests)
    assert first == {'committish': 'abc1234', 'tag': 'v2', 'title': 'v2'}
    assert second == {'committish': 'abc1234', 'title': 'abc1234'}
