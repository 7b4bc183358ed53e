"""AAuth: agent authentication and authorization over HTTP Message Signatures."""

__version__ = "0.6.0"

__all__ = ["__version__"]
