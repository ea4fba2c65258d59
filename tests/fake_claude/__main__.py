"""`python -m fake_claude …` (with tests/ on sys.path): the same as tests/bin/claude."""

from fake_claude.cli import main

main()
