from baladiya.core.placeholders import not_ready as public_keys

__all__ = ["public_keys"]
