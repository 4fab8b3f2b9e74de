"""``python -m optviz ...``: the same as the ``optviz`` command."""

from optviz import main

raise SystemExit(main())
