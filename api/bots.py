"""Which user agents are bots: the crawler-user-agents list plus our own additions, one matcher.

Crawler patterns come from the ``crawler-user-agents`` package (PyPI; import
name ``crawleruseragents``), a maintained JSON list of ~1,500 regular
expressions, each with real user agents it must match. It knows search
engines, SEO and AI crawlers, monitors and many link unfurlers and HTTP
libraries, but not all the scripts and previewers that follow tracking links;
those are in :data:`ADDITIONS_FILE`, which holds only what the package misses.

Case: the package's patterns are matched **case-sensitively**, as the package
defines them (its own validator checks that ``foo`` does not match ``FOO``;
patterns such as ``[wW]get`` or ``S[eE][mM]rushBot`` spell out the case
variants that occur). Matching them without case would widen short names
(``Yeti``, ``Sonic``, ``Fluid``, ``Trove``…) to any spelling in any user
agent. Our additions are plain substrings matched **without** case, as the
hand-written list always was, because scripts spell themselves in many ways.

Speed: the matcher runs on the first click of every distinct user agent (the
caller caches the answer), so it must stay cheap. An alternation of ~1,500
regexes makes Python's ``re`` try every one at every position (~0.5 ms for a
Chrome user agent); the patterns that are plain strings (almost all) are
merged into a trie instead, so at each position one branch per first
character is tried, and only the few real regexes are tried as they are.
The result is one compiled pattern that matches exactly what the plain
alternation would (the tests check every example the package ships).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import crawleruseragents

#: Our additions: plain substrings, one a line, matched without case (see the file's header).
ADDITIONS_FILE = Path(__file__).resolve().parent / "data" / "bot_user_agents.txt"

# One character position of a plain pattern: the characters it accepts there.
_Position = frozenset[str]
# A trie node: next position → child; the empty frozenset marks "a pattern ends here".
_Node = dict[_Position, "_Node"]
_END: _Position = frozenset()
# A class that lists letters, digits or spaces (``[wW]``): one position, no ranges or escapes.
_SIMPLE_CLASS = re.compile(r"\[([A-Za-z0-9 ]+)\]")
# One capturing group of plain alternatives, not followed by a repetition.
_GROUP = re.compile(r"(?P<before>[^()]*)\((?!\?)(?P<choices>[^()\[\]\\]*)\)(?P<after>(?![*+?{])[^()]*)")


def package_patterns() -> tuple[str, ...]:
    """The crawler regexes of the installed ``crawler-user-agents`` package, in its order."""
    return tuple(entry["pattern"] for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA)


def load_additions(path: Path = ADDITIONS_FILE) -> tuple[str, ...]:
    """Our substrings from ``path``, lower case (comments and blank lines skipped)."""
    tokens = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            tokens.append(line.lower())
    return tuple(tokens)


def _positions(pattern: str) -> list[_Position] | None:
    """The pattern as a sequence of character positions, or ``None`` when it is a real regex.

    Plain characters, escaped punctuation (``\\/``) and small classes of
    letters, digits and spaces (``[wW]``) qualify; anchors, groups,
    repetitions, ``.`` and escapes such as ``\\d`` do not.
    """
    positions: list[_Position] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            # Escaped punctuation (\/ \. \- \( …) stands for itself; \d, \s, \b … do not.
            escaped = pattern[index + 1 : index + 2]
            if not escaped or escaped.isalnum():
                return None
            positions.append(frozenset(escaped))
            index += 2
        elif char == "[":
            match = _SIMPLE_CLASS.match(pattern, index)
            if match is None:
                return None
            positions.append(frozenset(match.group(1)))
            index = match.end()
        elif char in ".^$*+?{}()|]":
            return None
        else:
            positions.append(frozenset(char))
            index += 1
    return positions or None


def _caseless_positions(token: str) -> list[_Position]:
    """A substring of ours as positions that accept either case of each ASCII letter."""
    return [frozenset({char.lower(), char.upper()}) if char.isascii() else frozenset(char) for char in token]


def _variants(pattern: str) -> list[str]:
    """Simpler patterns that together match what ``pattern`` matches, so more of them can join the trie.

    Two shapes are split: a top-level ``a|b`` (``Chirp|gotosocial``) and one
    unrepeated group of alternatives (``Ahrefs(Bot|SiteAudit)``,
    ``(^| )sentry\\/``), written out once per alternative.
    """
    if "|" in pattern and not any(mark in pattern for mark in ("(", "[", "\\")):
        return pattern.split("|")
    group = _GROUP.fullmatch(pattern)
    if group and not any(mark in group.group("before") + group.group("after") for mark in ("(", "|", "\\1")):
        before, after = group.group("before"), group.group("after")
        return [before + choice + after for choice in group.group("choices").split("|")]
    return [pattern]


def _render_position(position: _Position) -> str:
    """A position as regex: the character escaped, or a class of its characters."""
    chars = sorted(position)
    if len(chars) == 1:
        return re.escape(chars[0])
    return "[" + "".join(re.escape(char) for char in chars) + "]"


def _render(node: _Node) -> str:
    """The regex of a trie node. A pattern ending here matches already: what follows does not matter."""
    if _END in node:
        return ""
    branches = [_render_position(position) + _render(child) for position, child in sorted(node.items(), key=_order)]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _order(item: tuple[_Position, _Node]) -> tuple[str, ...]:
    """Sort key of trie branches, so the same patterns always compile to the same regex."""
    return tuple(sorted(item[0]))


def _first_branches(words: Iterable[list[_Position]]) -> Iterator[str]:
    """The top-level branches of the trie of ``words``, one per first character.

    The first position of each word is split into single characters: ``re``
    skips a branch that starts with a literal character in one comparison,
    so a position where no pattern can start costs almost nothing.
    """
    root: _Node = {}
    for word in words:
        for first in sorted(word[0]):
            node = root.setdefault(frozenset(first), {})
            for position in word[1:]:
                node = node.setdefault(position, {})
            node[_END] = {}
    for position, child in sorted(root.items(), key=_order):
        yield _render_position(position) + _render(child)


def bot_matcher(patterns: Iterable[str], additions: Iterable[str]) -> re.Pattern[str]:
    """One compiled pattern: ``patterns`` as regexes (with case), ``additions`` as substrings (without).

    It matches a user agent exactly when one of the inputs does; an empty
    input set gives a pattern that never matches.
    """
    words: list[list[_Position]] = []
    regexes: list[str] = []
    for pattern in patterns:
        for variant in _variants(pattern):
            anchored = variant.startswith("^")
            positions = _positions(variant[1:] if anchored else variant)
            if positions is None:
                regexes.append(f"(?:{variant})")
            elif anchored:
                # "X, which began the user agent": starts with a literal like the
                # trie's branches, so re skips it as cheaply (a bare ^ does not).
                text = "".join(_render_position(position) for position in positions)
                regexes.append(f"{text}(?<=^{text})")
            else:
                words.append(positions)
    words.extend(_caseless_positions(token) for token in additions if token)
    branches = [*_first_branches(words), *regexes]
    return re.compile("|".join(branches) if branches else r"(?!)")


PACKAGE_PATTERNS = package_patterns()
ADDITIONS = load_additions()
#: Built once at import (~60 ms), used for every click.
BOT_PATTERN = bot_matcher(PACKAGE_PATTERNS, ADDITIONS)
