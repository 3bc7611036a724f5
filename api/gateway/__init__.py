"""The front door for players: WebSocket endpoints over one producer and one consumer per process.

`routes` holds the endpoints and the `Gateway` the app opens in its lifespan; `hub` the
shared `games` consumer and its fan-out, `reader` that consumer's partitions and reads;
`intents` the shared `actions` producer; `seats` the parsing of URLs and frames;
`subscriber` one socket's outbox; `departures` the seats left when their sockets are
gone for good; `rematch` the token exchange for a rematch's seat.
"""

from api.gateway.routes import Gateway, add_gateway

__all__ = ["Gateway", "add_gateway"]
