"""YAML reading (issue 9, section 3 and 7): every failure of the YAML library becomes one
line with the file and the line, whatever the text holds."""

from __future__ import annotations

import pytest

from mnprof.core.errors import SpecError
from mnprof.core.values import MAX_INT, MAX_YAML_DEPTH
from mnprof.core.yamlsrc import load_yaml

HEAD = "name: t\ninput: {resolution: 32, channels: 3}\n"


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_yaml(text, file="f.yaml")
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize("char", [c for c in range(32) if c not in (9, 10, 13)]
                         + [0x7F, 0x80, 0x9F, 0xFFFE])
def test_every_control_character_is_named_with_its_line(char):
    """The attack found 393 of these with no line; the line is counted the way the
    YAML library counts the position (bytes for libyaml), so text with multi-byte
    characters before it still gives the right line."""
    text = HEAD + "# é ü 漢字\nlayers:\n  - {kind: relu}\n  - {kind: r" + chr(char) + "lu}\n"
    err = _error(text)
    assert err.line == 6, (hex(char), str(err))
    assert f"U+{char:04X}" in str(err)


@pytest.mark.parametrize("text, line, words", [
    (HEAD + "layers:\n  - {kind: !!bool relu}\n", 4, ["!!bool value 'relu' cannot be read"]),
    (HEAD + "layers:\n  - {kind: !!float relu}\n", 4, ["!!float value 'relu'"]),
    (HEAD + "layers:\n  - {kind: !!int x1}\n", 4, ["!!int value 'x1'"]),
    (HEAD + "alpha: !!python/object:os.system x\n", 3, ["tag", "not allowed"]),
    (HEAD + "layers: !!binary aGk=\n", 3, ["!!binary", "not allowed"]),
    (HEAD + "alpha: " + "9" * 400 + "\n", 3, ["too large", f"{MAX_INT:,}"]),
    (HEAD + "alpha: " + "9" * 5000 + "\n", 3, ["cannot be read"]),
    (HEAD + "alpha: -" + "1" * 30 + "\n", 3, ["too large"]),
    ("a: 1\na: 2\n", 2, ["duplicate key 'a' (first on line 1)"]),
    ("a: &x [*x]\n", 1, ["recursive alias"]),
    ("a: [\n", 2, ["invalid YAML"]),
])
def test_tags_huge_integers_and_malformed_text(text, line, words):
    err = _error(text)
    assert err.line == line, str(err)
    for w in words:
        assert w in str(err)


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 330, 400, 1000, 5000])
def test_deep_nesting_is_refused_with_the_bound(depth):
    """400 nested sequences crashed the converter at about 330 levels (RecursionError);
    libyaml itself stops near 1,000. Both closed and unclosed brackets."""
    closed = _error(HEAD + "layers: " + "[" * depth + "]" * depth + "\n")
    assert f"nested more than {MAX_YAML_DEPTH} levels" in str(closed) \
        or "invalid YAML" in str(closed)
    _error(HEAD + "layers: " + "[" * depth + "\n")
    _error(HEAD + "layers:\n" + "".join("  " * i + "- \n" for i in range(min(depth, 800))))


def test_nesting_up_to_the_bound_is_read():
    depth = MAX_YAML_DEPTH - 1
    data = load_yaml("a: " + "[" * depth + "1" + "]" * depth + "\n", file="f.yaml")
    data = data["a"]                    # the mapping, then depth lists: 64 levels
    for _ in range(depth):
        data = data[0]
    assert data == 1


def test_an_alias_bomb_is_bounded():
    lines = ["a0: [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines[0] = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"
    err = _error("\n".join(lines) + "\n")
    assert "alias" in str(err)


def test_text_that_is_not_unicode_from_the_library():
    """A lone surrogate can only come from a caller passing text (a file is decoded
    strictly first); still one line, not a UnicodeEncodeError."""
    err = _error("a: \ud800\n")
    assert "not valid Unicode" in str(err)
