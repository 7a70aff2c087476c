"""The one error type the CLI turns into a single line and exit code 2."""


class MmluMlError(Exception):
    """Bad input or configuration: the message names the problem and the fix, on one line."""

    exit_code = 2


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a stage: the message says what was kept and how to go on; the CLI prints it, exit 130."""
