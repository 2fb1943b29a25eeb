"""devcontainer.json: find, parse (every field, form and error), variables, runArgs policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devaipod.devcontainer import args
from devaipod.devcontainer import model as dcm
from devaipod.devcontainer.model import (
    Build,
    DevContainer,
    Lifecycle,
    Mount,
    NamedCommand,
    Port,
    Secret,
    parse,
)
from devaipod.errors import DevaipodError

SRC = "proj/.devcontainer/devcontainer.json"


def doc(**fields: Any) -> DevContainer:
    return parse(json.dumps(fields), SRC)


def refused(text: str) -> str:
    with pytest.raises(DevaipodError) as info:
        parse(text, SRC)
    message = info.value.format_message()
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- find


@pytest.mark.parametrize(("files", "found"), [
    ([], None),
    ([".devcontainer.json"], ".devcontainer.json"),
    ([".devcontainer/devcontainer.json", ".devcontainer.json"],
     ".devcontainer/devcontainer.json"),
    ([".devcontainer.json", ".devcontainer/b/devcontainer.json"], ".devcontainer.json"),
    ([".devcontainer/b/devcontainer.json", ".devcontainer/a/devcontainer.json"],
     ".devcontainer/a/devcontainer.json"),
    ([".devcontainer/a/other.json", ".devcontainer/b/devcontainer.json"],
     ".devcontainer/b/devcontainer.json"),
    ([".devcontainer/a/devcontainer.json/x"], None),  # a directory named devcontainer.json
    (["devcontainer.json"], None),
])
def test_find_order(tmp_path: Path, files: list[str], found: str | None) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    assert dcm.find(tmp_path) == (tmp_path / found if found else None)


def test_find_when_devcontainer_is_a_file(tmp_path: Path) -> None:
    (tmp_path / ".devcontainer").write_text("")
    assert dcm.find(tmp_path) is None


def test_load_reads_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "devcontainer.json"
    path.write_text('{"image": "x"}')
    assert dcm.load(path) == DevContainer(source=str(path), image="x")
    path.write_bytes(b'{"image": "\xff"}')
    with pytest.raises(DevaipodError, match=r"devcontainer.json: not UTF-8 text \(byte 11\)"):
        dcm.load(path)
    with pytest.raises(DevaipodError, match="cannot read: No such file"):
        dcm.load(tmp_path / "missing.json")


# ---------------------------------------------------------------- JSONC


def test_comments_and_trailing_commas() -> None:
    text = """
    // a line comment
    {
      /* a block
         comment */
      "image": "img", // after a value
      "runArgs": ["--device", "/dev/fuse",],
      unquoted: 'single quotes',
    }
    """
    dc = parse(text, SRC)
    assert dc.image == "img"
    assert dc.run_args == ("--device", "/dev/fuse")


@pytest.mark.parametrize(("text", "message"), [
    ('{"image": }', f'{SRC}:1: invalid JSON: Unexpected "}}" (column 11)'),
    ('{\n\n  "a": [1,,]}', f'{SRC}:3: invalid JSON: Unexpected "," (column 11)'),
    ('{"a": 1', f"{SRC}:1: invalid JSON: Unexpected end of input (column 8)"),
    ("", f"{SRC}: invalid JSON: Empty strings are not legal JSON5"),
    ("[" * 5000, f"{SRC}: invalid JSON: values nested too deeply"),
    ("1" * 5000, f"{SRC}: invalid JSON: Exceeds the limit"),
    ("\0", f"{SRC}:1: invalid JSON: Unexpected"),
    ("[]", f"{SRC}: expected a JSON object, got an array"),
    ('"x"', f"{SRC}: expected a JSON object, got string 'x'"),
    ("null", f"{SRC}: expected a JSON object, got null"),
])
def test_syntax_errors_keep_line_and_column(text: str, message: str) -> None:
    assert refused(text).startswith(message)


# ---------------------------------------------------------------- fields

FIELD_CASES = [
    ({}, "image", None),
    ({"name": "n"}, "name", "n"),
    ({"image": "fedora:40"}, "image", "fedora:40"),
    ({"image": None}, "image", None),
    ({"build": {}}, "build", Build()),
    ({"build": {"dockerfile": "Containerfile", "context": "..", "args": {"A": "1"},
                "target": "dev"}},
     "build", Build("Containerfile", "..", {"A": "1"}, "dev")),
    ({"dockerFile": "Dockerfile.dev", "context": ".."}, "build", Build("Dockerfile.dev", "..")),
    ({"dockerFile": "D"}, "build", Build("D", ".")),
    ({"build": {"dockerfile": "B"}, "dockerFile": "D"}, "build", Build("B")),
    ({"containerEnv": {"A": "1", "B": None}}, "container_env", {"A": "1", "B": None}),
    ({"remoteEnv": {"PATH": "${containerEnv:PATH}:/x"}}, "remote_env",
     {"PATH": "${containerEnv:PATH}:/x"}),
    ({"runArgs": ["--device", "/dev/fuse"]}, "run_args", ("--device", "/dev/fuse")),
    ({"capAdd": ["SYS_PTRACE", "cap_net_raw"]}, "cap_add", ("SYS_PTRACE", "cap_net_raw")),
    ({"securityOpt": ["seccomp=unconfined"]}, "security_opt", ("seccomp=unconfined",)),
    ({"privileged": True}, "privileged", True),
    ({"privileged": None}, "privileged", False),
    ({"forwardPorts": [3000, "8080:80", "9"]}, "forward_ports",
     (Port(3000), Port(80, 8080), Port(9))),
    ({"workspaceFolder": "/src"}, "workspace_folder", "/src"),
    ({"containerUser": "vscode"}, "container_user", "vscode"),
    ({"remoteUser": "dev"}, "remote_user", "dev"),
    ({"secrets": {"API_KEY": {"description": "d", "documentationUrl": "u"}, "B": {}}},
     "secrets", {"API_KEY": Secret("d", "u"), "B": Secret()}),
    ({"customizations": {"devaipod": {"envAllowlist": ["A", "B_2"]}}}, "env_allowlist",
     ("A", "B_2")),
    ({"customizations": {"devaipod": {"nestedContainers": True}}}, "nested_containers", True),
    ({"customizations": {"vscode": {"extensions": ["x"]}}}, "env_allowlist", ()),
    ({"customizations": {"devaipod": None}}, "nested_containers", False),
    ({"unknownField": [1, {"x": None}], "hostRequirements": {"cpus": 2}}, "image", None),
]


@pytest.mark.parametrize(("fields", "attr", "value"), FIELD_CASES)
def test_fields(fields: dict[str, Any], attr: str, value: Any) -> None:
    assert getattr(doc(**fields), attr) == value


def test_user_prefers_remote_user() -> None:
    assert doc(containerUser="c").user == "c"
    assert doc(containerUser="c", remoteUser="r").user == "r"
    assert doc().user is None


TYPE_ERRORS = [
    ({"name": 1}, "name: expected a string, got number 1"),
    ({"image": ""}, "image: expected a non-empty string, got string ''"),
    ({"image": ["a"]}, "image: expected a non-empty string, got an array"),
    ({"image": "a\0b"}, "image: contains a NUL character"),
    ({"build": "Dockerfile"}, "build: expected an object, got string 'Dockerfile'"),
    ({"build": {"dockerfile": 3}}, "build.dockerfile: expected a non-empty string, got number 3"),
    ({"build": {"context": ""}}, "build.context: expected a non-empty string"),
    ({"build": {"args": {"A": 1}}}, "build.args.A: expected a string, got number 1"),
    ({"build": {"args": []}}, "build.args: expected an object, got an array"),
    ({"build": {"target": False}}, "build.target: expected a string, got false"),
    ({"dockerFile": 1}, "dockerFile: expected a non-empty string, got number 1"),
    ({"dockerFile": "D", "context": {}}, "context: expected a non-empty string, got an object"),
    ({"containerEnv": ["A=1"]}, "containerEnv: expected an object, got an array"),
    ({"containerEnv": {"A": 1}}, "containerEnv.A: expected a string, got number 1"),
    ({"containerEnv": {"1A": "x"}}, "containerEnv.1A: expected an environment variable name"),
    ({"remoteEnv": {"A": True}}, "remoteEnv.A: expected a string, got true"),
    ({"runArgs": "--privileged"}, "runArgs: expected an array, got string '--privileged'"),
    ({"runArgs": ["--x", 1]}, "runArgs[1]: expected a string, got number 1"),
    ({"capAdd": "SYS_ADMIN"}, "capAdd: expected an array"),
    ({"capAdd": ["SYS_ADMIN,NET_ADMIN"]}, "capAdd[0]: expected a capability name"),
    ({"securityOpt": [None]}, "securityOpt[0]: expected a non-empty string, got null"),
    ({"privileged": "true"}, "privileged: expected true or false, got string 'true'"),
    ({"privileged": 1}, "privileged: expected true or false, got number 1"),
    ({"mounts": "a"}, "mounts: expected an array"),
    ({"mounts": [1]}, "mounts[0]: expected an object, got number 1"),
    ({"forwardPorts": 80}, "forwardPorts: expected an array, got number 80"),
    ({"workspaceFolder": 1}, "workspaceFolder: expected a non-empty string"),
    ({"containerUser": None, "remoteUser": 0}, "remoteUser: expected a non-empty string"),
    ({"postCreateCommand": 1}, "postCreateCommand: expected a string or an array of strings"),
    ({"postStartCommand": ["ls", 1]}, "postStartCommand[1]: expected a string, got number 1"),
    ({"onCreateCommand": {"a": 1}}, "onCreateCommand.a: expected a string or an array"),
    ({"onCreateCommand": {"a": ["x", None]}}, "onCreateCommand.a[1]: expected a string"),
    ({"postAttachCommand": True}, "postAttachCommand: expected a string or an array"),
    ({"updateContentCommand": 2.5}, "updateContentCommand: expected a string or an array"),
    ({"secrets": []}, "secrets: expected an object, got an array"),
    ({"secrets": {"A-B": {}}}, "secrets.A-B: expected an environment variable name"),
    ({"secrets": {"A": "x"}}, "secrets.A: expected an object, got string 'x'"),
    ({"secrets": {"A": {"description": 1}}}, "secrets.A.description: expected a string"),
    ({"customizations": []}, "customizations: expected an object, got an array"),
    ({"customizations": {"devaipod": "x"}}, "customizations.devaipod: expected an object"),
    ({"customizations": {"devaipod": {"envAllowlist": "A"}}},
     "customizations.devaipod.envAllowlist: expected an array, got string 'A'"),
    ({"customizations": {"devaipod": {"envAllowlist": ["A B"]}}},
     "customizations.devaipod.envAllowlist[0]: expected an environment variable name"),
    ({"customizations": {"devaipod": {"nestedContainers": "yes"}}},
     "customizations.devaipod.nestedContainers: expected true or false"),
]


@pytest.mark.parametrize(("fields", "message"), TYPE_ERRORS)
def test_type_errors_name_file_and_field(fields: dict[str, Any], message: str) -> None:
    assert refused(json.dumps(fields)).startswith(f"{SRC}: {message}")


def test_long_values_are_shortened_in_messages() -> None:
    message = refused(json.dumps({"privileged": "x" * 100}))
    assert message.endswith("got string 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'")


def test_unprintable_characters_are_escaped() -> None:
    message = refused('{"image": "a\\nb", "privileged": "\\u001b[31m"}')
    assert message == rf"{SRC}: privileged: expected true or false, got string '\x1b[31m'"


def test_compose_is_refused() -> None:
    with pytest.raises(DevaipodError) as info:
        doc(dockerComposeFile="docker-compose.yml", service="app")
    assert info.value.message == f"{SRC}: dockerComposeFile: Docker Compose devcontainers are " \
        "not supported"
    assert info.value.hint == 'use "image" or "build" instead'


@pytest.mark.parametrize(("fields", "warnings"), [
    ({}, ()),
    ({"features": {"ghcr.io/devcontainers/features/node:1": {}}}, ()),
    ({"features": {}}, ()),
    ({"initializeCommand": "make"},
     (f"{SRC}: initializeCommand runs on the host; devaipod does not run it",)),
])
def test_ignored_fields_warn(fields: dict[str, Any], warnings: tuple[str, ...]) -> None:
    assert doc(**fields).warnings == warnings


# ---------------------------------------------------------------- build paths


def test_build_paths_are_relative_to_the_json(tmp_path: Path) -> None:
    json_path = tmp_path / ".devcontainer" / "devcontainer.json"
    build = Build("Containerfile", "..")
    assert dcm.build_context_dir(json_path, build) == tmp_path.resolve()
    assert dcm.dockerfile_path(json_path, build) == (tmp_path / ".devcontainer"
                                                     / "Containerfile").resolve()
    assert dcm.build_context_dir(json_path, Build(), root=tmp_path) == (
        tmp_path / ".devcontainer").resolve()


@pytest.mark.parametrize(("function", "build", "message"), [
    (dcm.build_context_dir, Build(context="../.."), "build.context: '../..' is outside"),
    (dcm.build_context_dir, Build(context="/"), "build.context: '/' is outside"),
    (dcm.dockerfile_path, Build(dockerfile="/etc/passwd"), "build.dockerfile: '/etc/passwd'"),
    (dcm.dockerfile_path, Build(dockerfile="../../x"), "build.dockerfile: '../../x' is outside"),
])
def test_build_paths_outside_the_root_are_refused(tmp_path: Path, function: Any, build: Build,
                                                  message: str) -> None:
    json_path = tmp_path / ".devcontainer" / "devcontainer.json"
    with pytest.raises(DevaipodError, match=message):
        function(json_path, build, root=tmp_path)


# ---------------------------------------------------------------- mounts


@pytest.mark.parametrize(("mount", "spec"), [
    ("type=bind,source=/a,target=/b", "type=bind,source=/a,target=/b"),
    ("source=/a,target=/b,type=bind,consistency=cached", "type=bind,source=/a,target=/b"),
    ("type=bind,src=/a,dst=/b,readonly", "type=bind,source=/a,target=/b,readonly"),
    ("type=volume,source=v,destination=/v", "type=volume,source=v,target=/v"),
    ("target=/anon", "type=volume,target=/anon"),
    ("type=tmpfs,target=/t,tmpfs-size=64m", "type=tmpfs,target=/t,tmpfs-size=64m"),
    ({"type": "bind", "source": "/a", "target": "/b"}, "type=bind,source=/a,target=/b"),
    ({"type": "volume", "source": "v", "target": "/v", "extra": 1},
     "type=volume,source=v,target=/v"),
    ({"type": "volume", "target": "/v"}, "type=volume,target=/v"),
])
def test_mounts_become_podman_mount_specs(mount: Any, spec: str) -> None:
    dc = doc(mounts=[mount])
    assert dc.mount_specs() == [spec]


@pytest.mark.parametrize(("mount", "message"), [
    ("type=bind,target=/b", "a bind mount needs a source"),
    ("type=bind,source=/a", "has no target"),
    ("type=npipe,source=a,target=/b", "expected type bind, volume or tmpfs, got string 'npipe'"),
    ({"source": "/a", "target": "/b"}, "expected type bind, volume or tmpfs, got null"),
    ({"type": "bind", "source": "/a"}, "has no target"),
    ({"type": "bind", "source": "/a,b", "target": "/b"}, "string '/a,b' contains a comma"),
    ({"type": "volume", "target": 3}, "mounts[0].target: expected a string, got number 3"),
])
def test_bad_mounts(mount: Any, message: str) -> None:
    assert message in refused(json.dumps({"mounts": [mount]}))


# ---------------------------------------------------------------- ports


@pytest.mark.parametrize(("port", "spec"), [
    (3000, "0.0.0.0::3000"), ("3000", "0.0.0.0::3000"), ("8080:80", "0.0.0.0:8080:80"),
    (65535, "0.0.0.0::65535"), (1, "0.0.0.0::1"),
])
def test_forward_ports(port: Any, spec: str) -> None:
    assert doc(forwardPorts=[port]).publish_specs() == [spec]
    assert doc(forwardPorts=[port]).publish_specs("127.0.0.1") == [
        spec.replace("0.0.0.0", "127.0.0.1")]


@pytest.mark.parametrize("port", [0, 65536, -1, "db:5432", "0.0.0.0:80:80", "80:", ":80",
                                  "abc", "", 80.0, True, None, [80], {"port": 80}, "99999"])
def test_bad_forward_ports(port: Any) -> None:
    message = refused(json.dumps({"forwardPorts": [port]}))
    assert message.startswith(f"{SRC}: forwardPorts[0]: expected a port 1-65535")


# ---------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(("value", "expected"), [
    ("make setup", Lifecycle((NamedCommand("postCreateCommand",
                                           ("/bin/sh", "-c", "make setup")),))),
    (["npm", "install", "a b"], Lifecycle((NamedCommand("postCreateCommand",
                                                        ("npm", "install", "a b")),))),
    ({"npm": "npm ci", "pip": ["pip", "install", "."]},
     Lifecycle((NamedCommand("npm", ("/bin/sh", "-c", "npm ci")),
                NamedCommand("pip", ("pip", "install", "."))), parallel=True)),
    ("", Lifecycle()), ("  ", Lifecycle()), ([], Lifecycle()),
    ({"a": "", "b": None, "c": []}, Lifecycle(parallel=True)),
    (None, Lifecycle()),
])
def test_lifecycle_forms(value: Any, expected: Lifecycle) -> None:
    assert doc(postCreateCommand=value).post_create_command == expected


@pytest.mark.parametrize("key", list(dcm.LIFECYCLE))
def test_every_lifecycle_field(key: str) -> None:
    dc = doc(**{key: "true"})
    assert dc.lifecycle(key) == Lifecycle((NamedCommand(key, ("/bin/sh", "-c", "true")),))
    assert [dc.lifecycle(k).commands != () for k in dcm.LIFECYCLE].count(True) == 1


def test_command_argv_and_description() -> None:
    entry = NamedCommand("setup", ("/bin/sh", "-c", "echo 'hi' && make"))
    assert args.command_argv(entry) == ["/bin/sh", "-c", "echo 'hi' && make"]
    assert args.describe_command(entry) == \
        """setup: /bin/sh -c 'echo '"'"'hi'"'"' && make'"""
    assert args.describe_command(NamedCommand("x", ("ls", "-l"))) == "x: ls -l"


# ---------------------------------------------------------------- variables

LOCAL = {"HOME": "/home/me", "EMPTY": "", "COLON": "a:b"}
IMAGE = {"PATH": "/usr/bin:/bin", "LANG": "C"}


@pytest.mark.parametrize(("template", "expected", "warned"), [
    ("plain", "plain", False),
    ("${localEnv:HOME}/x", "/home/me/x", False),
    ("${env:HOME}", "/home/me", False),
    ("${localEnv:NOPE}", "", False),
    ("${localEnv:NOPE:fallback}", "fallback", False),
    ("${localEnv:NOPE:a:b}", "a:b", False),
    ("${localEnv:HOME:fallback}", "/home/me", False),
    ("${localEnv:EMPTY:fallback}", "", False),
    ("${localEnv:COLON}", "a:b", False),
    ("${containerEnv:PATH}:/opt/bin", "/usr/bin:/bin:/opt/bin", False),
    ("${containerEnv:NOPE}", "", True),
    ("${containerEnv:NOPE:d}", "d", False),
    ("${localWorkspaceFolder}", "/src/my-proj", False),
    ("${localWorkspaceFolderBasename}", "my-proj", False),
    ("${containerWorkspaceFolder}", "/workspaces/my-proj", False),
    ("${containerWorkspaceFolderBasename}", "my-proj", False),
    ("${devcontainerId}", "pod-1", False),
    ("$HOME ${HOME} ${unknown:x} ${localWorkspaceFolder:x} ${localEnv}",
     "$HOME ${HOME} ${unknown:x} ${localWorkspaceFolder:x} ${localEnv}", False),
    ("${localEnv:HOME}${localEnv:HOME}", "/home/me/home/me", False),
    ("${localEnv:SELF}", "${localEnv:HOME}", False),  # one pass: no recursion
])
def test_substitute(template: str, expected: str, warned: bool) -> None:
    warnings: list[str] = []
    result = args.substitute(template, {**LOCAL, "SELF": "${localEnv:HOME}"}, IMAGE,
                             local_workspace_folder="/src/my-proj",
                             container_workspace_folder="/workspaces/my-proj",
                             devcontainer_id="pod-1", warnings=warnings)
    assert result == expected
    assert bool(warnings) == warned


def test_container_env_unknown_image_warns() -> None:
    warnings: list[str] = []
    assert args.substitute("${containerEnv:PATH}", {}, None, warnings=warnings) == ""
    assert warnings == ["${containerEnv:PATH} is not set in the image; using an empty string"]


def test_resolve_substitutes_every_field() -> None:
    dc = doc(
        containerEnv={"PATH": "${containerEnv:PATH}:/x", "N": None, "U": "${containerEnv:U}"},
        remoteEnv={"H": "${localEnv:HOME}"},
        mounts=["type=bind,source=${localWorkspaceFolder}/.cache,target=/c,${localEnv:RO:ro}"],
        runArgs=["--env=ID=${devcontainerId}"],
        workspaceFolder="/w/${localWorkspaceFolderBasename}",
        build={"args": {"U": "${localEnv:HOME}"}},
        postStartCommand="cd ${containerWorkspaceFolder}",
        initializeCommand="make",
    )
    r = args.resolve(dc, LOCAL, IMAGE, local_workspace_folder="/src/p", devcontainer_id="pod")
    assert r.container_env == {"PATH": "/usr/bin:/bin:/x", "N": None, "U": ""}
    assert r.remote_env == {"H": "/home/me"}
    assert r.mount_specs() == ["type=bind,source=/src/p/.cache,target=/c,ro"]
    assert r.run_args == ("--env=ID=pod",)
    assert r.workspace_folder == "/w/p"
    assert r.build == Build(args={"U": "/home/me"})
    assert r.post_start_command.commands[0].argv == ("/bin/sh", "-c", "cd /w/p")
    assert r.warnings == (
        dc.warnings[0],
        f"{SRC}: containerEnv.U: ${{containerEnv:U}} is not set in the image; "
        "using an empty string")


@pytest.mark.parametrize(("folder", "default", "expected"), [
    (None, None, "/workspaces/p"), (None, "/d", "/d"), ("/f", "/d", "/f")])
def test_resolve_workspace_folder(folder: str | None, default: str | None,
                                  expected: str) -> None:
    dc = doc(workspaceFolder=folder)
    r = args.resolve(dc, {}, local_workspace_folder="/src/p", workspace_folder=default)
    assert r.workspace_folder == expected


def test_resolve_refuses_a_comma_brought_in_by_a_variable() -> None:
    dc = doc(mounts=["type=bind,source=${localEnv:X},target=/x"])
    with pytest.raises(DevaipodError, match=r"mounts\[0\]: after substitution, .* comma"):
        args.resolve(dc, {"X": "/a,b"})


# ---------------------------------------------------------------- runArgs policy


def run(run_args: list[str], allow: bool = False, **fields: Any) -> list[str]:
    podman_args, _ = args.security_args(doc(runArgs=run_args, **fields), allow)
    return podman_args


def refusal(run_args: list[str], allow: bool = False, **fields: Any) -> DevaipodError:
    with pytest.raises(DevaipodError) as info:
        run(run_args, allow, **fields)
    assert "\n" not in info.value.format_message()
    return info.value


MANAGED_FORMS = [
    (["--name", "x"], "--name"), (["--name=x"], "--name"), (["--pod", "p"], "--pod"),
    (["--network", "host"], "--network"), (["--network=host"], "--network"),
    (["--net", "host"], "--net (--network)"), (["--net=none"], "--net (--network)"),
    (["--publish", "80:80"], "--publish"), (["-p", "80:80"], "-p (--publish)"),
    (["-p8080"], "-p (--publish)"), (["-p=8080"], "-p (--publish)"),
    (["-itp", "80"], "-p (--publish)"), (["-P"], "-P (--publish-all)"),
    (["--volume", "/:/host"], "--volume"), (["-v", "/:/host"], "-v (--volume)"),
    (["-v/:/host"], "-v (--volume)"), (["--mount", "type=bind,src=/,dst=/h"], "--mount"),
    (["--volumes-from", "c"], "--volumes-from"), (["--secret", "s"], "--secret"),
    (["--env-file", "f"], "--env-file"), (["--init"], "--init"), (["--init=false"], "--init"),
    (["--tmpfs", "/t"], "--tmpfs"), (["--rm"], "--rm"), (["--detach"], "--detach"),
    (["-d"], "-d (--detach)"), (["-dit"], "-d (--detach)"), (["--label", "a=b"], "--label"),
    (["-l", "a=b"], "-l (--label)"), (["--hostname", "h"], "--hostname"),
    (["-h", "h"], "-h (--hostname)"), (["--userns=host"], "--userns"),
    (["--pid", "host"], "--pid"), (["--ipc=host"], "--ipc"), (["--uts", "host"], "--uts"),
    (["--entrypoint", "/bin/sh"], "--entrypoint"), (["--pull=always"], "--pull"),
    (["--user", "root"], "--user"), (["-u", "0"], "-u (--user)"),
    (["--workdir", "/"], "--workdir"), (["-w/"], "-w (--workdir)"),
    (["--device", "/dev/fuse", "--rm"], "--rm"),
]


@pytest.mark.parametrize(("run_args", "named"), MANAGED_FORMS)
def test_flags_devaipod_sets_are_refused(run_args: list[str], named: str) -> None:
    exc = refusal(run_args, allow=True)
    assert exc.message == f"{SRC}: runArgs: {named} is set by devaipod"


def test_every_managed_flag_is_covered() -> None:
    covered = {named.split(" (")[-1].strip("()") for _, named in MANAGED_FORMS}
    assert set(args.MANAGED) <= covered | {"--net"}


@pytest.mark.parametrize(("flag", "hint"), [
    ("--publish", 'use "forwardPorts"'), ("--volume", 'use "mounts"'),
    ("--secret", 'use "secrets"'), ("--env-file", 'use "containerEnv"'),
    ("--name", "remove it from runArgs"), ("--user", 'use "containerUser" or "remoteUser"'),
])
def test_refusals_say_what_to_do(flag: str, hint: str) -> None:
    assert refusal([flag, "x"]).hint == hint


@pytest.mark.parametrize(("run_args", "fields", "where"), [
    (["--privileged"], {}, "runArgs: --privileged"),
    (["--privileged=true"], {}, "runArgs: --privileged"),
    ([], {"privileged": True}, "privileged: true"),
    (["--security-opt", "seccomp=unconfined"], {}, "runArgs: --security-opt seccomp=unconfined"),
    (["--security-opt=label=disable"], {}, "runArgs: --security-opt label=disable"),
    ([], {"securityOpt": ["apparmor=unconfined"]},
     "securityOpt[0]: --security-opt apparmor=unconfined"),
    (["--cap-add", "ALL"], {}, "runArgs: --cap-add ALL"),
    (["--cap-add=SYS_PTRACE,all"], {}, "runArgs: --cap-add all"),
    ([], {"capAdd": ["CAP_ALL"]}, "capAdd[0]: --cap-add CAP_ALL"),
])
def test_privilege_needs_permission(run_args: list[str], fields: dict[str, Any],
                                    where: str) -> None:
    exc = refusal(run_args, **fields)
    assert exc.message == f"{SRC}: {where} needs permission to run privileged containers"
    assert exc.hint == args.PRIVILEGED_HINT
    run(run_args, allow=True, **fields)  # allowed when the user allowed it


@pytest.mark.parametrize(("run_args", "fields", "expected"), [
    ([], {}, []),
    (["--privileged"], {}, ["--privileged"]),
    (["--privileged=false"], {}, []),
    ([], {"privileged": True}, ["--privileged"]),
    (["--security-opt", "label=disable"], {"securityOpt": ["seccomp=unconfined"]},
     ["--security-opt", "seccomp=unconfined", "--security-opt", "label=disable"]),
])
def test_privileged_when_allowed(run_args: list[str], fields: dict[str, Any],
                                 expected: list[str]) -> None:
    assert run(run_args, allow=True, **fields) == expected


@pytest.mark.parametrize(("run_args", "fields", "expected"), [
    (["--cap-add", "SYS_PTRACE"], {}, ["--cap-add", "SYS_PTRACE"]),
    (["--cap-add=SYS_PTRACE,NET_RAW"], {"capAdd": ["NET_ADMIN"]},
     ["--cap-add", "NET_ADMIN", "--cap-add", "SYS_PTRACE", "--cap-add", "NET_RAW"]),
    (["--cap-add", "CAP_SYS_PTRACE"], {"capAdd": ["sys_ptrace"]}, ["--cap-add", "sys_ptrace"]),
    (["--security-opt", "no-new-privileges"], {}, ["--security-opt", "no-new-privileges"]),
    (["--device", "/dev/fuse", "--device=/dev/kvm"], {},
     ["--device", "/dev/fuse", "--device=/dev/kvm"]),
    (["--shm-size", "1g", "-it", "--env=A=1", "-e", "B=2", "--read-only", "--memory=2g"], {},
     ["--shm-size", "1g", "-it", "--env=A=1", "-e", "B=2", "--read-only", "--memory=2g"]),
    (["--add-host", "h:1.2.3.4", "--cap-add", "SYS_PTRACE"], {"privileged": False},
     ["--cap-add", "SYS_PTRACE", "--add-host", "h:1.2.3.4"]),
    (["--ulimit", "nofile=1024", "--cpus", "-1"], {}, ["--ulimit", "nofile=1024", "--cpus",
                                                       "-1"]),
])
def test_runargs_merge_and_pass_through(run_args: list[str], fields: dict[str, Any],
                                        expected: list[str]) -> None:
    assert run(run_args, **fields) == expected


@pytest.mark.parametrize(("run_args", "message"), [
    (["image-name"], "runArgs: 'image-name' is not an option"),
    (["--read-only", "x"], "runArgs: 'x' is not an option"),
    (["--", "x"], "runArgs: '--' is not an option"),
    (["-"], "runArgs: '-' is not an option"),
    ([""], "runArgs: '' is not an option"),
    (["--cap-add"], "runArgs: --cap-add needs a value"),
    (["--cap-add", "--device", "/dev/x"], "runArgs: --cap-add needs a value"),
    (["--cap-add=a-b"], "runArgs: --cap-add: 'a-b' is not a capability name"),
    (["--security-opt="], "runArgs: --security-opt needs a value"),
    (["--privileged=maybe"], "runArgs: --privileged=maybe: expected true or false"),
])
def test_bad_runargs(run_args: list[str], message: str) -> None:
    assert refusal(run_args, allow=True).message == f"{SRC}: {message}"


NESTED = list(args.NESTED_ARGS)


@pytest.mark.parametrize(("run_args", "fields", "expected", "warned"), [
    ([], {}, NESTED, False),
    (["--device", "/dev/fuse", "-it"], {}, [*NESTED, "--device", "/dev/fuse", "-it"], False),
    (["--device", "/dev/net/tun"], {}, NESTED, False),
    (["--device=/dev/net/tun:/dev/net/tun:rwm"], {}, NESTED, False),
    (["--privileged", "--cap-add", "ALL", "--security-opt", "seccomp=unconfined"],
     {"privileged": True, "capAdd": ["SYS_PTRACE"], "securityOpt": ["label=disable"]},
     NESTED, True),
])
def test_nested_containers_set(run_args: list[str], fields: dict[str, Any],
                               expected: list[str], warned: bool) -> None:
    customizations = {"devaipod": {"nestedContainers": True}}
    dc = doc(runArgs=run_args, customizations=customizations, **fields)
    podman_args, warnings = args.security_args(dc)  # no permission needed
    assert podman_args == expected
    assert bool(warnings) == warned
    assert args.security_args(doc(runArgs=run_args, **fields), True, nested=True) == (
        podman_args, warnings)
    assert "--privileged" not in podman_args


def test_nested_set_is_what_the_reference_lists() -> None:
    assert NESTED == ["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
                      "--security-opt", "unmask=/proc/*", "--security-opt",
                      "unmask=/sys/fs/cgroup", "--security-opt", "label=disable",
                      "--security-opt", "seccomp=unconfined", "--device", "/dev/net/tun"]


def test_nested_still_refuses_flags_devaipod_sets() -> None:
    customizations = {"devaipod": {"nestedContainers": True}}
    with pytest.raises(DevaipodError, match="--network is set by devaipod"):
        args.security_args(doc(runArgs=["--network=host"], customizations=customizations))


def test_security_args_after_resolve_sees_substituted_flags() -> None:
    dc = args.resolve(doc(runArgs=["${localEnv:X}"]), {"X": "--privileged"})
    with pytest.raises(DevaipodError, match="--privileged needs permission"):
        args.security_args(dc)


@pytest.mark.parametrize(("run_args", "options", "used"), [
    (["-it"], [("-i", "--interactive", None), ("-t", "--tty", None)], 1),
    (["-e", "A=1"], [("-e", "--env", "A=1")], 2),
    (["-eA=1", "--tty"], [("-e", "--env", "A=1")], 1),
    (["-e=A=1"], [("-e", "--env", "A=1")], 1),
    (["-e", "-t"], [("-e", "--env", None)], 1),
    (["-ie", "A"], [("-i", "--interactive", None), ("-e", "--env", "A")], 2),
    (["-z"], [("-z", "-z", None)], 1),
    (["--cpus", "2"], [("--cpus", "--cpus", "2")], 2),
    (["--read-only", "--cpus=2"], [("--read-only", "--read-only", None)], 1),
])
def test_split_run_args(run_args: list[str], options: list[tuple], used: int) -> None:
    group = args.split_run_args(run_args)[0]
    assert [(o.written, o.flag, o.value) for o in group.options] == options
    assert len(group.tokens) == used


def test_mount_and_port_dataclasses() -> None:
    assert Mount("volume", "/v").spec == "type=volume,target=/v"
    assert Port(80, 8080).spec("") == ":8080:80"
