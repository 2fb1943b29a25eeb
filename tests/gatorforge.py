"""A fake forge that plays GitLab and Forgejo for the gator's tests, and a devaipod.toml
pointing the gator at it (tests/integration/test_gator_forges.py,
tests/adversarial/test_gator_forges.py).

The forge serves owner/repo (a copy of the test repository: main and feature) and the
private owner/secret, which no test grants; GITLAB_TOKEN and FORGEJO_TOKEN are its token.
Its host is a GitLab for devaipod ([forges."HOST:8000"] kind = "gitlab"), so a source
there gets the automatic GitLab grant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from podfixtures import FORGE_LLM_KEY, FORGE_TOKEN, Forge, git, start_fakeforge, trusted_config

TOKEN = FORGE_TOKEN  # the forge's token: the tests' Forge helpers send it too


@contextmanager
def gator_forge(svc, gitserver, image: str, root: Path, name: str) -> Iterator[Forge]:
    (root / "owner").mkdir()
    for full in ("owner/repo", "owner/secret"):
        git("clone", "-q", "--bare", gitserver.shas["work"], str(root / f"{full}.git"),
            cwd=root)
    (root / "forge.json").write_text(json.dumps({"private": ["owner/secret"]}))
    try:
        yield start_fakeforge(svc, name, gitserver.network, root, TOKEN, image,
                              web_host=f"{name}:8000")
    finally:
        svc.podman("rm", "-f", "-t", "0", name, check=False)


@contextmanager
def gator_forge_config(svc, directory: Path, forge: Forge) -> Iterator[Path]:
    inst, web = svc.instance, f"http://{forge.host}:8000"
    with trusted_config(svc, directory, {
            "ANTHROPIC_API_KEY": (f"{inst}-{directory.name}-llm", FORGE_LLM_KEY),
            "GITLAB_TOKEN": (f"{inst}-{directory.name}-gl", TOKEN),
            "FORGEJO_TOKEN": (f"{inst}-{directory.name}-fj", TOKEN)},
            f'[forges."{forge.host}:8000"]\nkind = "gitlab"\n'
            f'api-url = "{forge.url}/api/v4"\n'
            f'[service-gator.gitlab]\nurl = "{web}"\n'
            f'[service-gator.forgejo]\nurl = "{web}"\n') as path:
        yield path


def source(forge: Forge) -> str:
    return f"http://{forge.host}:8000/owner/repo"


def branches(forge: Forge, repo: str = "owner/repo") -> dict[str, str]:
    """Every branch of REPO (through the forge's GitHub-shaped API)."""
    return forge.refs(repo)


def merge_requests(forge: Forge, project: str = "owner%2Frepo") -> list[dict]:
    return forge.get(f"/api/v4/projects/{project}/merge_requests?state=all")
