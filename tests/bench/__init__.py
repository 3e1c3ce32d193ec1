"""``make bench``: what one event costs on our platform, next to the raw limits of nats-py and nats-server.

Run ``.venv/bin/python -m tests.bench --help`` for the sizes; every figure and ratio comes from one run.
"""
