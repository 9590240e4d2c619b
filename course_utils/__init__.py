"""Support package for the Deep Unsupervised Learning course.

Import what you need from its modules explicitly, for example
``from course_utils.train import Trainer``; importing the package does nothing else.
"""

__version__ = "0.1.0"
