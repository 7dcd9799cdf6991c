"""Suggest tags (people, places, organisations) for a parsed article.

A deliberately small heuristic, no model and no dependency: names are runs of
capitalised words and acronyms *inside* sentences of the body and the captions
(never the photo credits, nor the related headlines, which are other stories).

* A capitalised word alone at the start of a sentence (or a quotation) only counts
  if the article also capitalises it mid-sentence ("Moscow has noted..." counts
  because of "...between Yerevan and Moscow"; "However, ..." does not).
* Stop words, titles ("Prime Minister", "President"), months, weekdays and
  nationality adjectives ("Russian", "Armenian") are not names on their own, and
  are trimmed from the ends of a name ("Russia's President Vladimir Putin" ->
  "Russia", "Vladimir Putin"; a possessive "'s" is dropped and ends the name).
* Variants are merged: "Nagorno Karabakh" and "Nagorno-Karabakh" are one tag,
  written with the hyphen when any copy (or a short list of well-known names) has
  it; a surname alone ("Putin") counts for the full name ("Vladimir Putin") when
  the article names exactly one such person; a spelled-out name counts for its
  acronym ("International Criminal Court" -> "ICC") when the story uses both.
* The headline and the subheadings are often in title case, so they do not
  propose names; they only add weight to names found in the body (and acronyms).

Scores: each mention weighs 1, or more in the headline, subheadings, hero caption
and first paragraphs; multi-word names get a small bonus, broad regions ("Central
Asia") half a score. Tags are ranked by score, then alphabetically.
"""

import re
from collections import Counter, defaultdict
from functools import lru_cache

from briefings.importing.seedformat import Figure, Heading, Paragraph, ParsedArticle

__all__ = ["suggest_tags"]

HEADLINE_WEIGHT = 3
HEADING_WEIGHT = 2
HERO_WEIGHT = 2  # the hero caption says what the story is about
LEDE_WEIGHT = 2  # the first paragraphs say what the story is about...
LEDE_PARAGRAPHS = 3
SPECIFIC_BONUS = 1  # a multi-word name is more specific than a single word

_STOPWORDS = frozenset(
    """
    a about above after again against ago all almost also although always am among
    an and another any anyone anything are around as at be because been before being
    below between both but by can could did do does doing done down during each
    either else enough even ever every everyone everything few for from further had
    has have having he her here hers herself him himself his how however i if in
    indeed instead into is it its itself just last later least less let like many
    may maybe me meanwhile might mine more moreover most much must my myself neither
    never nevertheless next no nobody none nor not nothing now of off often on once
    one only onto or other others otherwise our ours ourselves out over own perhaps
    please quite rather really same several shall she should since so some someone
    something sometimes soon speaking still such than that the their theirs them
    themselves then there therefore these they this those though through thus to
    today together tomorrow too toward towards under unless until up upon us very
    via was we were what whatever when whenever where whereas wherever whether which
    while who whoever whole whom whose why will with within without yes yesterday yet
    you your yours yourself yourselves according asked added adding said says told
    first second third new old many several despite including following given
    earlier recently currently finally overall still yet well here's it's that's
    there's what's who's let's i'm we're they're you're he's she's
    """.split()
)

# Titles and ranks: never a tag on their own, trimmed from the ends of a name.
_TITLES = frozenset(
    """
    mr mrs ms miss dr prof professor sir dame lord lady president vice prime minister
    ministers ministry secretary general chancellor premier king queen prince
    princess pope senator sen governor gov mayor chairman chairwoman chair ceo
    director spokesman spokeswoman spokesperson ambassador envoy commissioner chief
    deputy foreign defense defence interior finance state first lady leader
    officials official representative special head
    """.split()
)

# Lowercase words that may sit inside a name: "Bank of England", "Rio de Janeiro".
_CONNECTORS = frozenset("of de da del di du la le van von der den al bin".split())

_CALENDAR = frozenset(
    """
    january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday
    wednesday thursday friday saturday sunday
    """.split()
)

