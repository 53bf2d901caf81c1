"""The rules of Tasklink, one module per noun, shared by the API, the admin and the CLI.

Every function takes a SQLAlchemy ``Connection`` first and never commits: the
caller decides the unit of work (see :mod:`api.db`). Rule violations raise
:class:`api.errors.TasklinkError` subclasses with a sentence for the user.
"""
