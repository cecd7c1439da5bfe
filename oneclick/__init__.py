"""«В один клик»: who is slipping away, why, and what to offer them.

The library behind the DVC stages in stages/: each subpackage owns one responsibility.
"""
