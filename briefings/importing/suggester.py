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
# The tokenizer's fast path: a run of lowercase (Latin) words is one token,
# consumed by the regex engine instead of word by word; such a run only ever
# breaks a name. Other words are matched one at a time. A run may not start with
# a connector ("Bank of England": "of" joins the name before it), which _scan
# checks in Python: a lookahead in the pattern would be tried at every word.
# (Connectors inside a run follow a lowercase word: they join nothing.)
_CONNECTOR_AT = re.compile(
    "(?:" + "|".join(sorted(_CONNECTORS, key=len, reverse=True)) + r")\b"
)
_CONNECTOR_INITIALS = frozenset(word[0] for word in _CONNECTORS)
_LOWER_WORD = r"[a-zß-öø-ÿ](?:[\w'’-]*[^\W_])?"
_TOKEN = re.compile(
    rf"(?P<low>{_LOWER_WORD}(?:[\W\d_]+{_LOWER_WORD})*)|(?P<word>{_WORD.pattern})"
)
_OPENING = re.compile(r"[\"“‘:;]|(?:^|\s)'")  # a quotation or clause opens here
# The longest text _ABBREVIATION can need at the end of a sentence ("Capt." and
# the character before it, or a final newline that "$" allows): searching only
# this tail finds a match exactly when searching the whole sentence does.
_ABBREVIATION_TAIL = 7
_SPACING = re.compile(r"[\s\-‐–]+")

# Sizes of the per-process caches below: words and names recur across
# articles; sentences rarely do (an article's are looked at once).
_WORD_CACHE = 16_384
_SENTENCE_CACHE = 4_096


@lru_cache(maxsize=_WORD_CACHE)
def _key(name: str) -> str:
    """Spelling-insensitive identity: case, hyphens and dashes vs spaces."""
    return _SPACING.sub(" ", name).casefold()


@lru_cache(maxsize=_WORD_CACHE)
def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "")
    return len(letters) >= 2 and letters.isupper() and letters.isalpha()


@lru_cache(maxsize=_WORD_CACHE)
def _is_demonym(word: str) -> bool:
    lower = word.casefold()
    if lower in _NOT_DEMONYMS:
        return False
    return lower in _DEMONYMS or lower.endswith(_DEMONYM_SUFFIXES)


@lru_cache(maxsize=_WORD_CACHE)
def _is_noise(word: str) -> bool:
    """Words that can not start or end a name."""
    lower = word.casefold()
    if lower in _TITLES:
        return True
    if _is_acronym(word):
        return False  # "WHO", "US": an organisation or a country, not a pronoun
    return lower in _STOPWORDS or lower in _CONNECTORS or lower in _CALENDAR


_POSSESSIVE_ENDINGS = ("'s", "’s", "s'", "s’")


@lru_cache(maxsize=_WORD_CACHE)
def _word_form(text: str) -> tuple[str, bool]:
    """A word without its possessive "'s" (or "s'"), and whether it had one."""
    possessive = len(text) > 2 and text.endswith(_POSSESSIVE_ENDINGS)
    if possessive:
        text = text[:-2] if text[-1] in "sS" else text[:-1]
    return text, possessive


def _sentences(text: str) -> list[str]:
    """Split prose into sentences, not after "Mr." or "U.S." before a name."""
    sentences: list[str] = []
    for part in _SENTENCE_END.split(text):
        if sentences and _ABBREVIATION.search(
            sentences[-1], max(len(sentences[-1]) - _ABBREVIATION_TAIL, 0)
        ):
            sentences[-1] += " " + part
        else:
            sentences.append(part)
    return sentences


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


