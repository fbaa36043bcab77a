import pytest


@pytest.fixture(scope="session")
def encoder():
    """The bundled MiniLM, loaded once (shared with the claims' cache)."""
    from ottawa.synthetic_eval import offline_encoder

    return offline_encoder("cpu")
