"""`python -m cli ...` is `moba ...`: how the stack starts its own commands as children."""

from cli import main

main()
