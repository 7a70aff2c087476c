"""--model-args / --translator-args: checked against what the chosen backend's constructor takes."""

import pytest
from conftest import assert_one_line_error, cli

from mmlu_ml.core import settings
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.evaluate.models.base import Model
from mmlu_ml.evaluate.stage import COMMON_MODEL_ARGS
from mmlu_ml.translate.stage import COMMON_TRANSLATOR_ARGS
from mmlu_ml.translate.translators.base import Translator


class Toy(Model):
    def __init__(self, spec, cache_dir, base_url=None, concurrency=1, seed=0, n_ctx: int | None = None,
                 temperature: float = 0.0, reuse_prefix: bool = True, api: str = "auto"):
        pass

    def fingerprint(self):
        return {}

    def letter_logprobs(self, prefix, suffixes, letters):
        return []

    def generate(self, prompts, max_tokens):
        return []


def test_values_take_the_type_of_each_setting():
    got = settings.parse("n_ctx=16384, temperature=0.5,reuse-prefix=false,api=chat", Toy, COMMON_MODEL_ARGS,
                         "--model-args", "toy")
    assert got == {"n_ctx": 16384, "temperature": 0.5, "reuse_prefix": False, "api": "chat"}
    assert settings.parse(None, Toy, COMMON_MODEL_ARGS, "--model-args", "toy") == {}


@pytest.mark.parametrize("text, needle", [
    ("n_ctxx=1", "takes no setting 'n_ctxx'; it takes: api, n_ctx, reuse_prefix, temperature"),
    ("seed=3", "takes no setting 'seed'"),  # the common ones have options of their own
    ("n_ctx", "is not key=value"),
    ("n_ctx=big", "n_ctx='big' is not an integer"),
    ("reuse_prefix=maybe", "give true or false"),
])
def test_a_bad_setting_is_one_line_naming_the_valid_ones(text, needle):
    with pytest.raises(MmluMlError) as err:
        settings.parse(text, Toy, COMMON_MODEL_ARGS, "--model-args", "toy")
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_every_registered_backend_has_only_settings_it_can_take():
    """The common arguments and the settings of each real backend: no **kwargs swallowing a mistyped key."""
    from mmlu_ml.core import registry
    from mmlu_ml.evaluate.models import MODELS
    from mmlu_ml.translate.translators import TRANSLATORS
    import inspect
    for table, base, common in ((MODELS, Model, COMMON_MODEL_ARGS), (TRANSLATORS, Translator, COMMON_TRANSLATOR_ARGS)):
        for name in table:
            cls = registry.load(table, name, "backend")
            assert issubclass(cls, base), name
            params = inspect.signature(cls.__init__).parameters.values()
            assert not any(p.kind is p.VAR_KEYWORD for p in params), f"{name} swallows unknown settings"


def test_the_cli_refuses_an_unknown_model_arg_in_one_line(tiny_source, tmp_path):
    proc = cli("evaluate", "--source", tiny_source, "--languages", "en", "--model", "llamacpp:gemma-3-270m-q4_k_m",
               "--model-args", "n_ctxx=4096", "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache")
    assert_one_line_error(proc, "--model-args: the llamacpp backend takes no setting 'n_ctxx'; it takes: "
                                "chat_template, n_ctx, n_threads, reuse_prefix, streams")
    assert not (tmp_path / "out").exists()
    proc = cli("translate", "--source", tiny_source, "--languages", "de", "--translator", "identity",
               "--translator-args", "speed=2", "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache")
    assert_one_line_error(proc, "--translator-args: the identity backend takes no setting 'speed'; it takes: none")
    assert not (tmp_path / "out").exists()
