"""``python -m nuserve.cli``: the ``nuserve`` command."""

import sys

from nuserve.cli.main import main

sys.exit(main())
