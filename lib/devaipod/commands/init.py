"""devaipod init: write a first devaipod.toml and store the credentials as podman secrets.

A key's value only ever goes to ``podman secret create NAME -`` on stdin: it is
never written to the file, never put on a command line and never logged.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import click

from devaipod.clikit import command, interactive

DEFAULT_LLM_ENV = "ANTHROPIC_API_KEY"
GITHUB_ENV = "GH_TOKEN"
# the forges' tokens: (variable, default secret name, what it is, option of its secret)
FORGES = ((GITHUB_ENV, "gh_token", "GitHub token", "github-secret"),
          ("GITLAB_TOKEN", "gitlab_token", "GitLab token", "gitlab-secret"),
          ("FORGEJO_TOKEN", "forgejo_token", "Forgejo token", "forgejo-secret"))
SECRET_OPTION = {env: option for env, _secret, _what, option in FORGES}


@dataclass
class Credential:
    """One ``ENV=secret_name`` entry of ``[trusted] secrets`` and where its value comes from."""

    env: str
    secret: str
    named: bool  # the secret's name was given (--llm-secret / --github-secret / ...)
    value: str | None = None  # never printed


def _env_name(value: str, what: str) -> str:
    from devaipod.config_schema import ENV_NAME

    if not ENV_NAME.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not an environment variable name", param_hint=what)
    return value


def _secret_name(value: str | None, what: str) -> str | None:
    from devaipod.config_schema import SECRET_NAME

    if value is not None and not SECRET_NAME.fullmatch(value):
        raise click.BadParameter(
            f"{value!r} is not a podman secret name (no spaces, ',', '/' or '=')",
            param_hint=what)
    return value


class _EnvName(click.ParamType):
    name = "VAR"

    def convert(self, value, param, ctx):
        from devaipod.config_schema import ENV_NAME

        value = str(value).strip()
        if not ENV_NAME.fullmatch(value):
            self.fail(f"{value!r} is not an environment variable name", param, ctx)
        return value


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, except DEL)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def render(dotfiles: str | None, creds: list[Credential], llm_env: str) -> str:
    """The text of the new config file (no secret values in it, only secret names)."""
    from devaipod.config_schema import BUILTIN_LLM_KEY_VARS

    out = [
        "# devaipod configuration, written by `devaipod init`; see devaipod.toml(5).",
        "# Check it with `devaipod config show`.",
        "",
        "# Image used when a project has no devcontainer.json:",
        '# default-image = "ghcr.io/OWNER/devenv:latest"',
        "",
    ]
    if dotfiles:
        out += ["# A dotfiles repository: installed in the workspace and the agent.",
                "[dotfiles]", f"url = {toml_string(dotfiles)}", ""]
    else:
        out += ["# A dotfiles repository: installed in the workspace and the agent.",
                "# [dotfiles]", '# url = "https://github.com/OWNER/dotfiles"', ""]
    out += ["# Podman secrets given to the workspace and the gator as variables",
            "# (LLM keys also reach the agent). The values live in podman only.",
            "[trusted]"]
    if creds:
        out += ["secrets = ["]
        out += [f"    {toml_string(f'{c.env}={c.secret}')}," for c in creds]
        out += ["]"]
    else:
        out += [f'# secrets = ["{DEFAULT_LLM_ENV}={DEFAULT_LLM_ENV.lower()}", '
                f'"{GITHUB_ENV}=gh_token"]']
    out.append("")
    if llm_env not in BUILTIN_LLM_KEY_VARS and any(c.env == llm_env for c in creds):
        out += ["# Not a built-in LLM key name: listed here so that it reaches the agent.",
                "[llm]", f"env = [{toml_string(llm_env)}]", ""]
    out += [
        "# Read-only GitHub access for the agent through service-gator (needs GH_TOKEN):",
        "# [service-gator.gh]",
        "# read = true",
        "",
        "# Host variables for the workspace, agent and worker:",
        "# [env]",
        '# allowlist = ["TZ"]',
        "# [env.vars]",
        '# EDITOR = "vim"',
        "",
    ]
    return "\n".join(out)


def _ask(dotfiles: str | None, llm_env: str,
         llm: Credential, forges: list[Credential]) -> tuple[str | None, str, Credential]:
    """The questions of an interactive run; keys are read without echo."""
    dotfiles = click.prompt("Dotfiles repository URL (empty: none)", default=dotfiles or "",
                            show_default=bool(dotfiles)).strip() or None
    var = click.prompt("LLM provider API key variable", default=llm_env, type=_EnvName())
    if var != llm_env and not llm.named:
        llm = Credential(var, var.lower(), named=False)
    else:
        llm = Credential(var, llm.secret, named=llm.named)
    llm.value = click.prompt(f"{var} value, stored as podman secret {llm.secret} "
                             "(hidden; empty: skip)", default="", show_default=False,
                             hide_input=True).strip() or None
    what = {env: text for env, _secret, text, _option in FORGES}
    for cred in forges:
        cred.value = click.prompt(f"{what[cred.env]} ({cred.env}), stored as podman secret "
                                  f"{cred.secret} (hidden; empty: skip)", default="",
                                  show_default=False, hide_input=True).strip() or None
    return dotfiles, var, llm


def _note(text: str) -> None:
    click.echo(f"devaipod: {text}", err=True)


def settle(cred: Credential, ask: bool) -> bool:
    """Check that ``cred`` can be referenced; False: leave it out of the file."""
    from devaipod.errors import DevaipodError
    from devaipod.podman import secret

    if cred.value:
        return True
    if cred.named:
        if secret.exists(cred.secret):
            return True
        raise DevaipodError(
            f"podman secret {cred.secret!r} does not exist and no value was given for "
            f"{cred.env}",
            f"set {cred.env}, or create it: printf %s \"${cred.env}\" | "
            f"podman secret create {cred.secret} -")
    if not ask:
        _note(f"{cred.env} is not set: left out (set it, or name an existing podman "
              f"secret with --{SECRET_OPTION.get(cred.env, 'llm-secret')})")
    return False


def store(cred: Credential) -> None:
    """Create (or replace) the podman secret of ``cred``; the value goes on stdin."""
    from devaipod.podman import secret

    if not cred.value:
        _note(f"using the existing podman secret {cred.secret} for {cred.env}")
        return
    replaced = secret.exists(cred.secret)
    if replaced:
        secret.rm([cred.secret])
    secret.create(cred.secret, cred.value)
    _note(f"{'replaced' if replaced else 'created'} podman secret {cred.secret} for {cred.env}")


def write(path: Path, text: str, force: bool) -> None:
    from devaipod.config import display_path
    from devaipod.errors import DevaipodError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not force:
            with path.open("x", encoding="utf-8") as f:
                f.write(text)
            return
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        raise DevaipodError(f"{display_path(path)}: cannot write: {exc.strerror or exc}") from None


def _exists(path: Path):
    from devaipod.config import display_path
    from devaipod.errors import DevaipodError

    return DevaipodError(f"{display_path(path)} already exists",
                         "rerun with --force to overwrite it")


@command("init")
@click.option("--dotfiles", metavar="URL", help="Git URL of your dotfiles repository.")
@click.option("--llm-env", metavar="VAR", default=DEFAULT_LLM_ENV, show_default=True,
              help="Variable that holds the LLM provider's API key.")
@click.option("--llm-secret", metavar="NAME",
              help="Podman secret for the LLM key (default: VAR in lower case).")
@click.option("--github-secret", metavar="NAME",
              help="Podman secret for the GitHub token (default: gh_token).")
@click.option("--gitlab-secret", metavar="NAME",
              help="Podman secret for the GitLab token (default: gitlab_token).")
@click.option("--forgejo-secret", metavar="NAME",
              help="Podman secret for the Forgejo token (default: forgejo_token).")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option("--no-input", is_flag=True, help="Ask nothing, even on a terminal.")
def cli(dotfiles: str | None, llm_env: str, llm_secret: str | None,
        github_secret: str | None, gitlab_secret: str | None, forgejo_secret: str | None,
        force: bool, no_input: bool) -> None:
    """Write a first config file and store your API keys as podman secrets.

    On a terminal it asks for the dotfiles URL, the LLM key and the GitHub, GitLab
    and Forgejo tokens (keys are read without echo); otherwise the keys come from
    $VAR (--llm-env), $GH_TOKEN, $GITLAB_TOKEN and $FORGEJO_TOKEN. Prints the
    file's path.
    """
    from devaipod import config
    from devaipod.clikit import settings

    llm_env = _env_name(llm_env, "--llm-env")
    _secret_name(llm_secret, "--llm-secret")
    named = {GITHUB_ENV: github_secret, "GITLAB_TOKEN": gitlab_secret,
             "FORGEJO_TOKEN": forgejo_secret}
    for env, option in SECRET_OPTION.items():
        _secret_name(named[env], f"--{option}")
    path, _explicit = config.config_path(settings.config)
    if path.exists() and not force:
        raise _exists(path)

    llm = Credential(llm_env, llm_secret or llm_env.lower(), named=llm_secret is not None)
    forges = [Credential(env, named[env] or secret, named=named[env] is not None)
              for env, secret, _what, _option in FORGES]
    ask = interactive() and not no_input
    if ask:
        dotfiles, llm_env, llm = _ask(dotfiles, llm_env, llm, forges)
    else:
        llm.value = os.environ.get(llm.env) or None
        for cred in forges:
            cred.value = os.environ.get(cred.env) or None
        dotfiles = (dotfiles or "").strip() or None
    if llm.env in SECRET_OPTION:
        raise click.BadParameter(f"the LLM key cannot be {llm.env}", param_hint="--llm-env")

    creds = [c for c in (llm, *forges) if settle(c, ask)]
    text = render(dotfiles, creds, llm_env)
    config.parse_config(text, config.display_path(path))  # refuse before changing anything
    for cred in creds:
        store(cred)
    write(path, text, force)
    config.load_config(path)
    click.echo(str(path))
