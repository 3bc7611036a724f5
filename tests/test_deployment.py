"""The deployment files agree with the code they run: compose, Dockerfile, README, settings, CLI.

There is no Docker engine here, so these read docker-compose.yml, ha.env and the
Dockerfile and hold them against the real Typer app, the real settings model,
bytewax's own argument parsers and the README's install command.
"""

import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from infra.kafka import producer_config
from infra.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
MOBA_IMAGE = "moba:local"
DATA_VOLUME = "moba-data"
INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def env_file(path: Path) -> dict[str, str]:
    """A compose env file: KEY=VALUE lines, comments and blanks ignored."""
    lines = (line.strip() for line in path.read_text().splitlines())
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    """Compose's `${VAR:-default}` / `${VAR}` / `$$` substitution, applied through a loaded file."""
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            return variables.get(match["name"]) or match["default"] or ""

        return INTERPOLATION.sub(substitute, value)
    return value


def load_compose(variables: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml with its variables resolved as `docker compose` would resolve them."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return interpolate(raw, variables or {})


def active_services(compose: dict[str, Any], profiles: set[str]) -> dict[str, dict[str, Any]]:
    """The services `docker compose up` starts with these profiles enabled."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if not svc.get("profiles") or set(svc["profiles"]) & profiles
    }


DEFAULT = load_compose()
HA_VARIABLES = env_file(ROOT / "ha.env")
HA = load_compose(HA_VARIABLES)
HA_PROFILES = set(HA_VARIABLES["COMPOSE_PROFILES"].split(","))


def moba_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if s.get("image") == MOBA_IMAGE}


def kafka_nodes(compose: dict[str, Any], profiles: set[str]) -> dict[str, dict[str, Any]]:
    return {
        n: s
        for n, s in active_services(compose, profiles).items()
        if s["image"].startswith("apache/kafka:")
    }


def dataflow_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        n: s for n, s in moba_services(compose).items() if "bytewax.run" in s.get("command", [])
    }


def option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def bytewax_variables() -> set[str]:
    """Every variable bytewax's runner reads, taken from its own source."""
    import bytewax.run

    return set(re.findall(r"BYTEWAX_[A-Z_]+", Path(bytewax.run.__file__).read_text()))


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.startswith("MOBA_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


# --- the compose file -------------------------------------------------------------------


def test_compose_file_has_the_whole_stack() -> None:
    assert {"kafka", "topics", "recovery-init", "dataflow-0", "dataflow-1", "api"} <= set(
        active_services(DEFAULT, set())
    )
    assert DATA_VOLUME in DEFAULT["volumes"]


def test_kafka_is_apache_kafka_in_kraft_mode_at_a_pinned_version() -> None:
    for name, node in kafka_nodes(HA, HA_PROFILES).items():
        image, _, tag = node["image"].partition(":")
        assert image == "apache/kafka" and tag and tag != "latest", name
        env = environment(node)
        assert "controller" in env["KAFKA_PROCESS_ROLES"], name
        assert not any("ZOOKEEPER" in key for key in env), name
        assert "healthcheck" in node, name


def test_one_kafka_node_by_default() -> None:
    nodes = kafka_nodes(DEFAULT, set())
    assert list(nodes) == ["kafka"]
    assert environment(nodes["kafka"])["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    for name, svc in moba_services(DEFAULT).items():
        assert environment(svc).get("MOBA_REPLICATION_FACTOR", "1") == "1", name


def test_ha_env_makes_three_voting_nodes_that_every_process_bootstraps_from() -> None:
    nodes = kafka_nodes(HA, HA_PROFILES)
    assert len(nodes) == 3
    voters = environment(nodes["kafka"])["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    node_ids = {environment(n)["KAFKA_NODE_ID"] for n in nodes.values()}
    assert {v.split("@")[0] for v in voters} == node_ids and len(node_ids) == 3
    assert {v.split("@")[1].split(":")[0] for v in voters} == set(nodes)
    internal = {
        next(
            a
            for a in environment(n)["KAFKA_ADVERTISED_LISTENERS"].split(",")
            if a.startswith("PLAINTEXT://")
        ).removeprefix("PLAINTEXT://")
        for n in nodes.values()
    }
    for name, svc in moba_services(HA).items():
        env = environment(svc)
        if "MOBA_BOOTSTRAP_SERVERS" in env:
            assert set(env["MOBA_BOOTSTRAP_SERVERS"].split(",")) == internal, name


def test_ha_does_not_lose_acknowledged_writes_when_one_broker_fails() -> None:
    # A write is acknowledged (acks=all) only once min.insync.replicas copies have it; with
    # RF 3 and min ISR 2 any one broker can go and an acknowledged write still has a copy
    # in sync, and only an in-sync replica may become leader (no unclean election).
    for name, node in kafka_nodes(HA, HA_PROFILES).items():
        env = environment(node)
        rf = int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"])
        min_isr = int(env["KAFKA_MIN_INSYNC_REPLICAS"])
        assert rf == 3 and min_isr == 2, name
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false", name
        assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == rf, name
    topics_env = environment(HA["services"]["topics"])
    assert topics_env["MOBA_REPLICATION_FACTOR"] == "3"
    assert producer_config(Settings())["acks"] == "all"


def test_topics_wait_for_every_kafka_node_that_runs() -> None:
    for compose, profiles in ((DEFAULT, set()), (HA, HA_PROFILES)):
        waits = compose["services"]["topics"]["depends_on"]
        for name in kafka_nodes(compose, profiles):
            assert waits[name]["condition"] == "service_healthy", name


def test_topics_are_never_auto_created() -> None:
    for name, node in kafka_nodes(HA, HA_PROFILES).items():
        assert environment(node)["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", name


# --- commands are the project's entry points -------------------------------------------


def cli_command(args: list[str]) -> Any:
    """The command `moba args...` resolves to in the real Typer app, or an assertion error.

    Typer vendors its own click, so groups are recognised by what they do, not by class.
    """
    from cli.main import app

    command = typer.main.get_command(app)
    ctx = command.context_class(command)
    for word in args:
        if word.startswith("-"):
            break
        assert hasattr(command, "get_command"), f"`moba ... {word}`: not a command group"
        sub = command.get_command(ctx, word)
        assert sub is not None, f"`moba` has no sub-command {word!r} (in {args})"
        command, ctx = sub, sub.context_class(sub, parent=ctx)
    assert not hasattr(command, "get_command"), f"`moba {' '.join(args)}` is a group"
    return command


@pytest.mark.parametrize(
    "service",
    [n for n, s in moba_services(DEFAULT).items() if s.get("command", [""])[0] == "moba"],
)
def test_moba_commands_exist_in_the_cli(service: str) -> None:
    cli_command(DEFAULT["services"][service]["command"][1:])


@pytest.mark.parametrize("service", sorted(dataflow_services(DEFAULT)))
def test_dataflow_commands_parse_with_bytewax_run(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bytewax.run

    svc = DEFAULT["services"][service]
    command = svc["command"]
    assert command[:4] == ["python", "-m", "bytewax.run", "dataflows.games"]
    for name in list(os.environ):
        if name.startswith("BYTEWAX_"):
            monkeypatch.delenv(name)
    for name, value in environment(svc).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["bytewax.run", *command[3:]])
    args = bytewax.run._parse_args()
    assert args.recovery_directory == Path(environment(svc)["BYTEWAX_RECOVERY_DIRECTORY"])
    assert args.snapshot_interval.total_seconds() >= 1


def test_the_dataflow_module_exposes_flow(tmp_path: Path) -> None:
    # In a child: building `flow` reads MOBA_* and must not touch this test's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOBA_", "BYTEWAX_"))}
    env["MOBA_DATA_DIR"] = str(tmp_path)
    code = (
        "from bytewax.dataflow import Dataflow\n"
        "import dataflows.games as games\n"
        "assert isinstance(games.flow, Dataflow), type(games.flow)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_dataflow_processes_have_distinct_ids_and_one_address_each() -> None:
    dataflows = dataflow_services(DEFAULT)
    assert len(dataflows) >= 2
    ids = sorted(int(option(s["command"], "-i")) for s in dataflows.values())
    assert ids == list(range(len(dataflows)))
    address_lists = {option(s["command"], "-a") for s in dataflows.values()}
    assert len(address_lists) == 1, "every process must be given the same -a list"
    addresses = address_lists.pop().split(";")
    assert len(addresses) == len(dataflows)
    for name, svc in dataflows.items():
        host = addresses[int(option(svc["command"], "-i"))].split(":")[0]
        assert host == name, (
            f"{name} is -i {option(svc['command'], '-i')} but that address is {host}"
        )
    assert len({option(s["command"], "-w") for s in dataflows.values()}) == 1


def recovery_init(compose: dict[str, Any]) -> tuple[str, Path, int]:
    """The init script, and the directory and partition count it gives `python -m bytewax.recovery`."""
    command = compose["services"]["recovery-init"]["command"]
    assert command[:2] == ["sh", "-c"]
    script = command[2]
    words = shlex.split(script.replace(";", " ; "))
    at = words.index("bytewax.recovery")
    assert words[at - 2 : at] == ["python", "-m"]
    return script, Path(words[at + 1]), int(words[at + 2])


def test_recovery_partitions_cover_every_worker_and_are_the_dataflows_directory() -> None:
    import bytewax.recovery

    _, directory, count = recovery_init(DEFAULT)
    dataflows = dataflow_services(DEFAULT)
    workers = sum(int(option(s["command"], "-w")) for s in dataflows.values())
    assert count >= workers
    for name, svc in dataflows.items():
        assert Path(environment(svc)["BYTEWAX_RECOVERY_DIRECTORY"]) == directory, name
        needs = svc["depends_on"]
        assert needs["recovery-init"]["condition"] == "service_completed_successfully", name
        assert needs["topics"]["condition"] == "service_completed_successfully", name
    assert bytewax.recovery.init_db_dir  # the module the script runs


def test_recovery_init_runs_twice_without_harm(tmp_path: Path) -> None:
    script, directory, count = recovery_init(DEFAULT)
    local = script.replace(str(directory.parent), str(tmp_path)).replace(
        "python -m", f"{shlex.quote(sys.executable)} -m"
    )
    for _ in range(2):
        done = subprocess.run(["sh", "-c", local], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    assert len(list((tmp_path / directory.name).glob("part-*.sqlite3"))) == count


# --- environment and settings ------------------------------------------------------------


def test_environment_names_are_settings_fields_or_bytewax_variables() -> None:
    known = {f"MOBA_{field.upper()}" for field in Settings.model_fields} | bytewax_variables()
    for compose in (DEFAULT, HA):
        for name, svc in moba_services(compose).items():
            unknown = set(environment(svc)) - known
            assert not unknown, f"{name}: {sorted(unknown)} match no setting nor bytewax variable"


@pytest.mark.parametrize("compose", [DEFAULT, HA], ids=["single", "ha"])
def test_every_process_environment_is_valid_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for svc in moba_services(compose).values():
        env = environment(svc)
        settings = settings_from(env, monkeypatch)
        if "BYTEWAX_RECOVERY_DIRECTORY" in env:
            assert Path(env["BYTEWAX_RECOVERY_DIRECTORY"]) == settings.recovery_dir
            assert int(env["BYTEWAX_SNAPSHOT_INTERVAL"]) == math.ceil(settings.snapshot_interval_s)
            assert int(env["BYTEWAX_RECOVERY_BACKUP_INTERVAL"]) == math.ceil(
                settings.backup_interval_s
            )


def test_the_recovery_store_is_one_named_volume_for_dataflow_and_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readers_and_writers = {**dataflow_services(DEFAULT), "api": DEFAULT["services"]["api"]}
    for name, svc in readers_and_writers.items():
        data_dir = settings_from(environment(svc), monkeypatch).data_dir
        assert f"{DATA_VOLUME}:{data_dir}" in svc["volumes"], name


def test_partition_counts_agree_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    default = Settings.model_fields["partitions"].default
    counts = {
        name: settings_from(environment(svc), monkeypatch).partitions
        for compose in (DEFAULT, HA)
        for name, svc in moba_services(compose).items()
    }
    assert set(counts.values()) == {default}, counts
    for doc in ("docs/scaling.md", "docs/deployment.md"):
        stated = re.findall(r"`MOBA_PARTITIONS`[^.]{0,80}?default (\d+)", (ROOT / doc).read_text())
        assert stated and set(map(int, stated)) == {default}, doc


# --- the image ---------------------------------------------------------------------------


def readme_install() -> list[str]:
    """The README's install command, e.g. `python3.11 -m pip install -e .`, as words."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    line = next(line for line in section.splitlines() if "pip install" in line)
    return shlex.split(line.split("&&")[0])


def pip_target(words: list[str]) -> tuple[str, list[str]]:
    """The python version-ish prefix and the positional targets of a `... pip install ...`."""
    at = words.index("install")
    return words[0], [w for w in words[at + 1 :] if not w.startswith("-")]


def test_dockerfile_installs_the_project_the_way_the_readme_does() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    python, readme_targets = pip_target(readme_install())
    version = re.fullmatch(r"python(\d+\.\d+)", python)
    assert version, python
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.M)
    assert base and base.group(1).startswith(f"python:{version.group(1)}-slim")
    runs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert len(runs) == 1, runs
    words = shlex.split(runs[0].split("pip install")[1])
    targets = [w for w in words if not w.startswith("-")]
    # The README's target without extras: the project from its source tree, deps from pyproject.
    assert targets == [t.split("[")[0].strip("'\"") for t in readme_targets] == ["."]
    assert "-r" not in words


def test_the_image_runs_as_a_user_and_keeps_the_files_pip_needs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = ["pyproject.toml", "README.md", "domain", "dataflows", "infra", "cli", "api", "client"]
    for path in needed:
        assert path not in ignored, f".dockerignore drops {path}, which `pip install .` needs"
