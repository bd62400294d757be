"""Instructor tooling of the course: the student release and the batch grader (not for students).

- :mod:`course_tools.grade`          - grade a class's submitted notebooks (``scripts/grade.py``).
- :mod:`course_tools.sandbox_kernel` - the resource-limited Jupyter kernel the grader runs them in.
"""
