"""The OpenCode configuration devaipod gives the agent (OPENCODE_CONFIG_CONTENT).

It only adds to the user's own configuration (the image's, the dotfiles',
the project's ``opencode.json``, or ``OPENCODE_CONFIG``): MCP servers,
auto-approval of tool calls, the stored task as instructions, and no
phoning home.
"""

from __future__ import annotations

import json

TASK_FILE = "/home/devenv/.config/opencode/devaipod-task.md"
GATOR_FILE = "/home/devenv/.config/opencode/devaipod-gator.md"


def content(
    mcp: dict[str, dict] | None = None,
    auto_approve: bool = True,
    instructions: list[str] | None = None,
) -> str:
    config: dict = {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
    }
    if auto_approve:
        config["permission"] = "allow"
    if mcp:
        config["mcp"] = {
            name: {"type": "remote", "url": server["url"], "enabled": True,
                   **({"headers": server["headers"]} if server.get("headers") else {})}
            for name, server in sorted(mcp.items())
        }
    if instructions:
        config["instructions"] = list(instructions)
    return json.dumps(config, sort_keys=True)


def task_text(task: str, repo: str) -> str:
    """The instructions file for a task stored with `up`."""
    return (
        "# devaipod task\n\n"
        f"You are working in a clone of {repo}. Commit your work to the current branch\n"
        "with clear messages; the human reviews your commits from their workspace.\n\n"
        f"## Your task\n\n{task}\n"
    )