# Nationality adjectives that do not follow the suffix rule below.
_DEMONYMS = frozenset(
    """
    afghan african american arab british chilean croat cuban czech danish dutch
    emirati filipino french german greek iraqi irish israeli kazakh kenyan kuwaiti
    mexican moroccan nepali omani pakistani qatari saudi serb slovak somali soviet
    swiss thai uzbek welsh yemeni
    """.split()
)
# A name does not end with an adjective ("Comprehensive", "Famous").
_ADJECTIVE_SUFFIXES = ("ive", "ous", "ful", "able", "ible")
_DEMONYM_SUFFIXES = ("ian", "ean", "ese", "ish")
_NOT_DEMONYMS = frozenset("caribbean mediterranean".split())  # places

# Broad regions make poor tags: their score is halved.
_BROAD_REGIONS = frozenset(
    [
        *"africa america americas asia balkans caucasus eurasia europe".split(),
        *"oceania scandinavia east west".split(),
        "central asia",
        "east asia",
        "eastern europe",
        "far east",
        "latin america",
        "middle east",
        "north africa",
        "south america",
        "south asia",
        "southeast asia",
        "sub saharan africa",
        "western europe",
    ]
)

# Names whose canonical spelling has a hyphen even when the story spells them with
# a space ("Nagorno Karabakh").
_HYPHENATED = {
    name.replace("-", " ").casefold(): name
    for name in (
        "Nagorno-Karabakh",
        "Guinea-Bissau",
        "Timor-Leste",
        "Bosnia-Herzegovina",
        "Schleswig-Holstein",
        "Baden-Württemberg",
        "Alsace-Lorraine",
        "Kabardino-Balkaria",
        "Khanty-Mansiysk",
    )
}

# A word: an acronym with periods ("U.S."), or letters with inner apostrophes and
# hyphens ("Armenia's", "Nagorno-Karabakh"). Digits start no word.
_WORD = re.compile(r"(?:[A-Z]\.){2,}|[^\W\d_](?:[\w'’-]*[^\W_])?")
# Where a sentence ends: punctuation, closing quotes, space, then a capital.
_SENTENCE_END = re.compile(r"(?<=[.?!…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Prof|Gen|Sen|Gov|Rep|Lt|Col|Capt|Sgt|Jr|Sr)\.|"
    r"(?:\b[A-Z]\.){2,})$"
)
# The tokenizer's fast path: a run of lowercase (Latin) words that are not
# connectors is one token, consumed by the regex engine instead of word by word;
# such a run only ever breaks a name. Other words are matched one at a time.
_CONNECTOR_WORD = "(?:" + "|".join(sorted(_CONNECTORS, key=len, reverse=True)) + r")\b"
_LOWER_WORD = rf"(?!{_CONNECTOR_WORD})[a-zß-öø-ÿ](?:[\w'’-]*[^\W_])?"
_TOKEN = re.compile(
    rf"(?P<low>{_LOWER_WORD}(?:[\W\d_]+{_LOWER_WORD})*)|(?P<word>{_WORD.pattern})"
)
_OPENING = re.compile(r"[\"“‘:;]|(?:^|\s)'")  # a quotation or clause opens here


def _key(name: str) -> str:
    """Spelling-insensitive identity: case, hyphens and dashes vs spaces."""
    return re.sub(r"[\s\-‐–]+", " ", name).casefold()


def _is_capitalised(word: str) -> bool:
    return word[0].isupper()


def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "")
    return len(letters) >= 2 and letters.isupper() and letters.isalpha()


def _is_demonym(word: str) -> bool:
    lower = word.casefold()
    if lower in _NOT_DEMONYMS:
        return False
    return lower in _DEMONYMS or lower.endswith(_DEMONYM_SUFFIXES)


def _is_noise(word: str) -> bool:
    """Words that can not start or end a name."""
    lower = word.casefold()
    if lower in _TITLES:
        return True
    if _is_acronym(word):
        return False  # "WHO", "US": an organisation or a country, not a pronoun
    return lower in _STOPWORDS or lower in _CONNECTORS or lower in _CALENDAR


