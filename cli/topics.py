"""`moba topics`: create the game's topics idempotently, list them, or describe them."""

import json
from typing import TYPE_CHECKING, Annotated

import typer

from cli.listing import AsJson, print_listing

if TYPE_CHECKING:
    from infra.settings import Settings

app = typer.Typer(help="The game's Kafka topics.", no_args_is_help=True)


@app.command()
def create() -> None:
    """Create `actions`, `games` and `actions.dlq` with the configured partitions (idempotent)."""
    from confluent_kafka import KafkaException

    from infra.kafka import TopicMismatch, create_topics

    settings = reachable_settings()
    try:
        outcomes = create_topics(settings)
    except (TopicMismatch, KafkaException) as err:
        typer.echo(f"cannot create topics: {err}", err=True)
        raise typer.Exit(1) from None
    for topic, outcome in outcomes.items():
        typer.echo(f"{topic}: {outcome} ({settings.partitions} partitions)")


@app.command("list")
def list_topics(as_json: AsJson = False) -> None:
    """The broker's topics and their partition counts; the game's own are marked."""
    from confluent_kafka.admin import AdminClient

    from infra.kafka import topic_partitions

    settings = reachable_settings()
    ours = topic_partitions(settings)
    metadata = AdminClient({"bootstrap.servers": settings.bootstrap_servers}).list_topics(
        timeout=10
    )
    rows = [
        {"topic": name, "partitions": len(metadata.topics[name].partitions), "game": name in ours}
        for name in sorted(metadata.topics)
    ]
    columns = {"game": "", "topic": "TOPIC", "partitions": "PARTITIONS"}
    mark = {"game": lambda row: "*" if row["game"] else ""}
    print_listing(rows, columns, as_json=as_json, empty="The broker has no topics.", cells=mark)


@app.command()
def describe(
    topics: Annotated[
        list[str] | None,
        typer.Argument(help="Topics to describe.", show_default="the game's three"),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Each topic's partitions (leader, replicas, first and end offsets) and its configs."""
    from confluent_kafka import KafkaException

    from infra.topics import TopicMissing, describe_topics

    settings = reachable_settings()
    names = topics or [settings.actions_topic, settings.games_topic, settings.dlq_topic]
    try:
        facts = describe_topics(settings.bootstrap_servers, names)
    except TopicMissing as err:
        typer.echo(f"{err}; `moba topics list` shows those there are", err=True)
        raise typer.Exit(1) from None
    except KafkaException as err:  # reachable a moment ago, but it did not answer this
        typer.echo(f"The broker at {settings.bootstrap_servers} did not describe the topics: "
                   f"{err.args[0].str() if err.args else err}", err=True)  # fmt: skip
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(facts))
        return
    for n, topic in enumerate(facts):
        held = sum(p["end"] - p["start"] for p in topic["partitions"])
        typer.echo(("\n" if n else "") + f"{topic['topic']}: {len(topic['partitions'])} "
                   f"partitions, {held} messages held")  # fmt: skip
        if topic["configs"] is None:
            typer.echo(f"  configs: the broker does not say ({topic['configs_error']})")
        else:
            for key, value in sorted(topic["configs"].items()):
                typer.echo(f"  {key} = {value}")
        columns = {"partition": "PARTITION", "leader": "LEADER", "replicas": "REPLICAS"}
        columns |= {"start": "START", "end": "END"}
        print_listing(topic["partitions"], columns, as_json=False, empty="  (no partitions)")


def reachable_settings() -> "Settings":
    """The settings, once a broker answers at their bootstrap servers (else exit 1, saying so)."""
    from cli.stack import broker_answers
    from infra.settings import Settings

    settings = Settings()
    if not broker_answers(settings.bootstrap_servers):
        typer.echo(
            f"no Kafka broker answers at {settings.bootstrap_servers}; "
            "start one with `moba broker` or set MOBA_BOOTSTRAP_SERVERS",
            err=True,
        )
        raise typer.Exit(1)
    return settings
