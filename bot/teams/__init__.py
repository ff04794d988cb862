"""The Teams door. Every botbuilder type stays inside this package, so replacing this package
alone is enough to move to the Microsoft 365 Agents SDK."""
