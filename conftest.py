"""The repository's root conftest, imported before any test module: nameko needs
eventlet's monkey patching, as `nameko run` and `nameko test` apply it."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)

import eventlet  # noqa: E402

eventlet.monkey_patch()
