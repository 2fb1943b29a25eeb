"""`devaipod tui`: a live dashboard of this instance's workspaces (Textual).

Nothing here is imported but by the `tui` verb, so Textual's import never
slows the other verbs. The dashboard's data and actions go through the same
library functions as the CLI verbs and the web (``source.Source``); every
text of the agent's (task, title, last message, commit subjects, diffs, logs)
is shown as plain text (``view.plain``), never read as markup.
"""
