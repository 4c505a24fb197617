"""Document Image System intake (CBP DIS): envelope, validation, object store, review.

The folder is ``dis/`` (the product layout); the import package is ``pga_dis`` because a
top-level ``dis`` package would shadow Python's standard-library ``dis`` module (which
``inspect`` imports), breaking any interpreter started from the repository root.
"""
