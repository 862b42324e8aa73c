"""The pool's funding policy: categories served and refused, notice, funding sources."""
