"""Every concrete model of our apps has a factory in `tests/factories.py` that builds a valid saved row,
so a test can ask for any row in one line instead of building it by hand (and a new model without a
factory fails here)."""

from __future__ import annotations

import factory
import pytest
from django.apps import apps

from tests import factories

OUR_APPS = ("config", "integrations", "orders", "inventory", "sync", "portal", "sandbox")


def our_models() -> list[type]:
    return [
        model
        for config in apps.get_app_configs()
        if config.label in OUR_APPS
        for model in config.get_models()
        if not model._meta.abstract and not model._meta.proxy
    ]


def factories_by_model() -> dict[type, type[factory.django.DjangoModelFactory]]:
    found = {}
    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory):
            model = value._meta.model
            if model is not None:
                found[model] = value
    return found


def test_every_model_of_our_apps_has_a_factory():
    missing = [model.__name__ for model in our_models() if model not in factories_by_model()]

    assert missing == []


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model.__name__)
def test_the_factory_builds_a_valid_saved_row(db, model):
    row = factories_by_model()[model]()

    row.full_clean()
    assert model.objects.filter(pk=row.pk).exists()
