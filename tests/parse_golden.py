"""The inputs and outputs of tests/test_parse_golden.py (and the script that
records them).

The inputs: every page under tests/fixtures/pages/ and the real seed, each with
and without its cookie banner; deterministic mutations of them (lines dropped,
duplicated, swapped, joined, blanked, NBSP-only lines and furniture inserted, the
page cut short); and 300 synthetic pages of bench/synthetic.py. The outputs: for
each, the parsed article (every field, warnings included, as its repr) or the
parser's error, the suggested tags, and the import notes (the warnings).

    .venv/bin/python tests/parse_golden.py    # rewrites the golden file

Record it only from code whose output is known to be right: the test compares
the parser and the tagger against it byte for byte.
"""

import hashlib
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

import synthetic  # noqa: E402  (bench/synthetic.py, pure)

from briefings.importing.seedformat import SeedFormatError, parse_bytes  # noqa: E402
from briefings.importing.suggester import suggest_tags  # noqa: E402

GOLDEN = ROOT / "tests" / "fixtures" / "parse_golden.json"
PAGES = ROOT / "tests" / "fixtures" / "pages"
SEED = ROOT / "seeds" / "000_bc1b607ab5b064c2.txt"
SYNTHETIC = 300
MUTATIONS_PER_PAGE = 40

# Lines a mutation may insert: furniture, furniture-like junk and look-alikes.
INSERTS = [
    "\u00a0",
    "READ MORE",
    "Search Trends",
    "TOP NEWS",
    "Video",
    "Download",
    "Translating...",
    "Error loading player: No playable sources found",
    "Share",
    "CHOOSE YOUR LANGUAGE",
    "English Español Français",
    "Aired: 02/03/2024",
    "For more: https://example.com/x",
    "Source(s): Xinhua News Agency",
    "Editor's note: This is an opinion piece.",
    "Europe;France",
    '["china"]',
    '{"type":2,"id":5}',
    "12:34",
    "1:02:03",
    "2024.02.02 21:17 GMT+8",
    "Updated 17:12, 28-Feb-2019",
    "Geneva, Updated 09:05, 01-Mar-2024",
    "\u00a0, Updated 31:99, 04-Xyz-2024",
    "Jane Doe, in Berlin",
    "Jane Doe and John Smith, CGTN",
    "CGTN",
    "World Insight with Tian Wei",
    "Live: Leaders meet in Geneva",
    "CFP",
    "Officials met on Monday./Jane Doe/Reuters",
    'The talks "stalled". Anna Lee/AFP',
    "What happens next?",
    "A short line without punctuation",
    "The US-edition newsletter is here. Subscribe here!",
    "\u202eReversed text\u202c with a bidi override.",
    "Nagorno Karabakh and the International Criminal Court (ICC) met the U.S.",
    "Prime Minister Nikol Pashinyan said Russia's President Vladimir Putin agreed.",
]


def pages() -> list[tuple[str, bytes]]:
    """The real-shaped pages: the fixtures and the seed, as bytes."""
    found = [(path.name, path.read_bytes()) for path in sorted(PAGES.glob("*.txt"))]
    return [*found, (SEED.name, SEED.read_bytes())]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        at = rng.randrange(len(lines))
        action = rng.randrange(9)
        if action == 0:
            del lines[at]
        elif action == 1:
            lines.insert(at, lines[at])
        elif action == 2 and len(lines) > 1:
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif action == 3 and at + 1 < len(lines):
            lines[at : at + 2] = [lines[at] + " " + lines[at + 1]]
        elif action == 4:
            lines[at] = ""
        elif action == 5:
            lines.insert(at, rng.choice(INSERTS))
        elif action == 6:
            lines[at + 1 :] = []  # cut short
        elif action == 7:
            lines[at] = lines[at].rstrip(".?!\"'")  # lost final punctuation
        else:
            lines.insert(at, "")
            lines.insert(at, rng.choice(INSERTS))
    return "\n".join(lines)


def inputs() -> list[tuple[str, bytes]]:
    rng = random.Random(19)
    cases = []
    for name, data in pages():
        text = data.decode("utf-8")
        banner = text.split("I agree\n\n", 1)
        variants = [(name, data)]
        if len(banner) == 2:
            variants.append((f"{name} (no banner)", banner[1].encode()))
        cases += variants
        for n in range(MUTATIONS_PER_PAGE):
            source_name, source = variants[n % len(variants)]
            mutated = mutate(source.decode("utf-8"), rng)
            cases.append((f"{source_name} mutation {n}", mutated.encode()))
    synthetic_rng = random.Random(20240204)  # bench/synthetic.py's default seed
    for n in range(SYNTHETIC):
        text = synthetic.seedformat.dump(synthetic.article(synthetic_rng, n))
        cases.append((f"synthetic {n:05d}", text.encode()))
    return cases


def outcome(data: bytes, digest: bool = False) -> dict:
    """What the parser and the tagger make of `data`.

    With `digest`, the article's repr is kept as its SHA-256 (the synthetic
    pages: they would make the golden file megabytes long).
    """
    try:
        article = parse_bytes(data)
    except SeedFormatError as err:
        return {"error": str(err)}
    shown = repr(article)
    if digest:
        shown = "sha256:" + hashlib.sha256(shown.encode()).hexdigest()
    return {
        "article": shown,
        "warnings": list(article.warnings),
        "tags": suggest_tags(article),
    }


def record() -> dict:
    return {
        name: outcome(data, digest=name.startswith("synthetic"))
        for name, data in inputs()
    }


if __name__ == "__main__":
    golden = record()
    GOLDEN.write_text(
        json.dumps(golden, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    errors = sum("error" in value for value in golden.values())
    sys.stdout.write(
        f"{GOLDEN.relative_to(ROOT)}: {len(golden)} inputs, {errors} refused\n"
    )
