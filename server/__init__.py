"""Switchboard: hand work to other models, and see where an agent session's time, tokens and money go."""

__all__ = ["__version__"]

__version__ = "0.1.0"
