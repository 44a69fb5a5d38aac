"""One module per subcommand, each exposing `command`, imported on first use by lingcode.commands.group;
hook_fast runs the pre-commit hook's own command line without click."""
