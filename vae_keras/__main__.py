"""``python -m vae_keras train ...``: see :mod:`vae_keras.cli`."""

from vae_keras.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
