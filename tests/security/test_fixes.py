"""Regressions the permission matrix found, each checked on its own through HTTP."""

import pytest
from django.urls import reverse

from patents.models import InventoryBatch
from tests.licensing.factories import DeclarationFactory, eligible_patent, holder_member

pytestmark = pytest.mark.django_db


def test_a_holder_with_batches_sees_its_batch_list(client):
    """The base template's title read `page.title` from the paginator's page of batches: a 500 for every
    holder that had imported once."""
    declaration = DeclarationFactory()
    InventoryBatch.objects.create(holder=declaration.holder, source=InventoryBatch.Source.WEB,
                                  original_filename="portfolio-2026.csv")
    client.force_login(holder_member(declaration.holder))
    response = client.get(reverse("batch_list"))
    assert response.status_code == 200 and "portfolio-2026.csv" in response.content.decode()


def test_a_holder_with_declarations_sees_its_declaration_list(client):
    declaration = DeclarationFactory(patent=eligible_patent(title="一种储能电池管理方法"))
    client.force_login(holder_member(declaration.holder))
    response = client.get(reverse("declaration_list"))
    assert response.status_code == 200 and "一种储能电池管理方法" in response.content.decode()
