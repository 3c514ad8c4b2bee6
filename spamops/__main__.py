"""`python -m spamops` runs the CLI."""

from spamops.cli import main

main()
