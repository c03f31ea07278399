"""System checks of the deployment that Django's own checklist does not make."""

from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.checks import Error, Tags, register


@register(Tags.staticfiles, deploy=True)
def static_files_collected(app_configs, **kwargs):
    """With DEBUG off every page names its static files through the manifest `collectstatic`
    writes; without it each page would fail with a server error."""
    if not isinstance(staticfiles_storage, ManifestFilesMixin) or staticfiles_storage.exists(
        staticfiles_storage.manifest_name
    ):
        return []
    return [
        Error(
            f"The static files manifest {staticfiles_storage.path(staticfiles_storage.manifest_name)} is missing.",
            hint="Run `python manage.py collectstatic --noinput` with the production settings (DEBUG=false).",
            id="leadnexus.E001",
        )
    ]
