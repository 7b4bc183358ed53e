"""Pieces of the ``aauth`` command line (:mod:`aauth.cli`): reading what the user gave,
turning every mistake into one line, and the verbs too large for the parser module."""
