"""The withdrawal prompt (Regulations art. 86 situations on a declared patent), shown on the holder's declaration
and portfolio pages until the declaration is withdrawn or the situation cured."""

from django import template

from licensing.declarations.rules import declaration_warnings
from licensing.declarations.situations import declaration_prompt, withdrawal_prompts
from licensing.models import DeclarationConsent

register = template.Library()


@register.inclusion_tag("licensing/_withdrawal_prompts.html")
def holder_withdrawal_prompts(holder):
    return {"prompts": withdrawal_prompts(holder=holder)}


@register.inclusion_tag("licensing/_withdrawal_prompts.html")
def declaration_withdrawal_prompt(declaration):
    situations = declaration_prompt(declaration=declaration)
    return {"prompts": [{"declaration": declaration, "situations": situations}] if situations else [],
            "single": True}


@register.inclusion_tag("licensing/_filing_warnings.html")
def declaration_filing_warnings(declaration):
    """Warnings (register severity "warning") the holder sees before and on filing; they do not stop it."""
    return {"warnings": declaration_warnings(declaration=declaration)}


@register.inclusion_tag("licensing/_withdrawal_consents.html")
def withdrawal_consents(declaration):
    """Each co-owner's consent to the withdrawal (Guidelines Part V ch. 11 section 3.1): recorded, or a form."""
    patent = declaration.patent
    if patent.co_owners_agreement_allows_declaring:
        return {"rows": [], "declaration": declaration}
    recorded = {c.co_owner_id: c for c in declaration.consents.all() if c.kind == DeclarationConsent.Kind.WITHDRAWAL}
    rows = [(owner, recorded.get(owner.pk)) for owner in patent.co_owners.all()
            if owner.organisation_id != patent.holder_id]
    return {"rows": rows, "declaration": declaration}
