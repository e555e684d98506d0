"""Entry points: `flask --app run …` (CLI) and `gunicorn 'run:wsgi()'` (the web server).

`make run` serves with gunicorn beside a supervised `flask worker`
(deploy/supervisord.conf); `python run.py` is Werkzeug's development server
for a quick look. Under CONFIG=production `wsgi()` refuses to serve demo
credentials (app/operations.py).
"""
from app import create_app
from app.operations import refuse_unsafe_start


def wsgi():
    """The WSGI application gunicorn serves (one per gunicorn worker process)."""
    application = create_app()
    refuse_unsafe_start(application)
    return application


if __name__ == "__main__":
    import os

    wsgi().run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
