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


@pytest.mark.parametrize("url_name", ["declare", "declaration_list", "portfolio"])
def test_a_holder_slug_with_a_nul_character_is_a_404_on_every_holder_page(client, url_name):
    """PostgreSQL refuses text holding NUL: ?holder=%00 was a 500 wherever the raw slug reached a query (the API
    fuzzing found it on /api/patents/; these pages take the same parameter)."""
    declaration = DeclarationFactory()
    client.force_login(holder_member(declaration.holder))
    assert client.get(reverse(url_name), {"holder": f"{declaration.holder.slug}\x00"}).status_code == 404
