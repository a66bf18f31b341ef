"""With DEBUG off (production), the site's own static files are still served: the admin's, the portal's."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings


@override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"])
@pytest.mark.parametrize(
    "path", ["/static/admin/css/base.css", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"]
)
def test_static_files_are_served_with_debug_off(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])


@override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"])
def test_an_unknown_static_file_is_404():
    assert Client().get("/static/no/such/file.css").status_code == 404
