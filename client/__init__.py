"""The terminal client and the bots: dumb clients that send intents and render states."""
