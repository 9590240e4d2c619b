"""Typical wrong answers for each chapter's exercises, one module per chapter (named after it).

Each module defines WRONG_ANSWERS = {question: (text in the reference answer, what a student
writes instead, a phrase the feedback must contain)}; every question needs one.
"""
