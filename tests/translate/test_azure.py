"""The Azure backend: the real azure-ai-translation-text SDK against the fake_azure Translator on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

import pytest

from support.fake_azure import DROP, SHORT, FakeAzure, fake_translate, serving
from mmlu_ml.core import languages
from mmlu_ml.core import protect
from mmlu_ml.translate.translators.azure import API_VERSION, AzureTranslator
from mmlu_ml.core.errors import MmluMlError

KEY = "azure-key-0c5e1f7d9a"
pytestmark = pytest.mark.fake_azure(key=KEY)
TABLE = languages.load()
EN, SW, CY = TABLE.languages["en"], TABLE.languages["sw"], TABLE.languages["cy"]




def expected(text: str, lang) -> str:
    return protect.from_html(fake_translate(protect.to_html(text), lang.azure, html=True))


def test_translates_with_protection_and_counts_billing(fake_azure):
    texts = ["What is 2 + 2?", "If $x^2 < 4$ & y > 0, fill ____", "A <b>bold</b> claim"]
    tr = AzureTranslator(None, None)
    out = tr.translate(texts, EN, SW)
    assert out == [expected(t, SW) for t in texts]
    assert out[0] == "[sw] Jung vf 2 + 2?"
    assert out[1] == "[sw] Vs $x^2 < 4$ & l > 0, svyy ____"  # protected spans kept, escapes undone
    assert out[2] == "[sw] N <o>obyq</o> pynvz"  # markup in the source is text, translated as text
    assert tr.usage() == {"requests": 1, "billed_chars": sum(protect.utf16_len(protect.to_html(t)) for t in texts)}
    assert fake_azure.snapshot()["characters"] == tr.usage()["billed_chars"]


def test_sends_the_json_of_the_pinned_api_version(fake_azure):
    """The wire format the 2.x SDK speaks: api-version in the query, inputs with per-item targets."""
    seen = {}
    original = fake_azure.server.RequestHandlerClass.do_POST

    def spy(handler):
        seen["path"], seen["key"] = handler.path, handler.headers.get("Ocp-Apim-Subscription-Key")
        return original(handler)

    fake_azure.server.RequestHandlerClass.do_POST = spy
    AzureTranslator(None, None).translate(["Hello"], EN, CY)
    assert seen == {"path": f"/translate?api-version={API_VERSION}", "key": KEY}


def test_429_waits_what_retry_after_says(fake_azure):
    fake_azure.retry_after = "0.4"
    fake_azure.script = [429, 429]
    tr = AzureTranslator(None, None)
    start = time.monotonic()
    assert tr.translate(["Hello"], EN, SW) == ["[sw] Uryyb"]
    assert time.monotonic() - start >= 0.8
    assert tr.usage()["requests"] == 3 and fake_azure.snapshot()["status_429"] == 2


def test_5xx_and_reset_connections_are_retried(fake_azure):
    """A 502 and a reset connection on a POST are retried only because we add POST to azure-core's
    retried methods; a reply missing an item is never guessed at."""
    fake_azure.retry_after_5xx = True
    fake_azure.script = [DROP, 500, 502, 503]
    tr = AzureTranslator(None, None)
    assert tr.translate(["Hello", "World"], EN, SW) == ["[sw] Uryyb", "[sw] Jbeyq"]
    assert tr.usage()["requests"] == 5 and fake_azure.snapshot()["dropped"] == 1
    fake_azure.script = [SHORT] * 3  # asked again twice, then reported failed: never a guessed alignment
    assert tr.translate(["Hello", "World"], EN, SW) == [None, None]


def test_backoff_without_retry_after(fake_azure):
    fake_azure.script = [502, 502]  # azure-core: first retry at once, then 0.5 s x 2
    start = time.monotonic()
    assert AzureTranslator(None, None).translate(["Hello"], EN, SW) == ["[sw] Uryyb"]
    assert time.monotonic() - start >= 0.9


def test_retries_are_bounded(fake_azure):
    fake_azure.retry_after_5xx = True
    fake_azure.script = [500] * 20
    tr = AzureTranslator(None, None)
    assert tr.translate(["Hello", "World"], EN, SW) == [None, None]
    assert tr.usage()["requests"] == 8  # 1 + 7 retries, then these strings are reported failed
    fake_azure.script = []
    assert tr.translate(["Hello"], EN, SW) == ["[sw] Uryyb"]


def test_wrong_key_is_a_one_line_error_without_the_key(fake_azure, monkeypatch):
    monkeypatch.setenv("AZURE_TRANSLATOR_KEY", "wrong-" + KEY)
    with pytest.raises(MmluMlError) as err:
        AzureTranslator(None, None).translate(["Hello"], EN, SW)
    message = str(err.value)
    assert "401" in message and "AZURE_TRANSLATOR_KEY" in message and KEY not in message and "\n" not in message


def test_missing_key_fails_before_any_request(fake_azure, monkeypatch):
    monkeypatch.delenv("AZURE_TRANSLATOR_KEY")
    tr = AzureTranslator(None, None)  # constructing needs no key: --dry-run estimates without one
    with pytest.raises(MmluMlError, match="AZURE_TRANSLATOR_KEY is not set"):
        tr.preflight()
    assert fake_azure.snapshot().get("requests", 0) == 0


def test_unknown_target_language_is_a_configuration_error(monkeypatch):
    with serving(monkeypatch, key=KEY, languages={"sw"}):
        with pytest.raises(MmluMlError, match="400036.*languages.yaml"):
            AzureTranslator(None, None).translate(["Hello"], EN, CY)


def test_requests_stay_within_the_service_limits(fake_azure):
    tr = AzureTranslator(None, None)
    texts = [f"Question number {i} about < and &" for i in range(2500)] + ["long " * 9000, "x" * 60_000]
    out = tr.translate(texts, EN, SW)
    assert out[-1] is None  # one element over 50,000 characters cannot be sent at all
    assert out[:-1] == [expected(t, SW) for t in texts[:-1]]
    log = fake_azure.request_log
    assert len(log) >= 4 and max(r["elements"] for r in log) <= 1000 and max(r["characters"] for r in log) <= 50_000
    assert fake_azure.snapshot().get("status_400", 0) == 0


@pytest.mark.parametrize("count,size,code", [(1001, 1, "400077"), (2, 25_001, "400077")])
def test_fake_enforces_limits_like_the_service(fake_azure, count, size, code):
    body = json.dumps({"inputs": [{"text": "a" * size, "language": "en", "targets": [{"language": "sw"}]}] * count})
    request = urllib.request.Request(f"{fake_azure.endpoint}/translate?api-version={API_VERSION}", data=body.encode(),
                                     headers={"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 400 and json.load(err.value)["error"]["code"] == code


def test_endpoint_checks_and_fingerprint(monkeypatch, caplog):
    monkeypatch.setenv("AZURE_TRANSLATOR_KEY", KEY)
    monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", "http://translator.example.com")
    caplog.set_level(logging.WARNING, logger="mmlu_ml.core.endpoints")
    tr = AzureTranslator(None, None)  # the plain-http warning: core/endpoints.py's, logged (printed before issue 36)
    assert "http://translator.example.com is plain http" in caplog.text
    caplog.clear()
    fp = json.dumps(tr.fingerprint())
    assert KEY not in fp and API_VERSION in fp and "translator.example.com" in fp
    for loopback in ("http://127.0.0.1:5000", "http://localhost:5000", "https://api.cognitive.microsofttranslator.com"):
        monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", loopback)
        AzureTranslator(None, None)
    assert caplog.records == []
    monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", "ftp://host")
    with pytest.raises(MmluMlError, match="http"):
        AzureTranslator(None, None)
    with pytest.raises(MmluMlError, match="takes no model"):
        AzureTranslator("gpt-4o", None)


def test_region_header_for_regional_resources(monkeypatch):
    with FakeAzure(key=KEY, region="westeurope") as server:
        monkeypatch.setenv("AZURE_TRANSLATOR_KEY", KEY)
        monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", server.endpoint)
        monkeypatch.delenv("AZURE_TRANSLATOR_REGION", raising=False)
        with pytest.raises(MmluMlError, match="AZURE_TRANSLATOR_REGION"):
            AzureTranslator(None, None).translate(["Hello"], EN, SW)
        monkeypatch.setenv("AZURE_TRANSLATOR_REGION", "westeurope")
        assert AzureTranslator(None, None).translate(["Hello"], EN, SW) == ["[sw] Uryyb"]
