import pytest


@pytest.fixture(scope="session")
def encoder():
    """The bundled MiniLM, loaded once (shared with the claims' cache)."""
    from ottawa.claims import _encoder

    return _encoder("cpu")
