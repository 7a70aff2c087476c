"""Few-shot examples for the LLM translators: a handful of English exam strings and our own translations.

Chosen for the failure modes of small models: a question that tempts the model to answer it, a formula that
tempts it to solve it, a short option, and a plain statement. Translations written for this project (not
taken from any MMLU translation). A language without an entry gets the instructions only.
"""

from __future__ import annotations

ENGLISH = (
    "Which of the following best describes the function of the mitochondria?",
    "Find the sum of all integers $k$ such that $k^2 < 20$.",
    "The main function of red blood cells is to",
    "None of the above",
    "oxygen and water",
    "True, False",
    "The judge ruled that the contract was void because it was signed under duress.",
)

TRANSLATED: dict[str, tuple[str, ...]] = {
    "fr": (
        "Laquelle des propositions suivantes décrit le mieux la fonction des mitochondries ?",
        "Trouvez la somme de tous les entiers $k$ tels que $k^2 < 20$.",
        "La fonction principale des globules rouges est de",
        "Aucune de ces réponses",
        "l'oxygène et l'eau",
        "Vrai, Faux",
        "Le juge a statué que le contrat était nul parce qu'il avait été signé sous la contrainte.",
    ),
    "de": (
        "Welche der folgenden Aussagen beschreibt die Funktion der Mitochondrien am besten?",
        "Finden Sie die Summe aller ganzen Zahlen $k$, für die $k^2 < 20$ gilt.",
        "Die Hauptfunktion der roten Blutkörperchen besteht darin,",
        "Keine der oben genannten",
        "Sauerstoff und Wasser",
        "Wahr, Falsch",
        "Der Richter entschied, dass der Vertrag nichtig war, weil er unter Zwang unterzeichnet worden war.",
    ),
    "zh": (
        "以下哪一项最能描述线粒体的功能？",
        "求所有满足 $k^2 < 20$ 的整数 $k$ 之和。",
        "红细胞的主要功能是",
        "以上都不是",
        "氧气和水",
        "正确，错误",
        "法官裁定该合同无效，因为它是在胁迫下签署的。",
    ),
    "bn": (
        "নিচের কোনটি মাইটোকন্ড্রিয়ার কাজকে সবচেয়ে ভালোভাবে বর্ণনা করে?",
        "যে সকল পূর্ণসংখ্যা $k$-এর জন্য $k^2 < 20$, তাদের যোগফল নির্ণয় করুন।",
        "লোহিত রক্তকণিকার প্রধান কাজ হলো",
        "উপরের কোনোটিই নয়",
        "অক্সিজেন ও পানি",
        "সত্য, মিথ্যা",
        "বিচারক রায় দেন যে চুক্তিটি বাতিল, কারণ এটি চাপের মুখে স্বাক্ষরিত হয়েছিল।",
    ),
    "te": (
        "కింది వాటిలో ఏది మైటోకాండ్రియా యొక్క పనితీరును ఉత్తమంగా వివరిస్తుంది?",
        "$k^2 < 20$ అయ్యే అన్ని పూర్ణాంకాలు $k$ యొక్క మొత్తాన్ని కనుగొనండి.",
        "ఎర్ర రక్త కణాల ప్రధాన విధి",
        "పైవేవీ కావు",
        "ఆక్సిజన్ మరియు నీరు",
        "నిజం, తప్పు",
        "ఒప్పందం ఒత్తిడితో సంతకం చేయబడినందున అది చెల్లదని న్యాయమూర్తి తీర్పు ఇచ్చారు.",
    ),
}


def pairs(code: str) -> list[tuple[str, str]]:
    """(English, translation) examples for a language code (`pt-BR` falls back to `pt`), or []."""
    found = TRANSLATED.get(code) or TRANSLATED.get(code.split("-")[0])
    return list(zip(ENGLISH, found)) if found else []
