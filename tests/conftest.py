from pathlib import Path

import pytest

from tests.support import EXAMPLE_PLUGIN, plugin_environment


@pytest.fixture(scope="session")
def example_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a throwaway virtualenv with the example third-party plugin (`static` receiver)
    installed: run the collector with it (`run_collector(..., python=example_plugin)`) to use the plugin."""
    return plugin_environment(tmp_path_factory.mktemp("plugin-venv"), EXAMPLE_PLUGIN)
