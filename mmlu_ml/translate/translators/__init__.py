"""Translators by name, one file each, implementing `translate/translators/base.Translator`.

Adding one is a file here, a line in this dict and a test; the import waits until the name is used, so an
optional SDK is needed only by the runs that name it.
"""

TRANSLATORS = {
    "azure": "mmlu_ml.translate.translators.azure:AzureTranslator",
    "openai": "mmlu_ml.translate.translators.openai:OpenAITranslator",
    "local": "mmlu_ml.translate.translators.local:LocalTranslator",
    "bergamot": "mmlu_ml.translate.translators.bergamot:BergamotTranslator",
    "identity": "mmlu_ml.translate.translators.identity:IdentityTranslator",
}
