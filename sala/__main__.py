"""Allows `python -m sala`."""

from sala.cli import main

raise SystemExit(main())
