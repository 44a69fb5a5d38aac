"""One module per subcommand, each exposing `command`; lingcode.cli imports them lazily."""
