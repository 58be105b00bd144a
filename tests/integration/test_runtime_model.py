"""`ModelRuntime` against local servers speaking the OpenAI and Anthropic HTTP APIs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from symbiont.core.enums import RunStatus, SessionMode
from symbiont.core.errors import AgentRunError
from symbiont.runtime import AgentContext, ModelRuntime, RuntimeSettings, execute_run
from symbiont.runtime.model import provider_for
from symbiont.store.base import SessionState
from symbiont.testing import FakeClock
from tests.unit.runtime.fakes import (
    NOW,
    Answer,
    FakeServer,
    Recorded,
    agent_spec,
    json_answer,
    make_job,
    make_run,
    serve,
)

pytestmark = pytest.mark.anyio
KEY = "sk-test-0123456789abcdef"
ENV = {"LLM_KEY": KEY}
SYSTEM = "You are a disk monitor. Return 'sleep' when done."
CONTEXT = AgentContext(
    job_id="job-1",
    job_name="disk-check",
    run_id="run-1",
    attempt=1,
    iteration=1,
    trigger="schedule",
    scheduled_for=NOW,
    input="Check /var",
    previous_summary="Yesterday /var was 80% full.",
    messages=(
        {"role": "user", "content": "Check /home"},
        {"role": "assistant", "content": "/home is fine"},
    ),
)


def _openai_problem(request: Recorded) -> str | None:
    body = request.json()
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for message in messages:
        if message.get("role") not in {"system", "user", "assistant"}:
            return f"invalid role {message.get('role')!r}"
        if not isinstance(message.get("content"), str):
            return "'content' must be a string"
    return None


def openai_api(request: Recorded) -> Answer:
    """Answer like ``POST /v1/chat/completions``: auth, shape checks, real reply format."""
    if request.path != "/v1/chat/completions":
        return json_answer(404, {"error": {"message": f"Invalid URL (POST {request.path})"}})
    if request.headers.get("authorization") != f"Bearer {KEY}":
        message = f"Incorrect API key provided: {request.headers.get('authorization', '')[7:]}."
        return json_answer(401, {"error": {"message": message, "code": "invalid_api_key"}})
    problem = _openai_problem(request)
    if problem is not None:
        return json_answer(400, {"error": {"message": problem, "type": "invalid_request_error"}})
    body = request.json()
    text = f"{len(body['messages'])} messages; last: {body['messages'][-1]['content']}\nsleep"
    return json_answer(
        200,
        {
            "id": "chatcmpl-abc123",
            "object": "chat.completion",
            "created": 1_767_225_600,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        },
    )


def _anthropic_messages_problem(messages: object) -> str | None:
    if not isinstance(messages, list) or not messages or messages[0].get("role") != "user":
        return "messages: first message must use the 'user' role"
    if any(
        previous["role"] == message["role"] for previous, message in itertools.pairwise(messages)
    ):
        return "messages: roles must alternate between 'user' and 'assistant'"
    if any(not str(message.get("content", "")).strip() for message in messages):
        return "messages: text content blocks must be non-empty"
    return None


def _anthropic_problem(request: Recorded) -> str | None:
    if request.headers.get("anthropic-version") != "2023-06-01":
        return "anthropic-version: header is required"
    body = request.json()
    if not isinstance(body.get("model"), str) or not isinstance(body.get("max_tokens"), int):
        return "model: Field required; max_tokens: Field required"
    if "system" in body and not isinstance(body["system"], str):
        return "system: Input should be a valid string"
    return _anthropic_messages_problem(body.get("messages"))


def anthropic_api(request: Recorded) -> Answer:
    """Answer like ``POST /v1/messages``: auth, shape checks, real reply format."""
    if request.path != "/v1/messages":
        return json_answer(404, {"type": "error", "error": {"type": "not_found_error"}})
    if request.headers.get("x-api-key") != KEY:
        error = {"type": "authentication_error", "message": "invalid x-api-key"}
        return json_answer(401, {"type": "error", "error": error})
    problem = _anthropic_problem(request)
    if problem is not None:
        error = {"type": "invalid_request_error", "message": problem}
        return json_answer(400, {"type": "error", "error": error})
    body = request.json()
    return json_answer(
        200,
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [
                {"type": "text", "text": f"{len(body['messages'])} messages. "},
                {"type": "tool_use", "id": "toolu_1", "name": "df", "input": {}},
                {"type": "text", "text": f"Last: {body['messages'][-1]['content']}"},
            ],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": 9},
        },
    )


@pytest.fixture
def openai() -> Iterator[FakeServer]:
    """A local OpenAI-compatible server."""
    with serve(openai_api) as server:
        yield server


@pytest.fixture
def anthropic() -> Iterator[FakeServer]:
    """A local Anthropic Messages API server."""
    with serve(anthropic_api) as server:
        yield server


def model_agent(base_url: str, model: str, **fields: Any) -> ModelRuntime:
    """A model agent whose key comes from ``${LLM_KEY}``."""
    fields.setdefault("api_key", "${LLM_KEY}")
    spec = agent_spec(model=model, system_prompt=SYSTEM, base_url=base_url, **fields)
    return ModelRuntime(spec, RuntimeSettings(environ=ENV))


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("claude-sonnet-4.5", None, "anthropic"),
        ("Claude-3-haiku", None, "anthropic"),
        ("gpt-4o-mini", None, "openai"),
        ("llama3", "anthropic", "anthropic"),
        ("claude-x", "openai", "openai"),
    ],
)
def test_provider_choice(model: str, provider: str | None, expected: str) -> None:
    """``provider`` wins; otherwise ``claude*`` models speak Anthropic and others OpenAI."""
    spec = agent_spec(model=model, system_prompt="s", provider=provider)
    assert provider_for(spec) == expected


async def test_openai_request_and_reply(openai: FakeServer) -> None:
    """Chat completions get system prompt + summary, the shared turns and the input."""
    reply = await model_agent(f"{openai.url}/v1", "gpt-4o-mini").invoke(CONTEXT)
    assert reply.output == "4 messages; last: Check /var\n"
    assert reply.sleep is True
    body = openai.requests[0].json()
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [
            {
                "role": "system",
                "content": (
                    f"{SYSTEM}\n\nSummary of your previous turn:\nYesterday /var was 80% full."
                ),
            },
            {"role": "user", "content": "Check /home"},
            {"role": "assistant", "content": "/home is fine"},
            {"role": "user", "content": "Check /var"},
        ],
    }


async def test_anthropic_request_and_reply(anthropic: FakeServer) -> None:
    """Messages get ``system``, ``max_tokens``, the version header; text blocks are joined."""
    reply = await model_agent(anthropic.url, "claude-sonnet-4.5").invoke(CONTEXT)
    assert reply.output == "3 messages. Last: Check /var"
    assert reply.sleep is False
    request = anthropic.requests[0]
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    body = request.json()
    assert body["max_tokens"] == 4096
    assert body["system"].startswith(SYSTEM)
    assert body["messages"][-1] == {"role": "user", "content": "Check /var"}


async def test_anthropic_history_is_made_valid(anthropic: FakeServer) -> None:
    """Turns are merged, blank ones dropped, so the conversation alternates from a user turn."""
    context = AgentContext(
        **{**_fields(CONTEXT), "input": None, "previous_summary": None},
        messages=(
            {"role": "assistant", "content": "orphan"},
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "  "},
            {"role": "tool", "content": "ignored"},
        ),
    )
    await model_agent(anthropic.url, "claude-3-haiku").invoke(context)
    messages = anthropic.requests[0].json()["messages"]
    assert messages[:2] == [
        {"role": "user", "content": "a\n\nb"},
        {"role": "assistant", "content": "(no reply)"},
    ]
    assert messages[2]["content"].startswith("Run of job 'disk-check' scheduled for 2026-03-02")


def _fields(context: AgentContext) -> dict[str, Any]:
    return {name: getattr(context, name) for name in context.__slots__ if name != "messages"}


@pytest.mark.parametrize("flavour", ["openai", "anthropic"])
async def test_wrong_key_is_401_without_the_key(
    flavour: str, openai: FakeServer, anthropic: FakeServer
) -> None:
    """A rejected key fails (not retryable) and the message never contains the key."""
    if flavour == "openai":
        base_url, model = f"{openai.url}/v1", "gpt-4o"
    else:
        base_url, model = anthropic.url, "claude-3"
    runtime = ModelRuntime(
        agent_spec(model=model, system_prompt=SYSTEM, base_url=base_url, api_key="${K}"),
        RuntimeSettings(environ={"K": "sk-wrong-key-987654"}),
    )
    with pytest.raises(AgentRunError) as caught:
        await runtime.invoke(CONTEXT)
    assert caught.value.retryable is False
    assert "authentication failed (HTTP 401" in caught.value.reason
    assert "987654" not in str(caught.value)


@pytest.mark.parametrize("flavour", ["openai", "anthropic"])
async def test_rate_limit_is_retryable(
    flavour: str, openai: FakeServer, anthropic: FakeServer
) -> None:
    """A 429 is retryable, quotes the API's error message (key masked) and the retry delay."""
    message = f"Rate limit reached for requests by {KEY}"
    if flavour == "openai":
        server, base_url, model, path = openai, f"{openai.url}/v1", "gpt-4o", "/v1/chat/completions"
        body: dict[str, Any] = {"error": {"message": message, "type": "requests"}}
    else:
        server, base_url, model, path = anthropic, anthropic.url, "claude-3", "/v1/messages"
        body = {"type": "error", "error": {"type": "rate_limit_error", "message": message}}
    server.respond = lambda _: json_answer(429, body, **{"retry-after": "17"})
    with pytest.raises(AgentRunError) as caught:
        await model_agent(base_url, model).invoke(CONTEXT)
    assert caught.value.retryable is True
    assert caught.value.reason == (
        f"HTTP 429 from {server.url}{path}: Rate limit reached for requests by *** "
        "(retry after 17s)"
    )


