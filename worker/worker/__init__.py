"""The background worker: a Celery app on the backend's Flask-free core."""
