"""Domain functions: the rules of users, groups, items, authentication and email.

Functions take the session as a keyword argument and never commit: the caller
(a request, a task, a command) owns the transaction. No Flask here.
"""
