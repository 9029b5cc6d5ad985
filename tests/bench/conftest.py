import pytest


@pytest.fixture
def tiny_market(db):
    """A small generated market (bench.generate): 300 patents, about 110 listings, 150 licences, 12 needs."""
    from bench.generate import generate

    return generate(patents=300, licences=150, needs=12, seed=3)
