"""``python -m numlstm demo`` runs the same command as ``numlstm demo``."""

from .cli import main

raise SystemExit(main())
