"""The game: pure rules, models and rendering. Imports nothing but the standard library and pydantic."""