async def test_malformed_reply(openai: FakeServer) -> None:
    """A 200 without ``choices[0].message.content`` is a clear error."""
    openai.respond = lambda _: json_answer(200, {"choices": []})
    with pytest.raises(AgentRunError, match=r"malformed openai reply from .*: no text content"):
        await model_agent(f"{openai.url}/v1", "gpt-4o").invoke(CONTEXT)


async def test_missing_api_key() -> None:
    """Without ``api_key``, the default variable or a ``base_url``, the agent cannot run."""
    spec = agent_spec(model="gpt-4o", system_prompt=SYSTEM)
    with pytest.raises(AgentRunError) as caught:
        await ModelRuntime(spec, RuntimeSettings()).invoke(CONTEXT)
    assert caught.value.reason == (
        'no API key for openai: add api_key: "${OPENAI_API_KEY}" to the agent and set '
        "OPENAI_API_KEY"
    )


async def test_unset_key_variable_names_it(openai: FakeServer) -> None:
    """An ``api_key`` placeholder whose variable is unset fails naming that variable."""
    runtime = ModelRuntime(
        agent_spec(
            model="gpt-4o", system_prompt=SYSTEM, base_url=f"{openai.url}/v1", api_key="${NOPE}"
        ),
        RuntimeSettings(environ=ENV),
    )
    with pytest.raises(AgentRunError, match=r"cannot resolve api_key: .*'NOPE' is not set"):
        await runtime.invoke(CONTEXT)
    assert openai.requests == []


async def test_shared_session_through_execute_run(openai: FakeServer) -> None:
    """A shared_persistent model job sends the stored conversation and returns it extended."""
    spec = agent_spec(
        model="gpt-4o", system_prompt=SYSTEM, base_url=f"{openai.url}/v1", api_key="${LLM_KEY}"
    )
    settings = RuntimeSettings(environ=ENV)
    session = SessionState(
        messages=({"role": "user", "content": "earlier"}, {"role": "assistant", "content": "noted"})
    )
    result = await execute_run(
        ModelRuntime(spec, settings),
        spec,
        make_job(session_mode=SessionMode.shared_persistent),
        make_run(),
        session,
        settings,
        clock=FakeClock(NOW),
    )
    assert result.status == RunStatus.succeeded
    assert result.output == "4 messages; last: check the disks\n"
    assert result.messages[-2:] == (
        {"role": "user", "content": "check the disks"},
        {"role": "assistant", "content": "4 messages; last: check the disks\n"},
    )
