"""The parser and the tagger give byte for byte the outputs recorded before they
were made faster: every fixture page and the seed (with and without banner),
mutations of them, and 300 synthetic pages (tests/parse_golden.py lists them and
records tests/fixtures/parse_golden.json)."""

import json

import pytest

from tests.parse_golden import GOLDEN, inputs, outcome

RECORDED = json.loads(GOLDEN.read_text(encoding="utf-8"))
CASES = inputs()


def test_the_inputs_are_the_recorded_ones():
    assert {name for name, _ in CASES} == set(RECORDED)
    assert len(CASES) == len(RECORDED) > 700


@pytest.mark.parametrize(("name", "data"), CASES, ids=[name for name, _ in CASES])
def test_parse_and_tags_are_unchanged(name, data):
    assert outcome(data, digest=name.startswith("synthetic")) == RECORDED[name]