@lru_cache(maxsize=_WORD_CACHE)
def _run_name(words: tuple[str, ...], initial: bool) -> tuple[str, str | None] | None:
    """The name a run of capitalised words makes, or None (noise only).

    Comes with the casefolded word that the article must capitalise
    mid-sentence for the name to count, or None when it counts anyway.
    """
    needs = None
    if initial and len(words) == 1 and not _is_acronym(words[0]):
        # "However", "Speaking", "Last": capitalised by position only, unless
        # the article capitalises the word mid-sentence too. (In a longer run,
        # "Nikol Pashinyan said", the first word is a name; noise words such as
        # "The" are trimmed below.)
        needs = words[0].casefold()
    start, end = 0, len(words)
    while start < end and (
        _is_noise(words[start])
        # "German Chancellor Olaf Scholz", but "British Airways".
        or (
            end - start > 1
            and _is_demonym(words[start])
            and words[start + 1].casefold() in _TITLES
        )
    ):
        start += 1
    while start < end and (
        _is_noise(words[end - 1]) or words[end - 1].endswith(_ADJECTIVE_SUFFIXES)
    ):
        end -= 1  # "EU Comprehensive (and Enhanced ...)" -> "EU"
    if start == end:
        return None
    if end - start == 1:
        word = words[start]
        if len(word) < 2 or _is_demonym(word):
            return None
    return " ".join(words[start:end]), needs


@lru_cache(maxsize=_SENTENCE_CACHE)
def _scan(
    sentence: str,
) -> tuple[frozenset[str], tuple[tuple[str, str | None], ...]]:
    """What suggest_tags needs of one sentence, in one pass over its words.

    Returns the casefolded words the sentence capitalises where position does
    not force it (not at its start, nor after a quote or a colon), and its
    candidate names (see _run_name) in order. A name is a maximal run of
    capitalised words joined by single spaces, or by connectors ("Bank of
    England"); a possessive ("Russia's") ends its run; a lowercase word, or
    any other gap, breaks it.
    """
    capitals: set[str] = set()
    names: list[tuple[str, str | None]] = []
    run: list[str] = []
    run_initial = False  # the run's first word starts a sentence or a quotation
    last_possessive = False  # the run's last word
    previous_end = 0
    first = True  # no word read yet
    search = _TOKEN.search
    at = 0
    while (match := search(sentence, at)) is not None:
        start, at = match.span()
        lowercase = match.lastgroup == "low"
        if (
            lowercase
            and sentence[start] in _CONNECTOR_INITIALS
            and _CONNECTOR_AT.match(sentence, start)
        ):
            # A connector starts no lowercase run: it is a word of its own.
            match = _WORD.match(sentence, start)
            at = match.end()
            lowercase = False
        if not lowercase:
            text = match.group()
            if text[0].isupper() or text in _CONNECTORS:
                gap = sentence[previous_end:start]
                initial = first or (gap != " " and bool(_OPENING.search(gap)))
                word, possessive = _word_form(text)
                capital = word[0].isupper()
                if capital and not initial:
                    capitals.add(word.casefold())
                joined = gap == " " and run and not last_possessive
                if capital or (joined and word in _CONNECTORS and not possessive):
                    if not joined and run:
                        if name := _run_name(tuple(run), run_initial):
                            names.append(name)
                        run = []
                    if not run:
                        run_initial = initial
                    run.append(word)
                    last_possessive = possessive
                elif run:
                    if name := _run_name(tuple(run), run_initial):
                        names.append(name)
                    run = []
                previous_end = at
                first = False
                continue
        # A lowercase word (no connector) breaks the run.
        if run:
            if name := _run_name(tuple(run), run_initial):
                names.append(name)
            run = []
        previous_end = at
        first = False
    if run and (name := _run_name(tuple(run), run_initial)):
        names.append(name)
    return frozenset(capitals), tuple(names)


def clear_caches() -> None:
    """Forget every per-process cache (for benchmarks timing a cold start)."""
    for cached in (_key, _is_acronym, _is_demonym, _is_noise, _word_form):
        cached.cache_clear()
    _run_name.cache_clear()
    _scan.cache_clear()


def _mentions(text: str, keys: set[str], longest: int) -> list[str]:
    """Known names (by key) found in a title-cased text, longest match first."""
    words = [_word_form(match.group())[0] for match in _WORD.finditer(text)]
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

    # Each sentence is analysed once: first every capital found mid-sentence
    # (a name at a sentence's start counts only if one of them matches it),
    # then the names, in text order.
    analysed = [
        (weight, [_scan(sentence) for sentence in _sentences(text)])
        for text, weight in prose
    ]
    known: set[str] = set()
    for _weight, analyses in analysed:
        for capitals, _names in analyses:
            known |= capitals
    collector = _Collector()
    for weight, analyses in analysed:
        for _capitals, names in analyses:
            for name, needs in names:
                if needs is None or needs in known:
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
