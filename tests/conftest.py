from pathlib import Path

import pytest

from tests.support import install_example_plugin


@pytest.fixture(scope="session")
def example_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a throwaway virtualenv with the example third-party plugin (`static` receiver)
    installed: run the collector with it (`run_collector(..., python=example_plugin)`) to use the plugin."""
    return install_example_plugin(tmp_path_factory.mktemp("plugin-venv"))
