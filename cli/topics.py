"""`moba topics`: create the game's topics idempotently, or list them with partition counts."""

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from cli.stack import broker_answers
from infra.kafka import TopicMismatch, create_topics, topic_partitions
from infra.settings import Settings

app = typer.Typer(help="The game's Kafka topics.", no_args_is_help=True)


@app.command()
def create() -> None:
    """Create `actions`, `games` and `actions.dlq` with the configured partitions (idempotent)."""
    settings = reachable_settings()
    try:
        outcomes = create_topics(settings)
    except (TopicMismatch, KafkaException) as err:
        typer.echo(f"cannot create topics: {err}", err=True)
        raise typer.Exit(1) from None
    for topic, outcome in outcomes.items():
        typer.echo(f"{topic}: {outcome} ({settings.partitions} partitions)")


@app.command("list")
def list_topics() -> None:
    """The broker's topics and their partition counts; the game's own are marked."""
    settings = reachable_settings()
    ours = topic_partitions(settings)
    metadata = AdminClient({"bootstrap.servers": settings.bootstrap_servers}).list_topics(
        timeout=10
    )
    for name in sorted(metadata.topics):
        mark = "*" if name in ours else " "
        typer.echo(f"{mark} {name}: {len(metadata.topics[name].partitions)} partitions")


def reachable_settings() -> Settings:
    """The settings, once a broker answers at their bootstrap servers (else exit 1, saying so)."""
    settings = Settings()
    if not broker_answers(settings.bootstrap_servers):
        typer.echo(
            f"no Kafka broker answers at {settings.bootstrap_servers}; "
            "start one with `moba broker` or set MOBA_BOOTSTRAP_SERVERS",
            err=True,
        )
        raise typer.Exit(1)
    return settings
