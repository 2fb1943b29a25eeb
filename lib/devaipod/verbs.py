"""The table of devaipod's verbs: each one's module under ``devaipod.commands`` and its
one-line help. ``devaipod.cli`` (which must stay light) and ``devaipod.dispatch`` (the click
group) both read it."""

# verb -> module under devaipod.commands (each module defines `cli`)
VERBS: dict[str, str] = {
    "attach": "attach",
    "audit": "audit",
    "cleanup": "cleanup",
    "completions": "completions",
    "config": "config",
    "debug": "debug",
    "delete": "delete",
    "doctor": "doctor",
    "done": "done",
    "egress": "egress",
    "exec": "exec",
    "gator": "gator",
    "init": "init",
    "kube": "kube",
    "list": "list",
    "logs": "logs",
    "opencode": "opencode",
    "pod-api": "pod_api",
    "prune": "prune",
    "rebuild": "rebuild",
    "review": "review",
    "run": "run",
    "ssh-config": "ssh_config",
    "start": "start",
    "status": "status",
    "stop": "stop",
    "title": "title",
    "tui": "tui",
    "up": "up",
    "web": "web",
}

# verb -> its one-line help, so that --help lists the verbs without importing them
# (tests/unit/test_cli.py checks that each is what its command says)
SUMMARIES: dict[str, str] = {
    'attach': "Open tmux with WORKSPACE's agent TUI in one pane and a shell in the other.",
    'audit': "Show WORKSPACE's audit trail: gator calls, pushes and what humans did.",
    'cleanup': "Remove this instance's volumes, secrets, containers, networks and SSH "
               "configs left without a pod.",
    'completions': 'Print the completion script for SHELL (bash, zsh or fish).',
    'config': 'Show the configuration devaipod uses, and where it came from.',
    'debug': "Show WORKSPACE's diagnostics: containers, mounts, secrets, agent, MCP, gator, "
             "logs.",
    'delete': 'Delete WORKSPACE: its pod, containers, volumes and secrets.',
    'doctor': 'Check that podman, git, tmux and the default image work.',
    'done': 'Mark WORKSPACE done, or active again with --undo.',
    'egress': "Show WORKSPACE's egress allow-list, or allow or deny HOST on it, live.",
    'exec': "Run CMD (default: bash) in WORKSPACE's agent container, or -W workspace.",
    'gator': "Show and change a workspace's service-gator grants.",
    'init': 'Write a first config file and store your API keys as podman secrets.',
    'kube': 'Print Kubernetes YAML for a workspace, from the plan `up` builds.',
    'list': 'List workspaces: name, agent state, mode, repository, task, last activity.',
    'logs': "Show the logs of one of WORKSPACE's containers (default: the agent).",
    'opencode': "Talk to WORKSPACE's agent: send messages, list sessions, abort.",
    'pod-api': "Serve the pod's API sidecar (runs inside the pod).",
    'prune': 'Delete the workspaces marked done, with their volumes and secrets.',
    'rebuild': "Recreate WORKSPACE's containers (e.g. with a new --image), keeping its volumes.",
    'review': "Show the agent's commits that WORKSPACE lacks; merge them or drop them.",
    'run': 'Create a workspace for SOURCE and start the agent on TASK.',
    'ssh-config': "Write WORKSPACE's SSH config and print its path.",
    'start': "Start WORKSPACE's pod (its trees are kept in volumes).",
    'status': 'Show the state of WORKSPACE: pod, containers, sidecar port (labels with --json).',
    'stop': "Stop WORKSPACE's pod; `devaipod start` brings it back as it was.",
    'title': "Show WORKSPACE's title, or set it to TITLE ('' removes it).",
    'tui': 'A live dashboard of the workspaces: attach, exec, start/stop, review, launch.',
    'up': 'Create a workspace for SOURCE with an idle agent.',
    'web': "Serve the control plane: workspaces, tasks, agents' progress, terminals.",
}


# other names of a verb (the original's): they run the verb, --help lists only the verb
ALIASES: dict[str, str] = {"service-gator": "gator"}
