import pytest

from tests.support import install_example_plugin


@pytest.fixture(scope="session")
def example_plugin() -> None:
    """The example third-party plugin (`static` receiver), pip-installed into this environment."""
    install_example_plugin()
