"""URLs of the home-visit coverage statistics."""

urlpatterns: list = []
