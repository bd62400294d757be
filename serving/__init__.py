"""The chapter-13 digit-CNN web service (see serving/app.py)."""
