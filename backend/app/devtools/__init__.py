"""Tools for development only: the running app never imports them."""
