from django.apps import AppConfig


class PatentsConfig(AppConfig):
    """Patent inventory: the holder's stock of patents, graded and classified. Imports no other app of ours."""

    name = "patents"
