urlpatterns = []
# The public capture page, outside /leads/: /f/<slug>/
public_urlpatterns = []
