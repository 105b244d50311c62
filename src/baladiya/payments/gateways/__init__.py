"""Online payment: the gateway interface (`base`), the channels (`sandbox`, `adapters`, chosen
by `registry`), our side (`services`: intents, webhooks, settlement imports), the settlement
matching (`settlement`) and the screens (`views`). See docs/decisions/0006-payment-gateways.md.
"""
