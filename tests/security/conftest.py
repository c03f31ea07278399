import pytest
from django.core.files.storage import FileSystemStorage

from leads.models import Submission


@pytest.fixture(autouse=True)
def _private_files(tmp_path, monkeypatch):
    """The world's form submission carries an attachment, kept in a folder of the test."""
    monkeypatch.setattr(Submission._meta.get_field("attachment"), "storage", FileSystemStorage(location=tmp_path))
