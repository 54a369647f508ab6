import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--keep-cluster",
        action="store_true",
        help="Leave a local cluster started by the tests running afterwards (faster reruns).",
    )
