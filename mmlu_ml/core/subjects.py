"""The 57 MMLU subjects and their 4 categories.

Mapping: Hendrycks et al.'s own `categories.py` in the hendrycks/test repository (subject -> subcategory ->
category), the one lm-evaluation-harness also follows. Its fourth category is named
"other (business, health, misc.)"; we call it "other".
"""

# subject -> subcategory, as published
SUBCATEGORY = {
    "abstract_algebra": "math", "anatomy": "health", "astronomy": "physics",
    "business_ethics": "business", "clinical_knowledge": "health", "college_biology": "biology",
    "college_chemistry": "chemistry", "college_computer_science": "computer science",
    "college_mathematics": "math", "college_medicine": "health", "college_physics": "physics",
    "computer_security": "computer science", "conceptual_physics": "physics", "econometrics": "economics",
    "electrical_engineering": "engineering", "elementary_mathematics": "math", "formal_logic": "philosophy",
    "global_facts": "other", "high_school_biology": "biology", "high_school_chemistry": "chemistry",
    "high_school_computer_science": "computer science", "high_school_european_history": "history",
    "high_school_geography": "geography", "high_school_government_and_politics": "politics",
    "high_school_macroeconomics": "economics", "high_school_mathematics": "math",
    "high_school_microeconomics": "economics", "high_school_physics": "physics",
    "high_school_psychology": "psychology", "high_school_statistics": "math",
    "high_school_us_history": "history", "high_school_world_history": "history", "human_aging": "health",
    "human_sexuality": "culture", "international_law": "law", "jurisprudence": "law",
    "logical_fallacies": "philosophy", "machine_learning": "computer science", "management": "business",
    "marketing": "business", "medical_genetics": "health", "miscellaneous": "other",
    "moral_disputes": "philosophy", "moral_scenarios": "philosophy", "nutrition": "health",
    "philosophy": "philosophy", "prehistory": "history", "professional_accounting": "other",
    "professional_law": "law", "professional_medicine": "health", "professional_psychology": "psychology",
    "public_relations": "politics", "security_studies": "politics", "sociology": "culture",
    "us_foreign_policy": "politics", "virology": "health", "world_religions": "philosophy",
}

_CATEGORY_OF_SUBCATEGORY = {
    "STEM": ("physics", "chemistry", "biology", "computer science", "math", "engineering"),
    "humanities": ("history", "philosophy", "law"),
    "social sciences": ("politics", "culture", "economics", "geography", "psychology"),
    "other": ("other", "business", "health"),
}

CATEGORIES = tuple(_CATEGORY_OF_SUBCATEGORY)
SUBJECTS = tuple(sorted(SUBCATEGORY))
CATEGORY = {
    subject: next(cat for cat, subs in _CATEGORY_OF_SUBCATEGORY.items() if sub in subs)
    for subject, sub in SUBCATEGORY.items()
}
SPLITS = ("dev", "val", "test")


def pretty(subject: str) -> str:
    """`high_school_us_history` -> `high school us history`, the form prompts use."""
    return subject.replace("_", " ")


def name(subject: str) -> str:
    """`us_foreign_policy` -> `US foreign policy`: the subject's name as a translator should read it alone
    (`pretty`'s lower-case "us" reads as the pronoun: German "unsere Außenpolitik")."""
    return " ".join("US" if word == "us" else word for word in pretty(subject).split())
