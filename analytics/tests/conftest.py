import pytest


@pytest.fixture(autouse=True)
def _report_storage(settings, tmp_path):
    """Report files land in a fresh folder per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
