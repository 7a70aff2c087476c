"""core/openai_client.py: the base-URL check, the plain-http warning (once), scrubbing, and the SDK's own retries
counted by our request hook, against the fake OpenAI server of tests/support/fake_openai.py."""

from __future__ import annotations

import logging
import time

import pytest

from mmlu_ml.core import openai_client, secrets
from mmlu_ml.core.errors import MmluMlError
from support.fake_openai import FakeOpenAI, chat, scripted

SECRET = "sk-client-SECRET-31c9e0"
LOGGER = "mmlu_ml.core.endpoints"  # the one plain-http warning lives there, for azure too


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_TRANSLATOR_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_endpoint_checks_the_url_and_names_its_public_part(monkeypatch):
    where = openai_client.endpoint("https://user:pw@host.example/v1/?key=abc")
    assert where.url == "https://user:pw@host.example/v1/?key=abc"  # as given: the SDK needs it whole
    assert (where.public, where.loopback, where.defaulted) == ("https://host.example/v1", False, False)
    assert openai_client.endpoint(None).public == openai_client.DEFAULT_BASE_URL
    assert openai_client.endpoint(None).defaulted
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1/")
    where = openai_client.endpoint(None)
    assert (where.url, where.loopback, where.defaulted) == ("http://127.0.0.1:8000/v1", True, False)
    for bad in ("ftp://127.0.0.1/v1", "127.0.0.1:8000/v1", "http:///v1"):
        with pytest.raises(MmluMlError, match="not an http"):
            openai_client.endpoint(bad)


def test_plain_http_to_another_machine_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    for _ in range(3):  # every backend and thread on the same server: one line
        openai_client.endpoint("http://10.9.8.7:8000/v1", "openai")
    openai_client.endpoint("http://127.0.0.1:8000/v1")
    openai_client.endpoint("http://[::1]:8000/v1")
    openai_client.endpoint("https://10.9.8.7/v1")
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.name == LOGGER
    assert record.getMessage() == ("openai: http://10.9.8.7:8000/v1 is plain http to another machine: requests "
                                   "and the key travel unencrypted; use https")


def test_scrub_hides_every_known_secret(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("AZURE_TRANSLATOR_KEY", "azure-KEY-0042")
    text = f"401 for Bearer {SECRET}; azure azure-KEY-0042; client sk-own-key-77; abc"
    assert secrets.scrub(text, "sk-own-key-77", "abc") == "401 for Bearer ***; azure ***; client ***; abc"
    # a key holding another goes whole; the placeholder sent to keyless servers is no secret
    assert secrets.scrub(f"x{SECRET}-longer", f"{SECRET}-longer") == "x***"
    assert secrets.scrub(openai_client.PLACEHOLDER_KEY) == openai_client.PLACEHOLDER_KEY


def _client(server, retries: int, backoff: float | None = 0.01):
    attempts = openai_client.Attempts()
    where = openai_client.endpoint(server.url)
    return openai_client.build(where, SECRET, timeout=5.0, retries=retries, backoff=backoff,
                               attempts=attempts), attempts


def test_the_sdk_retries_500_then_200_and_the_hook_counts_it():
    answers = iter([(500, {"error": {"message": "overloaded"}}), (200, chat("fine"))])
    with FakeOpenAI(handle=scripted(chats=lambda b, h: next(answers))) as server:
        client, attempts = _client(server, retries=2)
        reply = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "fine"
    assert server.statuses == [500, 200] and (attempts.requests, attempts.retries) == (2, 1)
    assert {k.lower(): v for k, v in server.calls[-1][2].items()}["authorization"] == f"Bearer {SECRET}"


def test_retries_are_bounded_and_the_error_tells_how_many_attempts():
    import openai

    with FakeOpenAI(handle=scripted(chats=lambda b, h: (503, {"error": {"message": "down"}}))) as server:
        client, attempts = _client(server, retries=3)
        start = time.monotonic()
        with pytest.raises(openai.InternalServerError) as failed:
            client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
        elapsed = time.monotonic() - start
    assert server.statuses == [503] * 4 and (attempts.requests, attempts.retries) == (4, 3)
    assert openai_client.attempts_of(failed.value) == 4
    assert elapsed < 1.0  # our backoff (0.01 s doubling) paced the retries, not the SDK's 0.5 s doubling


def test_a_400_is_not_retried_and_retry_after_is_honoured_within_its_cap():
    import openai

    answers = iter([(429, {"error": {"message": "slow down"}}, 0, {"Retry-After": "0.3"}), (200, chat("ok")),
                    (400, {"error": {"message": "bad"}})])
    with FakeOpenAI(handle=scripted(chats=lambda b, h: next(answers))) as server:
        client, attempts = _client(server, retries=4)
        start = time.monotonic()
        client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
        assert time.monotonic() - start >= 0.3  # what the server asked, not our 0.01 s backoff
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
    assert server.statuses == [429, 200, 400] and (attempts.requests, attempts.retries) == (3, 1)
