"""lingcode: an agentic coding assistant for the terminal that runs on a model you host yourself."""

__version__ = "0.1.0"
__all__ = ["__version__"]