_POSSESSIVE_ENDINGS = ("'s", "’s", "s'", "s’")


class _Word:
    __slots__ = ("initial", "possessive", "text")

    def __init__(self, text: str, initial: bool):
        self.possessive = len(text) > 2 and text.endswith(_POSSESSIVE_ENDINGS)
        if self.possessive:
            text = text[:-2] if text[-1] in "sS" else text[:-1]
        self.text = text
        self.initial = initial  # starts a sentence or a quotation


def _sentences(text: str) -> list[str]:
    """Split prose into sentences, not after "Mr." or "U.S." before a name."""
    sentences: list[str] = []
    for part in _SENTENCE_END.split(text):
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] += " " + part
        else:
            sentences.append(part)
    return sentences


# Stands in for a lowercase word that is no connector: it only breaks runs.
_LOWERCASE = (None, "")


@lru_cache(maxsize=4096)
def _words(sentence: str) -> tuple[tuple[_Word | None, str], ...]:
    """The sentence's words, each with the text between it and the previous word.

    Lowercase words other than connectors only matter as breaks between names, so
    they come back as `_LOWERCASE`. Cached: suggest_tags reads every sentence
    twice, and this is its hot loop.
    """
    words = []
    previous_end = 0
    for match in _TOKEN.finditer(sentence):
        text = match.group()
        if match.lastgroup == "low":
            words.append(_LOWERCASE)
        elif text[0].isupper() or text in _CONNECTORS:
            gap = sentence[previous_end : match.start()]
            initial = not words or (gap != " " and bool(_OPENING.search(gap)))
            words.append((_Word(text, initial), gap))
        else:
            words.append(_LOWERCASE)
        previous_end = match.end()
    return tuple(words)


def _runs(sentence: str) -> list[list[_Word]]:
    """Maximal runs of capitalised words joined by single spaces (or connectors)."""
    runs: list[list[_Word]] = []
    current: list[_Word] = []
    for word, gap in _words(sentence):
        if word is None:
            if current:
                runs.append(current)
                current = []
            continue
        joined = gap == " " and current and not current[-1].possessive
        if _is_capitalised(word.text) or (
            joined and word.text in _CONNECTORS and not word.possessive
        ):
            if not joined and current:
                runs.append(current)
                current = []
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


class _Collector:
    def __init__(self) -> None:
        self.scores: Counter[str] = Counter()
        self.spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def add(self, name: str, weight: int) -> None:
        key = _key(name)
        self.scores[key] += weight
        self.spellings[key][name] += 1

    def merge(self, key: str, into: str) -> None:
        self.scores[into] += self.scores.pop(key)

    def display(self, key: str) -> str:
        if key in _HYPHENATED:
            return _HYPHENATED[key]
        spellings = self.spellings[key]
        hyphenated = [name for name in spellings if "-" in name]
        if hyphenated:
            return max(hyphenated, key=lambda name: (spellings[name], name))
        return max(spellings, key=lambda name: (spellings[name], name))


def _names_in(sentence: str, known_mid_sentence: set[str]) -> list[str]:
    """The names (people, places, organisations) mentioned in one sentence."""
    names = []
    for run in _runs(sentence):
        words = list(run)
        first = words[0]
        if (
            first.initial
            and len(words) == 1
            and not _is_acronym(first.text)
            and first.text.casefold() not in known_mid_sentence
        ):
            # "However", "Speaking", "Last": capitalised by position only. (In a
            # longer run, "Nikol Pashinyan said", the first word is a name; noise
            # words such as "The" are trimmed below.)
            continue
        while words and (
            _is_noise(words[0].text)
            # "German Chancellor Olaf Scholz", but "British Airways".
            or (
                len(words) > 1
                and _is_demonym(words[0].text)
                and words[1].text.casefold() in _TITLES
            )
        ):
            words.pop(0)
        while words and (
            _is_noise(words[-1].text) or words[-1].text.endswith(_ADJECTIVE_SUFFIXES)
        ):
            words.pop()  # "EU Comprehensive (and Enhanced ...)" -> "EU"
        if not words:
            continue
        if len(words) == 1:
            word = words[0].text
            if len(word) < 2 or _is_demonym(word):
                continue
        names.append(" ".join(word.text for word in words))
    return names


