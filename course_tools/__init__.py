"""The book's and the instructor's tools: the site's Sphinx extensions, the PDF printer, the
homework maker and the grader.

Chapters never import this package, and the Colab install cell does not bring it (only
``course_utils`` is packaged in pyproject.toml). It is used from the repository root:
``python -m course_tools.homework``, jupyter-book (``_config.yml``), the Makefile and the tests.
Editing it re-executes no chapter (the Makefile's notebook cache key covers ``course_utils``).
"""
