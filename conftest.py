"""Root conftest: every test session gets the shared fixtures of libs/testing."""

pytest_plugins = ["kestrel_testing.plugin"]
