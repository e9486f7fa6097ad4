"""Load benchmark of the API against PostgreSQL (`make bench`), and the ceiling apps
it compares the API with. Not part of the installed package."""
