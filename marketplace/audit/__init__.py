"""The audit log: every state change of the records that carry rights and money (declarations, licences and
their recording, payments and refunds, vouchers and their uses, royalty reports, pools, organisations and
memberships), who made it, when, and each changed field before and after. See docs/security.md "Audit log"."""
