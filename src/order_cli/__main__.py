"""``python -m order_cli``: the ``orders`` command."""

from order_cli.main import main

main()
