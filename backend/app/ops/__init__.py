"""Operations on a running system that the Make targets call (`python -m app ...`):
backups and restores. Flask-free, like the rest of the CLI."""
