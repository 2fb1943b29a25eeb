"""printable: the agent's text cannot drive the user's terminal."""

from devaipod.printable import printable


def test_control_sequences_are_shown_escaped():
    osc52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
    assert printable(f"a{osc52}b") == "a\\x1b]52;c;cm0gLXJmIH4=\\x07b"
    assert printable("x\x1b[2K\x1b[1Ay\r\x9b") == "x\\x1b[2K\\x1b[1Ay\\x0d\\x9b"
    assert printable("evil\u202etxt.sh") == "evil\\u202etxt.sh"


def test_ordinary_text_is_kept():
    text = "line one\n\tline two — ünïcödé ✓ 日本"
    assert printable(text) == text
