"""omnioffer: next-best-offer and personalization for omnichannel retailers."""

__version__ = "0.1.0"
