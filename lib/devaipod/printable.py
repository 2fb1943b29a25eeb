"""Text the agent wrote, made safe to print on a terminal.

The agent chooses its messages, session titles, tool output, log lines and the
bodies of its OpenCode's errors. Printed as they are, control characters
would drive the user's terminal: move the cursor and overwrite lines (show
"merged" over a failure), set the window title, or write the clipboard (OSC
52) with a command to paste. Every such character is shown escaped instead,
and so are the bidirectional overrides that make text read other than it is.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL, C1, and the bidirectional embeddings/overrides/isolates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    return _UNSAFE.sub(_escaped, text)


# what a terminal reads as one escape sequence: CSI (ESC [ or C1 0x9b, up to its final
# byte), OSC/DCS/SOS/PM/APC strings (up to BEL or ST, or the end of the text), and the
# two-character ESC sequences. Removing them is for looks (colours in a tool's output);
# what this misses, `printable` still shows escaped.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?")


def one_line(text: str, limit: int) -> str:
    """TEXT as one printable line of at most LIMIT characters: terminal escape sequences
    removed, whitespace runs made one space, what is left unsafe shown escaped."""
    text = " ".join(_SEQUENCE.sub("", text).split())
    return printable(text)[:limit]
