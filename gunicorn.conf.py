"""gunicorn's settings for Lotse (the Procfile's `web` line and bench/api.py name this file)."""
import gc


def post_worker_init(worker):
    """The app is loaded: move what it built (modules, the app, mappers, compiled statements) out of the
    garbage collector's reach: its full collections then walk only what requests leave behind, not the
    whole app each time."""
    gc.collect()
    gc.freeze()