def _mid_sentence_capitals(texts: list[str]) -> set[str]:
    """Casefolded words the article capitalises where position does not force it."""
    known = set()
    for text in texts:
        for sentence in _sentences(text):
            for word, _gap in _words(sentence):
                if word and not word.initial and _is_capitalised(word.text):
                    known.add(word.text.casefold())
    return known


def _mentions(text: str, keys: set[str], longest: int) -> list[str]:
    """Known names (by key) found in a title-cased text, longest match first."""
    words = [_Word(match.group(), False).text for match in _WORD.finditer(text)]
    found = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            candidate = " ".join(words[i : i + size])
            key = _key(candidate)
            if key in keys or (size == 1 and _is_acronym(candidate)):
                if not _is_noise(candidate):
                    found.append(candidate)
                i += size
                break
        else:
            i += 1
    return found


def _merge_surnames(collector: _Collector) -> None:
    """Count "Putin" for "Vladimir Putin" when exactly one such full name exists."""
    by_last_word = defaultdict(list)
    for key in collector.scores:
        parts = key.split(" ")
        if len(parts) > 1:
            by_last_word[parts[-1]].append(key)
    for key in list(collector.scores):
        fuller = by_last_word.get(key, [])
        if " " not in key and len(fuller) == 1:
            collector.merge(key, into=fuller[0])


def _merge_spelled_out_acronyms(collector: _Collector) -> None:
    """Count "International Criminal Court" for "ICC" when the story uses both."""
    for key in list(collector.scores):
        if " " not in key:
            continue
        words = collector.display(key).split()
        initials = "".join(word[0] for word in words if word[0].isupper())
        acronym = initials.casefold()
        if len(initials) >= 2 and acronym != key and acronym in collector.scores:
            collector.merge(key, into=acronym)


def suggest_tags(article: ParsedArticle, limit: int = 8) -> list[str]:
    """Suggest up to ``limit`` people, places and organisations the story is about.

    Deterministic: ordered by score (descending), then alphabetically.
    """
    prose: list[tuple[str, int]] = []
    titles: list[tuple[str, int]] = [(article.headline, HEADLINE_WEIGHT)]
    if article.hero is not None:
        prose.append((article.hero.caption, HERO_WEIGHT))
    paragraphs = 0
    for block in article.blocks:
        match block:
            case Paragraph(text):
                paragraphs += 1
                prose.append(
                    (text, LEDE_WEIGHT if paragraphs <= LEDE_PARAGRAPHS else 1)
                )
            case Figure(caption):
                prose.append((caption, 1))
            case Heading(text):
                titles.append((text, HEADING_WEIGHT))

    known = _mid_sentence_capitals([text for text, _weight in prose])
    collector = _Collector()
    for text, weight in prose:
        for sentence in _sentences(text):
            for name in _names_in(sentence, known):
                collector.add(name, weight)

    keys = set(collector.scores)
    longest = max((key.count(" ") + 1 for key in keys), default=1)
    for text, weight in titles:
        for name in _mentions(text, keys, longest):
            collector.add(name, weight)

    _merge_surnames(collector)
    _merge_spelled_out_acronyms(collector)
    scores: dict[str, float] = {}
    for key, score in collector.scores.items():
        if " " in key:
            score += SPECIFIC_BONUS
        if key in _BROAD_REGIONS:
            score /= 2
        scores[key] = score
    ranked = sorted(scores, key=lambda key: (-scores[key], key))
    return [collector.display(key) for key in ranked[: max(limit, 0)]]
